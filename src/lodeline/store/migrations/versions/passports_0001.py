"""Issued digital product passports (issue 16): one row per passport with its signed credential, whose digest is
a leaf of the registry's Merkle log.

The table is written out here as it is at this revision (not imported from ``lodeline.store.passports``): a
migration must not change when application code does (docs/ARCHITECTURE.md, Migrations).

Revision ID: passports_0001
Branch: passports (depends on foundation_0001 and tracelog_0001: a passport's leaf is in the registry's log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "passports_0001"
down_revision = None
branch_labels = ("passports",)
depends_on = ("foundation_0001", "tracelog_0001")

_metadata = sa.MetaData()
_passports = sa.Table(
    "passports",
    _metadata,
    sa.Column("id", sa.String(400), primary_key=True),
    sa.Column("lot_id", sa.String(240), nullable=False),
    sa.Column("gtin", sa.String(14)),
    sa.Column("batch", sa.String(40)),
    sa.Column("profile", sa.String(24), nullable=False),
    sa.Column("issuer", sa.String(200), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=False),
    sa.Index("ix_passports_lot", "lot_id"),
    sa.Index("ix_passports_gtin_batch", "gtin", "batch"),
)


def upgrade() -> None:
    _passports.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _passports.drop(op.get_bind(), checkfirst=True)
