"""Choosing one production series per mineral × stage × year when several sources cover it."""

from __future__ import annotations

import polars as pl

from lodeline.domain.countries import AGGREGATE_CODES, OTHER_COUNTRIES, WORLD

#: Preference when several sources report the same mineral, stage and year: the newest USGS edition first,
#: then the IEA, then anything else (alphabetical, for determinism). See docs/methods/market-indicators.md.
SOURCE_PREFERENCE: tuple[str, ...] = ("usgs_mcs2026", "usgs_mcs2025", "iea_critical_minerals")

GROUP_KEYS = ("mineral", "stage", "year")


def _source_rank(sources: pl.Expr) -> pl.Expr:
    ranks = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    return sources.replace_strict(ranks, default=len(ranks), return_dtype=pl.Int64)


def primary_series(production: pl.DataFrame, *, measure: str = "production") -> pl.DataFrame:
    """Primary rows of ``measure``, keeping for each mineral × stage × year only the preferred source."""
    rows = production.filter(pl.col("is_primary") & (pl.col("measure") == measure))
    if rows.is_empty():
        return rows
    ranked = rows.with_columns(_rank=_source_rank(pl.col("source")))
    best = ranked.group_by(GROUP_KEYS).agg(
        pl.col("source").sort_by(["_rank", "source"]).first().alias("_best")
    )
    return (
        ranked.join(best, on=list(GROUP_KEYS))
        .filter(pl.col("source") == pl.col("_best"))
        .drop("_rank", "_best")
    )


def split_aggregates(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(country rows incl. "other countries", world-total rows)."""
    return rows.filter(pl.col("country") != WORLD), rows.filter(pl.col("country") == WORLD)


def is_named_country() -> pl.Expr:
    return ~pl.col("country").is_in(list(AGGREGATE_CODES))


def is_other_countries() -> pl.Expr:
    return pl.col("country") == OTHER_COUNTRIES


def is_negligible() -> pl.Expr:
    """Rows the source prints as none/negligible ("--") or not applicable ("XX"): NULL, but not a gap."""
    return pl.col("flag").fill_null("").str.contains(r"^(--|XX)(;|$)")
