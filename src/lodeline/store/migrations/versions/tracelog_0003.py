"""Give every log an identity: a random log ID, generated with the log.

The default checkpoint origin becomes ``lodeline.local/registry/<log id>``, so a new database under the same data
dir and registry key is a new log, not a second, different log under one origin (which any verifier would rightly
call a fork). A store that already issued checkpoints keeps the origin of its latest one (pinned), so the verifier
key its users hold stays valid.

Revision ID: tracelog_0003
Revises: tracelog_0002
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "tracelog_0003"
down_revision = "tracelog_0002"
branch_labels = None
depends_on = None


# The table as this revision creates it, and what it reads (lodeline.store.tracelog on the day it was frozen): a
# migration imports no application code that can change (docs/ARCHITECTURE.md, Migrations).
_metadata = sa.MetaData()
_identity = sa.Table(
    "tracelog_identity",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("log_id", sa.String(64), nullable=False),
    # NULL: the origin is the default made from log_id (or LODELINE_REGISTRY_ORIGIN when set)
    sa.Column("origin", sa.String(255)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
_checkpoints = sa.table("tracelog_checkpoints", sa.column("checkpoint_id"), sa.column("origin"))


def upgrade() -> None:
    bind = op.get_bind()
    _identity.create(bind, checkfirst=True)
    pinned = bind.execute(
        sa.select(_checkpoints.c.origin).order_by(_checkpoints.c.checkpoint_id.desc()).limit(1)
    ).scalar_one_or_none()
    # the log's identity row, if it has none: a random 64-bit log ID (unique per store, so default origins never
    # collide), with the origin of the latest checkpoint already issued pinned
    if bind.execute(sa.select(_identity.c.id).where(_identity.c.id == 1)).first() is None:
        bind.execute(
            sa.insert(_identity).values(
                id=1, log_id=secrets.token_hex(8), origin=pinned, created_at=datetime.now(UTC)
            )
        )


def downgrade() -> None:
    _identity.drop(op.get_bind(), checkfirst=True)
