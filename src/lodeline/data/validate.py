"""Check parsed frames against the canonical schema before anything touches the store.

Errors name the file, the row and the column that the parser recorded in ``_file`` / ``_row``.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from lodeline.domain.countries import countries
from lodeline.domain.minerals import Stage, minerals
from lodeline.errors import DataFormatError
from lodeline.store.frames import table_schema
from lodeline.store.schema import CANONICAL_TABLES

LOCATION_COLUMNS = ("_file", "_row")
_TABLES = {t.name: t for t in CANONICAL_TABLES}
_COUNTRY_COLUMNS = ("country", "exporter", "importer")
_NON_NEGATIVE = ("quantity", "quantity_t", "value_usd", "share", "t_c")


def _where(frame: pl.DataFrame, index: int, fallback: str) -> tuple[str, int | None]:
    if "_file" in frame.columns and "_row" in frame.columns:
        row = frame.row(index, named=True)
        return str(row["_file"]), int(row["_row"]) if row["_row"] is not None else None
    return fallback, None


def _fail(frame: pl.DataFrame, mask: pl.Series, fallback: str, column: str, reason: str) -> None:
    bad = mask.arg_true()
    if len(bad):
        first = int(bad[0])
        file, row = _where(frame, first, fallback)
        value = frame[column][first] if column in frame.columns else None
        extra = f" ({len(bad)} rows in all)" if len(bad) > 1 else ""
        raise DataFormatError(file, f"{reason}: {value!r}{extra}", row=row, column=column)


def validate_frame(table_name: str, frame: pl.DataFrame, *, dataset: str) -> pl.DataFrame:
    """Return ``frame`` cast to the canonical schema (location columns kept), or raise DataFormatError."""
    table = _TABLES[table_name]
    schema = table_schema(table)
    missing = [c for c in schema if c not in frame.columns]
    if missing:
        raise DataFormatError(dataset, f"parser produced no column(s) {missing} for table {table_name!r}")
    casts = []
    for name, dtype in schema.items():
        try:
            casts.append(frame[name].cast(dtype, strict=True))
        except (pl.exceptions.InvalidOperationError, pl.exceptions.ComputeError) as exc:
            raise DataFormatError(dataset, f"column cannot be read as {dtype}: {exc}", column=name) from None
    extra = [frame[c] for c in LOCATION_COLUMNS if c in frame.columns]
    out = pl.DataFrame([*casts, *extra])
    for col in table.columns:
        if not col.nullable and not col.primary_key:
            _fail(out, out[col.name].is_null(), dataset, col.name, "required value is empty")
    for name in _NON_NEGATIVE:
        if name in out.columns:
            _fail(out, out[name].fill_null(0) < 0, dataset, name, "negative value")
    for name in _COUNTRY_COLUMNS:
        if name in out.columns:
            known = out[name].is_in(list(countries()))
            _fail(out, ~known, dataset, name, "not an ISO 3166-1 alpha-3 code")
    if "mineral" in out.columns:
        ids = set(minerals())
        bad = out["mineral"].is_not_null() & ~out["mineral"].is_in(list(ids))
        _fail(out, bad, dataset, "mineral", "unknown mineral id")
    if "stage" in out.columns and table_name != "trade_factors":
        _fail(out, ~out["stage"].is_in([s.value for s in Stage]), dataset, "stage", "unknown stage")
    if "year" in out.columns:
        this_year = dt.date.today().year + 1
        _fail(out, (out["year"] < 1900) | (out["year"] > this_year), dataset, "year", "implausible year")
    return out
