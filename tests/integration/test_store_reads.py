"""The columnar read path returns exactly what a plain SQLAlchemy read returns, on both backends (and on
PostgreSQL the ADBC path and the psycopg rows path agree)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, select

from lodeline.store import canonical, columnar
from lodeline.store.frames import table_schema
from lodeline.store.schema import CANONICAL_TABLES


def _reference(engine: Engine, table_name: str) -> pl.DataFrame:
    """The table through SQLAlchemy's typed result rows (slow, independent of the columnar code)."""
    table = next(t for t in CANONICAL_TABLES if t.name == table_name)
    schema = table_schema(table)
    with engine.connect() as conn:
        rows = conn.execute(select(table)).fetchall()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pl.DataFrame(
        [pl.Series(c, list(v), dtype=d) for (c, d), v in zip(schema.items(), columns, strict=True)]
    )


def _same(a: pl.DataFrame, b: pl.DataFrame) -> None:
    assert a.height == b.height
    assert a.schema == b.schema
    keys = a.columns
    assert_frame_equal(a.sort(keys, nulls_last=True), b.sort(keys, nulls_last=True))


@pytest.mark.parametrize("table", [t.name for t in CANONICAL_TABLES])
def test_columnar_and_sqlalchemy_reads_agree(built_store: tuple[str, Engine], table: str) -> None:
    engine = built_store[1]
    fast = canonical.read_table(engine, table)
    assert fast.height > 0
    _same(fast, _reference(engine, table))
    if engine.dialect.name == "postgresql":
        arrow_table = next(t for t in CANONICAL_TABLES if t.name == table)
        query, schema = select(arrow_table), table_schema(arrow_table)
        _same(
            columnar._read_adbc_postgresql(engine, query, schema), columnar.read_rows(engine, query, schema)
        )


def test_filtered_reads(built_store: tuple[str, Engine]) -> None:
    engine = built_store[1]
    frame = canonical.read_table(engine, "production", mineral=["lithium", "cobalt"], is_primary=True)
    assert set(frame["mineral"].unique()) == {"lithium", "cobalt"} and frame["is_primary"].all()
    assert (
        canonical.read_table(engine, "trade", mineral="no-such-mineral").schema
        == canonical.read_table(engine, "trade", mineral="lithium").schema
    )
    quoted = canonical.read_table(engine, "production", mineral="it's; DROP TABLE production")
    assert quoted.height == 0 and canonical.read_table(engine, "production").height > 0
    assert isinstance(frame, pl.DataFrame)
