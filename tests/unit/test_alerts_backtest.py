"""The backtest on a small constructed history: lead/lag, de-duplicated warning episodes, false alarms,
precision and recall computed by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl

from lodeline.alerts import backtest as bt
from lodeline.alerts import timeline
from lodeline.alerts.engine import Timelines


def _row(mineral: str, published: dt.date, level: str, value: float) -> dict[str, object]:
    return {
        "mineral": mineral,
        "indicator": "export-control",
        "key": "k",
        "observed": published,
        "published": published,
        "value": value,
        "level": level,
        "explanation": "test",
        "source": "s",
        "edition": "e",
    }


def test_small_history() -> None:
    """x: warning from 2020-03-10 to 2020-05-20 (one warning episode, de-duplicated over 3 month-ends), the
    episode starts 2020-04-01: first warning at month-end 2020-03-31, a lead of 1 day before the start (-1).
    y: a warning 2021-06-15 with no episode: one false alarm (2020s). z: an episode with no warning: missed.
    Recall 1/2 (episode of z has no data: still counted as missed), precision 1/2 (x matched, y false)."""
    rows = [
        _row("x", dt.date(2020, 3, 10), "warning", 0.9),
        _row("x", dt.date(2020, 5, 20), "normal", 0.1),
        _row("y", dt.date(2021, 6, 15), "warning", 0.9),
        _row("y", dt.date(2021, 7, 15), "normal", 0.1),
    ]
    tl = Timelines(timeline.conform(pl.DataFrame(rows, schema=timeline.SCHEMA)))
    eps = (
        bt.Episode("ex", "x", dt.date(2020, 4, 1), dt.date(2020, 12, 31), "tuning", "w", "s"),
        bt.Episode("ez", "z", dt.date(2021, 1, 1), dt.date(2021, 12, 31), "held-out", "w", "s"),
    )
    report = bt.run(tl, dt.date(2020, 1, 1), dt.date(2021, 12, 31), eps)
    by = {r["episode"]: r for r in report.rows}
    assert by["ex"]["first_warning"] == dt.date(2020, 3, 31) and by["ex"]["lead_lag_days"] == -1
    assert by["ez"]["detected"] is False and by["ez"]["data"].startswith("no indicator data")
    assert report.false_alarms == [{"mineral": "y", "decade": "2020s", "false_alarms": 1}]
    s = report.summary
    assert (s["warning_episodes"], s["matched"], s["false_alarms"]) == (2, 1, 1)
    assert s["precision"] == 0.5 and s["recall"] == 0.5
    assert s["tuning"]["recall"] == 1.0 and s["held-out"]["recall"] == 0.0


def test_episodes_file_has_sources_and_both_sets() -> None:
    eps = bt.episodes()
    assert len(eps) >= 10 and all(e.source and e.start <= e.end for e in eps)
    assert {e.set for e in eps} == {"tuning", "held-out"}
    assert {"rare-earths", "nickel", "gallium", "germanium", "graphite", "antimony", "cobalt"} <= {
        e.mineral for e in eps
    }


def test_month_ends() -> None:
    assert bt.month_ends(dt.date(2024, 1, 1), dt.date(2024, 3, 31)) == [
        dt.date(2024, 1, 31),
        dt.date(2024, 2, 29),
        dt.date(2024, 3, 31),
    ]
