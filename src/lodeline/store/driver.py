"""Bulk statements straight through the DB-API driver, for the registry's write path on both backends.

Capture writes and looks up thousands of rows per document. SQLAlchemy processes every bound value in Python
(per-row parameter dicts, per-value expansion of ``IN`` lists), which cost more than the database work itself;
the drivers (sqlite3, psycopg) take plain tuples of str/int/float/bytes as they are. Only values of those types
go through here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection

CHUNK = 500  # values per IN list: under SQLite's and PostgreSQL's parameter limits, large enough to amortise


def _marks(conn: Connection, count: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * count)


def insert_tuples(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """``executemany`` of an INSERT of ``rows`` (tuples in ``columns`` order) into ``table``."""
    if rows:
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({_marks(conn, len(columns))})"
        conn.exec_driver_sql(sql, list(rows))


def rows_in(conn: Connection, sql: str, values: Sequence[Any]) -> Iterator[Any]:
    """The rows of ``sql`` (a query ending in ``… IN``) for ``values``, ``CHUNK`` values per statement."""
    for i in range(0, len(values), CHUNK):
        chunk = tuple(values[i : i + CHUNK])
        yield from conn.exec_driver_sql(f"{sql} ({_marks(conn, len(chunk))})", chunk)


def execute_in(conn: Connection, sql: str, values: Sequence[Any]) -> None:
    """Run ``sql`` (a statement ending in ``… IN`` that returns no rows) for ``values``, in chunks."""
    for i in range(0, len(values), CHUNK):
        chunk = tuple(values[i : i + CHUNK])
        conn.exec_driver_sql(f"{sql} ({_marks(conn, len(chunk))})", chunk)
