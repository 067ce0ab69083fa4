"""Supply shares for the EU method: global supply from production, EU sourcing from extra-EU imports.

All functions take canonical frames and return long frames
``[mineral, stage, scope, year, country, share, source, edition, flag]`` with ``stage`` in the EU vocabulary
(extraction | processing), ``scope`` global | eu and ``share`` a fraction of the year's total. Shares of one
(mineral, stage, scope, year) never sum above 1: where the named countries add up to more than the stated total
(rounded world totals, rounded percentages) the larger of the two is the denominator and ``flag`` says so.
"""

from __future__ import annotations

from collections.abc import Collection

import polars as pl

from lodeline.risk import EU_STAGES

#: Production rows with these codes are totals, not suppliers.
AGGREGATE_CODES = frozenset({"WLD", "ROW"})
_TO_EU_STAGE = {v: k for k, v in EU_STAGES.items()}
SHARE_COLUMNS = ("mineral", "stage", "scope", "year", "country", "share", "source", "edition", "flag")
#: When several sources give the same (mineral, stage, year), the first listed wins: USGS MCS (newest edition
#: first) covers the most minerals with one consistent method; the IEA fills the refining stages USGS lacks.
SOURCE_PREFERENCE: tuple[str, ...] = ("usgs_mcs2026", "usgs_mcs2025", "iea_critical_minerals")
#: Trade coverage preference: every bilateral pair beats each side's top-6 partners.
COVERAGE_PREFERENCE: tuple[str, ...] = ("complete", "top6")


def _preference_rank(column: str, order: tuple[str, ...]) -> pl.Expr:
    return pl.col(column).replace_strict(
        list(order), list(range(len(order))), default=len(order), return_dtype=pl.Int64
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "mineral": pl.String,
            "stage": pl.String,
            "scope": pl.String,
            "year": pl.Int64,
            "country": pl.String,
            "share": pl.Float64,
            "source": pl.String,
            "edition": pl.String,
            "flag": pl.String,
        }
    )


