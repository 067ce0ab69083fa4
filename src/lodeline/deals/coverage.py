"""Which agreements cover the alliance's single-supplier gap for a mineral at a stage (docs/methods/deals-coverage.md).

For each mineral × stage with a production-basis dependency figure (the largest supplier outside the alliance, T,
with share d of world supply in the latest year with a figure):

* an agreement *covers* it when at least one alliance member is a party (directly or through a group such as the
  EU) and it names the mineral (``mineral_specific``) or critical minerals in general (``general``), and it names
  the stage or states no stage the platform maps (``stage_specific`` false);
* its *partners* are its party countries outside the alliance; each partner's share p of world supply comes from
  the same year's market shares (None where the market tables have no figure: a gap, never 0);
* the share of the dependency partner supply could in principle replace is min(Σ p, d) / d over partners other
  than T with a known share, once for mineral-specific agreements only and once including general ones. It is an
  upper bound: it assumes all partner output could be redirected to the alliance.
"""

from __future__ import annotations

from typing import Any

import polars as pl

COVERAGE_COLUMNS = (
    "mineral", "stage", "year", "top_external_supplier", "top_external_share", "partner", "partner_share",
    "agreements", "mineral_specific", "stage_specific", "binding_any", "partners_share_specific",
    "partners_share_all", "replaceable_specific", "replaceable_all", "flag",
)  # fmt: skip
_SCHEMA = {
    "mineral": pl.String, "stage": pl.String, "year": pl.Int64, "top_external_supplier": pl.String,
    "top_external_share": pl.Float64, "partner": pl.String, "partner_share": pl.Float64, "agreements": pl.String,
    "mineral_specific": pl.Boolean, "stage_specific": pl.Boolean, "binding_any": pl.Boolean,
    "partners_share_specific": pl.Float64, "partners_share_all": pl.Float64, "replaceable_specific": pl.Float64,
    "replaceable_all": pl.Float64, "flag": pl.String,
}  # fmt: skip


def covering(
    agreements: list[dict[str, Any]], members: frozenset[str], mineral: str, stage: str
) -> list[dict[str, Any]]:
    """The agreements with an alliance member as a party that name ``mineral`` (or critical minerals in general)
    and ``stage`` (or no mapped stage)."""
    out = []
    for rec in agreements:
        if not members & set(rec["countries"]):
            continue
        if mineral not in rec["minerals"] and not rec["general"]:
            continue
        if rec["stages"] and stage not in rec["stages"]:
            continue
        out.append(rec)
    return out


def _replaceable(total: float, d: float | None) -> float | None:
    if d is None or d <= 0:
        return None
    return min(total, d) / d


def coverage_rows(
    agreements: list[dict[str, Any]],
    shares: pl.DataFrame,
    mineral: str,
    stage: str,
    year: int,
    top_supplier: str | None,
    top_share: float | None,
    members: frozenset[str],
) -> list[dict[str, Any]]:
    """One row per partner (or one row with no partner) for one mineral × stage × year."""
    share_of = {
        r["country"]: r["share"]
        for r in shares.filter(
            (pl.col("mineral") == mineral) & (pl.col("stage") == stage) & (pl.col("year") == year)
        ).iter_rows(named=True)
    }
    partners: dict[str, dict[str, Any]] = {}
    for rec in covering(agreements, members, mineral, stage):
        specific = mineral in rec["minerals"]
        for country in rec["countries"]:
            if country in members:
                continue
            p = partners.setdefault(
                country,
                {"agreements": [], "mineral_specific": False, "stage_specific": False, "binding": False},
            )
            p["agreements"].append(rec["agreement_id"])
            p["mineral_specific"] |= specific
            p["stage_specific"] |= bool(rec["stages"])
            p["binding"] |= rec.get("binding") == "yes"
    counted: dict[str, float] = {
        c: float(s) for c in partners if c != top_supplier and (s := share_of.get(c)) is not None
    }
    total_specific = sum((s for c, s in counted.items() if partners[c]["mineral_specific"]), 0.0)
    total_all = sum(counted.values(), 0.0)
    base = {
        "mineral": mineral, "stage": stage, "year": year, "top_external_supplier": top_supplier,
        "top_external_share": top_share, "partners_share_specific": total_specific, "partners_share_all": total_all,
        "replaceable_specific": _replaceable(total_specific, top_share),
        "replaceable_all": _replaceable(total_all, top_share),
    }  # fmt: skip
    if not partners:
        return [base | {"partner": None, "partner_share": None, "agreements": None, "mineral_specific": None,
                        "stage_specific": None, "binding_any": None, "flag": "no-covering-agreement"}]  # fmt: skip
    rows = []
    for country, p in sorted(partners.items(), key=lambda kv: (-(share_of.get(kv[0]) or 0.0), kv[0])):
        flag = None
        if country == top_supplier:
            flag = "partner-is-top-supplier"
        elif share_of.get(country) is None:
            flag = "no-share-data"
        rows.append(
            base | {"partner": country, "partner_share": share_of.get(country),
                    "agreements": ";".join(p["agreements"]), "mineral_specific": p["mineral_specific"],
                    "stage_specific": p["stage_specific"], "binding_any": p["binding"], "flag": flag}
        )  # fmt: skip
    return rows


def coverage(
    agreements: list[dict[str, Any]],
    shares: pl.DataFrame,
    dependency: pl.DataFrame,
    members: frozenset[str],
) -> pl.DataFrame:
    """Coverage for every mineral × stage of ``dependency`` (production basis: mineral, stage, year,
    top_external_supplier, top_external_share), in its latest year with a figure."""
    latest = (
        dependency.filter(pl.col("top_external_share").is_not_null())
        .sort("year")
        .group_by(["mineral", "stage"], maintain_order=True)
        .last()
        .sort(["mineral", "stage"])
    )
    rows: list[dict[str, Any]] = []
    for dep in latest.iter_rows(named=True):
        rows.extend(
            coverage_rows(
                agreements,
                shares,
                dep["mineral"],
                dep["stage"],
                int(dep["year"]),
                dep["top_external_supplier"],
                dep["top_external_share"],
                members,
            )
        )
    return pl.DataFrame(rows, schema=_SCHEMA).select(COVERAGE_COLUMNS)
