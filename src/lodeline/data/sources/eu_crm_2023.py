"""EU CRM 2023 assessment inputs → ``criticality_inputs`` (long form) and ``trade_factors``.

``eu_crm_2023_inputs.csv`` has one row per material and one column per input of the EU method; it is written
long: one row per (material, parameter), numbers in ``value`` and labels (stage, supply basis, group) in
``text_value``. A blank cell means the parameter was not assessed for that material (e.g. no import reliance at
extraction for a processing-only material) and produces no row.

``mineral`` is the Lodeline id when the EU material is the same thing as one (``Natural graphite`` → ``graphite``)
and NULL otherwise (aggregates, kaolin, wood, the individual rare-earth elements, the LREE/HREE groups …). ``Titanium metal`` is
assessed separately from ``Titanium`` and keeps mineral NULL so one mineral never has two competing EU rows.

``eu_crm_2023_economic_importance.csv`` gives the EI score the assessment PUBLISHED for each material; it is added
to ``criticality_inputs`` as parameter ``EI_published`` (0-10). It is a published result, not a method input, and
every output that shows it says "published (EC 2023)". Each of its materials must be one of the inputs file.

Trade factors keep the EU's own stage words (``extraction`` / ``processing``) and scope (``global`` /
``eu_sourcing``); the t_c value is the multiplier of the EU supply-risk formula.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import _files
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

INPUTS_FILE = "eu_crm_2023_inputs.csv"
TC_FILE = "eu_crm_2023_trade_parameters_tc.csv"
EI_FILE = "eu_crm_2023_economic_importance.csv"
EI_HEADER = ("material", "EI_published")
#: The EC's EI scale (EC 2017): 0-10.
EI_MAX = 10.0
SOURCE_ID = "eu_crm_2023"
EDITION = "2023 (5th assessment)"

TEXT_PARAMETERS = (
    "group",
    "bottleneck_stage",
    "stages_assessed",
    "supply_basis_extraction",
    "supply_basis_processing",
)
NUMBER_PARAMETERS = ("SI_EI", "SI_SR", "IR_extraction_pct", "IR_processing_pct", "EoL_RIR_pct")
INPUTS_HEADER = ("material", *TEXT_PARAMETERS, *NUMBER_PARAMETERS)
TC_HEADER = ("material_name", "country_name", "t_c", "stage", "scope", "source_name", "date_year")
TC_STAGES = frozenset({"extraction", "processing"})
TC_SCOPES = frozenset({"global", "eu_sourcing"})
#: Upper bounds that catch column shifts: substitution indices are 0-1, percentages 0-100.
_UPPER = {
    "SI_EI": 1.0,
    "SI_SR": 1.0,
    "IR_extraction_pct": 100.0,
    "IR_processing_pct": 100.0,
    "EoL_RIR_pct": 100.0,
}

#: EU materials whose name would resolve to a Lodeline id that another EU material already owns.
MINERAL_OVERRIDES: dict[str, str | None] = {"Titanium metal": None}


def material_mineral(material: str) -> str | None:
    if material in MINERAL_OVERRIDES:
        return MINERAL_OVERRIDES[material]
    try:
        return resolve_mineral(material)
    except UnknownMineralError:
        return None


def parse_inputs(folder: Path) -> pl.DataFrame:
    file = _files.label(folder, INPUTS_FILE)
    out: dict[str, list[object]] = {
        k: [] for k in ("material", "mineral", "parameter", "value", "text_value", "_row")
    }
    seen: dict[str, int] = {}
    for r in _files.read_csv(folder, INPUTS_FILE, header=INPUTS_HEADER):
        c, line = r.cells, r.line
        material = c["material"].strip()
        if not material:
            raise DataFormatError(file, "material name is empty", row=line, column="material")
        if material in seen:
            raise DataFormatError(
                file, f"material {material!r} repeats row {seen[material]}", row=line, column="material"
            )
        seen[material] = line
        mineral = material_mineral(material)
        for name in (*TEXT_PARAMETERS, *NUMBER_PARAMETERS):
            raw = c[name].strip()
            if not raw:
                continue
            value: float | None = None
            text: str | None = None
            if name in NUMBER_PARAMETERS:
                value = _files.required_number(raw, file=file, row=line, column=name)
                if value > _UPPER[name]:
                    raise DataFormatError(
                        file,
                        f"{name} = {raw} exceeds {_UPPER[name]:g} (shifted column?)",
                        row=line,
                        column=name,
                    )
            else:
                text = raw
            out["material"].append(material)
            out["mineral"].append(mineral)
            out["parameter"].append(name)
            out["value"].append(value)
            out["text_value"].append(text)
            out["_row"].append(line)
    frame = pl.DataFrame(
        out, schema_overrides={"mineral": pl.String, "value": pl.Float64, "text_value": pl.String}
    )
    return frame.with_columns(flag=pl.lit(None, dtype=pl.String), _file=pl.lit(file))


def parse_economic_importance(folder: Path, materials: Mapping[str, str | None]) -> pl.DataFrame:
    """The published EI per material, long like :func:`parse_inputs` (``materials``: name -> mineral id)."""
    file = _files.label(folder, EI_FILE)
    out: dict[str, list[object]] = {
        k: [] for k in ("material", "mineral", "parameter", "value", "text_value", "_row")
    }
    seen: dict[str, int] = {}
    for r in _files.read_csv(folder, EI_FILE, header=EI_HEADER):
        c, line = r.cells, r.line
        material = c["material"].strip()
        if material not in materials:
            raise DataFormatError(
                file, f"material {material!r} is not in {INPUTS_FILE}", row=line, column="material"
            )
        if material in seen:
            raise DataFormatError(
                file, f"material {material!r} repeats row {seen[material]}", row=line, column="material"
            )
        seen[material] = line
        value = _files.required_number(c["EI_published"], file=file, row=line, column="EI_published")
        if not 0.0 <= value <= EI_MAX:
            raise DataFormatError(
                file, f"EI {value:g} outside the EC's 0-{EI_MAX:g} scale", row=line, column="EI_published"
            )
        out["material"].append(material)
        out["mineral"].append(materials[material])
        out["parameter"].append("EI_published")
        out["value"].append(value)
        out["text_value"].append(None)
        out["_row"].append(line)
    frame = pl.DataFrame(
        out, schema_overrides={"mineral": pl.String, "value": pl.Float64, "text_value": pl.String}
    )
    return frame.with_columns(flag=pl.lit(None, dtype=pl.String), _file=pl.lit(file))


def parse_trade_factors(folder: Path) -> pl.DataFrame:
    file = _files.label(folder, TC_FILE)
    out: dict[str, list[object]] = {
        k: [] for k in ("material", "mineral", "country", "stage", "scope", "t_c", "_row")
    }
    seen: dict[tuple[str, str, str, str], int] = {}
    for r in _files.read_csv(folder, TC_FILE, header=TC_HEADER):
        c, line = r.cells, r.line
        material = c["material_name"].strip()
        country = _files.country(c["country_name"], file=file, row=line, column="country_name")
        stage, scope = c["stage"].strip(), c["scope"].strip()
        if stage not in TC_STAGES:
            raise DataFormatError(file, f"unknown stage {stage!r}", row=line, column="stage")
        if scope not in TC_SCOPES:
            raise DataFormatError(file, f"unknown scope {scope!r}", row=line, column="scope")
        t_c = _files.required_number(c["t_c"], file=file, row=line, column="t_c")
        if not 0.5 <= t_c <= 2.0:
            raise DataFormatError(
                file, f"trade factor {t_c} outside the method's range", row=line, column="t_c"
            )
        key = (material.lower(), country, stage, scope)
        if key in seen:
            raise DataFormatError(
                file, f"duplicate trade factor (first at row {seen[key]})", row=line, column="material_name"
            )
        seen[key] = line
        out["material"].append(material)
        out["mineral"].append(material_mineral(material))
        out["country"].append(country)
        out["stage"].append(stage)
        out["scope"].append(scope)
        out["t_c"].append(t_c)
        out["_row"].append(line)
    frame = pl.DataFrame(out, schema_overrides={"mineral": pl.String, "t_c": pl.Float64})
    return frame.with_columns(flag=pl.lit(None, dtype=pl.String), _file=pl.lit(file))


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    prov = {"source": pl.lit(SOURCE_ID), "edition": pl.lit(EDITION)}
    inputs = parse_inputs(folder)
    materials = dict(inputs.select("material", "mineral").unique("material").iter_rows())
    ei = parse_economic_importance(folder, materials)
    return {
        "criticality_inputs": pl.concat([inputs, ei], how="vertical").with_columns(**prov),
        "trade_factors": parse_trade_factors(folder).with_columns(**prov),
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="EU Critical Raw Materials 2023 assessment: method inputs, trade factors t_c and published EI",
    publisher="European Commission, DG GROW (Grohol & Veeh 2023, DOI 10.2873/725585); transcribed by "
    "github.com/meyerdata/CritMAT",
    edition=EDITION,
    licence="EC reuse policy (Decision 2011/833/EU): reuse allowed with acknowledgement",
    folder="eu_crm_2023",
    files=(INPUTS_FILE, TC_FILE, EI_FILE),
    parse=parse,
)
