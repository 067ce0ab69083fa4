"""Custody journal: one row per lot an event moves (produce, consume, ship, receive), indexed by lot.

A lot's events used to be found through its composition edges and claims only, which miss the shipments and
receipts between two facilities. Existing events are journalled from their stored JSON.

Revision ID: trace_0002
Revises: trace_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.trace import ledger_v1

revision = "trace_0002"
down_revision = "trace_0001"
branch_labels = None
depends_on = None


# The table as this revision created it (lodeline.store.trace.lot_movements on that day) and the backfill of the
# frozen lodeline.trace.ledger_v1: a migration imports no application code that can change (docs/ARCHITECTURE.md,
# Migrations).
_lot_movements = sa.Table(
    "trace_lot_movements",
    sa.MetaData(),
    # The custody journal: every quantity of a lot an event moves (one row per lot per event), so a lot's whole
    # trail — produced, shipped, received, consumed — is one indexed lookup.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("lot_id", sa.String(240), nullable=False),
    sa.Column("event_hash", sa.String(100), nullable=False),
    sa.Column("event_time", sa.String(32), nullable=False),
    sa.Column("movement", sa.String(8), nullable=False),  # produce | consume | ship | receive
    sa.Column(
        "facility_id", sa.String(200), nullable=False
    ),  # where it happened (ship: origin; receive: dest.)
    sa.Column("counterpart_id", sa.String(200)),  # ship: destination; receive: origin
    sa.Column("quantity_kg", sa.Float, nullable=False),  # gross mass of the lot moved, kg
    sa.Index("ix_trace_lot_movements_lot", "lot_id"),
)


def upgrade() -> None:
    bind = op.get_bind()
    _lot_movements.create(bind, checkfirst=True)
    ledger_v1.backfill_lot_movements(bind)


def downgrade() -> None:
    _lot_movements.drop(op.get_bind(), checkfirst=True)
