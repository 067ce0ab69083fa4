"""Alliance single-supplier dependency and its distance to targets.

Two bases, never mixed in one number; the ``share_of`` column names each figure's denominator
(see docs/methods/dependency.md):

* ``production``: for a mineral × stage × year with country production data (or published shares), the largest
  producer OUTSIDE the alliance and its share of world production. This treats the alliance as buying on the
  world market (a proxy: it ignores how much the alliance produces for itself and who it actually buys from).
  ``alliance_share`` is the members' own share of world output; where part of the output is not attributed to a
  country ("other countries", withheld figures, or published shares that leave a remainder) it is a lower bound
  (``alliance_share_flag`` says so), and where no member is named at all it is unknown (NULL), never 0.
* ``trade value`` / ``trade quantity``: from bilateral trade (BACI), the alliance members' imports of the stage's
  HS codes from OUTSIDE the alliance, and the share of the largest non-member exporter in them. Trade between
  members is left out of the denominator (it would dilute the external share: magnets 2024, China is 62 % of all
  member imports but 75 % of imports from outside). ``alliance_share`` is the members' share of all member
  imports (the intra-alliance part). Re-export hubs (Hong Kong, Singapore, the Netherlands, Belgium) are counted
  where customs see them; years that rest on the truncated ``top6`` series carry the flag ``top6-truncated``.
* ``apparent consumption``: where production and trade measure the same material in tonnes (a short list, see
  :func:`apparent_consumption_dependency`), the largest non-member supplier's share of the alliance's
  production + imports − exports. This is the preferred basis where it exists.
"""

from __future__ import annotations

import polars as pl

from lodeline.domain.units import to_tonnes
from lodeline.market.scope import SAME_PRODUCT_HS
from lodeline.market.series import GROUP_KEYS, is_named_country, is_negligible, is_other_countries
from lodeline.market.trade import prefer_complete_coverage

DEPENDENCY_COLUMNS = (
    "mineral",
    "stage",
    "year",
    "basis",
    "share_of",
    "denominator",
    "alliance_share",
    "alliance_share_flag",
    "alliance_supply",
    "unit",
    "top_external_supplier",
    "top_external_share",
    "coverage",
    "flag",
    "source",
)
SHARE_OF_PRODUCTION = "world production"
SHARE_OF_EXTERNAL_IMPORTS = "alliance imports from outside the alliance"
SHARE_OF_APPARENT_CONSUMPTION = "alliance apparent consumption (production + imports - exports, t)"
#: Flag on trade figures from the truncated top-6 BACI series (only each side's top-6 partners are kept).
TOP6_FLAG = "top6-truncated"
#: Output not attributed to a country below this share is rounding noise of published percentages.
_ROUNDING = 1e-9


