"""IEA Critical Minerals Data Explorer, May 2025 edition: the projection columns the canonical build leaves out.

:mod:`lodeline.data.sources.iea_critical_minerals` loads only each edition's observed base year into
``production``. The outlook (docs/methods/outlook-2030.md) also needs, from the same bundled JSON
(``iea_critical_minerals/iea_cm_may2025_barrytho_iea.json``, CC BY 4.0, see its PROVENANCE):

* total demand by scenario (STEPS, APS, NZE) for 2024 (observed) and 2030/2035/2040/2045/2050 — ``demand``;
* the "base case" supply by country for 2030/2035/2040 (operating and announced projects weighted by the IEA's
  own probability) — ``supply``, used only as a cross-check, never as a baseline (it already contains the
  pipeline the outlook adds).

Units as the IEA block: kt of contained metal (lithium as Li; rare earths as magnet rare earths Nd, Pr, Tb, Dy;
graphite gross). Read-only, cached per folder; malformed content raises :class:`DataFormatError` naming the key.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.data.sources import _files
from lodeline.data.sources.iea_critical_minerals import (
    BLOCKS,
    EDITIONS,
    JSON_BLOCKS,
    JSON_FILE,
    ROW_LABEL,
    SOURCE_ID,
)
from lodeline.domain.countries import OTHER_COUNTRIES
from lodeline.errors import DataFormatError

EDITION, BASE_YEAR = EDITIONS[JSON_FILE]
SCENARIOS = ("STEPS", "APS", "NZE")
SCENARIO_NAMES = {
    "STEPS": "Stated Policies Scenario",
    "APS": "Announced Pledges Scenario",
    "NZE": "Net Zero Emissions by 2050 Scenario",
}
#: JSON mineral names → Lodeline mineral ids (the minerals the IEA projects)
MINERALS = {
    "Copper": "copper",
    "Cobalt": "cobalt",
    "Lithium": "lithium",
    "Nickel": "nickel",
    "Rare Earth Elements": "rare-earths",
    "Graphite": "graphite",
}


def _value(raw: Any, file: str, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DataFormatError(file, f"{where}: expected a number, got {raw!r}")
    return float(raw)


@lru_cache(maxsize=4)
def _document(folder: Path) -> tuple[dict[str, Any], str]:
    file = _files.label(folder, JSON_FILE)
    text = _files.read_text(folder, JSON_FILE, encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(file, f"invalid JSON: {exc.msg}", row=exc.lineno) from None
    if not isinstance(doc, dict):
        raise DataFormatError(file, "expected a JSON object")
    return doc, file


def demand(folder: Path) -> pl.DataFrame:
    """Total demand per mineral × scenario × year (kt), the observed base year repeated in each scenario."""
    doc, file = _document(folder)
    block = doc.get("totalDemand")
    if not isinstance(block, dict):
        raise DataFormatError(file, "no 'totalDemand' object")
    rows = []
    for name, mineral in MINERALS.items():
        total = (block.get(name) or {}).get("totalDemand")
        if not isinstance(total, dict) or str(BASE_YEAR) not in total:
            raise DataFormatError(file, f"totalDemand.{name}.totalDemand.{BASE_YEAR} is missing")
        base = _value(total[str(BASE_YEAR)], file, f"totalDemand.{name}.{BASE_YEAR}")
        for scenario in SCENARIOS:
            series = total.get(scenario)
            if not isinstance(series, dict):
                raise DataFormatError(file, f"totalDemand.{name}.totalDemand.{scenario} is missing")
            rows.append((mineral, scenario, BASE_YEAR, base))
            for year, raw in series.items():
                where = f"totalDemand.{name}.{scenario}.{year}"
                rows.append((mineral, scenario, int(year), _value(raw, file, where)))
    return pl.DataFrame(
        rows,
        schema={"mineral": pl.String, "scenario": pl.String, "year": pl.Int64, "demand": pl.Float64},
        orient="row",
    ).with_columns(unit=pl.lit("kt"), edition=pl.lit(EDITION), source=pl.lit(SOURCE_ID))


def supply(folder: Path) -> pl.DataFrame:
    """IEA base-case supply per mineral × stage × country × year (kt); ``country`` is ISO3 or ``OTHER``."""
    doc, file = _document(folder)
    block = doc.get("supply")
    if not isinstance(block, dict):
        raise DataFormatError(file, "no 'supply' object")
    rows = []
    for (name, stage_key), title in JSON_BLOCKS.items():
        meta = BLOCKS[title]
        countries = ((block.get(name) or {}).get(stage_key) or {}).get("countries")
        if not isinstance(countries, dict):
            raise DataFormatError(file, f"supply.{name}.{stage_key}.countries is missing")
        for country, series in countries.items():
            if not isinstance(series, dict) or all(v is None for v in series.values()):
                continue  # the sheet's note rows (see iea_critical_minerals.parse_json)
            iso3 = (
                OTHER_COUNTRIES
                if country == ROW_LABEL
                else _files.country(country, file=file, row=0, column=f"supply.{name}.{stage_key}")
            )
            for year, raw in series.items():
                if raw is None:
                    continue
                where = f"supply.{name}.{stage_key}.{country}.{year}"
                rows.append((meta.mineral, meta.stage, iso3, int(year), _value(raw, file, where)))
    return pl.DataFrame(
        rows,
        schema={
            "mineral": pl.String,
            "stage": pl.String,
            "country": pl.String,
            "year": pl.Int64,
            "quantity": pl.Float64,
        },
        orient="row",
    ).with_columns(unit=pl.lit("kt"), edition=pl.lit(EDITION), source=pl.lit(SOURCE_ID))
