"""Importer views: import shares by origin and import reliance."""

from __future__ import annotations

import polars as pl


def prefer_complete_coverage(trade: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Keep, per group, only the best coverage available: the complete bilateral file where a year has it,
    else the truncated top-6 series (never both: that would count the same flows twice)."""
    if trade.is_empty():
        return trade
    rank = pl.when(pl.col("coverage") == "complete").then(0).otherwise(1)
    return trade.with_columns(_c=rank).filter(pl.col("_c") == pl.col("_c").min().over(keys)).drop("_c")


def import_shares(
    trade: pl.DataFrame, importers: frozenset[str], *, measure: str = "value_usd"
) -> pl.DataFrame:
    """Share of each origin in the imports of ``importers`` (one country or a group, intra-group flows
    excluded), per mineral × stage × year. Years only the truncated top-6 series covers are flagged."""
    keys = ["mineral", "stage", "year"]
    flows = trade.filter(
        pl.col("importer").is_in(list(importers))
        & ~pl.col("exporter").is_in(list(importers))
        & pl.col(measure).is_not_null()
    )
    flows = prefer_complete_coverage(flows, keys)
    by_origin = flows.group_by([*keys, "exporter", "coverage"]).agg(pl.col(measure).sum().alias("imports"))
    return (
        by_origin.with_columns(
            share=pl.col("imports") / pl.col("imports").sum().over(keys),
            unit=pl.lit("USD" if measure == "value_usd" else "t"),
            # the truncated top-6 series keeps only each side's largest partners: totals are understated
            flag=pl.when(pl.col("coverage") == "complete").then(None).otherwise(pl.lit("top6-truncated")),
        )
        .rename({"exporter": "origin"})
        .sort([*keys, "share"], descending=[False, False, False, True])
    )


def import_reliance(production: pl.DataFrame, trade: pl.DataFrame, country: str) -> pl.DataFrame:
    """Net import reliance = (imports − exports) / (production + imports − exports), per mineral × stage × year,
    where production (same stage) and trade quantities (tonnes) both exist. Units must agree: rows whose
    production is not in metric tons are left out (see docs/methods/market-indicators.md)."""
    keys = ["mineral", "stage", "year"]
    prod = production.filter(
        (pl.col("country") == country) & pl.col("unit").str.contains("metric ton")
    ).select(*keys, production=pl.col("quantity"))
    imports = (
        trade.filter((pl.col("importer") == country) & pl.col("quantity_t").is_not_null())
        .group_by(keys)
        .agg(imports=pl.col("quantity_t").sum())
    )
    exports = (
        trade.filter((pl.col("exporter") == country) & pl.col("quantity_t").is_not_null())
        .group_by(keys)
        .agg(exports=pl.col("quantity_t").sum())
    )
    joined = (
        prod.join(imports, on=keys, how="inner")
        .join(exports, on=keys, how="left")
        .with_columns(pl.col("exports").fill_null(0.0))
    )
    apparent = pl.col("production") + pl.col("imports") - pl.col("exports")
    return joined.with_columns(
        country=pl.lit(country),
        import_reliance=pl.when(apparent > 0).then((pl.col("imports") - pl.col("exports")) / apparent),
    ).sort(keys)