def production_dependency(shares: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """Largest non-member producer's share of world production, per mineral × stage × year."""
    keys = list(GROUP_KEYS)
    member = pl.col("country").is_in(list(members))
    valid = shares.filter(pl.col("share").is_not_null())
    # output whose country is unknown: "other countries", and what known shares leave below 1
    unattributed = shares.group_by(keys).agg(
        _other=pl.col("share").filter(is_other_countries()).sum(),
        _known=pl.col("share").sum(),
        _withheld=(pl.col("share").is_null() & ~is_negligible() & (member | is_other_countries())).any(),
    )
    alliance = valid.group_by(keys).agg(
        _named=pl.col("share").filter(member).sum(),
        _n_members=member.sum(),
        alliance_supply=pl.col("quantity").filter(member).sum(),
        denominator=pl.col("total").first(),
        unit=pl.col("unit").first(),
        source=pl.col("source").first(),
    )
    unknown_part = pl.col("_other") + (1 - pl.col("_known")).clip(lower_bound=0)
    partial = (unknown_part > _ROUNDING) | pl.col("_withheld")
    no_member_named = pl.col("_n_members") == 0
    alliance = (
        alliance.join(unattributed, on=keys, how="left")
        .with_columns(
            alliance_share=pl.when(partial & no_member_named).then(None).otherwise(pl.col("_named")),
            alliance_supply=pl.when(partial & no_member_named)
            .then(None)
            .otherwise(pl.col("alliance_supply")),
            alliance_share_flag=pl.when(partial & no_member_named)
            .then(pl.lit("unknown: members may be in output not attributed to a country"))
            .when(partial)
            .then(pl.lit("lower bound: part of the output is not attributed to a country"))
            .otherwise(None),
        )
        .with_columns(
            # share-only sources publish no tonnage: the alliance's own supply is unknown, not 0
            alliance_supply=pl.when(pl.col("denominator").is_null())
            .then(None)
            .otherwise(pl.col("alliance_supply"))
        )
    )
    external = (
        valid.filter(~member & is_named_country())
        .sort([*keys, "share", "country"], descending=[False] * 3 + [True, False])
        .group_by(keys, maintain_order=True)
        .agg(top_external_supplier=pl.col("country").first(), top_external_share=pl.col("share").first())
    )
    return (
        alliance.join(external, on=keys, how="left")
        .with_columns(
            basis=pl.lit("production"),
            share_of=pl.lit(SHARE_OF_PRODUCTION),
            coverage=pl.lit("world production"),
            flag=pl.lit(None, pl.String),
        )
        .select(DEPENDENCY_COLUMNS)
        .sort(keys)
    )


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={c: pl.String for c in DEPENDENCY_COLUMNS}).cast(
        {
            "year": pl.Int64,
            "denominator": pl.Float64,
            "alliance_share": pl.Float64,
            "alliance_supply": pl.Float64,
            "top_external_share": pl.Float64,
        }
    )


