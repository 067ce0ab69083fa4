"""Reading and atomically replacing the canonical tables and the dataset catalog."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, Select, Table, delete, func, insert, select

from lodeline.store import schema
from lodeline.store.columnar import read_frame
from lodeline.store.engine import write_transaction
from lodeline.store.frames import table_schema

_BY_NAME = {t.name: t for t in (*schema.CANONICAL_TABLES, schema.datasets, schema.build_runs)}
_BATCH = 5000


def _table(name: str) -> Table:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no canonical table {name!r}") from None


def _insert_frame(conn: Connection, table: Table, frame: pl.DataFrame) -> None:
    columns = [c.name for c in table.columns if c.name in frame.columns]
    rows = frame.select(columns).to_dicts()
    for start in range(0, len(rows), _BATCH):
        chunk = rows[start : start + _BATCH]
        if chunk:
            conn.execute(insert(table), chunk)


def replace_canonical(
    engine: Engine,
    frames: Mapping[str, Iterable[pl.DataFrame]],
    catalog_rows: list[dict[str, Any]],
    inputs_sha256: str,
    started_at: dt.datetime,
) -> None:
    """Replace every canonical table and the catalog in ONE transaction: all of it lands, or none."""
    with write_transaction(engine) as conn:
        for table in schema.CANONICAL_TABLES:
            conn.execute(delete(table))
        for name, parts in frames.items():
            table = _table(name)
            for part in parts:
                _insert_frame(conn, table, part)
        conn.execute(delete(schema.datasets))
        if catalog_rows:
            conn.execute(insert(schema.datasets), catalog_rows)
        total = sum(int(r["rows"]) for r in catalog_rows)
        conn.execute(
            insert(schema.build_runs),
            [
                {
                    "started_at": started_at,
                    "finished_at": dt.datetime.now(dt.UTC),
                    "inputs_sha256": inputs_sha256,
                    "rows": total,
                }
            ],
        )


def last_build_sha256(engine: Engine) -> str | None:
    with engine.connect() as conn:
        row = conn.execute(
            select(schema.build_runs.c.inputs_sha256).order_by(schema.build_runs.c.id.desc()).limit(1)
        ).first()
    return row[0] if row else None


def catalog(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(schema.datasets).order_by(schema.datasets.c.id)).mappings().all()
    out = []
    for r in rows:
        d = dict(r)
        d["files"] = json.loads(d["files"])
        d["tables"] = json.loads(d["tables"])
        out.append(d)
    return out


def is_built(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.execute(select(func.count()).select_from(schema.datasets)).scalar())


def read_table(engine: Engine, name: str, **equals: Any) -> pl.DataFrame:
    """Load a canonical table (optionally filtered by column equality) into a typed Polars frame.

    Columnar: rows come from the engine's own driver straight into Polars (ADBC on PostgreSQL); see
    :mod:`lodeline.store.columnar` for why SQLite is never read through another library.
    """
    table = _table(name)
    return read_frame(engine, _select(table, equals), table_schema(table))


def _select(table: Table, equals: dict[str, Any]) -> Select[Any]:
    query = select(table)
    for column, value in equals.items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set | frozenset):
            query = query.where(table.c[column].in_(list(value)))
        else:
            query = query.where(table.c[column] == value)
    return query
