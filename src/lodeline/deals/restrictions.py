"""What restricts supply of a mineral on a date: the restrictive measures (licence, ban, quota, tax, end-use and
production controls) and their status, with the affected share of the alliance's imports.

Affected share: for a measure with HS codes, in the latest year of trade data for those codes, the alliance's
imports of those codes from the measure's jurisdiction ÷ the alliance's imports of those codes from outside the
alliance (value, USD; trade between members is left out, as in the dependency). HS codes the trade tables do not
hold are listed in ``hs6_without_trade_data`` (the bundled BACI extract keeps only the platform's mineral codes);
a measure with no trade data for any of its codes has no share (None), never 0.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from lodeline.deals.lifecycle import measure_note, measure_status

RESTRICTION_COLUMNS = (
    "measure_id", "jurisdiction", "kind", "measure_type", "direction", "minerals", "status", "announced_date",
    "effective_date", "suspended_from", "suspended_until", "hs6", "hs6_with_trade_data", "hs6_without_trade_data",
    "trade_year", "affected_imports_usd", "external_imports_usd", "affected_share", "note",
)  # fmt: skip
_SCHEMA = {
    "measure_id": pl.String, "jurisdiction": pl.String, "kind": pl.String, "measure_type": pl.String,
    "direction": pl.String, "minerals": pl.String, "status": pl.String, "announced_date": pl.String,
    "effective_date": pl.String, "suspended_from": pl.String, "suspended_until": pl.String, "hs6": pl.String,
    "hs6_with_trade_data": pl.String, "hs6_without_trade_data": pl.String, "trade_year": pl.Int64,
    "affected_imports_usd": pl.Float64, "external_imports_usd": pl.Float64, "affected_share": pl.Float64,
    "note": pl.String,
}  # fmt: skip
SUPPLY_DIRECTIONS = frozenset({"export", "re_export", "domestic"})


def affected_share(
    trade: pl.DataFrame, codes: list[str], jurisdiction: str, members: frozenset[str]
) -> dict[str, Any]:
    """The alliance's imports of ``codes`` from ``jurisdiction`` over its imports from outside, latest year."""
    held = set(trade["hs6"].unique().to_list()) if not trade.is_empty() else set()
    with_data = [c for c in codes if c in held]
    out: dict[str, Any] = {
        "hs6_with_trade_data": ";".join(with_data) or None,
        "hs6_without_trade_data": ";".join(c for c in codes if c not in held) or None,
        "trade_year": None, "affected_imports_usd": None, "external_imports_usd": None, "affected_share": None,
    }  # fmt: skip
    if not with_data:
        return out
    rows = trade.filter(
        pl.col("hs6").is_in(with_data)
        & pl.col("importer").is_in(list(members))
        & ~pl.col("exporter").is_in(list(members))
        & pl.col("value_usd").is_not_null()
    )
    if rows.is_empty():
        return out
    year = int(rows["year"].max())  # type: ignore[arg-type]
    rows = rows.filter(pl.col("year") == year)
    total = float(rows["value_usd"].sum())
    hit = float(rows.filter(pl.col("exporter") == jurisdiction)["value_usd"].sum())
    out |= {
        "trade_year": year, "affected_imports_usd": hit, "external_imports_usd": total,
        "affected_share": hit / total if total > 0 else None,
    }  # fmt: skip
    return out


def restrictions(
    measures: list[dict[str, Any]],
    on: dt.date,
    trade: pl.DataFrame,
    members: frozenset[str],
    *,
    mineral: str | None = None,
    include_inactive: bool = False,
) -> pl.DataFrame:
    """Restrictive supply-side measures on ``mineral`` (all minerals: None) and their status on ``on``; only those
    in force unless ``include_inactive`` (then announced and suspended ones too)."""
    rows = []
    for rec in measures:
        if not rec["restrictive"] or rec["direction"] not in SUPPLY_DIRECTIONS:
            continue
        if mineral is not None and mineral not in rec["minerals"]:
            continue
        status = measure_status(rec, on)
        if status == "not announced" or (status != "in force" and not include_inactive):
            continue
        share = affected_share(trade, rec["hs6"], rec["jurisdiction"], members)
        rows.append(
            {
                "measure_id": rec["measure_id"], "jurisdiction": rec["jurisdiction"], "kind": rec["kind"],
                "measure_type": rec["measure_type"], "direction": rec["direction"],
                "minerals": ";".join(rec["minerals"]) or None, "status": status,
                "announced_date": rec["announced_date"], "effective_date": rec["effective_date"],
                "suspended_from": rec["suspended_from"].isoformat() if rec["suspended_from"] else None,
                "suspended_until": rec["suspended_until"].isoformat() if rec["suspended_until"] else None,
                "hs6": ";".join(rec["hs6"]) or None, **share,
                "note": measure_note(rec, on) or (None if rec["hs6"] else "no HS codes stated for this measure"),
            }
        )  # fmt: skip
    return pl.DataFrame(rows, schema=_SCHEMA).select(RESTRICTION_COLUMNS)
