"""Keep the signed bytes of every captured document (``trace_document_bytes``), so ``lodeline trace audit`` can
check each document's SHA-256, its signature by the named participant and the events it holds.

A new table only: no existing table is touched. Documents captured before this revision have no bytes; the audit
reports them by name (``document-bytes-legacy``) instead of passing them silently.

Revision ID: trace_0005
Revises: trace_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "trace_0005"
down_revision = "trace_0004"
branch_labels = None
depends_on = None


# The table as this revision created it (lodeline.store.trace.document_bytes on that day): a migration imports no
# application code that can change (docs/ARCHITECTURE.md, Migrations).
_document_bytes = sa.Table(
    "trace_document_bytes",
    sa.MetaData(),
    sa.Column("sha256", sa.String(64), primary_key=True),  # = trace_documents.sha256
    sa.Column("codec", sa.String(8), nullable=False),  # zlib
    sa.Column("body", sa.LargeBinary, nullable=False),
)


def upgrade() -> None:
    _document_bytes.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _document_bytes.drop(op.get_bind(), checkfirst=True)
