"""IEA Critical Minerals Data Explorer: mining and refining supply by country → ``production``.

Two editions, each publishing only its own observed base year (the 2030/2035/2040 columns are base-case
projections and are NOT loaded):

* May 2024 workbook, sheet "2 Total supply for key minerals" → 2023;
* May 2025 edition as JSON (converted from the workbook by a third party) → 2024.

Every block is one series (``series`` = the IEA block title, e.g. "Lithium - Chemicals"), so each
(source, mineral, stage, measure) has exactly one series and it is the primary one. Units: kt of contained metal
(lithium as Li, not LCE; magnet rare earths as Nd+Pr+Tb+Dy content); graphite in gross tonnes of graphite.
The block's "Total" row is stored as ``WLD`` and "Rest of world" as ``ROW``.

Quirk handled explicitly: in some blocks IEA's "Rest of world" already includes the last-listed country, so the
rows exceed the Total by exactly that country's value. The parser detects this against the Total, stores ROW net
of that country (the note gives the published figure) and raises DataFormatError for any other mismatch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import _files
from lodeline.domain.countries import OTHER_COUNTRIES, WORLD
from lodeline.errors import DataFormatError

WORKBOOK_FILE = "CM_Data_Explorer_May2024.xlsx"
JSON_FILE = "iea_cm_may2025_barrytho_iea.json"
SHEET = "2 Total supply for key minerals"
SOURCE_ID = "iea_critical_minerals"
EDITIONS = {WORKBOOK_FILE: ("May 2024", 2023), JSON_FILE: ("May 2025", 2024)}
UNIT = "kt"
_REL_TOL = 1e-6


@dataclass(frozen=True)
class Block:
    mineral: str
    stage: str
    basis: str
    note: str


#: IEA block title → what it measures. The JSON edition has no titles; ``JSON_BLOCKS`` gives them.
BLOCKS: dict[str, Block] = {
    "Copper - Mining": Block("copper", "mining", "contained", "kt Cu content"),
    "Copper - Refining": Block("copper", "refining", "contained", "kt refined Cu"),
    "Cobalt - Mining": Block("cobalt", "mining", "contained", "kt Co content"),
    "Cobalt - Refining": Block("cobalt", "refining", "contained", "kt refined Co"),
    "Lithium - Mining": Block("lithium", "mining", "contained", "kt Li content (not LCE)"),
    "Lithium - Chemicals": Block("lithium", "refining", "contained", "kt Li content of lithium chemicals"),
    "Nickel - Mining": Block("nickel", "mining", "contained", "kt Ni content"),
    "Nickel - Refining": Block("nickel", "refining", "contained", "kt refined Ni (class 1 and 2)"),
    "Graphite - Mining (natural)": Block("graphite", "mining", "gross", "kt natural graphite"),
    "Graphite - Battery grade": Block(
        "graphite", "refining", "gross", "kt battery-grade graphite, natural and synthetic"
    ),
    "Magnet rare earth elements - Mining": Block(
        "rare-earths", "mining", "contained", "kt magnet rare earths (Nd, Pr, Tb, Dy) content"
    ),
    "Magnet rare earth elements - Refining": Block(
        "rare-earths", "refining", "contained", "kt magnet rare earths (Nd, Pr, Tb, Dy) content"
    ),
}
JSON_BLOCKS = {
    ("Copper", "mining"): "Copper - Mining",
    ("Copper", "refining"): "Copper - Refining",
    ("Cobalt", "mining"): "Cobalt - Mining",
    ("Cobalt", "refining"): "Cobalt - Refining",
    ("Lithium", "mining"): "Lithium - Mining",
    ("Lithium", "refining"): "Lithium - Chemicals",
    ("Nickel", "mining"): "Nickel - Mining",
    ("Nickel", "refining"): "Nickel - Refining",
    ("Graphite", "mining"): "Graphite - Mining (natural)",
    ("Graphite", "refining"): "Graphite - Battery grade",
    ("Rare Earth Elements", "mining"): "Magnet rare earth elements - Mining",
    ("Rare Earth Elements", "refining"): "Magnet rare earth elements - Refining",
}
TOTAL_LABELS = frozenset({"Total", "Total clean technologies"})  # cobalt refining's total carries the latter
ROW_LABEL = "Rest of world"


@dataclass
class Entry:
    name: str
    value: float
    line: int


def _block_rows(
    title: str, entries: Sequence[Entry], total: Entry, *, file: str, edition: str, year: int
) -> list[dict[str, Any]]:
    """Turn one block's (country, value) entries into production rows, checking them against the Total."""
    block = BLOCKS[title]
    countries = [e for e in entries if e.name != ROW_LABEL]
    rest = [e for e in entries if e.name == ROW_LABEL]
    if len(rest) != 1:
        raise DataFormatError(file, f"block {title!r} {year} must have one {ROW_LABEL!r} row", row=total.line)
    row_note = None
    row_value = rest[0].value
    excess = sum(e.value for e in entries) - total.value
    tol = _REL_TOL * max(1.0, abs(total.value))
    if abs(excess) > tol:
        last = countries[-1] if countries else None
        if last is None or abs(excess - last.value) > tol:
            raise DataFormatError(
                file,
                f"block {title!r} {year}: rows sum to {total.value + excess:g}, Total is {total.value:g}",
                row=total.line,
            )
        row_value = rest[0].value - last.value
        row_note = (
            f"IEA's published Rest of world ({rest[0].value:g}) includes {last.name} ({last.value:g}); "
            "stored net of it so the rows add up to the Total"
        )
    rows = []
    for e, iso3, value, extra in [
        *((c, _files.country(c.name, file=file, row=c.line, column=title), c.value, None) for c in countries),
        (rest[0], OTHER_COUNTRIES, row_value, row_note),
        (total, WORLD, total.value, None),
    ]:
        if value < -tol:
            raise DataFormatError(
                file, f"negative quantity {value:g} for {e.name!r}", row=e.line, column=title
            )
        note = f"{block.note}; IEA {edition} edition, observed year" + (f"; {extra}" if extra else "")
        rows.append(
            {
                "mineral": block.mineral,
                "stage": block.stage,
                "country": iso3,
                "country_raw": e.name,
                "year": year,
                "quantity": max(value, 0.0),
                "basis": block.basis,
                "series": title,
                "note": note,
                "edition": edition,
                "_file": file,
                "_row": e.line,
            }
        )
    return rows


