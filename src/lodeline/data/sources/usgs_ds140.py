"""USGS Data Series 140 (historical statistics, xlsx): rare earths 1900–2020 and lithium 1900–2021.

Each workbook is one table, one row per year. World production → ``production`` (country WLD, the primary
series); U.S. production → ``production`` (country USA) as a separate, NON-primary series: with only the
United States and the world, share indicators would name the U.S. the "top supplier" of every year before
2021, so indicators must not read it as a country breakdown. U.S. imports, exports, consumption and unit values
(a proxy price history) → ``salient``. Columns are matched by their
printed headers, not by position, and the year column must run without gaps up to the footnotes.
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

import openpyxl
import polars as pl
from openpyxl.utils import get_column_letter

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources.usgs_common import usgs_value
from lodeline.errors import DataFormatError

FOLDER = "usgs_ds140"
SOURCE = "usgs_ds140"
EDITION = "DS 140"


class Column(NamedTuple):
    table: str  # production | salient
    country: str
    statistic: str  # production measure, or salient statistic
    unit: str
    primary: bool = False
    series: str = ""
    basis: str = ""


class Workbook(NamedTuple):
    file: str
    mineral: str
    columns: dict[str, Column]  # printed header → meaning


REE_SERIES = "World production"
LI_SERIES = "World production (lithium content)"
US_SERIES = "Production (United States)"
WORKBOOKS = (
    Workbook(
        "ds140-rare-earths-2020.xlsx",
        "rare-earths",
        {
            "Production": Column(
                "production", "USA", "production", "metric tons", False, US_SERIES, "contained"
            ),
            "World production": Column(
                "production", "WLD", "production", "metric tons", True, REE_SERIES, "contained"
            ),
            "Imports": Column("salient", "USA", "imports", "metric tons"),
            "Exports": Column("salient", "USA", "exports", "metric tons"),
            "Apparent consumption": Column("salient", "USA", "consumption", "metric tons"),
            "Unit value ($/t)": Column("salient", "USA", "price", "dollars per metric ton"),
            "Unit value (98$/t)": Column("salient", "USA", "price", "1998 dollars per metric ton"),
        },
    ),
    Workbook(
        "ds140-lithium-2021.xlsx",
        "lithium",
        {
            "Production": Column(
                "production", "USA", "production", "metric tons", False, US_SERIES, "contained"
            ),
            "World production (lithium content)": Column(
                "production", "WLD", "production", "metric tons", True, LI_SERIES, "contained"
            ),
            "World production (gross weight)": Column(
                "production",
                "WLD",
                "production",
                "metric tons",
                False,
                "World production (gross weight)",
                "gross",
            ),
            "World production (lithium carbonate equivalent)": Column(
                "production",
                "WLD",
                "production",
                "metric tons",
                False,
                "World production (lithium carbonate equivalent)",
                "contained",
            ),
            "Imports": Column("salient", "USA", "imports", "metric tons"),
            "Exports": Column("salient", "USA", "exports", "metric tons"),
            "Estimated consumption": Column("salient", "USA", "consumption", "metric tons"),
            "Unit value ($/t)": Column("salient", "USA", "price", "dollars per metric ton"),
            "Unit value (98$/t)": Column("salient", "USA", "price", "1998 dollars per metric ton"),
        },
    ),
)


def _rows(folder: Path, book: Workbook) -> list[tuple[Any, ...]]:
    rel = f"{FOLDER}/{book.file}"
    try:
        wb = openpyxl.load_workbook(folder / book.file, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataFormatError(rel, f"not a readable xlsx workbook ({exc}); truncated or corrupted?") from None
    rows = [tuple(r) for r in wb.worksheets[0].iter_rows(values_only=True)]
    wb.close()
    return rows


def _parse_book(folder: Path, book: Workbook) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rel = f"{FOLDER}/{book.file}"
    rows = _rows(folder, book)
    header_row = next((n for n, r in enumerate(rows, 1) if str(r[0]).strip() == "Year"), None)
    if header_row is None:
        raise DataFormatError(rel, "no header row starting with 'Year'")
    header = [str(c).strip() if c is not None else "" for c in rows[header_row - 1]]
    missing = [name for name in book.columns if name not in header]
    if missing:
        raise DataFormatError(rel, f"expected column(s) {missing} not in header {header}", row=header_row)
    production: list[dict[str, Any]] = []
    salient: list[dict[str, Any]] = []
    expected_year: int | None = None
    number = header_row
    for number in range(header_row + 1, len(rows) + 1):
        cells = rows[number - 1]
        if not isinstance(cells[0], int):
            break
        year = cells[0]
        if expected_year is not None and year != expected_year:
            raise DataFormatError(rel, f"year {year} follows {expected_year - 1}: gap or disorder", row=number,
                                  column="A")  # fmt: skip
        expected_year = year + 1
        for name, meaning in book.columns.items():
            index = header.index(name)
            column = get_column_letter(index + 1)
            cell = cells[index]
            text = "" if cell is None else str(cell)
            if not text.strip():
                raise DataFormatError(rel, "empty value cell", row=number, column=column)
            value, flag = usgs_value(text, file=rel, row=number, column=column)
            base = {"mineral": book.mineral, "country": meaning.country, "year": year, "flag": flag,
                    "_row": number, "_file": rel, "unit": meaning.unit}  # fmt: skip
            if meaning.table == "production":
                production.append(
                    {**base, "stage": "mining", "measure": "production", "country_raw": "United States"
                     if meaning.country == "USA" else "World", "quantity": value, "basis": meaning.basis,
                     "series": meaning.series, "is_primary": meaning.primary, "note": f"column {name!r}"}
                )  # fmt: skip
            else:
                salient.append(
                    {**base, "statistic": meaning.statistic, "detail": name, "value": value, "note": None}
                )
    if expected_year is None or expected_year < 2000:
        raise DataFormatError(rel, "the yearly table ends before 2000; truncated?", row=number)
    return production, salient


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    production: list[dict[str, Any]] = []
    salient: list[dict[str, Any]] = []
    for book in WORKBOOKS:
        p, s = _parse_book(folder, book)
        production += p
        salient += s
    provenance = [pl.lit(SOURCE).alias("source"), pl.lit(EDITION).alias("edition")]
    overrides = {"quantity": pl.Float64, "value": pl.Float64, "flag": pl.String, "note": pl.String,
                 "year": pl.Int32}  # fmt: skip
    prod = pl.DataFrame(production, schema_overrides=overrides).with_columns(provenance)
    sal = pl.DataFrame(salient, schema_overrides=overrides).with_columns(provenance)
    prod_cols = ["mineral", "stage", "measure", "country", "country_raw", "year", "quantity", "unit", "basis",
                 "series", "is_primary", "note", "source", "edition", "flag", "_file", "_row"]  # fmt: skip
    sal_cols = ["mineral", "country", "year", "statistic", "detail", "value", "unit", "note", "source", "edition",
                "flag", "_file", "_row"]  # fmt: skip
    return {"production": prod.select(prod_cols), "salient": sal.select(sal_cols)}


DATASET = DatasetSpec(
    id=SOURCE,
    title="USGS Data Series 140, historical statistics: rare earths (1900–2020) and lithium (1900–2021)",
    publisher="U.S. Geological Survey (Kelly & Matos, comps.)",
    edition=EDITION,
    licence="Public domain (U.S. Government work, USGS)",
    folder=FOLDER,
    files=tuple(b.file for b in WORKBOOKS),
    parse=parse,
)