def _over_total_flag(parts: pl.Expr, stated: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """The note a share gets when the named parts exceed the stated total (null otherwise)."""
    return (
        pl.when(parts > stated * (1 + 1e-9))  # a real excess, not float rounding
        .then(
            pl.format(
                "{}: named countries sum to {} {} > stated total {} {}: shares normalised to the sum of parts",
                pl.col("year"),
                parts.round(4),
                unit,
                stated.round(4),
                unit,
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def _last_years(frame: pl.DataFrame, keys: list[str], years: int) -> pl.DataFrame:
    """Keep each group's ``years`` most recent years (the EC averages a recent multi-year window)."""
    recent = (
        frame.select([*keys, "year"])
        .unique()
        .with_columns(pl.col("year").rank("dense", descending=True).over(keys).alias("_rank"))
        .filter(pl.col("_rank") <= years)
        .drop("_rank")
    )
    return frame.join(recent, on=[*keys, "year"], how="inner")


def best_coverage(trade: pl.DataFrame) -> pl.DataFrame:
    """Per (mineral, stage, year) keep only the best trade coverage (``complete`` before ``top6``): using both
    for one year would count the same flows twice."""
    keys = ["mineral", "stage", "year"]
    ranked = trade.with_columns(_preference_rank("coverage", COVERAGE_PREFERENCE).alias("_coverage_rank"))
    return ranked.filter(pl.col("_coverage_rank") == pl.col("_coverage_rank").min().over(keys)).drop(
        "_coverage_rank"
    )


def production_shares(production: pl.DataFrame, *, years: int = 5) -> pl.DataFrame:
    """Country shares of world production per (mineral, stage, year) from the primary production series.

    Per year one source is used (``SOURCE_PREFERENCE``; within a source the newest edition, since a later USGS
    edition revises the earlier one's estimate). The
    denominator is the world total (``WLD``) when published, else the sum of all rows including ``ROW``; it
    is never smaller than the sum of the named countries. ``ROW`` ("other countries") contributes no
    concentration of its own: it stands for many small producers. Rows with a NULL quantity (withheld "W")
    are dropped, never read as zero.
    """
    rows = production.filter(
        (pl.col("measure") == "production")
        & pl.col("is_primary")
        & pl.col("quantity").is_not_null()
        & pl.col("stage").is_in(list(_TO_EU_STAGE))
    )
    if rows.is_empty():
        return _empty()
    keys = ["mineral", "stage", "year"]
    rows = rows.with_columns(_preference_rank("source", SOURCE_PREFERENCE).alias("_rank"))
    rows = rows.filter(pl.col("_rank") == pl.col("_rank").min().over(keys))
    rows = rows.filter(pl.col("source") == pl.col("source").min().over(keys))
    rows = rows.filter(pl.col("edition") == pl.col("edition").max().over(keys))
    named = ~pl.col("country").is_in(list(AGGREGATE_CODES))
    totals = rows.group_by(keys).agg(
        pl.col("quantity").filter(pl.col("country") == "WLD").sum().alias("_world"),
        pl.col("quantity").filter(pl.col("country") == "WLD").count().alias("_has_world"),
        pl.col("quantity").filter(pl.col("country") != "WLD").sum().alias("_all"),
        pl.col("quantity").filter(named).sum().alias("_named"),
        (pl.col("unit").first() if "unit" in rows.columns else pl.lit("(source unit)")).alias("_unit"),
    )
    stated = pl.when(pl.col("_has_world") > 0).then(pl.col("_world")).otherwise(pl.col("_all"))
    totals = totals.with_columns(
        pl.max_horizontal(stated, pl.col("_named")).alias("_total"),
        _over_total_flag(pl.col("_named"), stated, pl.col("_unit")).alias("flag"),
    ).filter(pl.col("_total") > 0)
    shares = (
        rows.filter(named & (pl.col("quantity") > 0))
        .group_by([*keys, "country"])
        .agg(pl.col("quantity").sum(), pl.col("source").first(), pl.col("edition").first())
        .join(totals.select([*keys, "_total", "flag"]), on=keys)
        .with_columns(
            (pl.col("quantity") / pl.col("_total")).alias("share"),
            pl.col("stage").replace_strict(_TO_EU_STAGE).alias("stage"),
            pl.lit("global").alias("scope"),
        )
    )
    return _last_years(shares.select(SHARE_COLUMNS), ["mineral", "stage"], years)


def refined_stage_shares(stage_shares: pl.DataFrame, *, years: int = 5) -> pl.DataFrame:
    """Processing-stage global shares from the ``stage_shares`` table (BGS refined-production shares).

    BGS publishes rounded percentages of the top countries, so a year may add up to a little over 100 %
    (germanium 2022: 94 + 4 + 3 = 101). Each share is divided by max(1, sum of the year's shares) and flagged
    where that changes it; a year summing below 1 keeps its gap (the unnamed rest adds no concentration).
    """
    rows = stage_shares.filter(
        pl.col("share").is_not_null()
        & (pl.col("share") > 0)
        & (pl.col("stage") == EU_STAGES["processing"])
        & ~pl.col("country").is_in(list(AGGREGATE_CODES))
    )
    if rows.is_empty():
        return _empty()
    keys = ["mineral", "stage", "year"]
    parts = pl.col("share").sum().over(keys)
    shares = rows.with_columns(
        (pl.col("share") / pl.max_horizontal(parts, pl.lit(1.0))).alias("share"),
        _over_total_flag(parts, pl.lit(1.0), pl.lit("(fraction)")).alias("flag"),
    ).with_columns(pl.lit("processing").alias("stage"), pl.lit("global").alias("scope"))
    return _last_years(shares.select(SHARE_COLUMNS), ["mineral", "stage"], years)


def eu_sourcing_shares(trade: pl.DataFrame, eu_members: Collection[str], *, years: int = 5) -> pl.DataFrame:
    """Shares of extra-EU imports into the EU27 per supplier (the EC's "EU sourcing", imports part).

    Per (mineral, stage, year) only the best trade coverage is used (``complete`` before ``top6``, never both,
    which would double count). Tonnes are used when every row of the (mineral, stage, year) has ``quantity_t``; otherwise US dollars,
    so one group never mixes units. Intra-EU trade is left out: it is re-export, not sourcing.
    """
    members = list(eu_members)
    rows = trade.filter(
        pl.col("importer").is_in(members)
        & ~pl.col("exporter").is_in(members)
        & pl.col("stage").is_in(list(_TO_EU_STAGE))
    )
    if rows.is_empty():
        return _empty()
    keys = ["mineral", "stage", "year"]
    rows = best_coverage(rows)
    rows = rows.with_columns(
        (pl.col("quantity_t").is_not_null().all().over(keys)).alias("_tonnes"),
    ).with_columns(
        pl.when(pl.col("_tonnes")).then(pl.col("quantity_t")).otherwise(pl.col("value_usd")).alias("_flow")
    )
    flows = (
        rows.filter(pl.col("_flow").is_not_null() & (pl.col("_flow") > 0))
        .group_by([*keys, "exporter"])
        .agg(pl.col("_flow").sum(), pl.col("source").first(), pl.col("edition").first())
        .with_columns((pl.col("_flow") / pl.col("_flow").sum().over(keys)).alias("share"))
        .rename({"exporter": "country"})
        .with_columns(
            pl.col("stage").replace_strict(_TO_EU_STAGE).alias("stage"),
            pl.lit("eu").alias("scope"),
            pl.lit(None, dtype=pl.String).alias("flag"),
        )
    )
    return _last_years(flows.select(SHARE_COLUMNS), ["mineral", "stage"], years)


def combine_global(production_based: pl.DataFrame, bgs_based: pl.DataFrame) -> pl.DataFrame:
    """Per (mineral, stage) the NEWEST source: production-based shares unless the BGS refined shares reach a
    later year (germanium: the USGS yearbook estimates stop at 2020, later years are "NA"; BGS runs to 2024).
    On a tie the production series wins (tonnages, not rounded percentages). One source per (mineral, stage),
    never a mix, so the averaged years come from one method."""
    keys = ["mineral", "stage"]
    latest_production = production_based.group_by(keys).agg(pl.col("year").max().alias("_production"))
    latest_bgs = bgs_based.group_by(keys).agg(pl.col("year").max().alias("_bgs"))
    newer_bgs = latest_bgs.join(latest_production, on=keys, how="left").filter(
        pl.col("_production").is_null() | (pl.col("_bgs") > pl.col("_production"))
    )
    extra = bgs_based.join(newer_bgs.select(keys), on=keys, how="semi")
    kept = production_based.join(newer_bgs.select(keys), on=keys, how="anti")
    return pl.concat([kept, extra.select(kept.columns).cast(kept.schema)], how="vertical")
