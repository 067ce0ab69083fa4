"""Issue 14 targets: a full alert backtest (every bundled mineral, monthly 2005 -> latest, with as-of slicing) in
< 30 s, and one scan in < 1 s.

``backtest_seconds`` = reading the canonical tables with their publication dates + computing every indicator's
timeline once over the whole history + slicing it at every month-end + scoring against the episodes; the 30 s
target is checked on it. ``scan_seconds``: one scan on warm timelines (what the API and the CLI pay after the
first call of a data build); ``first_scan_seconds`` includes building the timelines.

Baseline, in the same run: recompute every indicator from scratch from the inputs published by each month-end
(``Inputs.sliced`` then ``Timelines.compute``), the obvious way to avoid look-ahead. It runs on a subset of the
months (every ``stride``-th) and the fused levels must equal the fast path's on those months; its full-run time is
extrapolated per month.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.alerts import backtest as bt
from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.services import alerts as service
from lodeline.store.engine import make_engine, upgrade


def run(quick: bool = False) -> dict[str, Any]:
    stride = 24 if quick else 6
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        t0 = time.perf_counter()
        report = service.backtest(engine)
        backtest_seconds = time.perf_counter() - t0
        t0 = time.perf_counter()
        service.scan(engine, dt.date(2025, 4, 30))
        scan_seconds = time.perf_counter() - t0
        service._cache.clear()
        t0 = time.perf_counter()
        service.scan(engine, dt.date(2025, 4, 30))
        first_scan_seconds = time.perf_counter() - t0
        inputs, tl = service.timelines(engine)
        engine.dispose()

    months: list[dt.date] = sorted(report.levels["date"].unique().to_list())
    sample = months[::stride]
    minerals = sorted(report.levels["mineral"].unique().to_list())
    t0 = time.perf_counter()
    baseline = bt.baseline_levels(inputs, sample, minerals)
    baseline_seconds = time.perf_counter() - t0
    fast = report.levels.filter(pl.col("date").is_in(sample)).sort(["date", "mineral"])
    same = fast.select("date", "mineral", "level").equals(
        baseline.sort(["date", "mineral"]).select("date", "mineral", "level")
    )
    assert same, "baseline and sliced timelines disagree"
    per_month = baseline_seconds / len(sample)
    return {
        "months": len(months),
        "minerals": len(minerals),
        "timeline_rows": tl.frame.height,
        "backtest_seconds": round(backtest_seconds, 2),
        "target_backtest_seconds": 30,
        "scan_seconds": round(scan_seconds, 4),
        "first_scan_seconds": round(first_scan_seconds, 2),
        "target_scan_seconds": 1,
        "baseline_months_run": len(sample),
        "baseline_seconds": round(baseline_seconds, 2),
        "baseline_seconds_per_month": round(per_month, 3),
        "baseline_full_estimate_seconds": round(per_month * len(months), 1),
        "baseline_equal": same,
        "summary": report.summary,
    }


if __name__ == "__main__":
    print(run(quick=True))
