"""Render result frames as a rich table, CSV, JSON, Parquet or Excel (to stdout or a file), and check output paths.

Binary formats (parquet, xlsx) go to ``--out FILE`` or to a redirected stdout (a pipe or a file); a terminal is
refused with exit status 2 instead of being filled with bytes. An output path whose folder does not exist is
refused the same way, naming the folder, and nothing is created (:func:`check_out_path`): every command that
writes a file calls it before it computes anything.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from lodeline.errors import InvalidArgumentError
from lodeline.export import check_out_path

__all__ = ["Format", "check_out_dir", "check_out_path", "check_out_paths", "emit"]


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"
    xlsx = "xlsx"


#: Formats that are bytes, not text: never written to a terminal.
BINARY_FORMATS = frozenset({Format.parquet, Format.xlsx})


def check_out_paths(paths: Mapping[str, Path | None]) -> None:
    """:func:`check_out_path` for each ``option: path`` of a command that writes several files."""
    for option, path in paths.items():
        check_out_path(path, option)


def check_out_dir(folder: Path, option: str = "--out-dir") -> None:
    """Refuse an output folder that does not exist (or is a file) instead of creating it."""
    if not folder.exists():
        raise InvalidArgumentError(
            f"{option} {folder}: the folder does not exist; create it first (nothing was written)"
        )
    if not folder.is_dir():
        raise InvalidArgumentError(f"{option} {folder} is not a folder (nothing was written)")


def _provenance_mapping(provenance: Any, caption: str | None) -> Mapping[str, Any]:
    """A ``Provenance`` (or its dict); without one, the caption is the only note the sheet can carry."""
    if provenance is None:
        return {"sources": [], "flags": [], "method": "", "notes": [caption] if caption else []}
    if isinstance(provenance, Mapping):
        return provenance
    mapping: Mapping[str, Any] = provenance.to_dict()
    return mapping


def _cell(value: Any) -> str:
    """One rule for every terminal table: four significant digits below 1,000 (no padding zeros: an HHI of 805
    reads ``805``, a share ``0.4158``), whole numbers with thousands separators from 1,000; NaN and missing as a dash.
    The exact values are in csv, json, parquet and xlsx."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return str(value)


def emit(
    frame: pl.DataFrame,
    fmt: Format,
    *,
    out: Path | None = None,
    title: str | None = None,
    caption: str | None = None,
    provenance: Any = None,
) -> None:
    """Write ``frame`` in ``fmt``. Tables go to the terminal; the other formats to ``out`` or stdout.

    ``provenance`` (a :class:`lodeline.services.results.Provenance` or its ``to_dict()``) fills the xlsx
    provenance sheet; without it the sheet carries the caption."""
    check_out_path(out)
    if fmt in BINARY_FORMATS and out is None and sys.stdout.isatty():
        raise InvalidArgumentError(
            f"{fmt.value} is binary and stdout is a terminal: pass --out FILE.{fmt.value} or redirect stdout"
        )
    if fmt is Format.table:
        table = Table(title=title, caption=caption, show_lines=False)
        for name in frame.columns:
            table.add_column(name, justify="right" if frame[name].dtype.is_numeric() else "left")
        for row in frame.iter_rows():
            table.add_row(*(_cell(v) for v in row))
        Console(width=max(120, Console().width)).print(table)
        return
    if fmt is Format.csv:
        text = frame.write_csv()
    elif fmt is Format.json:
        text = json.dumps(frame.to_dicts(), default=str, indent=2)
    elif fmt is Format.parquet:
        if out is None:
            frame.write_parquet(sys.stdout.buffer)
        else:
            frame.write_parquet(out)
        return
    elif fmt is Format.xlsx:
        from lodeline.export import xlsx_bytes

        body = xlsx_bytes(frame, _provenance_mapping(provenance, caption), title=title or "Lodeline")
        if out is None:
            sys.stdout.buffer.write(body)
            sys.stdout.buffer.flush()
        else:
            out.write_bytes(body)
        return
    else:  # pragma: no cover - enum is exhaustive
        raise InvalidArgumentError(f"unknown format {fmt}")
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text, encoding="utf-8")
