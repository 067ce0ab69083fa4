"""Traceability registry write path: participants, keys, facilities, events, custody ledger.

Revision ID: trace_0001
Revises:
Branch: trace (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op

from lodeline.store import trace

revision = "trace_0001"
down_revision = None
branch_labels = ("trace",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in trace.TRACE_TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(trace.TRACE_TABLES):
        table.drop(bind, checkfirst=True)
