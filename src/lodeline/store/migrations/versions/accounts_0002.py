"""Failed sign-ins are throttled and aggregated: the shared throttle counters, the service secret that binds the
login form's CSRF token to its ``__Host-`` cookie, and audit rows that stand for many failures (``count``,
``last_at``, ``subject``: the throttled key).

Revision ID: accounts_0002
Revises: accounts_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accounts_0002"
down_revision = "accounts_0001"
branch_labels = None
depends_on = None


# The tables as this revision created them (lodeline.store.throttle.auth_throttle and
# lodeline.store.accounts.service_secrets on that day): a migration imports no application code that can change
# (docs/ARCHITECTURE.md, Migrations).
_metadata = sa.MetaData()
_auth_throttle = sa.Table(
    "auth_throttle",
    _metadata,
    sa.Column("key", sa.String(80), primary_key=True),
    sa.Column("window_start", sa.BigInteger, nullable=False),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("blocked_until", sa.BigInteger, nullable=False),
    sa.Column("audit_id", sa.Integer),
    sa.Index("ix_auth_throttle_window", "window_start"),
)
_service_secrets = sa.Table(
    "service_secrets",
    _metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("secret_hex", sa.String(128), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)


def upgrade() -> None:
    bind = op.get_bind()
    op.add_column("audit_log", sa.Column("count", sa.Integer, nullable=False, server_default="1"))
    op.add_column("audit_log", sa.Column("last_at", sa.DateTime(timezone=True)))
    op.add_column("audit_log", sa.Column("subject", sa.String(80)))
    _auth_throttle.create(bind, checkfirst=True)
    _service_secrets.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    _service_secrets.drop(bind, checkfirst=True)
    _auth_throttle.drop(bind, checkfirst=True)
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("subject")
        batch.drop_column("last_at")
        batch.drop_column("count")
