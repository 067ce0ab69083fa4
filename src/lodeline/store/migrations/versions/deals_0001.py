"""The deals register's versions (issue 17): one row per added or amended agreement, export measure or dispute.

The table is written out here as it is at this revision (not imported from ``lodeline.store.deals``): a migration
must not change when application code does.

Revision ID: deals_0001
Branch: deals (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, Text, UniqueConstraint

revision = "deals_0001"
down_revision = None
branch_labels = ("deals",)
depends_on = "foundation_0001"

_metadata = MetaData()
_DEAL_VERSIONS = Table(
    "deal_versions",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("register", String(16), nullable=False),
    Column("entry_id", String(80), nullable=False),
    Column("version", Integer, nullable=False),
    Column("action", String(8), nullable=False),
    Column("cells", Text, nullable=False),
    Column("reason", String(500), nullable=False),
    Column("author", String(120), nullable=False),
    Column("author_role", String(32), nullable=False),
    Column("author_org", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("register", "entry_id", "version", name="uq_deal_versions_entry_version"),
    Index("ix_deal_versions_register_entry", "register", "entry_id"),
)


def upgrade() -> None:
    _DEAL_VERSIONS.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _DEAL_VERSIONS.drop(op.get_bind(), checkfirst=True)
