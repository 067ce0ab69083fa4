"""Index events by the EPCs they name, so ``events?epc=`` is an indexed lookup instead of a scan of every stored
event body. Existing events are indexed from their stored JSON.

Revision ID: trace_0003
Revises: trace_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.trace import ledger_v1

revision = "trace_0003"
down_revision = "trace_0002"
branch_labels = None
depends_on = None


# The table as this revision created it (lodeline.store.trace.event_epcs on that day) and the backfill of the
# frozen lodeline.trace.ledger_v1: a migration imports no application code that can change (docs/ARCHITECTURE.md,
# Migrations).
_event_epcs = sa.Table(
    "trace_event_epcs",
    sa.MetaData(),
    # Which events name an EPC (canonical Digital Link): instance EPCs of every event, quantity classes of events
    # that move no material. With trace_lot_movements it answers events?epc= without scanning event bodies.
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("epc", sa.String(240), nullable=False),
    sa.Column("event_hash", sa.String(100), nullable=False),
    sa.Index("ix_trace_event_epcs_epc", "epc"),
)


def upgrade() -> None:
    bind = op.get_bind()
    _event_epcs.create(bind, checkfirst=True)
    ledger_v1.backfill_event_epcs(bind)


def downgrade() -> None:
    _event_epcs.drop(op.get_bind(), checkfirst=True)
