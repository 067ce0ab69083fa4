"""Give every log an identity: a random log ID, generated with the log.

The default checkpoint origin becomes ``lodeline.local/registry/<log id>``, so a new database under the same data
dir and registry key is a new log, not a second, different log under one origin (which any verifier would rightly
call a fork). A store that already issued checkpoints keeps the origin of its latest one (pinned), so the verifier
key its users hold stays valid.

Revision ID: tracelog_0003
Revises: tracelog_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.store import tracelog

revision = "tracelog_0003"
down_revision = "tracelog_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    tracelog.tracelog_identity.create(bind, checkfirst=True)
    checkpoints = tracelog.tracelog_checkpoints
    pinned = bind.execute(
        sa.select(checkpoints.c.origin).order_by(checkpoints.c.checkpoint_id.desc()).limit(1)
    ).scalar_one_or_none()
    tracelog.create_identity(bind, pinned_origin=pinned)


def downgrade() -> None:
    tracelog.tracelog_identity.drop(op.get_bind(), checkfirst=True)
