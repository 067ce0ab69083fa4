"""Governance-weighted supply risk for any importer or alliance (GeoPolRisk-style).

Following the GeoPolRisk method (Gemechu et al. 2016; Santillán-Saldivar et al. 2021; Koyamparambath et al.
2024, geopolrisk-py):

    GPR_m,A = HHI_m * WTA_m,A,    WTA_m,A = sum_j (g_j * f_j,A) / (P_A + sum_j f_j,A)

HHI_m is the global production concentration (shares as fractions, 0-1); f_j,A the imports of importer
(or alliance) A from supplier j OUTSIDE A (trade inside an alliance is not a foreign dependency); P_A the
domestic production of A; g_j the supplier's governance on 0-1, 1 = worst, i.e. the EU-method WGI scaling
divided by 10. GeoPolRisk uses the Political Stability dimension (``pv``) alone; ``dimensions`` changes that.
"""

from __future__ import annotations

from collections.abc import Collection

import numpy as np
import polars as pl

from lodeline.risk.governance import GovernanceMatrix
from lodeline.risk.shares import best_coverage

GEOPOL_SCHEMA = {
    "mineral": pl.String,
    "stage": pl.String,
    "year": pl.Int64,
    "importer": pl.String,
    "hhi": pl.Float64,
    "wta": pl.Float64,
    "geopolrisk": pl.Float64,
    "imports": pl.Float64,
    "import_unit": pl.String,
    "domestic_production": pl.Float64,
    "top_supplier": pl.String,
    "top_supplier_share": pl.Float64,
    "suppliers": pl.Int64,
    "note": pl.String,
}


def geopolitical_supply_risk(
    trade: pl.DataFrame,
    global_shares: pl.DataFrame,
    gov: GovernanceMatrix,
    members: Collection[str],
    *,
    importer_name: str,
    domestic_production: pl.DataFrame | None = None,
    dimensions: tuple[str, ...] = ("pv",),
) -> pl.DataFrame:
    """One row per (mineral, stage, year) the trade data covers for ``members``.

    ``trade``: canonical rows (per year only the best coverage is used, as for EU sourcing) (stage in the trade vocabulary, mapped by the caller to the share frame's);
    ``global_shares``: ``[mineral, stage, year, country, share]`` (world production, fractions);
    ``domestic_production``: optional ``[mineral, stage, year, quantity_t]`` of the alliance in tonnes. P_A is
    only added when the imports are in tonnes too; otherwise it is left out and the note says so (WTA is
    then an upper bound).
    """
    group = list(members)
    imports = trade.filter(pl.col("importer").is_in(group) & ~pl.col("exporter").is_in(group))
    if imports.is_empty():
        return pl.DataFrame(schema=GEOPOL_SCHEMA)
    if "coverage" in imports.columns:
        imports = best_coverage(imports)
    keys = ["mineral", "stage", "year"]
    imports = imports.with_columns(pl.col("quantity_t").is_not_null().all().over(keys).alias("_tonnes"))
    imports = imports.with_columns(
        pl.when(pl.col("_tonnes")).then(pl.col("quantity_t")).otherwise(pl.col("value_usd")).alias("flow")
    ).filter(pl.col("flow").is_not_null() & (pl.col("flow") > 0))
    g = gov.mean_of(dimensions) / 10.0
    g_index = gov.index()
    g_mean = float(np.mean(g))
    imports = imports.with_columns(
        pl.col("exporter")
        .map_elements(lambda c: float(g[g_index[c]]) if c in g_index else g_mean, return_dtype=pl.Float64)
        .alias("g")
    )
    flows = imports.group_by([*keys, "exporter"]).agg(
        pl.col("flow").sum(), pl.col("g").first(), pl.col("_tonnes").first()
    )
    hhi = global_shares.group_by(["mineral", "stage", "year"]).agg((pl.col("share") ** 2).sum().alias("hhi"))
    hhi_latest = hhi.sort("year").group_by(["mineral", "stage"]).agg(pl.col("hhi").last().alias("hhi_latest"))
    per = flows.group_by(keys).agg(
        pl.col("flow").sum().alias("imports"),
        (pl.col("flow") * pl.col("g")).sum().alias("_gf"),
        pl.col("exporter").sort_by("flow", descending=True).first().alias("top_supplier"),
        (pl.col("flow").max() / pl.col("flow").sum()).alias("top_supplier_share"),
        pl.len().cast(pl.Int64).alias("suppliers"),
        pl.col("_tonnes").first(),
    )
    per = per.join(hhi, on=keys, how="left").join(hhi_latest, on=["mineral", "stage"], how="left")
    if domestic_production is not None and not domestic_production.is_empty():
        per = per.join(
            domestic_production.select(*keys, pl.col("quantity_t").alias("domestic_production")),
            on=keys,
            how="left",
        )
    else:
        per = per.with_columns(pl.lit(None, dtype=pl.Float64).alias("domestic_production"))
    use_domestic = pl.col("_tonnes") & pl.col("domestic_production").is_not_null()
    per = per.with_columns(
        pl.when(pl.col("hhi").is_null()).then(pl.col("hhi_latest")).otherwise(pl.col("hhi")).alias("hhi"),
        (
            pl.col("_gf")
            / (pl.col("imports") + pl.when(use_domestic).then(pl.col("domestic_production")).otherwise(0.0))
        ).alias("wta"),
        pl.when(pl.col("_tonnes")).then(pl.lit("t")).otherwise(pl.lit("USD")).alias("import_unit"),
        pl.concat_str(
            pl.when(pl.col("hhi").is_null() & pl.col("hhi_latest").is_not_null())
            .then(pl.lit("HHI from the latest production year; "))
            .otherwise(pl.lit("")),
            pl.when(pl.col("hhi").is_null() & pl.col("hhi_latest").is_null())
            .then(pl.lit("no production shares: HHI and GeoPolRisk unknown; "))
            .otherwise(pl.lit("")),
            pl.when(use_domestic)
            .then(pl.lit("normalised by imports + domestic production"))
            .otherwise(
                pl.lit("domestic production not added (unknown or not in tonnes): WTA is an upper bound")
            ),
        ).alias("note"),
    )
    return (
        per.with_columns(
            (pl.col("hhi") * pl.col("wta")).alias("geopolrisk"),
            pl.lit(importer_name).alias("importer"),
        )
        .select(list(GEOPOL_SCHEMA))
        .cast(GEOPOL_SCHEMA)  # type: ignore[arg-type]
        .sort("geopolrisk", descending=True, nulls_last=True)
    )
