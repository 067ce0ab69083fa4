"""Drop the index on log leaf hashes.

Random 32-byte keys made every capture rewrite ~one index page per appended leaf once the log passed ~100k
leaves (the largest single share of SQLite's commit cost). The registry locates an event's leaf through
``trace_events.hash_id``, which it indexes anyway for idempotent capture.

Revision ID: tracelog_0002
Revises: tracelog_0001
"""

from __future__ import annotations

from alembic import op

revision = "tracelog_0002"
down_revision = "tracelog_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_tracelog_leaves_leaf_hash")


def downgrade() -> None:
    op.create_index("ix_tracelog_leaves_leaf_hash", "tracelog_leaves", ["leaf_hash"])
