"""Compliance verdicts (issue 16): one row per verdict issued, with the canonical verdict document whose digest
is a leaf of the registry's Merkle log.

The table is written out here as it is at this revision (not imported from ``lodeline.store.comply``): a migration
must not change when application code does (docs/ARCHITECTURE.md, Migrations).

Revision ID: comply_0001
Branch: comply (depends on tracelog_0001: a verdict's leaf is in the registry's log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "comply_0001"
down_revision = None
branch_labels = ("comply",)
depends_on = ("foundation_0001", "tracelog_0001")

_metadata = sa.MetaData()
_comply_verdicts = sa.Table(
    "comply_verdicts",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lot", sa.String(240), nullable=False, index=True),
    sa.Column("ruleset_id", sa.String(120), nullable=False),
    sa.Column("ruleset_version", sa.String(40), nullable=False),
    sa.Column("rule_id", sa.String(120), nullable=False),
    sa.Column("verdict", sa.String(20), nullable=False),
    sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("checked_by", sa.String(200)),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=False, unique=True),
)


def upgrade() -> None:
    _comply_verdicts.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _comply_verdicts.drop(op.get_bind(), checkfirst=True)
