"""Excel workbooks (``.xlsx``) of a result frame with its provenance, for the CLI, the API and the Python API.

One workbook, two sheets: ``data`` (the rows, a header row first) and ``provenance`` (what the rows are, where
they come from, the edition and licence of every source, the data-quality flags present, the method document and
when the file was made). Written with openpyxl in write-only mode (rows are streamed, not held twice).

Every text cell is written as text: a value that starts with ``=`` stays a string and never becomes a formula
(a source or a user-supplied label must not run in the reader's spreadsheet). Characters that XML 1.0 cannot
carry are replaced by U+FFFD, and a text longer than Excel's 32,767-character cell limit is cut with a marker.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.errors import InvalidArgumentError

#: Media type of an xlsx workbook (ECMA-376 / IANA).
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: Excel's limits: rows per sheet (the header takes one) and characters per cell.
MAX_ROWS = 1_048_576
MAX_CELL_CHARS = 32_767
_CUT = "… [cut: Excel cells hold at most 32,767 characters]"


def _text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)
    if len(value) > MAX_CELL_CHARS:
        value = value[: MAX_CELL_CHARS - len(_CUT)] + _CUT
    return value


def _plain(value: Any) -> Any:
    """A value openpyxl stores as a number, a boolean, a date or text (never a formula)."""
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        # Excel has no time zones: an aware time is written in UTC, without its offset
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    if isinstance(value, date):
        return value
    if isinstance(value, list | dict | tuple):
        return _text(json.dumps(value, default=str, ensure_ascii=False))
    return _text(str(value))


def _cell(sheet: Any, value: Any, *, bold: bool = False) -> Any:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cell = WriteOnlyCell(sheet, value=_plain(value))
    if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula: keep it as the text it is
        cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def provenance_rows(
    provenance: Mapping[str, Any],
    *,
    title: str,
    generated_at: datetime,
    extra: Sequence[tuple[str, str]] = (),
) -> list[list[Any]]:
    """The provenance sheet as rows: one ``field, value`` pair per line, then one line per source."""
    from lodeline import __version__

    rows: list[list[Any]] = [
        ["field", "value"],
        ["title", title],
        ["generated_at", generated_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")],
        ["generator", f"Lodeline {__version__}"],
        ["method", provenance.get("method") or ""],
        ["unit", provenance.get("unit") or ""],
        ["flags", ", ".join(str(f) for f in provenance.get("flags") or []) or "none"],
        *([k, v] for k, v in extra),
    ]
    rows += [["note", str(note)] for note in provenance.get("notes") or []]
    rows += [[], ["source id", "title", "edition", "licence"]]
    sources: Sequence[Mapping[str, Any]] = provenance.get("sources") or []
    rows += [
        [s.get("id", ""), s.get("title", ""), s.get("edition", ""), s.get("licence", "")] for s in sources
    ]
    if not sources:
        rows.append(["(none)", "the rows name no bundled dataset", "", ""])
    return rows


def xlsx_bytes(
    frame: pl.DataFrame,
    provenance: Mapping[str, Any],
    *,
    title: str,
    generated_at: datetime | None = None,
    extra: Sequence[tuple[str, str]] = (),
) -> bytes:
    """The workbook as bytes. ``provenance`` has the keys of :meth:`Provenance.to_dict` (sources with id, title,
    edition and licence; flags; method; unit; notes). ``extra`` adds ``field, value`` lines (e.g. paging)."""
    from openpyxl import Workbook

    if frame.height + 1 > MAX_ROWS:
        raise InvalidArgumentError(
            f"{frame.height:,} rows do not fit one Excel sheet (at most {MAX_ROWS - 1:,}); "
            "use csv or parquet, or narrow the query"
        )
    book = Workbook(write_only=True)
    data = book.create_sheet("data")
    data.append([_cell(data, name, bold=True) for name in frame.columns])
    for values in frame.iter_rows():
        data.append([_cell(data, value) for value in values])
    prov = book.create_sheet("provenance")
    lines = provenance_rows(
        provenance, title=title, generated_at=generated_at or datetime.now(UTC), extra=extra
    )
    for i, line in enumerate(lines):
        heading = i == 0 or (bool(line) and line[0] == "source id")
        prov.append([_cell(prov, v, bold=heading) for v in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write_xlsx(path: Path, frame: pl.DataFrame, provenance: Mapping[str, Any], *, title: str) -> Path:
    """Write the workbook to ``path`` (its folder must exist) and return the path."""
    path.write_bytes(xlsx_bytes(frame, provenance, title=title))
    return path


def check_out_path(out: Path | None, option: str = "--out") -> None:
    """Refuse an output file whose folder is missing (naming it) or that is itself a folder; create nothing.

    Raises :class:`InvalidArgumentError` (exit status 2). ``None`` (no file given) passes."""
    if out is None:
        return
    folder = out.parent
    if not folder.exists():
        raise InvalidArgumentError(
            f"{option} {out}: the folder {folder} does not exist; create it first (nothing was written)"
        )
    if not folder.is_dir():
        raise InvalidArgumentError(f"{option} {out}: {folder} is not a folder (nothing was written)")
    if out.is_dir():
        raise InvalidArgumentError(f"{option} {out} is a folder; give a file name (nothing was written)")
