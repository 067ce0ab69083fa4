"""Strict readers shared by the source parsers: every problem names the file, row and column.

Rows are numbered as a person sees them in a text editor: the header is row 1, the first data row is 2.
Files are decoded strictly (a byte that is not valid in the declared encoding is an error, never replaced),
and every data row must have exactly as many fields as the header (a truncated file fails on its last row).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lodeline.data.flags import parse_flagged_number
from lodeline.domain.countries import resolve_country
from lodeline.errors import DataFormatError, UnknownCountryError


def label(folder: Path, name: str) -> str:
    """The file as named in errors and in ``_file``: ``<dataset folder>/<file>``."""
    return f"{folder.name}/{name}"


def read_text(folder: Path, name: str, *, encoding: str = "utf-8-sig") -> str:
    path = folder / name
    where = label(folder, name)
    if not path.is_file():
        raise DataFormatError(where, "file is missing")
    data = path.read_bytes()
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFormatError(
            where,
            f"not valid {encoding} text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "the file must be re-exported in its documented encoding",
            row=line,
        ) from None


@dataclass(frozen=True)
class CsvRow:
    line: int
    cells: dict[str, str]


def read_csv(folder: Path, name: str, *, header: Sequence[str], encoding: str = "utf-8-sig") -> list[CsvRow]:
    """Read a CSV whose header must be exactly ``header``; return its data rows with their line numbers."""
    return _read(folder, name, header=header, required=None, encoding=encoding)


def read_csv_columns(
    folder: Path, name: str, *, required: Sequence[str], encoding: str = "utf-8-sig"
) -> list[CsvRow]:
    """Read a CSV whose header must hold every column of ``required`` (in any order; other columns are kept): for
    compiled files that may gain columns between editions. Rows as :func:`read_csv` gives them."""
    return _read(folder, name, header=None, required=required, encoding=encoding)


def _read(
    folder: Path,
    name: str,
    *,
    header: Sequence[str] | None,
    required: Sequence[str] | None,
    encoding: str,
) -> list[CsvRow]:
    where = label(folder, name)
    text = read_text(folder, name, encoding=encoding)
    # newline="" lets csv see quoted line breaks, and line_num count physical lines only
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        found = next(reader)
    except StopIteration:
        raise DataFormatError(where, "file is empty") from None
    if header is not None and [h.strip() for h in found] != list(header):
        raise DataFormatError(where, f"unexpected header {found!r}; expected {list(header)!r}", row=1)
    if header is None:
        header = [h.strip() for h in found]
        missing = [c for c in required or () if c not in header]
        if missing:
            raise DataFormatError(where, f"missing column(s) {missing}", row=1)
    rows: list[CsvRow] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not cells or not "".join(cells).strip():
                continue
            if len(cells) != len(header):
                raise DataFormatError(
                    where,
                    f"row has {len(cells)} fields, the header has {len(header)} (truncated or mis-quoted row)",
                    row=line,
                    column=header[min(len(cells), len(header) - 1)],
                )
            rows.append(CsvRow(line, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise DataFormatError(where, f"malformed CSV: {exc}", row=reader.line_num) from None
    if not rows:
        raise DataFormatError(where, "file has a header but no data rows")
    return rows


def number(
    raw: object, *, file: str, row: int, column: str, allow_negative: bool = False
) -> tuple[float | None, str | None]:
    """``parse_flagged_number`` (flags kept, never zero) — re-exported so parsers share one entry point."""
    return parse_flagged_number(raw, file=file, row=row, column=column, allow_negative=allow_negative)


def required_number(raw: object, *, file: str, row: int, column: str) -> float:
    value, flag = parse_flagged_number(raw, file=file, row=row, column=column)
    if value is None or flag in {"<", ">"}:
        raise DataFormatError(file, f"a plain number is required here, found {raw!r}", row=row, column=column)
    return value


def year(raw: str, *, file: str, row: int, column: str) -> int:
    text = raw.strip()
    if not (text.isdigit() and len(text) == 4):
        raise DataFormatError(file, f"not a four-digit year: {raw!r}", row=row, column=column)
    return int(text)


def country(name: str, *, file: str, row: int, column: str) -> str:
    """Resolve a source's country spelling to ISO3; an unknown name is a data-format error at that cell."""
    try:
        return resolve_country(name)
    except UnknownCountryError as exc:
        raise DataFormatError(
            file, f"unknown country {name!r}. {exc.message}", row=row, column=column
        ) from None
