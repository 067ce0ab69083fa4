"""Issue 14 targets: a full alert backtest (every bundled mineral, monthly 2005 -> latest, with as-of slicing) in
< 30 s, and one scan in < 1 s.

``backtest_seconds`` = reading the canonical tables with their publication dates + computing every indicator's
timeline once over the whole history + slicing it at every month-end + scoring against the episodes; the 30 s
target is checked on it. ``scan_seconds``: one scan on warm timelines (what the API and the CLI pay after the
first call of a data build); ``first_scan_seconds`` includes building the timelines
(no cache file); ``scan_from_cache_file_seconds`` reads them from the cache file instead (in-process).

Baseline, in the same run: recompute every indicator from scratch from the inputs published by each month-end
(``Inputs.sliced`` then ``Timelines.compute``), the obvious way to avoid look-ahead. It runs on a subset of the
months (every ``stride``-th) and the fused levels must equal the fast path's on those months; its full-run time is
extrapolated per month.

``fresh_process``: ``python -m lodeline.cli.main alerts scan`` (the ``lodeline`` script's entry point) in a new subprocess each run (what a CLI user pays), on the
same store, ``cold`` with an empty timeline cache directory (``LODELINE_CACHE_DIR``; the process computes the
timelines and writes them) and ``warm`` with the file present (read back, no indicator maths). One uncounted warm-up
run first, with ``PYTHONDONTWRITEBYTECODE`` removed from the children's environment so that, as in an installed
package, modules are not recompiled on every run (as in ``bench_startup.py``). The warm run's output must equal the
cold run's (checked). Reported: median/min/max wall and median CPU (user + system) per mode, the load average.
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import shutil
import statistics
import subprocess
import sys
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
    previous = os.environ.get("LODELINE_CACHE_DIR")
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["LODELINE_CACHE_DIR"] = str(Path(tmp) / "cache")  # not the user's own cache
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
        service.scan(engine, dt.date(2025, 4, 30))  # the file written by the backtest's first build
        file_scan_seconds = time.perf_counter() - t0
        service._cache.clear()
        shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)
        t0 = time.perf_counter()
        service.scan(engine, dt.date(2025, 4, 30))
        first_scan_seconds = time.perf_counter() - t0
        inputs, tl = service.timelines(engine)
        engine.dispose()
        fresh = fresh_process(Path(tmp), runs=3 if quick else 7)
    if previous is None:
        os.environ.pop("LODELINE_CACHE_DIR", None)
    else:
        os.environ["LODELINE_CACHE_DIR"] = previous

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
        "scan_from_cache_file_seconds": round(file_scan_seconds, 3),
        "target_scan_seconds": 1,
        "baseline_months_run": len(sample),
        "baseline_seconds": round(baseline_seconds, 2),
        "baseline_seconds_per_month": round(per_month, 3),
        "baseline_full_estimate_seconds": round(per_month * len(months), 1),
        "baseline_equal": same,
        "fresh_process_scan": fresh,
        "summary": report.summary,
    }


SCAN_ARGS = ["-m", "lodeline.cli.main", "alerts", "scan", "--as-of", "2025-04-30", "--format", "csv"]


def fresh_process(tmp: Path, runs: int) -> dict[str, Any]:
    """Wall and CPU time of a new ``lodeline alerts scan`` process, without and with the cache file."""
    cache = tmp / "cache"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env |= {"LODELINE_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite'}", "LODELINE_CACHE_DIR": str(cache)}
    argv = [sys.executable, *SCAN_ARGS]

    def one() -> tuple[float, float, bytes]:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, check=False, env=env)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"bench_alerts: {argv} exited {done.returncode}: {done.stderr.decode()[-500:]}")
        return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done.stdout

    one()  # warm-up: bytecode written, OS file cache warm
    load_before = os.getloadavg()[0]
    results: dict[str, Any] = {}
    outputs: dict[str, bytes] = {}
    for mode in ("cold", "warm"):
        walls, cpus = [], []
        for _ in range(runs):
            if mode == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            wall, cpu, out = one()
            walls.append(wall)
            cpus.append(cpu)
            outputs.setdefault(mode, out)
        results[mode] = {
            "median_seconds": round(statistics.median(walls), 3),
            "min_seconds": round(min(walls), 3),
            "max_seconds": round(max(walls), 3),
            "median_cpu_seconds": round(statistics.median(cpus), 3),
            "runs": runs,
        }
    assert outputs["cold"] == outputs["warm"] and outputs["warm"], "cached scan differs from the computed one"
    results["same_output"] = True
    results["load_average_1min"] = {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)}
    results["target_seconds"] = 1
    return results


if __name__ == "__main__":
    print(run(quick=True))
