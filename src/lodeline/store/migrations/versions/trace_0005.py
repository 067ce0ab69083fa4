"""Keep the signed bytes of every captured document (``trace_document_bytes``), so ``lodeline trace audit`` can
check each document's SHA-256, its signature by the named participant and the events it holds.

A new table only: no existing table is touched. Documents captured before this revision have no bytes; the audit
reports them by name (``document-bytes-legacy``) instead of passing them silently.

Revision ID: trace_0005
Revises: trace_0004
"""

from __future__ import annotations

from alembic import op

from lodeline.store import trace

revision = "trace_0005"
down_revision = "trace_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    trace.document_bytes.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    trace.document_bytes.drop(op.get_bind(), checkfirst=True)
