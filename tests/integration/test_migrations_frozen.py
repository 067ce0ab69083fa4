"""The revisions that carry their own copy of the tables they create (accounts_0002, trace_0005, tracelog_0001,
tracelog_0003, tracelog_0004:
docs/ARCHITECTURE.md, Migrations) build, on each backend, exactly the tables the application declares: same
columns (name, compiled type, nullability), primary key, foreign keys and indexes. The store is migrated by Alembic
from nothing to every head (the ``engine`` fixture) and read back by SQLAlchemy's inspector; the expected side is
the application's ``Table`` objects, so a frozen copy that drifted from what the code reads and writes fails here.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from lodeline.store import accounts, throttle, trace, tracelog, tracelog_witnesses

FROZEN_TABLES = (
    throttle.auth_throttle,  # accounts_0002
    accounts.service_secrets,  # accounts_0002
    trace.document_bytes,  # trace_0005
    *tracelog.TRACELOG_TABLES,  # tracelog_0001
    tracelog.tracelog_identity,  # tracelog_0003
    *tracelog_witnesses.WITNESS_TABLES,  # tracelog_0004
)


def _declared(table: sa.Table, dialect: sa.Dialect) -> dict[str, Any]:
    return {
        "columns": {c.name: (str(c.type.compile(dialect)), c.nullable) for c in table.columns},
        "primary_key": sorted(c.name for c in table.primary_key.columns),
        "foreign_keys": sorted(
            (fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys
        ),
        "indexes": sorted((i.name, tuple(c.name for c in i.columns)) for i in table.indexes),
    }


def _reflected(engine: Engine, name: str) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    return {
        "columns": {
            c["name"]: (str(c["type"].compile(engine.dialect)), c["nullable"])
            for c in inspector.get_columns(name)
        },
        "primary_key": sorted(inspector.get_pk_constraint(name)["constrained_columns"]),
        "foreign_keys": sorted(
            (column, fk["referred_table"], referred)
            for fk in inspector.get_foreign_keys(name)
            for column, referred in zip(fk["constrained_columns"], fk["referred_columns"], strict=True)
        ),
        "indexes": sorted((i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)),
    }


@pytest.mark.parametrize("table", FROZEN_TABLES, ids=lambda t: t.name)
def test_frozen_revisions_build_the_declared_tables(engine: Engine, table: sa.Table) -> None:
    assert _reflected(engine, table.name) == _declared(table, engine.dialect)
