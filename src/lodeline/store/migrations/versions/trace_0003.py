"""Index events by the EPCs they name, so ``events?epc=`` is an indexed lookup instead of a scan of every stored
event body. Existing events are indexed from their stored JSON.

Revision ID: trace_0003
Revises: trace_0002
"""

from __future__ import annotations

from alembic import op

from lodeline.store import trace

revision = "trace_0003"
down_revision = "trace_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from lodeline.trace.capture import backfill_event_epcs

    bind = op.get_bind()
    trace.event_epcs.create(bind, checkfirst=True)
    backfill_event_epcs(bind)


def downgrade() -> None:
    trace.event_epcs.drop(op.get_bind(), checkfirst=True)
