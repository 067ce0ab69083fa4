"""Witnesses and their cosignatures (C2SP tlog-witness, tlog-cosignature).

Revision ID: tracelog_0004
Revises: tracelog_0003
"""

from __future__ import annotations

from alembic import op

from lodeline.store import tracelog_witnesses

revision = "tracelog_0004"
down_revision = "tracelog_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for table in tracelog_witnesses.WITNESS_TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(tracelog_witnesses.WITNESS_TABLES):
        table.drop(bind, checkfirst=True)
