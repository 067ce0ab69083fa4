"""Traceability registry: the append-only Merkle log (leaves, perfect-subtree hashes, head, checkpoints).

Revision ID: tracelog_0001
Revises:
Branch: tracelog (depends on foundation_0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.store import tracelog

revision = "tracelog_0001"
down_revision = None
branch_labels = ("tracelog",)
depends_on = "foundation_0001"


def upgrade() -> None:
    bind = op.get_bind()
    for table in tracelog.TRACELOG_TABLES:
        table.create(bind, checkfirst=True)
    # The head row is the append lock and the size of record; it exists from the start.
    exists = bind.execute(
        sa.select(tracelog.tracelog_head.c.id).where(tracelog.tracelog_head.c.id == 1)
    ).first()
    if exists is None:
        bind.execute(sa.insert(tracelog.tracelog_head).values(id=1, tree_size=0))


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(tracelog.TRACELOG_TABLES):
        table.drop(bind, checkfirst=True)
