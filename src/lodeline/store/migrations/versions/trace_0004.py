"""Capture rules of issue 10: GS1 company prefixes bound to participants, eventIDs unique per participant, balances
dated for the time-order rule, declared opening stock on lots.

- ``trace_company_prefixes`` (new). Not backfilled: the length of a company prefix cannot be read from the keys
  already captured, so an operator binds each participant's prefixes (``lodeline trace participant add-prefix``)
  before that participant can create lots again.
- ``trace_events.participant_id`` (from the event's document) and ``trace_events.event_id`` (from the stored
  JSON); a non-material event's ``facility_id`` becomes its location on the submitter's side, as capture now
  records it.
- ``trace_balances.added_at``: the latest eventTime that added to the balance, from the custody journal.
- ``trace_lots.opening_stock``: origin lots produced where material cannot originate (not a mine, nor a recycler
  of declared recycled feed) are marked as opening stock, so origin reports flag the metal resting on them.
- ``trace_capture_rules`` (new): the log leaf from which events are captured under these rules (the tree size at
  this upgrade; 0 on a new store). ``lodeline trace audit`` replays the events before it as they were accepted
  (``MassBalance(legacy=True)``, document order, no other capture rule) and dates their balances as the backfill
  below does (:func:`lodeline.trace.mass_balance.journal_dates`).

Its tables, the opening-stock reason and the reading of an event are copied as they were when issue 12 froze this
revision (the latter in the frozen :mod:`lodeline.trace.ledger_v1`): a migration imports no application code that
can change (docs/ARCHITECTURE.md, Migrations).

Revision ID: trace_0004
Revises: trace_0003
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from lodeline.trace import ledger_v1

revision = "trace_0004"
down_revision = "trace_0003"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("trace_events", "participant_id", sa.String(200)),
    ("trace_events", "event_id", sa.String(240)),
    ("trace_lots", "opening_stock", sa.String(240)),
    ("trace_balances", "added_at", sa.String(32)),
)
_INDEX = "ix_trace_events_participant_event"
#: The opening-stock reason of lots originated before this revision where material cannot originate
#: (lodeline.trace.mass_balance.LEGACY_OPENING_STOCK, which the audit compares with).
LEGACY_OPENING_STOCK = "originated before trace_0004 at a facility that cannot originate material"

# The tables as this revision created them (lodeline.store.trace on that day); trace_participants only as the
# target of the foreign key (trace_0001 creates it).
_metadata = sa.MetaData()
sa.Table("trace_participants", _metadata, sa.Column("id", sa.String(200), primary_key=True))
_company_prefixes = sa.Table(
    "trace_company_prefixes",
    _metadata,
    # A GS1 company prefix (6–12 digits) and the one participant it is bound to: lots and EPCs a participant
    # creates must carry one of its prefixes. No two prefixes nest (one is never a prefix of another).
    sa.Column("prefix", sa.String(12), primary_key=True),
    sa.Column(
        "participant_id", sa.String(200), sa.ForeignKey("trace_participants.id"), nullable=False, index=True
    ),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
)
_capture_rules = sa.Table(
    # Since which log leaf capture has applied the rules of a migration: events at leaves >= first_leaf were
    # captured under them, earlier ones under the older rules (the audit replays those as they were accepted).
    "trace_capture_rules",
    _metadata,
    sa.Column("revision", sa.String(32), primary_key=True),
    sa.Column("first_leaf", sa.Integer, nullable=False),
    sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
)
# The columns of trace_events the backfill reads and writes.
_events = sa.table(
    "trace_events",
    sa.column("seq", sa.Integer),
    sa.column("hash_id", sa.String),
    sa.column("body", sa.Text),
    sa.column("facility_id", sa.String),
    sa.column("event_id", sa.String),
)


def upgrade() -> None:
    bind = op.get_bind()
    _company_prefixes.create(bind, checkfirst=True)
    for table, column, kind in _COLUMNS:
        # A store created at this version already has the columns (trace_0001 creates the current tables).
        if column not in {c["name"] for c in sa.inspect(bind).get_columns(table)}:
            op.add_column(table, sa.Column(column, kind))
    if _INDEX not in {i["name"] for i in sa.inspect(bind).get_indexes("trace_events")}:
        where = sa.text("event_id IS NOT NULL")  # partial, as in lodeline.store.trace
        op.create_index(
            _INDEX, "trace_events", ["participant_id", "event_id"], sqlite_where=where, postgresql_where=where
        )
    backfill(bind)
    _capture_rules.create(bind, checkfirst=True)
    recorded = sa.select(_capture_rules.c.first_leaf).where(_capture_rules.c.revision == revision)
    if bind.execute(recorded).first() is None:
        first = bind.execute(
            sa.text("SELECT COALESCE(MAX(leaf_index) + 1, 0) FROM trace_events")
        ).scalar_one()
        bind.execute(
            _capture_rules.insert().values(
                revision=revision, first_leaf=int(first), applied_at=datetime.now(UTC)
            )
        )


def backfill(conn: Any) -> None:
    """Fill the new columns of rows captured before this revision (idempotent: only NULLs are filled)."""
    conn.execute(
        sa.text(
            "UPDATE trace_events SET participant_id = (SELECT d.participant_id FROM trace_documents d "
            "WHERE d.sha256 = trace_events.document_sha256) WHERE participant_id IS NULL"
        )
    )
    _backfill_event_columns(conn)
    conn.execute(
        sa.text(
            """
            UPDATE trace_balances SET added_at = (
                SELECT MAX(m.event_time) FROM trace_lot_movements m
                WHERE m.lot_id = trace_balances.lot_id AND (
                    (trace_balances.state = 'stock' AND m.facility_id = trace_balances.facility_id
                        AND m.movement IN ('produce', 'receive'))
                    OR (trace_balances.state = 'transit' AND m.movement = 'ship'
                        AND m.counterpart_id = trace_balances.facility_id)))
            WHERE added_at IS NULL
            """
        )
    )
    conn.execute(
        sa.text(
            """
            UPDATE trace_lots SET opening_stock = :reason
            WHERE opening_stock IS NULL
              AND EXISTS (SELECT 1 FROM trace_lot_sources s WHERE s.lot_id = trace_lots.id AND s.source_lot IS NULL)
              AND NOT EXISTS (
                SELECT 1 FROM trace_facilities f WHERE f.id = trace_lots.facility_id
                  AND (f.facility_type = 'mine' OR (f.facility_type = 'recycler' AND trace_lots.recycled IS NOT NULL)))
            """
        ),
        {"reason": LEGACY_OPENING_STOCK},
    )


def _backfill_event_columns(conn: Any) -> None:
    """eventID of every stored event that has one; the location of non-material events."""
    events = _events
    last = 0
    while True:
        q = (
            sa.select(events.c.seq, events.c.hash_id, events.c.body, events.c.facility_id)
            .where(events.c.seq > last, events.c.event_id.is_(None))
            .order_by(events.c.seq)
            .limit(2000)
        )
        rows = conn.execute(q).all()
        if not rows:
            return
        updates = []
        for seq, hash_id, body, facility in rows:
            last = seq
            event = json.loads(body)
            eid = event.get("eventID") if isinstance(event.get("eventID"), str) else None
            if facility is None:
                op_ = ledger_v1.parse_event(event, hash_id)
                own = ledger_v1.own_locations(event, op_)
                facility = op_.facility if op_ is not None else (own[0] if own else None)
            if eid is not None or facility is not None:
                updates.append({"s": seq, "e": eid, "f": facility})
        if updates:
            conn.execute(
                sa.update(events)
                .where(events.c.seq == sa.bindparam("s"))
                .values(event_id=sa.bindparam("e"), facility_id=sa.bindparam("f")),
                updates,
            )


def downgrade() -> None:
    bind = op.get_bind()
    _capture_rules.drop(bind, checkfirst=True)
    if _INDEX in {i["name"] for i in sa.inspect(bind).get_indexes("trace_events")}:
        op.drop_index(_INDEX, table_name="trace_events")
    for table, column, _kind in _COLUMNS:
        if column in {c["name"] for c in sa.inspect(bind).get_columns(table)}:
            op.drop_column(table, column)
    _company_prefixes.drop(bind, checkfirst=True)
