"""Render result frames as a rich table, CSV, JSON or Parquet (to stdout or a file)."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from lodeline.errors import InvalidArgumentError


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    parquet = "parquet"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return (
            f"{value:,.4g}" if abs(value) < 1 else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:,.3f}"
        )
    return str(value)


def emit(
    frame: pl.DataFrame,
    fmt: Format,
    *,
    out: Path | None = None,
    title: str | None = None,
    caption: str | None = None,
) -> None:
    """Write ``frame`` in ``fmt``. Tables go to the terminal; the other formats to ``out`` or stdout."""
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
            if sys.stdout.isatty():
                raise InvalidArgumentError("parquet is binary: pass --out FILE.parquet or redirect stdout")
            frame.write_parquet(sys.stdout.buffer)
            return
        frame.write_parquet(out)
        return
    else:  # pragma: no cover - enum is exhaustive
        raise InvalidArgumentError(f"unknown format {fmt}")
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text, encoding="utf-8")
