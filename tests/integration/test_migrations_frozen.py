"""The revisions that carry their own copy of the tables they create (foundation 0001, accounts_0002, trace_0001,
trace_0005, tracelog_0001, tracelog_0003, tracelog_0004, stocks_0001:
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

from lodeline.store import (
    accounts,
    alerts,
    comply,
    deals,
    passports,
    projects,
    schema,
    stocks,
    throttle,
    trace,
    tracelog,
    tracelog_witnesses,
)

FROZEN_TABLES = (
    *schema.CANONICAL_TABLES,  # 0001_foundation
    schema.datasets,  # 0001_foundation
    schema.build_runs,  # 0001_foundation
    *trace.TRACE_TABLES,  # trace_0001
    throttle.auth_throttle,  # accounts_0002
    accounts.service_secrets,  # accounts_0002
    trace.document_bytes,  # trace_0005
    *tracelog.TRACELOG_TABLES,  # tracelog_0001
    tracelog.tracelog_identity,  # tracelog_0003
    *tracelog_witnesses.WITNESS_TABLES,  # tracelog_0004
    *stocks.STOCK_TABLES,  # stocks_0001
    *alerts.ALERT_TABLES,  # alerts_0001
    *comply.COMPLY_TABLES,  # comply_0001
    *deals.DEAL_TABLES,  # deals_0001
    *projects.PROJECT_TABLES,  # projects_0001
    *passports.PASSPORT_TABLES,  # passports_0001
)


#: Indexes a revision creates with ``op.create_index`` besides its tables' own (0001_foundation's lookups).
REVISION_INDEXES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "production": [("ix_production_lookup", ("mineral", "stage", "measure", "year"))],
    "trade": [("ix_trade_lookup", ("mineral", "stage", "year"))],
    "governance": [("ix_governance_lookup", ("country", "year", "indicator"))],
    "prices": [("ix_prices_lookup", ("series_id", "period"))],
}


def _type(type_: Any, dialect: sa.Dialect) -> str:
    """The type as the backend spells it (PostgreSQL reads a FLOAT column back as DOUBLE PRECISION)."""
    compiled = str(type_.compile(dialect))
    return "DOUBLE PRECISION" if compiled == "FLOAT" else compiled


def _declared(table: sa.Table, dialect: sa.Dialect) -> dict[str, Any]:
    return {
        "columns": {c.name: (_type(c.type, dialect), c.nullable) for c in table.columns},
        "primary_key": sorted(c.name for c in table.primary_key.columns),
        "foreign_keys": sorted(
            (fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys
        ),
        "indexes": sorted(
            [(str(i.name), tuple(c.name for c in i.columns)) for i in table.indexes]
            + REVISION_INDEXES.get(table.name, [])
        ),
        "unique": sorted(
            tuple(c.name for c in u.columns) for u in table.constraints if isinstance(u, sa.UniqueConstraint)
        ),
    }


def _reflected(engine: Engine, name: str) -> dict[str, Any]:
    inspector = sa.inspect(engine)
    return {
        "columns": {
            c["name"]: (_type(c["type"], engine.dialect), c["nullable"]) for c in inspector.get_columns(name)
        },
        "primary_key": sorted(inspector.get_pk_constraint(name)["constrained_columns"]),
        "foreign_keys": sorted(
            (column, fk["referred_table"], referred)
            for fk in inspector.get_foreign_keys(name)
            for column, referred in zip(fk["constrained_columns"], fk["referred_columns"], strict=True)
        ),
        # PostgreSQL also lists the index behind each unique constraint; those are compared as constraints
        "indexes": sorted(
            (str(i["name"]), tuple(str(c) for c in i["column_names"]))
            for i in inspector.get_indexes(name)
            if not i.get("duplicates_constraint")
        ),
        "unique": sorted(tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)),
    }


@pytest.mark.parametrize("table", FROZEN_TABLES, ids=lambda t: t.name)
def test_frozen_revisions_build_the_declared_tables(engine: Engine, table: sa.Table) -> None:
    assert _reflected(engine, table.name) == _declared(table, engine.dialect)
