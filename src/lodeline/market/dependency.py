"""Alliance single-supplier dependency and its distance to targets.

Two bases, never mixed in one number (see docs/methods/dependency.md):

* ``production``: for a mineral × stage × year with country production data, the largest producer OUTSIDE
  the alliance and its share of world production. This treats the alliance as buying on the world market
  (a proxy: it ignores how much the alliance produces for itself and who it actually buys from).
* ``trade value`` / ``trade quantity``: from bilateral trade (BACI), the alliance members' total imports of
  the stage's HS codes from every origin (intra-alliance trade included, since it carries alliance output)
  and the share of the largest non-member exporter. Re-export hubs (Hong Kong, Singapore, the Netherlands,
  Belgium) are counted where customs see them; truncated ``top6`` series understate totals.
"""

from __future__ import annotations

import polars as pl

from lodeline.market.series import GROUP_KEYS, is_named_country
from lodeline.market.trade import prefer_complete_coverage

DEPENDENCY_COLUMNS = (
    "mineral",
    "stage",
    "year",
    "basis",
    "alliance_share",
    "alliance_supply",
    "unit",
    "top_external_supplier",
    "top_external_share",
    "coverage",
    "source",
)


def production_dependency(shares: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """Largest non-member producer's share of world production, per mineral × stage × year."""
    keys = list(GROUP_KEYS)
    valid = shares.filter(pl.col("share").is_not_null())
    member = pl.col("country").is_in(list(members))
    alliance = valid.group_by(keys).agg(
        alliance_share=pl.col("share").filter(member).sum(),
        alliance_supply=pl.col("quantity").filter(member).sum(),
        unit=pl.col("unit").first(),
        source=pl.col("source").first(),
    )
    external = (
        valid.filter(~member & is_named_country())
        .sort([*keys, "share"], descending=[False] * 3 + [True])
        .group_by(keys, maintain_order=True)
        .agg(top_external_supplier=pl.col("country").first(), top_external_share=pl.col("share").first())
    )
    return (
        alliance.join(external, on=keys, how="left")
        .with_columns(basis=pl.lit("production"), coverage=pl.lit("world production"))
        .select(DEPENDENCY_COLUMNS)
        .sort(keys)
    )


def trade_dependency(
    trade: pl.DataFrame, members: frozenset[str], *, measure: str = "value_usd"
) -> pl.DataFrame:
    """Largest non-member exporter's share of the alliance's imports, per mineral × stage × year.

    Where a year has complete bilateral coverage it is used; truncated (top-6) coverage only fills the
    years without it.
    """
    if measure not in ("value_usd", "quantity_t"):
        raise ValueError(f"measure must be value_usd or quantity_t, not {measure!r}")
    keys = list(GROUP_KEYS)
    imports = trade.filter(
        pl.col("importer").is_in(list(members))
        & (pl.col("exporter") != pl.col("importer"))
        & pl.col(measure).is_not_null()
    )
    if imports.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in DEPENDENCY_COLUMNS}).cast(
            {
                "year": pl.Int64,
                "alliance_share": pl.Float64,
                "alliance_supply": pl.Float64,
                "top_external_share": pl.Float64,
            }
        )
    imports = prefer_complete_coverage(imports, keys)
    by_origin = imports.group_by([*keys, "exporter", "coverage", "source"]).agg(
        pl.col(measure).sum().alias("q")
    )
    totals = by_origin.group_by(keys).agg(
        alliance_supply=pl.col("q").sum(),
        alliance_share=pl.col("q").filter(pl.col("exporter").is_in(list(members))).sum() / pl.col("q").sum(),
        coverage=pl.col("coverage").first(),
        source=pl.col("source").first(),
    )
    external = (
        by_origin.filter(~pl.col("exporter").is_in(list(members)))
        .sort([*keys, "q"], descending=[False] * 3 + [True])
        .group_by(keys, maintain_order=True)
        .agg(top_external_supplier=pl.col("exporter").first(), _top=pl.col("q").first())
    )
    return (
        totals.join(external, on=keys, how="left")
        .with_columns(
            top_external_share=pl.col("_top") / pl.col("alliance_supply"),
            basis=pl.lit("trade value" if measure == "value_usd" else "trade quantity"),
            unit=pl.lit("USD" if measure == "value_usd" else "t"),
        )
        .select(DEPENDENCY_COLUMNS)
        .sort(keys)
    )


def single_supplier_targets(targets: pl.DataFrame) -> pl.DataFrame:
    """One row per (mineral, target) for targets on dependency on a single supplier: mineral, target_id,
    target (0–1), ambition (0–1), target_year, comparator."""
    rows = targets.filter(pl.col("metric").str.to_lowercase().str.contains("single supplier"))
    rows = rows.filter(pl.col("value").is_not_null())
    return (
        rows.with_columns(mineral=pl.col("minerals").str.json_decode(pl.List(pl.String)))
        .explode("mineral")
        .filter(pl.col("mineral").is_not_null())
        .select(
            "mineral",
            "target_id",
            target=pl.col("value") / 100,
            ambition=pl.col("ambition_value") / 100,
            target_year=pl.col("deadline"),
            comparator=pl.col("comparator"),
        )
        .unique(subset=["mineral"], keep="first", maintain_order=True)
    )


def with_targets(dependency: pl.DataFrame, targets: pl.DataFrame) -> pl.DataFrame:
    """Attach the applicable target and the gap (share − target; positive = above the target)."""
    applicable = single_supplier_targets(targets)
    return dependency.join(applicable, on="mineral", how="left").with_columns(
        gap=pl.col("top_external_share") - pl.col("target"),
        ambition_gap=pl.col("top_external_share") - pl.col("ambition"),
    )