def parse_workbook(folder: Path) -> list[dict[str, Any]]:
    file = _files.label(folder, WORKBOOK_FILE)
    edition, base_year = EDITIONS[WORKBOOK_FILE]
    path = folder / WORKBOOK_FILE
    if not path.is_file():
        raise DataFormatError(file, "file is missing")
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged zip/xml surfaces as several exception types
        raise DataFormatError(file, f"not a readable .xlsx workbook: {exc}") from None
    try:
        if SHEET not in book.sheetnames:
            raise DataFormatError(file, f"sheet {SHEET!r} is missing")
        grid = [list(r) for r in book[SHEET].iter_rows(values_only=True)]
    finally:
        book.close()
    header_row = next((i for i, r in enumerate(grid) if base_year in r), None)
    if header_row is None:
        raise DataFormatError(file, f"no header row with the base year {base_year}")
    header = grid[header_row]
    out: list[dict[str, Any]] = []
    found: set[str] = set()
    for r, cells in enumerate(grid):
        for c, cell in enumerate(cells):
            if not (isinstance(cell, str) and cell.strip() in BLOCKS):
                continue
            title = cell.strip()
            if c + 1 >= len(header) or header[c + 1] != base_year:
                raise DataFormatError(
                    file,
                    f"block {title!r}: first year column is {header[c + 1]!r}, "
                    f"expected the base year {base_year}",
                    row=header_row + 1,
                )
            found.add(title)
            entries: list[Entry] = []
            total: Entry | None = None
            for rr in range(r + 1, len(grid)):
                line = rr + 1
                row = grid[rr] + [None] * (c + 2)
                name = str(row[c]).strip() if row[c] is not None else ""
                if name.startswith("Top 3 share") or (not name and total is not None):
                    break
                if not name:
                    if row[c + 1] is not None:
                        raise DataFormatError(file, f"value without a country in block {title!r}", row=line)
                    continue
                value, flag = _files.number(row[c + 1], file=file, row=line, column=f"{title} {base_year}")
                if value is None or flag is not None:
                    raise DataFormatError(
                        file, f"{name!r}: no plain number for {base_year}", row=line, column=title
                    )
                entry = Entry(name, value, line)
                if name in TOTAL_LABELS:
                    total = entry
                else:
                    entries.append(entry)
            if total is None:
                raise DataFormatError(file, f"block {title!r} has no Total row", row=r + 1)
            out += _block_rows(title, entries, total, file=file, edition=edition, year=base_year)
    missing = set(BLOCKS) - found
    if missing:
        raise DataFormatError(file, f"blocks not found: {sorted(missing)}")
    return out


