"""USGS Minerals Yearbook 2023, gallium and germanium chapters (xlsx): world refinery output by country.

- Gallium, table 7: primary production by country 2019–2023 (kilograms, gallium content) → production,
  refining, primary. Table 6: primary production capacity at 31 December 2023 → capacity, refining.
- Germanium, table 1, block "World, refinery production:e": China, Russia, "Other" 2019–2023 (kilograms,
  estimated; 2021–2023 "NA") → production, refining, primary. The only country split of germanium refining
  that USGS publishes (MCS has no germanium world table).

Blocks are found by their printed titles and checked (years, "Total" row), not by fixed cell addresses.
Cell flags sit in the column to the right of each value (``e`` estimated, ``r`` revised); a footnote letter
glued to a country name (``Russiae``) marks the whole row as estimated; ``--`` is printed as "Zero" and is kept
as flag ``--`` with a NULL quantity, like every other flag.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.flags import Flag
from lodeline.data.sources.usgs_common import resolve_usgs_country, usgs_value
from lodeline.domain.countries import OTHER_COUNTRIES, WORLD
from lodeline.errors import DataFormatError, UnknownCountryError

FOLDER = "usgs_myb2023_gallium_germanium"
GALLIUM = "myb1-2023-galli-ERT.xlsx"
GERMANIUM = "myb1-2023-germanium.xlsx"
SOURCE = "usgs_myb2023_gallium_germanium"
EDITION = "Minerals Yearbook 2023"
YEARS = [2019, 2020, 2021, 2022, 2023]

Cells = list[tuple[Any, ...]]


def _sheet(folder: Path, name: str, sheet: str) -> Cells:
    rel = f"{FOLDER}/{name}"
    try:
        book = openpyxl.load_workbook(folder / name, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DataFormatError(rel, f"not a readable xlsx workbook ({exc}); truncated or corrupted?") from None
    if sheet not in book.sheetnames:
        raise DataFormatError(rel, f"sheet {sheet!r} is missing (found {book.sheetnames})")
    rows = [tuple(r) for r in book[sheet].iter_rows(values_only=True)]
    book.close()
    return rows


def _text(value: object) -> str:
    return "" if value is None else str(value).replace("\u00a0", " ").strip()


def _country(raw: str, rel: str, row: int, column: str) -> tuple[str, bool]:
    """(ISO3, whole row estimated?) from a yearbook country cell with footnote markers glued on."""
    name = re.sub(r"\d+$", "", raw).strip()  # footnote number: "Other7"
    low = name.lower()
    if low == "total":
        return WORLD, False
    if low == "other":
        return OTHER_COUNTRIES, False
    try:
        return resolve_usgs_country(name), False
    except UnknownCountryError as exc:
        if name.endswith("e"):  # "Russiae": footnote e = estimated
            try:
                return resolve_usgs_country(name[:-1]), True
            except UnknownCountryError:
                pass
        raise DataFormatError(f"{rel}", exc.message, row=row, column=column) from None


def _block(
    rows: Cells, rel: str, *, title: str, first: int, header_row: int, offset: int, stop: str
) -> list[dict[str, Any]]:
    """Rows ``first``… up to and including the ``stop`` row, one record per (country, year) value cell.

    ``offset`` is the 0-based column of the first year; years are every second column, flags in between.
    """
    if header_row:
        years = [int(_text(rows[header_row - 1][c]) or 0) for c in range(offset, offset + 2 * len(YEARS), 2)]
        if years != YEARS:
            raise DataFormatError(
                rel, f"{title}: expected year columns {YEARS}, found {years}", row=header_row
            )
    records: list[dict[str, Any]] = []
    for number in range(first, len(rows) + 1):
        cells = rows[number - 1]
        raw = _text(cells[0])
        if not raw:
            raise DataFormatError(rel, f"{title}: block ends before its {stop!r} row; truncated?", row=number)
        country, row_estimated = _country(raw, rel, number, "A")
        for i, year in enumerate(YEARS):
            col = offset + 2 * i
            cell = cells[col] if col < len(cells) else None
            mark = _text(cells[col + 1]) if col + 1 < len(cells) else ""
            column = openpyxl.utils.get_column_letter(col + 1)
            quantity, flag = usgs_value(_text(cell), file=rel, row=number, column=column)
            if flag is None and quantity is not None and mark in ("e", "r"):
                flag = mark
            if flag is None and quantity is not None and row_estimated:
                flag = Flag.ESTIMATED.value
            notes = ["revised" if mark == "r" else "", "estimated" if row_estimated and flag != "e" else ""]
            if quantity is None and flag is None:
                raise DataFormatError(rel, f"{title}: empty value cell", row=number, column=column)
            records.append(
                {"country": country, "country_raw": raw, "year": year, "quantity": quantity, "flag": flag,
                 "_row": number, "note": "; ".join(n for n in notes if n) or None}
            )  # fmt: skip
        if raw.lower().startswith(stop.lower()):
            return records
    raise DataFormatError(rel, f"{title}: no {stop!r} row; truncated?", row=len(rows))


def _find(rows: Cells, rel: str, prefix: str) -> int:
    for number, cells in enumerate(rows, start=1):
        if _text(cells[0]).lower().startswith(prefix.lower()):
            return number
    raise DataFormatError(rel, f"cannot find the row starting {prefix!r}")


def _frame(records: list[dict[str, Any]], **fixed: object) -> pl.DataFrame:
    frame = pl.DataFrame(
        records, schema_overrides={"quantity": pl.Float64, "flag": pl.String, "note": pl.String}
    )
    return frame.with_columns(
        *(pl.lit(v).alias(k) for k, v in fixed.items()),
        pl.lit(SOURCE).alias("source"),
        pl.lit(EDITION).alias("edition"),
    )


def _gallium(folder: Path) -> list[pl.DataFrame]:
    rel7 = f"{FOLDER}/{GALLIUM}[T7]"
    t7 = _sheet(folder, GALLIUM, "T7")
    header = _find(t7, rel7, "Country or locality")
    production = _block(
        t7, rel7, title="Gallium table 7", first=header + 1, header_row=header, offset=2, stop="Total"
    )
    rel6 = f"{FOLDER}/{GALLIUM}[T6]"
    t6 = _sheet(folder, GALLIUM, "T6")
    start = _find(t6, rel6, "Country or locality") + 1
    capacity = []
    for number in range(start, len(t6) + 1):
        raw = _text(t6[number - 1][0])
        country, _ = _country(raw, rel6, number, "A")
        quantity, flag = usgs_value(_text(t6[number - 1][2]), file=rel6, row=number, column="C")
        capacity.append({"country": country, "country_raw": raw, "year": 2023, "quantity": quantity, "flag": flag,
                         "_row": number, "note": "31 December 2023; includes plants on standby"})  # fmt: skip
        if raw.lower() == "total":
            break
    common = {"mineral": "gallium", "stage": "refining", "unit": "kilograms", "basis": "contained",
              "is_primary": True}  # fmt: skip
    return [
        _frame(production, **common, measure="production", series="Primary production (table 7)", _file=rel7),
        _frame(
            capacity, **common, measure="capacity", series="Primary production capacity (table 6)", _file=rel6
        ),
    ]


def _germanium(folder: Path) -> list[pl.DataFrame]:
    rel = f"{FOLDER}/{GERMANIUM}[T1]"
    t1 = _sheet(folder, GERMANIUM, "T1")
    title = _find(t1, rel, "World, refinery production")
    # The year header is the row holding "2019" in column D.
    header = next(n for n, cells in enumerate(t1, start=1) if _text(cells[3]) == "2019")
    records = _block(
        t1, rel, title="Germanium table 1", first=title + 1, header_row=header, offset=3, stop="Total"
    )
    for r in records:  # the block title carries footnote e: every figure in it is an estimate
        if r["quantity"] is not None and r["flag"] is None:
            r["flag"] = Flag.ESTIMATED.value
        elif r["flag"] == "r":
            r["note"] = "revised; estimated"
        if r["country"] == OTHER_COUNTRIES:
            r["note"] = "includes Belgium, Canada, Germany and others; excludes U.S. production"
    fixed = {"mineral": "germanium", "stage": "refining", "unit": "kilograms", "basis": "contained",
             "is_primary": True, "measure": "production", "series": "World, refinery production (table 1)",
             "_file": rel}  # fmt: skip
    return [_frame(records, **fixed)]


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    frames = [*_gallium(folder), *_germanium(folder)]
    columns = ["mineral", "stage", "measure", "country", "country_raw", "year", "quantity", "unit", "basis",
               "series", "is_primary", "note", "source", "edition", "flag", "_file", "_row"]  # fmt: skip
    production = pl.concat([f.select(columns) for f in frames], how="vertical_relaxed")
    return {"production": production.with_columns(pl.col("year").cast(pl.Int32))}


DATASET = DatasetSpec(
    id=SOURCE,
    title="USGS Minerals Yearbook 2023: gallium (world primary production and capacity by country) and "
    "germanium (world refinery production estimates)",
    publisher="U.S. Geological Survey, National Minerals Information Center",
    edition=EDITION,
    licence="Public domain (U.S. Government work, USGS)",
    folder=FOLDER,
    files=(GALLIUM, GERMANIUM),
    parse=parse,
)
