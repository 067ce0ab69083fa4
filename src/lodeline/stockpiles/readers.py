"""Read a submission file (CSV, xlsx or JSON, given as bytes) into numbered rows, within bounds.

Bounds: at most :data:`MAX_BYTES` bytes and :data:`~lodeline.stockpiles.submission.MAX_ROWS` data rows whatever the
format; JSON through :mod:`lodeline.inputs` (the one bounded JSON reader: nesting, integer length, node count).
Row numbers are what the submitter sees: the line (CSV) or sheet row (xlsx) of the row, the header being row 1;
for JSON the 1-based position in ``rows``. Errors are :class:`SubmissionRejected` naming row, field and reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from lodeline.inputs import Bounds, InputRejected, decode_text, parse_json
from lodeline.stockpiles.submission import COLUMNS, EXAMPLE_ROW, MAX_ROWS, FieldError, SubmissionRejected

MAX_BYTES = 8 * 1024 * 1024
JSON_BOUNDS = Bounds(max_bytes=MAX_BYTES, max_depth=8, max_nodes=MAX_ROWS * (len(COLUMNS) + 4) + 100)
FORMATS = ("csv", "xlsx", "json")

Rows = list[tuple[int, Mapping[str, Any]]]


def _reject(source: str, row: int, field: str, reason: str) -> SubmissionRejected:
    return SubmissionRejected([FieldError(row, field, reason)], source)


def format_of(name: str) -> str:
    """``csv``, ``xlsx`` or ``json`` from a file name's extension."""
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in FORMATS:
        raise _reject(name, 0, "*", f"unknown file type {ext!r}: give a .csv, .xlsx or .json file")
    return ext


def read_rows(data: bytes, fmt: str, source: str = "submission") -> Rows:
    """The file's data rows as ``(row number, {column: cell})``."""
    if len(data) > MAX_BYTES:
        raise _reject(source, 0, "*", f"larger than {MAX_BYTES:,} bytes")
    if fmt == "csv":
        return _csv_rows(data, source)
    if fmt == "xlsx":
        return _xlsx_rows(data, source)
    if fmt == "json":
        return _json_rows(data, source)
    raise _reject(source, 0, "*", f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def _header(cells: list[Any], source: str) -> list[str]:
    names = [str(c).strip().lower() if c is not None else "" for c in cells]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise _reject(source, 1, "*", "the header row is empty")
    for position, name in enumerate(names):
        if not name:
            raise _reject(source, 1, f"column {position + 1}", "a header cell is empty")
        if names.index(name) != position:
            raise _reject(source, 1, name, "the column is named twice")
    return names


def _row(names: list[str], cells: list[Any], number: int, source: str) -> dict[str, Any] | None:
    """The cells by column name, or None for an empty row; extra non-empty cells are refused."""
    if len(cells) > len(names) and any(c not in (None, "") for c in cells[len(names) :]):
        raise _reject(source, number, f"column {len(names) + 1}", "a value beyond the header's columns")
    row = {name: cells[i] if i < len(cells) else None for i, name in enumerate(names)}
    if all(v is None or (isinstance(v, str) and not v.strip()) for v in row.values()):
        return None
    return row


def _csv_rows(data: bytes, source: str) -> Rows:
    try:
        text = decode_text(data, Bounds(max_bytes=MAX_BYTES))
    except InputRejected as exc:
        raise _reject(source, 0, "*", exc.reason) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: Rows = []
    try:
        first = next(reader, None)
        if first is None:
            raise _reject(source, 1, "*", "the file is empty")
        names = _header(list(first), source)
        for cells in reader:
            number = reader.line_num
            row = _row(names, list(cells), number, source)
            if row is not None:
                rows.append((number, row))
                if len(rows) > MAX_ROWS:
                    raise _reject(source, number, "*", f"more than {MAX_ROWS} rows")
    except csv.Error as exc:
        raise _reject(source, reader.line_num, "*", f"not valid CSV ({exc})") from None
    return rows


def _xlsx_rows(data: bytes, source: str) -> Rows:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # untrusted bytes: any failure to open is a refusal, never a 5xx
        raise _reject(source, 0, "*", f"not a readable xlsx workbook ({type(exc).__name__})") from None
    try:
        sheet = book["data"] if "data" in book.sheetnames else book.worksheets[0]
        lines = sheet.iter_rows(values_only=True)
        first = next(lines, None)
        if first is None:
            raise _reject(source, 1, "*", "the sheet is empty")
        names = _header(list(first), source)
        rows: Rows = []
        for number, cells in enumerate(lines, start=2):
            if number > MAX_ROWS + 1000:  # a sheet of empty formatted rows stops here too
                raise _reject(source, number, "*", f"more than {MAX_ROWS} rows")
            row = _row(names, list(cells), number, source)
            if row is not None:
                rows.append((number, row))
                if len(rows) > MAX_ROWS:
                    raise _reject(source, number, "*", f"more than {MAX_ROWS} rows")
        return rows
    except SubmissionRejected:
        raise
    except Exception as exc:  # a malformed sheet inside a valid zip
        raise _reject(source, 0, "*", f"not a readable xlsx workbook ({type(exc).__name__})") from None
    finally:
        book.close()


def _json_rows(data: bytes, source: str) -> Rows:
    """``{"rows": [{column: value}, …]}`` (``member`` and ``period`` may be given once at the top) or a list."""
    try:
        value = parse_json(data, JSON_BOUNDS)
    except InputRejected as exc:
        raise _reject(source, 0, "*", exc.reason) from None
    return json_rows(value, source)


def json_rows(value: Any, source: str = "submission", defaults: Mapping[str, Any] | None = None) -> Rows:
    """Rows from an already-parsed JSON value (the API's body). ``defaults``: cells a row and the top level leave
    out (the API fills in the caller's own member)."""
    defaults = dict(defaults or {})
    if isinstance(value, dict):
        unknown = set(value) - {"rows", "member", "period"}
        if unknown:
            raise _reject(source, 0, sorted(unknown)[0], "unknown key; expected rows, member, period")
        defaults |= {k: value[k] for k in ("member", "period") if k in value}
        value = value.get("rows")
    if not isinstance(value, list):
        raise _reject(source, 0, "rows", "expected a list of rows (objects of column -> value)")
    if len(value) > MAX_ROWS:
        raise _reject(source, MAX_ROWS + 1, "*", f"more than {MAX_ROWS} rows")
    rows: Rows = []
    for number, item in enumerate(value, start=1):
        if not isinstance(item, dict):
            raise _reject(source, number, "*", "a row must be an object of column -> value")
        rows.append((number, {**defaults, **item}))
    return rows


def template_csv() -> bytes:
    """The CSV template: the header and one example row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([EXAMPLE_ROW[c] for c in COLUMNS])
    return buffer.getvalue().encode("utf-8")
