"""Columnar reads through Arrow Database Connectivity (ADBC) for SQLite and PostgreSQL.

Used for the bulk reads the indicators need; callers fall back to SQLAlchemy when this returns None.
"""

from __future__ import annotations

import logging
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)


def _connect(engine: Engine) -> Any | None:
    url = make_url(str(engine.url.render_as_string(hide_password=False)))
    backend = url.get_backend_name()
    if backend == "sqlite" and url.database and url.database != ":memory:":
        import adbc_driver_sqlite.dbapi

        return adbc_driver_sqlite.dbapi.connect(url.database)
    if backend == "postgresql":
        import adbc_driver_postgresql.dbapi

        return adbc_driver_postgresql.dbapi.connect(
            url.set(drivername="postgresql").render_as_string(hide_password=False)
        )
    return None


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Cast Arrow's view of the columns to the canonical dtypes (SQLite has no booleans or dates)."""
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


def read_arrow(engine: Engine, query: Any, schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    """Run ``query`` (a SQLAlchemy select) through ADBC; None when ADBC cannot serve it."""
    try:
        sql = str(query.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
        conn = _connect(engine)
        if conn is None:
            return None
        with conn:
            cur = conn.cursor()
            if make_url(str(engine.url)).get_backend_name() == "sqlite":
                # SQLite columns have no declared type at read time: the driver infers each column's type from the
                # first batch, so read the result as one batch (a NULL-led text column would otherwise be INT64).
                cur.adbc_statement.set_options(**{"adbc.sqlite.query.batch_rows": "100000000"})
            try:
                cur.execute(sql)
                table = cur.fetch_arrow_table()
            finally:
                cur.close()
        frame = pl.from_arrow(table)
        assert isinstance(frame, pl.DataFrame)
        if frame.is_empty():
            return pl.DataFrame(schema=schema)
        return _conform(frame, schema)
    except Exception as exc:  # any driver or typing surprise: the SQLAlchemy path is authoritative
        log.debug("ADBC read failed, falling back to SQLAlchemy: %s", exc)
        return None
