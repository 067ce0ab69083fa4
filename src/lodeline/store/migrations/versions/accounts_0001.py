"""Accounts: accounts, API tokens (hashed), browser sessions, audit log, member submissions.

The tables are written out here as they were at this revision (not taken from ``lodeline.store.accounts``), so a
new store built through every revision ends with the same columns as one upgraded from this revision.

Revision ID: accounts_0001
Branch: accounts (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, Float, ForeignKey, Integer, MetaData, String, Table, Text

revision = "accounts_0001"
down_revision = None
branch_labels = ("accounts",)
depends_on = "foundation_0001"

_metadata = MetaData()
_TABLES = (
    Table(
        "accounts",
        _metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(120), nullable=False, unique=True),
        Column("role", String(16), nullable=False),
        Column("org", String(120)),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ),
    Table(
        "api_tokens",
        _metadata,
        Column("id", String(16), primary_key=True),
        Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
        Column("secret_sha256", String(64), nullable=False),
        Column("label", String(120), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True)),
    ),
    Table(
        "web_sessions",
        _metadata,
        Column("id_sha256", String(64), primary_key=True),
        Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
        Column("token_id", String(16), ForeignKey("api_tokens.id"), nullable=False),
        Column("csrf_token", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
    ),
    Table(
        "audit_log",
        _metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("at", DateTime(timezone=True), nullable=False),
        Column("event", String(32), nullable=False),
        Column("account_id", Integer),
        Column("token_id", String(16)),
        Column("method", String(8)),
        Column("path", String(400)),
        Column("status", Integer),
        Column("client", String(64)),
        Column("detail", Text),
    ),
    Table(
        "member_submissions",
        _metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("org", String(120), nullable=False),
        Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
        Column("mineral", String(48), nullable=False),
        Column("year", Integer, nullable=False),
        Column("metric", String(48), nullable=False),
        Column("value", Float, nullable=False),
        Column("unit", String(48), nullable=False),
        Column("note", Text),
        Column("created_at", DateTime(timezone=True), nullable=False),
    ),
)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind, checkfirst=True)
    op.create_index("ix_audit_log_event", "audit_log", ["event", "at"])
    op.create_index("ix_member_submissions_org", "member_submissions", ["org", "id"])


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind, checkfirst=True)
