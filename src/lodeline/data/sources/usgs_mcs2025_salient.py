"""USGS MCS 2025 US salient statistics: one wide CSV per commodity (``salient_commodity/*_salient.csv``).

Each column name encodes the statistic and the unit (``USprod_Mine_t``, ``Price_Spot_dlb``, ``NIR_pct``). The
statistic is read from the first recognised token, the unit from the last token (:data:`UNIT_CODES`). Where
the column name is wrong or ambiguous, :data:`COLUMN_OVERRIDES` gives the unit (and label) as printed in the
MCS 2025 tables — each override was checked against the labelled MCS 2026 release, which repeats 2021–2024.
An unknown unit code raises, so a new file never gets a guessed unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources.usgs_common import (
    GARBLED,
    QUALITATIVE,
    RANGE,
    SMALL_OR_ELSEWHERE,
    read_rows,
    read_text,
)
from lodeline.data.sources.usgs_common import usgs_value as parse_cell
from lodeline.errors import DataFormatError

FOLDER = "usgs_mcs2025"
SUBDIR = "salient_commodity"
SOURCE = "usgs_mcs2025_salient"
EDITION = "MCS 2025"

#: File code (``mcs2025-<code>_salient.csv``) → mineral; ``None`` = out of scope (not in the mineral registry).
FILES: dict[str, str | None] = {
    "alumi": "aluminium", "antim": "antimony", "arsen": "arsenic", "barit": "baryte", "bauxi": "bauxite",
    "beryl": "beryllium", "bismu": "bismuth", "boron": "boron", "chrom": "chromium", "cobal": "cobalt",
    "coppe": "copper", "felds": "feldspar", "feore": "iron-ore", "fluor": "fluorspar", "galli": "gallium",
    "germa": "germanium", "graph": "graphite", "heliu": "helium", "indiu": "indium", "lead": "lead",
    "lithium": "lithium", "manga": "manganese", "mgmet": "magnesium", "molyb": "molybdenum", "nicke": "nickel",
    "niobi": "niobium", "phosp": "phosphate", "plati": "platinum-group-metals", "potas": "potash",
    "rareee": "rare-earths", "rheni": "rhenium", "scand": "scandium", "silve": "silver", "simet": "silicon",
    "stron": "strontium", "tanta": "tantalum", "tellu": "tellurium", "timin": "titanium", "tin": "tin",
    "titan": "titanium", "tungs": "tungsten", "vanad": "vanadium", "yttri": "rare-earths", "zinc": "zinc",
    "zirco": "zirconium",
    **dict.fromkeys(
        ("abras", "asbes", "bromi", "cadmi", "cemen", "clays", "diamo", "diato", "fepig", "fescr", "fesla", "feste",
         "garne", "gemst", "gold", "gypsu", "iodin", "kyani", "lime", "mercu", "mgcomp", "mica", "nitro", "peat",
         "perli", "pumic", "quart", "salt", "sandc", "sandi", "selen", "sodaa", "stonc", "stond", "sulfu", "talc",
         "thall", "thori", "vermi", "zeoli"),
        None,
    ),
}  # fmt: skip

#: Columns that describe another mineral than the file's: (file code, token) → mineral (None = skip column).
TOKEN_MINERAL: dict[tuple[str, str], str | None] = {
    ("bauxi", "alumina"): "alumina",
    ("plati", "palladium"): "palladium",
    ("plati", "platinum"): "platinum",
    ("zirco", "hf"): "hafnium",
    ("felds", "nepheline"): None,
}

UNIT_CODES = {
    "t": "metric tons", "kt": "thousand metric tons", "mmt": "million metric tons", "kg": "kilograms",
    "pct": "percent", "num": "number", "dt": "dollars per metric ton", "dlb": "dollars per pound",
    "ctslb": "cents per pound", "dkg": "dollars per kilogram", "dg": "dollars per gram",
    "dto": "dollars per troy ounce", "dtoz": "dollars per troy ounce", "mcm": "million cubic meters",
}  # fmt: skip

#: (file code, column, position) → (unit, detail or None). Position (1-based field number) only where the header
#: repeats a name. Checked against the labelled MCS 2026 release (same values for 2021–2024).
COLUMN_OVERRIDES: dict[tuple[str, str, int | None], tuple[str, str | None]] = {
    ("germa", "Consump_g", None): (
        "kilograms",
        None,
    ),  # MCS 2025/2026 print germanium consumption in kilograms
    ("heliu", "Grade-A-Salescm", None): ("million cubic meters", "Grade-A_Sales_mcm"),  # missing "_m"
    ("tungs", "Stocks_", None): (
        "metric tons",
        None,
    ),  # unit code missing; the tungsten table is in metric tons
    ("tungs", "Price_WO3_dt", None): ("dollars per metric ton unit of WO3", None),  # per mtu (10 kg WO3)
    ("rareee", "Employment_", None): ("number", None),
    ("bauxi", "Alumina_Price_kt", None): ("dollars per metric ton", None),  # 462 in 2021 = MCS 2026 $/t
    ("zirco", "Price_Zircon_premium_CIF_CN_t", None): ("dollars per metric ton", None),
    ("zirco", "Price_Zircon_imported_t", None): ("dollars per metric ton", None),
    ("zirco", "Price_Zircon_sponge_CN_t", None): ("dollars per kilogram", None),  # zirconium sponge, $/kg
    ("zirco", "Price_Hf_unwrought_t", None): ("dollars per kilogram", None),
    ("timin", "Price_dt", 8): ("dollars per metric ton", "Price_Rutile_FOB_Australia_dt"),
    ("timin", "Price_dt", 9): ("dollars per metric ton", "Price_Ilmenite-leucoxene_FOB_Australia_dt"),
    ("timin", "Price_dt", 10): ("dollars per metric ton", "Price_Ilmenite_import_unit_value_dt"),
    ("timin", "Price_dt", 11): ("dollars per metric ton", "Price_Slag_import_unit_value_dt"),
}

_GROUP_PREFIXES = ("bauxite", "alumina")
_STATISTIC_TOKENS = {
    "usprod": "production", "prod": "production", "mine": "production", "refinery": "production",
    "extracted": "production", "imports": "imports", "exports": "exports", "consump": "consumption",
    "apparent": "consumption", "price": "price", "nir": "net_import_reliance",
}  # fmt: skip


def _statistic(tokens: list[str]) -> str:
    """The statistic is the first token, after the group prefix of the combined bauxite/alumina file."""
    first = tokens[1] if tokens[0].lower() in _GROUP_PREFIXES and len(tokens) > 1 else tokens[0]
    return _STATISTIC_TOKENS.get(first.lower(), "other")


def file_name(code: str) -> str:
    return f"mcs2025-{code}_salient.csv"


def _parse_file(folder: Path, code: str, mineral: str, *, prefix_commodity: bool) -> pl.DataFrame:
    rel = f"{FOLDER}/{SUBDIR}/{file_name(code)}"
    rows = read_rows(read_text(folder / SUBDIR / file_name(code), rel, "utf-8"), rel, None)
    header = [h.strip() for h in rows[0]]
    if header[1:3] != ["Commodity", "Year"]:
        raise DataFormatError(
            rel, f"unexpected header {header[:3]}; expected [source, Commodity, Year]", row=1
        )
    out: dict[str, list[object]] = {k: [] for k in ("mineral", "year", "statistic", "detail", "value", "unit",
                                                    "flag", "note", "_row")}  # fmt: skip
    repeated = {h for h in header if header.count(h) > 1}
    commodity = rows[1][1].strip() if len(rows) > 1 else code
    for position, column in enumerate(header[3:], start=4):
        cells = [(i, r[position - 1].strip()) for i, r in enumerate(rows[1:], start=2)]
        if not column:
            if any(v for _, v in cells):
                raise DataFormatError(rel, "values under an empty column name", row=1, column=f"#{position}")
            continue
        override = COLUMN_OVERRIDES.get((code, column, position if column in repeated else None))
        if column in repeated and override is None:
            raise DataFormatError(rel, f"repeated column name {column!r} without a known meaning", row=1)
        tokens = column.replace("-", "_").split("_")
        statistic = _statistic(tokens)
        column_mineral = mineral
        for token in tokens:
            if (code, token.lower()) in TOKEN_MINERAL:
                column_mineral = TOKEN_MINERAL[(code, token.lower())]  # type: ignore[assignment]
                break
        if column_mineral is None:
            continue
        if override is not None:
            unit, detail = override[0], override[1] or column
        elif statistic == "net_import_reliance":
            unit, detail = "percent", column  # NIR is a percentage whatever the suffix (_pct, _ct, _t, none)
        else:
            code_unit = tokens[-1]
            if code_unit not in UNIT_CODES:
                raise DataFormatError(
                    rel, f"unknown unit code {code_unit!r} in column name", row=1, column=column
                )
            unit, detail = UNIT_CODES[code_unit], column
        if prefix_commodity:  # several files feed this mineral: say which commodity table the column is from
            detail = f"{commodity}: {detail}"
        for row, text in cells:
            year = rows[row - 1][2].strip()
            if not text:
                continue  # blank cell: no figure published
            if not year.isdigit():
                raise DataFormatError(rel, f"value {text!r} in a row without a year", row=row, column=column)
            # Only stock changes and government shipments may be negative (an increase in inventory).
            value, flag = parse_cell(
                text, file=rel, row=row, column=column, allow_negative=statistic == "other"
            )
            out["mineral"].append(column_mineral)
            out["year"].append(int(year))
            out["statistic"].append(statistic)
            out["detail"].append(detail)
            out["value"].append(value)
            out["unit"].append(unit)
            out["flag"].append(flag)
            out["note"].append(text if flag in (QUALITATIVE, RANGE, GARBLED, SMALL_OR_ELSEWHERE) else None)
            out["_row"].append(row)
    frame = pl.DataFrame(
        out,
        schema={"mineral": pl.String, "year": pl.Int32, "statistic": pl.String, "detail": pl.String,
                "value": pl.Float64, "unit": pl.String, "flag": pl.String, "note": pl.String, "_row": pl.Int64},
    )  # fmt: skip
    return frame.with_columns(pl.lit(rel).alias("_file"))


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    present = {p.name for p in (folder / SUBDIR).glob("*_salient.csv")}
    unknown = sorted(present - {file_name(c) for c in FILES})
    if unknown:
        raise DataFormatError(
            f"{FOLDER}/{SUBDIR}/{unknown[0]}", "salient file not listed in usgs_mcs2025_salient"
        )
    in_scope = {code: mineral for code, mineral in FILES.items() if mineral is not None}
    shared = {m for m in in_scope.values() if list(in_scope.values()).count(m) > 1}
    frames = [_parse_file(folder, c, m, prefix_commodity=m in shared) for c, m in in_scope.items()]
    frame = pl.concat(frames)
    # The salient files have no notes column, so the PDF's "e" (estimated) marks are not in them: no flag "e".
    frame = frame.with_columns(
        pl.lit("USA").alias("country"), pl.lit(SOURCE).alias("source"), pl.lit(EDITION).alias("edition")
    )
    columns = ["mineral", "country", "year", "statistic", "detail", "value", "unit", "note", "source", "edition",
               "flag", "_file", "_row"]  # fmt: skip
    return {"salient": frame.select(columns)}


DATASET = DatasetSpec(
    id=SOURCE,
    title="USGS Mineral Commodity Summaries 2025 data release: US salient statistics per commodity (2020–2024)",
    publisher="U.S. Geological Survey, National Minerals Information Center",
    edition=EDITION,
    licence="Public domain (U.S. Government work, USGS); cite doi:10.5066/P13XCP3R",
    folder=FOLDER,
    files=tuple(f"{SUBDIR}/{file_name(c)}" for c, mineral in FILES.items() if mineral is not None),
    parse=parse,
)
