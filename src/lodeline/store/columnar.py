"""Columnar reads of the canonical tables into typed Polars frames, through one database library per backend.

SQLite: Python's ``sqlite3``, the engine's own driver, and nothing else. A second SQLite library in the same
process (the ADBC SQLite driver bundles one) keeps its own POSIX locks and its own idea of "the last connection":
closing it dropped the server's locks and deleted the WAL under it, and acknowledged writes were lost (issue 10).
So the rows come through the pooled ``sqlite3`` connection's cursor in one ``fetchall`` (C code, no per-row
SQLAlchemy processing) and straight into Polars with the canonical schema (``orient="row"``, built in Rust).

PostgreSQL: ADBC's libpq driver returns Arrow record batches, about twice as fast as rows through psycopg for the
130k-row trade table (BENCHMARKS.md); it is a network client with no shared file state, so it is safe beside
psycopg. Its sessions only run one SELECT. If it fails for any reason the rows path answers instead.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl
from sqlalchemy import Engine

log = logging.getLogger(__name__)


def _sql(engine: Engine, query: Any) -> str:
    # Filters are the caller's equality/IN values; SQLAlchemy renders them as escaped literals of the column type.
    return str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))


def _wire_schema(schema: dict[str, pl.DataType], backend: str) -> dict[str, pl.DataType]:
    """What the driver hands back for each canonical dtype (SQLite has no date, timestamp or boolean type)."""
    if backend != "sqlite":
        return schema
    out: dict[str, pl.DataType] = {}
    for name, dtype in schema.items():
        if dtype == pl.Date() or isinstance(dtype, pl.Datetime):
            out[name] = pl.String()
        elif dtype == pl.Boolean():
            out[name] = pl.Int64()
        else:
            out[name] = dtype
    return out


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast the driver's view of the columns to the canonical dtypes."""
    exprs = []
    for name, dtype in schema.items():
        col = pl.col(name)
        current = frame.schema[name]
        if current == dtype:
            exprs.append(col)
        elif dtype == pl.Date() and current == pl.String():
            exprs.append(col.str.to_date("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime) and current == pl.String():
            exprs.append(col.str.to_datetime(time_zone="UTC"))
        else:
            exprs.append(col.cast(dtype))
    return frame.select(exprs)


def read_rows(engine: Engine, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Run ``query`` on the engine's own DB-API connection; the rows as a frame of ``schema`` (every backend)."""
    sql = _sql(engine, query)
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    wire = _wire_schema(schema, engine.dialect.name)
    return _conform(pl.DataFrame(rows, schema=wire, orient="row"), schema)


def _read_adbc_postgresql(engine: Engine, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    import adbc_driver_postgresql.dbapi

    uri = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with adbc_driver_postgresql.dbapi.connect(uri) as conn, conn.cursor() as cursor:
        cursor.execute(_sql(engine, query))
        table = cursor.fetch_arrow_table()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return pl.DataFrame(schema=schema) if frame.is_empty() else _conform(frame, schema)


def read_frame(engine: Engine, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The result of ``query`` (a SQLAlchemy select of the columns in ``schema``) as a typed Polars frame."""
    if engine.dialect.name == "postgresql":
        try:
            return _read_adbc_postgresql(engine, query, schema)
        except Exception as exc:  # a driver or typing surprise: the rows path gives the same frame, slower
            log.warning("ADBC read failed, reading rows through psycopg instead: %s", exc)
    return read_rows(engine, query, schema)
