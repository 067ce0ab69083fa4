"""CEPII BACI (HS17, V202601): bilateral trade in 30 critical-mineral HS6 codes → ``trade``.

Two files, two coverages:

* ``complete`` — 2024, every bilateral pair, value (thousand USD, FOB → ``value_usd`` × 1000) and tonnes.
* ``top6`` — 2018–2024, only each side's top-6 partners (understates totals), value in USD, no quantity.

Mapping decisions (see docs/data-sources.md):

* HS6 → (mineral, stage) comes from ``minerals.yaml``. HS 811292 is a broad group (Ga, Ge, Hf, In, Nb, Re, Tl, V
  unwrought); it maps to the dedicated id ``gallium-germanium-group`` and never to gallium or germanium themselves.
  The top-6 file repeats the same 811292 flows three times, labelled gallium, germanium and hafnium; the parser
  checks that the three copies are identical and keeps one, so nothing is counted twice.
* BACI partner codes that are not ISO 3166 are mapped explicitly in ``BACI_SPECIAL_CODES``; any other unknown code
  is an error at its row and column, never dropped.
* A missing quantity is NULL with flag ``NA``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import _files
from lodeline.domain.countries import countries, iso2_to_iso3
from lodeline.domain.minerals import Stage, hs_index
from lodeline.errors import DataFormatError, UnknownCountryError

COMPLETE_FILE = "baci_hs17_V202601_2024_critical_hs6_subset.csv"
TOP6_FILE = "baci_hs17_V202601_2018_2024_top6_per_side_usd.csv"
EDITION = "HS17 V202601"
SOURCE_ID = "cepii_baci"

COMPLETE_HEADER = (
    "year",
    "exporter",
    "exporter_name",
    "importer",
    "importer_name",
    "hs6",
    "material",
    "value_kusd",
    "qty_t",
)
TOP6_HEADER = ("year", "material", "exporter_iso2", "importer_iso2", "value_usd")

#: BACI's material label for each HS6 code (the extracting project's grouping; checked row by row).
MATERIAL_HS6: dict[str, str] = {
    "graphite": "250490",
    "phosphate": "251010",
    "baryte": "251110",
    "boron": "252800",
    "feldspar": "252910",
    "fluorspar": "252922",
    "manganese": "260200",
    "bauxite": "260600",
    "cokingcoal": "270112",
    "helium": "280429",
    "silicon": "280469",
    "phosphorus": "280470",
    "arsenic": "280480",
    "cobalt": "282200",
    "lithium": "283691",
    "strontium": "283692",
    "platinum": "711011",
    "palladium": "711021",
    "vanadium": "720292",
    "niobium": "720293",
    "copper": "740311",
    "nickel": "750210",
    "tungsten": "810194",
    "tantalum": "810320",
    "magnesium": "810411",
    "titanium": "810820",
    "antimony": "811010",
    "beryllium": "811212",
    "gallium+germanium": "811292",
    "magnets": "850511",
}
#: In the top-6 file the 811292 flows appear three times under these labels (identical copies).
TOP6_811292_COPIES = ("gallium", "germanium", "hafnium")

#: HS codes shared by several minerals in minerals.yaml: the one id a trade flow is booked under.
HS_GROUP_MINERAL = {"811292": "gallium-germanium-group"}

#: BACI partner codes outside ISO 3166-1. "S19" is Comtrade/BACI 490 "Other Asia, nes", which is Taiwan's
#: trade reported under that label; the top-6 file (same BACI release) was force-mapped to TW by its
#: extractor, so mapping S19 → TWN keeps both coverages consistent.
BACI_SPECIAL_CODES = {"S19": "TWN"}


def mineral_stage(
    hs6: str, *, file: str, row: int, index: Mapping[str, list[tuple[str, Stage]]]
) -> tuple[str, str]:
    """(mineral, stage) of an HS6 code; ``index`` is ``hs_index()``, built once per file (it is not cached)."""
    if hs6 in HS_GROUP_MINERAL:
        group = HS_GROUP_MINERAL[hs6]
        stages = [stage for mineral, stage in index.get(hs6, []) if mineral == group]
        if not stages:
            raise DataFormatError(
                file, f"HS6 {hs6}: mineral {group!r} does not list it in minerals.yaml", row=row, column="hs6"
            )
        return group, stages[0].value
    found = index.get(hs6, [])
    if len(found) != 1:
        reason = (
            "is not in minerals.yaml" if not found else f"maps to several minerals {found} with no group id"
        )
        raise DataFormatError(file, f"HS6 {hs6} {reason}", row=row, column="hs6")
    mineral, stage = found[0]
    return mineral, stage.value


def _iso3(code: str, *, file: str, row: int, column: str) -> str:
    code = code.strip()
    if code in BACI_SPECIAL_CODES:
        return BACI_SPECIAL_CODES[code]
    if code in countries():
        return code
    raise DataFormatError(
        file,
        f"BACI partner code {code!r} is not ISO 3166-1 alpha-3 nor a mapped BACI code",
        row=row,
        column=column,
    )


def parse_complete(folder: Path) -> pl.DataFrame:
    file = _files.label(folder, COMPLETE_FILE)
    rows = _files.read_csv(folder, COMPLETE_FILE, header=COMPLETE_HEADER)
    index = hs_index()
    out: dict[str, list[object]] = {
        k: []
        for k in (
            "hs6",
            "mineral",
            "stage",
            "exporter",
            "importer",
            "year",
            "value_usd",
            "quantity_t",
            "flag",
            "_row",
        )
    }
    for r in rows:
        c, line = r.cells, r.line
        hs6 = c["hs6"].strip()
        mineral, stage = mineral_stage(hs6, file=file, row=line, index=index)
        if MATERIAL_HS6.get(c["material"].strip()) != hs6:
            raise DataFormatError(
                file, f"material {c['material']!r} does not belong to HS6 {hs6}", row=line, column="material"
            )
        value_k = _files.required_number(c["value_kusd"], file=file, row=line, column="value_kusd")
        qty, qty_flag = _files.number(c["qty_t"], file=file, row=line, column="qty_t")
        out["hs6"].append(hs6)
        out["mineral"].append(mineral)
        out["stage"].append(stage)
        out["exporter"].append(_iso3(c["exporter"], file=file, row=line, column="exporter"))
        out["importer"].append(_iso3(c["importer"], file=file, row=line, column="importer"))
        out["year"].append(_files.year(c["year"], file=file, row=line, column="year"))
        out["value_usd"].append(value_k * 1000.0)
        out["quantity_t"].append(qty)
        out["flag"].append(qty_flag if qty is not None else (qty_flag or "NA"))
        out["_row"].append(line)
    frame = pl.DataFrame(out, schema_overrides={"value_usd": pl.Float64, "quantity_t": pl.Float64})
    return frame.with_columns(coverage=pl.lit("complete"), _file=pl.lit(file))


def parse_top6(folder: Path) -> pl.DataFrame:
    file = _files.label(folder, TOP6_FILE)
    rows = _files.read_csv(folder, TOP6_FILE, header=TOP6_HEADER)
    index = hs_index()
    copies: dict[str, set[tuple[str, str, str, str]]] = {m: set() for m in TOP6_811292_COPIES}
    # per-file memo of lookups that repeat on almost every row
    stage_of: dict[str, tuple[str, str]] = {}
    iso3_of: dict[str, str] = {}
    year_of: dict[str, int] = {}
    out: dict[str, list[object]] = {
        k: [] for k in ("hs6", "mineral", "stage", "exporter", "importer", "year", "value_usd", "_row")
    }
    for r in rows:
        c, line = r.cells, r.line
        material = c["material"].strip()
        if material in copies:
            copies[material].add((c["year"], c["exporter_iso2"], c["importer_iso2"], c["value_usd"]))
            if material != TOP6_811292_COPIES[0]:
                continue  # an identical copy of the 811292 flows (checked below)
            hs6 = MATERIAL_HS6["gallium+germanium"]
        elif material in MATERIAL_HS6:
            hs6 = MATERIAL_HS6[material]
        else:
            raise DataFormatError(
                file, f"unknown BACI material label {material!r}", row=line, column="material"
            )
        if hs6 not in stage_of:
            stage_of[hs6] = mineral_stage(hs6, file=file, row=line, index=index)
        mineral, stage = stage_of[hs6]
        for side in ("exporter", "importer"):
            code = c[f"{side}_iso2"].strip()
            if code not in iso3_of:
                try:
                    iso3_of[code] = iso2_to_iso3(code)
                except UnknownCountryError:
                    raise DataFormatError(
                        file, f"not an ISO 3166-1 alpha-2 code: {code!r}", row=line, column=f"{side}_iso2"
                    ) from None
            out[side].append(iso3_of[code])
        if c["year"] not in year_of:
            year_of[c["year"]] = _files.year(c["year"], file=file, row=line, column="year")
        raw_value = c["value_usd"]
        # Fast path for the file's plain whole-dollar values; anything else goes through the flag parser.
        value = (
            float(raw_value)
            if raw_value.isascii() and raw_value.isdigit()
            else _files.required_number(raw_value, file=file, row=line, column="value_usd")
        )
        out["hs6"].append(hs6)
        out["mineral"].append(mineral)
        out["stage"].append(stage)
        out["year"].append(year_of[c["year"]])
        out["value_usd"].append(value)
        out["_row"].append(line)
    first = copies[TOP6_811292_COPIES[0]]
    for other in TOP6_811292_COPIES[1:]:
        if copies[other] != first:
            raise DataFormatError(
                file,
                f"the {other!r} rows are expected to repeat the HS 811292 flows labelled "
                f"{TOP6_811292_COPIES[0]!r} exactly, but they differ; refusing to guess which "
                "belongs to which metal",
                column="material",
            )
    frame = pl.DataFrame(out, schema_overrides={"value_usd": pl.Float64})
    return frame.with_columns(
        quantity_t=pl.lit(None, dtype=pl.Float64),
        coverage=pl.lit("top6"),
        flag=pl.lit(None, dtype=pl.String),
        _file=pl.lit(file),
    )


COLUMNS = (
    "hs6",
    "mineral",
    "stage",
    "exporter",
    "importer",
    "year",
    "value_usd",
    "quantity_t",
    "coverage",
    "source",
    "edition",
    "flag",
    "_file",
    "_row",
)


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    frames = [parse_complete(folder), parse_top6(folder)]
    trade = pl.concat(
        [f.with_columns(source=pl.lit(SOURCE_ID), edition=pl.lit(EDITION)).select(COLUMNS) for f in frames]
    )
    return {"trade": trade}


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="CEPII BACI bilateral trade, critical-mineral HS6 subset (2024 all pairs; 2018-2024 top-6 partners)",
    publisher="CEPII (Gaulier & Zignago 2010), built from UN Comtrade; subset extracted by "
    "github.com/Varcolacus/critical-materials-atlas",
    edition=EDITION,
    licence="Etalab Open Licence 2.0 (free reuse, including redistribution, with attribution)",
    folder="cepii_baci",
    files=(COMPLETE_FILE, TOP6_FILE),
    parse=parse,
)
