"""Accounts: accounts, API tokens (hashed), browser sessions, audit log, member submissions.

Revision ID: accounts_0001
Branch: accounts (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op

from lodeline.store.accounts import ACCOUNT_TABLES

revision = "accounts_0001"
down_revision = None
branch_labels = ("accounts",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in ACCOUNT_TABLES:
        table.create(bind, checkfirst=True)
    op.create_index("ix_audit_log_event", "audit_log", ["event", "at"])
    op.create_index("ix_member_submissions_org", "member_submissions", ["org", "id"])


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(ACCOUNT_TABLES):
        table.drop(bind, checkfirst=True)