def trade_dependency(
    trade: pl.DataFrame, members: frozenset[str], *, measure: str = "value_usd"
) -> pl.DataFrame:
    """Largest non-member exporter's share of the alliance's imports from outside the alliance, per
    mineral × stage × year.

    Where a year has complete bilateral coverage it is used; truncated (top-6) coverage only fills the
    years without it, and its rows carry the flag ``top6-truncated``.
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
        return _empty()
    imports = prefer_complete_coverage(imports, keys)
    from_member = pl.col("exporter").is_in(list(members))
    by_origin = imports.group_by([*keys, "exporter", "coverage", "source"]).agg(
        pl.col(measure).sum().alias("q")
    )
    totals = by_origin.group_by(keys).agg(
        alliance_supply=pl.col("q").sum(),
        denominator=pl.col("q").filter(~from_member).sum(),
        alliance_share=pl.col("q").filter(from_member).sum() / pl.col("q").sum(),
        coverage=pl.col("coverage").first(),
        source=pl.col("source").first(),
    )
    external = (
        by_origin.filter(~from_member)
        .sort([*keys, "q", "exporter"], descending=[False] * 3 + [True, False])
        .group_by(keys, maintain_order=True)
        .agg(top_external_supplier=pl.col("exporter").first(), _top=pl.col("q").first())
    )
    return (
        totals.join(external, on=keys, how="left")
        .with_columns(
            top_external_share=pl.when(pl.col("denominator") > 0).then(
                pl.col("_top") / pl.col("denominator")
            ),
            basis=pl.lit("trade value" if measure == "value_usd" else "trade quantity"),
            share_of=pl.lit(SHARE_OF_EXTERNAL_IMPORTS),
            unit=pl.lit("USD" if measure == "value_usd" else "t"),
            alliance_share_flag=pl.lit(None, pl.String),
            flag=pl.when(pl.col("coverage") == "complete").then(None).otherwise(pl.lit(TOP6_FLAG)),
        )
        .select(DEPENDENCY_COLUMNS)
        .sort(keys)
    )


def apparent_consumption_dependency(
    shares: pl.DataFrame, trade: pl.DataFrame, members: frozenset[str]
) -> pl.DataFrame:
    """Largest non-member supplier's share of the alliance's apparent consumption, per mineral × stage × year.

    Apparent consumption = members' production + members' imports from outside − members' exports to outside, all
    in metric tons of the same material. Computed only where the traded product is the production series' own
    material (:data:`lodeline.market.scope.SAME_PRODUCT_HS`) and bilateral quantities have complete coverage. Where
    "other countries" produce or a member's figure is withheld, members' production is a lower bound and the row
    is flagged ``production-lower-bound``.
    """
    keys = list(GROUP_KEYS)
    wanted = pl.DataFrame(
        [{"mineral": m, "stage": st, "hs6": hs} for (m, st), (hs, _) in SAME_PRODUCT_HS.items()],
        schema={"mineral": pl.String, "stage": pl.String, "hs6": pl.String},
    )
    flows = trade.join(wanted, on=["mineral", "stage", "hs6"], how="semi").filter(
        (pl.col("coverage") == "complete")
        & pl.col("quantity_t").is_not_null()
        & (pl.col("exporter") != pl.col("importer"))
    )
    if flows.is_empty() or shares.is_empty():
        return _empty()
    member = pl.col("country").is_in(list(members))
    member_exp, member_imp = pl.col("exporter").is_in(list(members)), pl.col("importer").is_in(list(members))
    tonnes = to_tonnes(pl.col("quantity"), pl.col("unit"))
    production = shares.group_by(keys).agg(
        # a member printed as none ("--") is a known zero; only withheld or missing figures are unknown
        alliance_supply=pl.when((member & (pl.col("quantity").is_not_null() | is_negligible())).any()).then(
            tonnes.filter(member).sum()
        ),
        # share-only rows and non-mass units cannot be added to traded tonnes
        _convertible=tonnes.filter(pl.col("quantity").is_not_null()).is_not_null().all()
        & pl.col("quantity").is_not_null().any(),
        # members hidden in "other countries" or withheld: their production is a lower bound
        _partial=(is_other_countries() & (pl.col("quantity") > 0)).any()
        | (member & pl.col("quantity").is_null() & ~is_negligible()).any(),
        source=pl.col("source").first(),
    )
    imports = flows.filter(member_imp & ~member_exp)
    exports = flows.filter(member_exp & ~member_imp).group_by(keys).agg(_exports=pl.col("quantity_t").sum())
    by_origin = imports.group_by([*keys, "exporter"]).agg(q=pl.col("quantity_t").sum())
    top = (
        by_origin.sort([*keys, "q", "exporter"], descending=[False] * 3 + [True, False])
        .group_by(keys, maintain_order=True)
        .agg(
            top_external_supplier=pl.col("exporter").first(),
            _top=pl.col("q").first(),
            _imports=pl.col("q").sum(),
        )
    )
    # no member with a known figure: production counts as 0 in the sum (a lower bound, flagged), shown as unknown
    apparent = pl.col("alliance_supply").fill_null(0.0) + pl.col("_imports") - pl.col("_exports")
    return (
        production.filter(pl.col("_convertible"))
        .join(top, on=keys, how="inner")
        .join(exports, on=keys, how="left")
        .with_columns(pl.col("_exports").fill_null(0.0))
        .with_columns(denominator=pl.when(apparent > 0).then(apparent))
        .with_columns(
            top_external_share=pl.col("_top") / pl.col("denominator"),
            basis=pl.lit("apparent consumption"),
            share_of=pl.lit(SHARE_OF_APPARENT_CONSUMPTION),
            unit=pl.lit("t"),
            alliance_share=pl.lit(None, pl.Float64),
            alliance_share_flag=pl.lit(None, pl.String),
            coverage=pl.lit("complete"),
            flag=pl.when(pl.col("_partial")).then(pl.lit("production-lower-bound")).otherwise(None),
            source=pl.col("source") + pl.lit(";cepii_baci"),
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
