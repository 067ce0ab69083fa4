"""Log the directory: every change to participants, keys, company prefixes, facilities and certifications is a
leaf of the registry's Merkle log from now on (:mod:`lodeline.trace.directory`). This revision appends, for a store
that already holds directory records, a **snapshot** of them: a header leaf and one leaf per row, in a fixed order
(participants, keys, prefixes, facilities, certifications, each by key), so ``lodeline trace audit`` can compare
the directory tables with the log and replay the events logged before it against the directory they name.

Nothing is appended when the log already records the tables as they are (a new store, or this revision run
again), so the upgrade is idempotent. Downgrade removes nothing: leaves cannot leave an append-only log.

The snapshot is the frozen :mod:`lodeline.trace.directory_snapshot_v1` (copied from :mod:`lodeline.trace.parties`,
:mod:`lodeline.trace.directory` and the log's store when issue 12 froze this revision): a migration imports no
application code that can change (docs/ARCHITECTURE.md, Migrations).

Revision ID: trace_0006
Revises: trace_0005
"""

from __future__ import annotations

from alembic import op

from lodeline.trace import directory_snapshot_v1

revision = "trace_0006"
down_revision = "trace_0005"
branch_labels = None
depends_on = "tracelog_0001"  # appends to the log's tables


def upgrade() -> None:
    directory_snapshot_v1.log_directory_snapshot(op.get_bind(), revision)


def downgrade() -> None:
    """Nothing to undo: the snapshot leaves stay in the log (an older audit reports them as leaves without
    an event)."""
