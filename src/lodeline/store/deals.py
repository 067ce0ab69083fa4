"""The deals register's versions (issue 17): rows members and the secretariat add or amend, on top of the bundled
``policy_facts`` rows (version 0, read from the files by ``services.deals``). Every change is a new version row;
nothing is updated or deleted, so the history of an entry is its versions in order. Created by migration
``deals_0001`` (Alembic branch ``deals``)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    select,
)

from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata

deal_versions = Table(
    "deal_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # agreements | measures | disputes
    Column("register", String(16), nullable=False),
    Column("entry_id", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    # add | amend
    Column("action", String(8), nullable=False),
    # the row's cells as validated (JSON object, column -> text), incl. source_url and source_type
    Column("cells", Text, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("author", String(120), nullable=False),
    Column("author_role", String(32), nullable=False),
    Column("author_org", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("register", "entry_id", "version", name="uq_deal_versions_entry_version"),
    Index("ix_deal_versions_register_entry", "register", "entry_id"),
)

DEAL_TABLES = (deal_versions,)


def insert_version(
    engine: Engine,
    *,
    register: str,
    entry_id: str,
    action: str,
    cells: dict[str, str],
    reason: str,
    author: str,
    author_role: str,
    author_org: str | None,
) -> dict[str, Any]:
    """Store the next version of an entry in one write transaction (the version number is the entry's newest + 1,
    version 0 being the bundled row; the unique key refuses a concurrent duplicate)."""
    with write_transaction(engine) as conn:
        newest = conn.execute(
            select(func.max(deal_versions.c.version)).where(
                (deal_versions.c.register == register) & (deal_versions.c.entry_id == entry_id)
            )
        ).scalar()
        version = int(newest or 0) + 1
        row = {
            "register": register, "entry_id": entry_id, "version": version, "action": action,
            "cells": json.dumps(cells, sort_keys=True, ensure_ascii=False), "reason": reason, "author": author,
            "author_role": author_role, "author_org": author_org, "created_at": dt.datetime.now(dt.UTC),
        }  # fmt: skip
        conn.execute(deal_versions.insert().values(**row))
    return row | {"cells": cells}


def _row(r: Any) -> dict[str, Any]:
    d = dict(r._mapping)
    d["cells"] = json.loads(d["cells"])
    created = d["created_at"]
    if isinstance(created, dt.datetime):
        d["created_at"] = (created if created.tzinfo else created.replace(tzinfo=dt.UTC)).isoformat()
    return d


def all_versions(engine: Engine, register: str | None = None) -> list[dict[str, Any]]:
    query = select(deal_versions).order_by(deal_versions.c.id)
    if register is not None:
        query = query.where(deal_versions.c.register == register)
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def entry_versions(engine: Engine, register: str, entry_id: str) -> list[dict[str, Any]]:
    query = (
        select(deal_versions)
        .where((deal_versions.c.register == register) & (deal_versions.c.entry_id == entry_id))
        .order_by(deal_versions.c.version)
    )
    with engine.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def revision(engine: Engine) -> int:
    """The newest version row's id (0 when none): changes whenever the register changes (cache key)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.max(deal_versions.c.id))).scalar() or 0)
