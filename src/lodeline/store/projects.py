"""Member projects of the register: tables and queries (SQLAlchemy Core, both backends). Created by
``projects_0001``.

- ``member_projects``: one row per (owner organisation, project id): the current validated document (JSON) and
  its version. A member's record of a public project uses the public id; the register merges the two.
- ``member_project_versions``: every accepted version, never changed, so a project's edits can be audited.

:func:`upsert` writes the current row and the new version in ONE write transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, Text, func, insert, select, update

from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata

member_projects = Table(
    "member_projects",
    metadata,
    Column("owner_org", String(120), primary_key=True),
    Column("project_id", String(80), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120)),
)

member_project_versions = Table(
    "member_project_versions",
    metadata,
    Column("owner_org", String(120), primary_key=True),
    Column("project_id", String(80), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(120)),
)

PROJECT_TABLES = (member_projects, member_project_versions)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def upsert(engine: Engine, owner_org: str, project_id: str, document: dict[str, Any], by: str | None) -> int:
    """Store ``document`` as the owner's current version of the project; returns the version number."""
    return upsert_many(engine, owner_org, [(project_id, document)], by)[0]


def upsert_many(
    engine: Engine, owner_org: str, documents: Sequence[tuple[str, dict[str, Any]]], by: str | None
) -> list[int]:
    """Store every (project id, document) as the owner's new versions in ONE transaction (all or none)."""
    now = _now()
    out = []
    with write_transaction(engine) as conn:
        for project_id, document in documents:
            text = json.dumps(document, sort_keys=True, separators=(",", ":"))
            key = (member_projects.c.owner_org == owner_org) & (member_projects.c.project_id == project_id)
            current = conn.execute(select(member_projects.c.version).where(key)).scalar_one_or_none()
            version = 1 if current is None else current + 1
            if current is None:
                row = {"owner_org": owner_org, "project_id": project_id, "created_at": now}
                conn.execute(
                    insert(member_projects).values(
                        **row, version=1, document=text, updated_at=now, updated_by=by
                    )
                )
            else:
                conn.execute(
                    update(member_projects)
                    .where(key)
                    .values(version=version, document=text, updated_at=now, updated_by=by)
                )
            conn.execute(
                insert(member_project_versions).values(
                    owner_org=owner_org,
                    project_id=project_id,
                    version=version,
                    document=text,
                    changed_at=now,
                    changed_by=by,
                )
            )
            out.append(version)
    return out


def list_projects(engine: Engine) -> list[dict[str, Any]]:
    """Every member project's current row (the caller redacts what a viewer may not see)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(member_projects).order_by(member_projects.c.owner_org, member_projects.c.project_id)
        ).mappings()
        return [{**r, "document": json.loads(r["document"])} for r in rows]


def versions(engine: Engine, owner_org: str, project_id: str) -> list[dict[str, Any]]:
    t = member_project_versions
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.c.version, t.c.changed_at, t.c.changed_by)
            .where((t.c.owner_org == owner_org) & (t.c.project_id == project_id))
            .order_by(t.c.version)
        ).mappings()
        return [dict(r) for r in rows]


def count_versions(engine: Engine) -> int:
    """How many member project versions exist (part of the data version of a register read)."""
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(member_project_versions)).scalar_one())
