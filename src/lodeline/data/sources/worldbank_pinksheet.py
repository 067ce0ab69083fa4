"""World Bank Commodity Price Data (Pink Sheet), monthly nominal USD → ``prices`` (metals and phosphate rock).

Sheet "Monthly Prices": row 5 holds the series names, row 6 the units in parentheses, data from row 7 with the
period in column A as ``YYYYMmm``. The metal columns are found by their published name (``SERIES``), so a moved
column is followed and a removed one is an error. ``…`` / ``...`` / blank cells mean "no quotation" and become NULL
with flag ``NA``. This edition has no cobalt, lithium or palladium series; those minerals have no monthly price.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path

import openpyxl
import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.flags import Flag
from lodeline.data.sources import _files
from lodeline.errors import DataFormatError

FILE = "CMO-Historical-Data-Monthly.xlsx"
SHEET = "Monthly Prices"
SOURCE_ID = "worldbank_pinksheet"
EDITION = "June 2026 (updated 2026-06-02; data to 2026M05)"
NAME_ROW, UNIT_ROW, FIRST_DATA_ROW = 5, 6, 7

#: published series name → (series_id, mineral id)
SERIES: dict[str, tuple[str, str]] = {
    "Aluminum": ("wb-aluminum", "aluminium"),
    "Iron ore, cfr spot": ("wb-iron-ore-cfr-spot", "iron-ore"),
    "Copper": ("wb-copper", "copper"),
    "Lead": ("wb-lead", "lead"),
    "Tin": ("wb-tin", "tin"),
    "Nickel": ("wb-nickel", "nickel"),
    "Zinc": ("wb-zinc", "zinc"),
    "Gold": ("wb-gold", "gold"),
    "Platinum": ("wb-platinum", "platinum"),
    "Silver": ("wb-silver", "silver"),
    "Phosphate rock": ("wb-phosphate-rock", "phosphate"),
}
NO_QUOTE = frozenset({"…", "...", ".."})
_PERIOD = re.compile(r"^(\d{4})M(0[1-9]|1[0-2])$")
_UNIT = re.compile(r"^\((.+)\)$")


def _col_letter(index: int) -> str:
    return openpyxl.utils.get_column_letter(index + 1)


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    file = _files.label(folder, FILE)
    path = folder / FILE
    if not path.is_file():
        raise DataFormatError(file, "file is missing")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException on a damaged workbook
        raise DataFormatError(file, f"not a readable .xlsx workbook: {exc}") from None
    try:
        if SHEET not in book.sheetnames:
            raise DataFormatError(file, f"sheet {SHEET!r} is missing (found {book.sheetnames})")
        rows = list(book[SHEET].iter_rows(values_only=True))
    finally:
        book.close()
    if len(rows) < FIRST_DATA_ROW:
        raise DataFormatError(file, "sheet ends before the first data row", row=len(rows))
    names = [str(v).strip() if v is not None else "" for v in rows[NAME_ROW - 1]]
    units = rows[UNIT_ROW - 1]
    columns: list[tuple[int, str, str, str, str]] = []  # (index, name, series_id, mineral, unit)
    for name, (series_id, mineral) in SERIES.items():
        if name not in names:
            raise DataFormatError(file, f"series {name!r} not found in the header", row=NAME_ROW)
        idx = names.index(name)
        unit_match = _UNIT.match(str(units[idx] or "").strip())
        if unit_match is None:
            raise DataFormatError(
                file,
                f"unit of {name!r} is not '(unit)': {units[idx]!r}",
                row=UNIT_ROW,
                column=_col_letter(idx),
            )
        columns.append((idx, name, series_id, mineral, unit_match[1]))

    out: dict[str, list[object]] = {
        k: [] for k in ("series_id", "mineral", "description", "period", "value", "unit", "flag", "_row")
    }
    for offset, row in enumerate(rows[FIRST_DATA_ROW - 1 :]):
        line = FIRST_DATA_ROW + offset
        if row is None or all(v is None for v in row):
            continue
        match = _PERIOD.match(str(row[0] or "").strip())
        if match is None:
            raise DataFormatError(file, f"period is not YYYYMmm: {row[0]!r}", row=line, column="A")
        period = dt.date(int(match[1]), int(match[2]), 1)
        for idx, name, series_id, mineral, unit in columns:
            raw = row[idx] if idx < len(row) else None
            value: float | None
            flag: str | None
            if raw is None or (isinstance(raw, str) and raw.strip() in NO_QUOTE | {""}):
                value, flag = None, Flag.NOT_AVAILABLE.value
            else:
                value, flag = _files.number(raw, file=file, row=line, column=f"{_col_letter(idx)} ({name})")
            out["series_id"].append(series_id)
            out["mineral"].append(mineral)
            out["description"].append(name)
            out["period"].append(period)
            out["value"].append(value)
            out["unit"].append(unit)
            out["flag"].append(flag)
            out["_row"].append(line)
    frame = pl.DataFrame(out, schema_overrides={"value": pl.Float64, "flag": pl.String, "period": pl.Date})
    return {
        "prices": frame.with_columns(
            frequency=pl.lit("M"),
            source=pl.lit(SOURCE_ID),
            edition=pl.lit(EDITION),
            _file=pl.lit(file),
        )
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="World Bank Commodity Price Data (Pink Sheet): monthly metal and phosphate-rock prices, nominal USD",
    publisher="World Bank, Prospects Group; mirrored from github.com/klaus0005/ClaudiuP-SIA2026",
    edition=EDITION,
    licence="CC BY 4.0 (World Bank commodity price data; attribution required)",
    folder="worldbank_pinksheet",
    files=(FILE,),
    parse=parse,
)
