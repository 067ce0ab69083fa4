"""Traceability registry: the append-only Merkle log (leaves, perfect-subtree hashes, head, checkpoints).

Revision ID: tracelog_0001
Revises:
Branch: tracelog (depends on foundation_0001).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tracelog_0001"
down_revision = None
branch_labels = ("tracelog",)
depends_on = "foundation_0001"


# The tables as this revision creates them (lodeline.store.tracelog.TRACELOG_TABLES on the day it was frozen): a
# migration imports no application code that can change (docs/ARCHITECTURE.md, Migrations).
_metadata = sa.MetaData()
# INTEGER PRIMARY KEY on SQLite is the rowid itself (no second index); BIGINT on PostgreSQL.
_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_head = sa.Table(
    "tracelog_head",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("tree_size", sa.BigInteger, nullable=False),
)
_TRACELOG_TABLES = (
    _head,
    sa.Table(
        "tracelog_leaves",
        _metadata,
        sa.Column("leaf_index", _INDEX, primary_key=True, autoincrement=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("leaf_data", sa.LargeBinary, nullable=False),
    ),
    sa.Table(
        "tracelog_nodes",
        _metadata,
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("node_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sqlite_with_rowid=False,
    ),
    sa.Table(
        "tracelog_checkpoints",
        _metadata,
        sa.Column("checkpoint_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tree_size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("key_name", sa.String(255), nullable=False),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    ),
)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TRACELOG_TABLES:
        table.create(bind, checkfirst=True)
    # The head row is the append lock and the size of record; it exists from the start.
    exists = bind.execute(sa.select(_head.c.id).where(_head.c.id == 1)).first()
    if exists is None:
        bind.execute(sa.insert(_head).values(id=1, tree_size=0))


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TRACELOG_TABLES):
        table.drop(bind, checkfirst=True)
