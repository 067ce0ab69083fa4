"""The Arrow (ADBC) read path returns exactly what the SQLAlchemy path returns, on both backends."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, select

from lodeline.store import canonical
from lodeline.store.frames import table_schema
from lodeline.store.schema import CANONICAL_TABLES


@pytest.mark.parametrize("table", [t.name for t in CANONICAL_TABLES])
def test_arrow_and_sqlalchemy_reads_agree(built_store: tuple[str, Engine], table: str, monkeypatch) -> None:
    engine = built_store[1]
    arrow_table = next(t for t in CANONICAL_TABLES if t.name == table)
    assert canonical.read_arrow(engine, select(arrow_table), table_schema(arrow_table)) is not None, (
        "ADBC unused"
    )
    fast = canonical.read_table(engine, table)
    monkeypatch.setattr(canonical, "read_arrow", lambda *a, **k: None)
    slow = canonical.read_table(engine, table)
    assert fast.height == slow.height > 0
    assert fast.schema == slow.schema
    keys = fast.columns
    assert_frame_equal(fast.sort(keys, nulls_last=True), slow.sort(keys, nulls_last=True))


def test_filtered_reads(built_store: tuple[str, Engine]) -> None:
    engine = built_store[1]
    frame = canonical.read_table(engine, "production", mineral=["lithium", "cobalt"], is_primary=True)
    assert set(frame["mineral"].unique()) == {"lithium", "cobalt"} and frame["is_primary"].all()
    assert (
        canonical.read_table(engine, "trade", mineral="no-such-mineral").schema
        == canonical.read_table(engine, "trade", mineral="lithium").schema
    )
    assert isinstance(frame, pl.DataFrame)
