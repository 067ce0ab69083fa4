"""Member projects of the project register (issue 15): the current document per (organisation, project) and
every accepted version.

The tables are written out here as they are at this revision (not imported from ``lodeline.store.projects``):
a migration must not change when application code does.

Revision ID: projects_0001
Branch: projects (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text

revision = "projects_0001"
down_revision = None
branch_labels = ("projects",)
depends_on = "foundation_0001"

_metadata = MetaData()
_MEMBER_PROJECTS = Table(
    "member_projects",
    _metadata,
    Column("owner_org", String(120), primary_key=True),
    Column("project_id", String(80), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(120)),
)
_MEMBER_PROJECT_VERSIONS = Table(
    "member_project_versions",
    _metadata,
    Column("owner_org", String(120), primary_key=True),
    Column("project_id", String(80), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    Column("changed_by", String(120)),
)


def upgrade() -> None:
    bind = op.get_bind()
    _MEMBER_PROJECTS.create(bind, checkfirst=True)
    _MEMBER_PROJECT_VERSIONS.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    _MEMBER_PROJECT_VERSIONS.drop(bind, checkfirst=True)
    _MEMBER_PROJECTS.drop(bind, checkfirst=True)
