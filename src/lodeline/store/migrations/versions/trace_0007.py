"""Event hash IDs of issue 11: stored events take the hash ID that CBV 2.0 §8.9 gives them as the reference
implementation computes it (:mod:`lodeline.trace.event_hash`), in ``trace_events.hash_id`` and in every table that
refers to them (``event_hash`` of trace_lot_sources, trace_lot_movements, trace_event_epcs, trace_claims).

- ``trace_events.leaf_hash_id`` (new): the hash ID the event's log leaf holds, where it differs from ``hash_id``
  (NULL otherwise). The log is append-only: a leaf keeps the hash the algorithm then in force computed
  (:mod:`lodeline.trace.event_hash_v1`), and proofs and the audit find and check it through this column.
- ``trace_capture_rules`` row ``trace_0007``: the log size at this upgrade. Event leaves before it were hashed with
  the previous algorithm, leaves from it on with the current one (``lodeline trace audit`` recomputes each so).

All in the migration's transaction; two stored events that now hash alike stop it with an error and change nothing.
Run again, it changes nothing. Downgrade gives the events back their leaf's hash ID and drops the column.

The re-keying is the frozen :mod:`lodeline.trace.rehash_v2` (moved there from :mod:`lodeline.trace.rehash` when issue
12 froze this revision), which hashes with the frozen :mod:`lodeline.trace.event_hash_v2`, never the current
``event_hash`` that a later version may replace: a migration imports no application code that can change
(docs/ARCHITECTURE.md, Migrations).

Revision ID: trace_0007
Revises: trace_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lodeline.trace import rehash_v2

revision = "trace_0007"
down_revision = "trace_0006"
branch_labels = None
depends_on = "tracelog_0001"  # reads the log size

_INDEX = "ix_trace_events_leaf_hash_id"


def upgrade() -> None:
    bind = op.get_bind()
    # A store created at this version already has the column (trace_0001 creates the current tables).
    if "leaf_hash_id" not in {c["name"] for c in sa.inspect(bind).get_columns("trace_events")}:
        op.add_column("trace_events", sa.Column("leaf_hash_id", sa.String(100)))
    if _INDEX not in {i["name"] for i in sa.inspect(bind).get_indexes("trace_events")}:
        where = sa.text("leaf_hash_id IS NOT NULL")  # partial, as in lodeline.store.trace
        op.create_index(_INDEX, "trace_events", ["leaf_hash_id"], sqlite_where=where, postgresql_where=where)
    rehash_v2.rehash_events(bind, revision)


def downgrade() -> None:
    bind = op.get_bind()
    rehash_v2.restore_hashes(bind, revision)
    op.drop_index(_INDEX, table_name="trace_events")
    with op.batch_alter_table("trace_events") as batch:
        batch.drop_column("leaf_hash_id")
