"""Failed sign-ins are throttled and aggregated: the shared throttle counters, the service secret that binds the
login form's CSRF token to its ``__Host-`` cookie, and audit rows that stand for many failures (``count``,
``last_at``, ``subject``: the throttled key).

Revision ID: accounts_0002
Revises: accounts_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.store import throttle
from lodeline.store.accounts import service_secrets

revision = "accounts_0002"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("audit_log", sa.Column("count", sa.Integer, nullable=False, server_default="1"))
    op.add_column("audit_log", sa.Column("last_at", sa.DateTime(timezone=True)))
    op.add_column("audit_log", sa.Column("subject", sa.String(80)))
    throttle.auth_throttle.create(bind, checkfirst=True)
    service_secrets.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    service_secrets.drop(bind, checkfirst=True)
    throttle.auth_throttle.drop(bind, checkfirst=True)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("subject")
        batch.drop_column("last_at")
        batch.drop_column("count")
