"""Witnesses and their cosignatures (C2SP tlog-witness, tlog-cosignature).

Revision ID: tracelog_0004
Revises: tracelog_0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "tracelog_0004"
down_revision = "tracelog_0003"
branch_labels = None
depends_on = None


# The tables as this revision created them (lodeline.store.tracelog_witnesses.WITNESS_TABLES on that day): a
# migration imports no application code that can change (docs/ARCHITECTURE.md, Migrations).
_metadata = sa.MetaData()
# only what the foreign key below names (created by tracelog_0001, never here)
sa.Table("tracelog_checkpoints", _metadata, sa.Column("checkpoint_id", sa.Integer, primary_key=True))
_WITNESS_TABLES = (
    sa.Table(
        "tracelog_witnesses",
        _metadata,
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("vkey", sa.Text, nullable=False),
        sa.Column("known_origin", sa.String(255)),
        sa.Column("known_size", sa.BigInteger, nullable=False),
        sa.Column("last_contact", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    ),
    sa.Table(
        "tracelog_cosignatures",
        _metadata,
        sa.Column(
            "checkpoint_id",
            sa.Integer,
            sa.ForeignKey("tracelog_checkpoints.checkpoint_id"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("witness_name", sa.String(255), primary_key=True),
        sa.Column("key_id", sa.String(8), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    ),
)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _WITNESS_TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_WITNESS_TABLES):
        table.drop(bind, checkfirst=True)
