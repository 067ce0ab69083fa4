"""The assessment against the official EU 2023 list and the deviations from the EC method it contains.

Both are computed from an :func:`~lodeline.risk.assessment.assessment_table` frame (its ``inputs``, ``flags``,
``reason`` and ``ei_source`` columns), so they describe the run that produced the table, not a fixed text.
docs/methods/criticality.md sections 5 and 6 explain each deviation.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import polars as pl

from lodeline.risk import INSUFFICIENT

# Annex II (section 2) of Regulation (EU) 2024/1252, in the EC 2023 study's material names; the groups (heavy and
# light rare earths, platinum-group metals) by member, "bauxite/alumina/aluminium" as Aluminium.
HREE = (
    "Dysprosium",
    "Erbium",
    "Europium",
    "Gadolinium",
    "Holmium",
    "Lutetium",
    "Terbium",
    "Thulium",
    "Ytterbium",
    "Yttrium",
)
LREE = ("Cerium", "Lanthanum", "Neodymium", "Praseodymium", "Samarium")
PGM = ("Iridium", "Palladium", "Platinum", "Rhodium", "Ruthenium")
EU_CRM_2023: frozenset[str] = frozenset(
    {
        "Aluminium",
        "Antimony",
        "Arsenic",
        "Baryte",
        "Beryllium",
        "Bismuth",
        "Boron",
        "Cobalt",
        "Coking coal",
        "Copper",
        "Feldspar",
        "Fluorspar",
        "Gallium",
        "Germanium",
        "Hafnium",
        "Helium",
        "Lithium",
        "Magnesium",
        "Manganese",
        "Natural graphite",
        "Nickel",
        "Niobium",
        "Phosphate rock",
        "Phosphorus",
        "Scandium",
        "Silicon metal",
        "Strontium",
        "Tantalum",
        "Titanium metal",
        "Tungsten",
        "Vanadium",
        *HREE,
        *LREE,
        *PGM,
    }
)
#: The years the EC's 2023 assessment averaged supply over.
EC_YEARS = (2016, 2020)

VERDICTS = (
    "listed, critical here",
    "not listed, not critical here",
    "listed, not critical here",
    "not listed, critical here",
    "listed, no SR here",
    "not listed, no SR here",
)
COMPARISON_SCHEMA = {
    "material": pl.String,
    "listed_2023": pl.Boolean,
    "critical": pl.Boolean,
    "agrees": pl.Boolean,
    "verdict": pl.String,
    "sr": pl.Float64,
    "ei": pl.Float64,
    "reason": pl.String,
}
DEVIATION_SCHEMA = {
    "topic": pl.String,
    "ec_2023": pl.String,
    "lodeline": pl.String,
    "materials": pl.Int64,
    "affected": pl.String,
}


def _verdict(listed: bool, critical: bool | None) -> str:
    if critical is None:
        return VERDICTS[4] if listed else VERDICTS[5]
    if listed:
        return VERDICTS[0] if critical else VERDICTS[2]
    return VERDICTS[3] if critical else VERDICTS[1]


def compare_with_official_list(table: pl.DataFrame) -> pl.DataFrame:
    """One row per material of ``table``: on the 2023 list or not, critical here or not (null: no SR or EI),
    whether the two agree (null when it cannot be classified) and the verdict, grouped in :data:`VERDICTS` order."""
    rows = []
    for row in table.select("material", "sr", "ei", "critical", "reason").iter_rows(named=True):
        listed = row["material"] in EU_CRM_2023
        critical = row["critical"]
        rows.append(
            {
                **row,
                "listed_2023": listed,
                "agrees": None if critical is None else critical == listed,
                "verdict": _verdict(listed, critical),
            }
        )
    frame = pl.DataFrame(rows, schema=COMPARISON_SCHEMA)
    order = pl.col("verdict").replace_strict(
        list(VERDICTS), list(range(len(VERDICTS))), return_dtype=pl.Int64
    )
    return frame.sort(order, pl.col("material"))


def _stages(inputs: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in inputs.items() if k != "wgi" and isinstance(v, dict)]


def _any_stage(
    test: Callable[[str, dict[str, Any]], bool],
) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda row, inputs: any(test(stage, item) for stage, item in _stages(inputs))


def _years_used(inputs: dict[str, Any]) -> list[int]:
    return [
        y for _, item in _stages(inputs) for key in ("years_global", "years_eu") for y in item.get(key, [])
    ]


def method_deviations(table: pl.DataFrame) -> pl.DataFrame:
    """``[topic, ec_2023, lodeline, materials, affected]``: each deviation from the EC 2023 method and the
    materials of ``table`` it applies to (counted from the rows' inputs, flags, reasons and EI source)."""
    parsed = [
        (row, json.loads(row["inputs"]) if row["inputs"] else {})
        for row in table.select("material", "status", "reason", "flags", "ei_source", "inputs").iter_rows(
            named=True
        )
    ]
    years = sorted({y for _, inputs in parsed for y in _years_used(inputs)})
    wgi: dict[str, Any] = next((inputs["wgi"] for _, inputs in parsed if "wgi" in inputs), {})
    low, high = EC_YEARS
    checks: list[tuple[str, str, str, Callable[[dict[str, Any], dict[str, Any]], bool]]] = [
        (
            "stage choice",
            "SR at the bottleneck stage",
            "the bottleneck stage has no bundled supply data: no SR (the other stage's SR is shown apart)",
            lambda row, _: "no SR at the reported stage" in (row["reason"] or ""),
        ),
        (
            "insufficient data",
            "every listed material assessed",
            "no SR from the bundled data: reported as insufficient data, never as 0",
            lambda row, _: row["status"] == INSUFFICIENT,
        ),
        (
            "HREE / LREE",
            "each rare earth on its own supply",
            "members share the supply shares of all rare earths together",
            lambda row, _: "HREE/LREE not distinguished" in (row["flags"] or ""),
        ),
        (
            "data years",
            f"{low}–{high} averages",
            f"the most recent years per mineral, stage and scope (here {years[0]}–{years[-1]})"
            if years
            else "the most recent years per mineral, stage and scope",
            lambda _, inputs: any(y > high or y < low for y in _years_used(inputs)),
        ),
        (
            "rounded totals",
            "—",
            "shares normalised to the larger of the stated total and the sum of the named countries",
            lambda row, _: "named countries sum to" in (row["flags"] or ""),
        ),
        (
            "EU sourcing",
            "EU domestic production + extra-EU imports",
            "extra-EU imports only (EU production left out)",
            _any_stage(lambda _, item: item.get("eu_sourcing") == "extra-EU imports (trade)"),
        ),
        (
            "EU sourcing proxy",
            "EU sourcing data per material",
            "global supply stands in where no trade code maps",
            _any_stage(lambda _, item: item.get("eu_sourcing") == "proxy: global supply"),
        ),
        (
            "supply-stage proxy",
            "the assessed stage's own supply",
            "a one-stage material with data only at the other stage reads that stage",
            _any_stage(lambda stage, item: item.get("supply_stage") not in (None, stage)),
        ),
        (
            "stage read from another mineral",
            "bauxite / alumina / aluminium",
            "the stage's supply is read from another Lodeline mineral",
            _any_stage(lambda _, item: "supply read from mineral" in str(item.get("supply_proxy") or "")),
        ),
        (
            "EI",
            "computed from end uses and value added",
            "the EC's published 2023 EI (not recomputed)",
            lambda row, _: row["ei_source"] == "published (EC 2023)",
        ),
        (
            "WGI",
            "rescaled WGI of the study's year",
            f"WGI {wgi.get('year', '?')}; suppliers without WGI take the mean ({len(wgi.get('imputed', []))} imputed)",
            lambda _, inputs: "wgi" in inputs,
        ),
    ]
    out = []
    for topic, ec, ours, applies in checks:
        affected = sorted(row["material"] for row, inputs in parsed if applies(row, inputs))
        if affected:
            out.append(
                {
                    "topic": topic,
                    "ec_2023": ec,
                    "lodeline": ours,
                    "materials": len(affected),
                    "affected": ", ".join(affected),
                }
            )
    return pl.DataFrame(out, schema=DEVIATION_SCHEMA)
