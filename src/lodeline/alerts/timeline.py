"""An indicator's history as one frame: every reading it would have given, each with the date it became known.

Indicators are computed once over the whole history; a scan at ``as_of`` (and each month of the backtest) only
*slices* this frame: the rows published on or before ``as_of`` that have not gone stale, the latest per key. All
indicator maths is causal (a reading for period t uses only data up to t, and is published when t's data is), so
slicing the full-history timeline equals recomputing from the data published by ``as_of`` (checked by
``benchmarks/bench_alerts.py`` and ``tests/unit/test_alerts_asof.py``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from lodeline.alerts.model import IndicatorReading, Level
from lodeline.alerts.publication import AsOfSlicer
from lodeline.alerts.thresholds import Spec, hysteresis, max_age_days

SCHEMA: dict[str, pl.DataType] = {
    "mineral": pl.String(),
    "indicator": pl.String(),
    "key": pl.String(),  # sub-series: price series id, stage, measure id
    "observed": pl.Date(),
    "published": pl.Date(),
    "value": pl.Float64(),
    "level": pl.String(),
    "explanation": pl.String(),
    "source": pl.String(),
    "edition": pl.String(),
}
COLUMNS = list(SCHEMA)


def empty() -> pl.DataFrame:
    return pl.DataFrame(schema=SCHEMA)


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.select([pl.col(c).cast(t) for c, t in SCHEMA.items()])


def apply_hysteresis(frame: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """Add ``level`` per (mineral, key) series in publication order."""
    frame = frame.sort(["mineral", "key", "published", "observed"], maintain_order=True)
    levels: list[str] = []
    for _, part in frame.group_by(["mineral", "key"], maintain_order=True):
        levels.extend(lv.value for lv in hysteresis(part["value"].to_list(), spec))
    return frame.with_columns(level=pl.Series(levels, dtype=pl.String))


def as_of_rows(timeline: pl.DataFrame, as_of: dt.date, slicer: AsOfSlicer | None = None) -> pl.DataFrame:
    """The latest reading per (mineral, indicator, key) published by ``as_of`` and not stale. With a ``slicer``
    (same ``as_of``) the rows go through it, so it records what was served."""
    known = slicer.slice(timeline, "timeline") if slicer else timeline.filter(pl.col("published") <= as_of)
    if known.is_empty():
        return known
    latest = (
        known.sort(["published", "observed"], maintain_order=True)
        .group_by(["mineral", "indicator", "key"])
        .last()
    )
    ages = {ind: max_age_days(ind) for ind in latest["indicator"].unique().to_list()}
    limit = pl.col("indicator").replace_strict(
        {k: v for k, v in ages.items()}, default=None, return_dtype=pl.Int64
    )
    age = (pl.lit(as_of) - pl.col("published")).dt.total_days()
    return latest.filter(limit.is_null() | (age <= limit))


def readings(rows: pl.DataFrame) -> list[IndicatorReading]:
    """One reading per (mineral, indicator): the key with the highest level, then the highest value."""
    if rows.is_empty():
        return []
    rank = pl.col("level").replace_strict({lv.value: lv.rank for lv in Level}, return_dtype=pl.Int64)
    best = (
        rows.with_columns(_rank=rank)
        # ties broken by the newest publication, then the key: the same rows always give the same reading
        .sort(["_rank", "value", "published", "key"], descending=[True, True, True, False], nulls_last=True)
        .group_by(["mineral", "indicator"], maintain_order=True)
        .first()
        .sort(["mineral", "indicator"])
    )
    return [
        IndicatorReading(
            indicator=r["indicator"],
            mineral=r["mineral"],
            value=r["value"],
            level=Level(r["level"]),
            explanation=r["explanation"],
            source=r["source"],
            edition=r["edition"],
            observed=r["observed"],
            published=r["published"],
            detail={"key": r["key"]},
        )
        for r in best.iter_rows(named=True)
    ]
