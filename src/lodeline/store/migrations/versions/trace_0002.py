"""Custody journal: one row per lot an event moves (produce, consume, ship, receive), indexed by lot.

A lot's events used to be found through its composition edges and claims only, which miss the shipments and
receipts between two facilities. Existing events are journalled from their stored JSON.

Revision ID: trace_0002
Revises: trace_0001
"""

from __future__ import annotations

from alembic import op

from lodeline.store import trace

revision = "trace_0002"
down_revision = "trace_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from lodeline.trace.capture import backfill_lot_movements

    bind = op.get_bind()
    trace.lot_movements.create(bind, checkfirst=True)
    backfill_lot_movements(bind)


def downgrade() -> None:
    trace.lot_movements.drop(op.get_bind(), checkfirst=True)