def _key_lines(lines: list[str], path: Sequence[str], start: int) -> int:
    """Line (1-based) of the last key of ``path`` in a pretty-printed JSON text, searching forward."""
    pos = start
    for key in path:
        needle = json.dumps(key, ensure_ascii=False) + ":"
        while pos < len(lines) and needle not in lines[pos]:
            pos += 1
    return pos + 1 if pos < len(lines) else 0


def parse_json(folder: Path) -> list[dict[str, Any]]:
    file = _files.label(folder, JSON_FILE)
    edition, base_year = EDITIONS[JSON_FILE]
    text = _files.read_text(folder, JSON_FILE, encoding="utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(file, f"invalid JSON: {exc.msg}", row=exc.lineno) from None
    lines = text.splitlines()
    supply = doc.get("supply") if isinstance(doc, dict) else None
    if not isinstance(supply, dict):
        raise DataFormatError(file, "no 'supply' object")
    supply_line = _key_lines(lines, ["supply"], 0) - 1
    year = str(base_year)
    out: list[dict[str, Any]] = []
    for (mineral, stage), title in JSON_BLOCKS.items():
        block = supply.get(mineral, {}).get(stage)
        if not isinstance(block, dict) or "countries" not in block or "total" not in block:
            raise DataFormatError(file, f"supply.{mineral}.{stage} is missing or has no countries/total")
        years = sorted(int(y) for y in block["total"])
        if not years or years[0] != base_year:
            raise DataFormatError(
                file, f"supply.{mineral}.{stage}: first year {years[:1]}, expected {base_year}"
            )
        block_line = _key_lines(lines, [mineral, stage], supply_line) - 1
        entries = []
        for name, series in block["countries"].items():
            line = _key_lines(lines, [name], block_line)
            # The REE mining block carries two sheet notes as pseudo-countries with no values: skip only those.
            if all(v is None for v in (series.values() if isinstance(series, dict) else [series])):
                if name.startswith(("Notes", "“Base case”")):
                    continue
                raise DataFormatError(file, f"supply.{mineral}.{stage}: {name!r} has no values", row=line)
            value, _ = _files.number(
                series.get(year), file=file, row=line, column=f"{mineral}.{stage}.{year}"
            )
            if value is None:
                raise DataFormatError(
                    file, f"{name!r}: no value for {year}", row=line, column=f"{mineral}.{stage}"
                )
            entries.append(Entry(name, value, line))
        total_value, _ = _files.number(
            block["total"].get(year), file=file, row=block_line + 1, column=f"{mineral}.{stage}.total"
        )
        if total_value is None:
            raise DataFormatError(file, f"supply.{mineral}.{stage}: no total for {year}", row=block_line + 1)
        total = Entry("Total", total_value, _key_lines(lines, ["total"], block_line))
        out += _block_rows(title, entries, total, file=file, edition=edition, year=base_year)
    return out


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    rows = parse_workbook(folder) + parse_json(folder)
    frame = pl.DataFrame(rows, schema_overrides={"quantity": pl.Float64})
    return {
        "production": frame.with_columns(
            measure=pl.lit("production"),
            unit=pl.lit(UNIT),
            is_primary=pl.lit(True),
            source=pl.lit(SOURCE_ID),
            flag=pl.lit(None, dtype=pl.String),
        )
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="IEA Critical Minerals Data Explorer: mining and refining supply by country (observed years 2023, 2024)",
    publisher="International Energy Agency (IEA), Paris; May 2025 JSON converted by "
    "github.com/barrytho/uk-critical-minerals-dashboard",
    edition="May 2024 (workbook, 2023) + May 2025 (JSON, 2024)",
    licence="CC BY 4.0 (IEA (2024/2025), Critical Minerals Data Explorer, IEA, Paris)",
    folder="iea_critical_minerals",
    files=(WORKBOOK_FILE, JSON_FILE),
    parse=parse,
)
