"""Member stockpile submissions (issue 13): submissions per member and period, their versions (each with the
canonical document whose digest is a leaf of the registry's Merkle log) and their rows.

The tables are written out here as they are at this revision (not imported from ``lodeline.store.stocks``): a
migration must not change when application code does (docs/ARCHITECTURE.md, Migrations).

Revision ID: stocks_0001
Branch: stocks (depends on foundation_0001 and tracelog_0001: a version's leaf is in the registry's log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "stocks_0001"
down_revision = None
branch_labels = ("stocks",)
depends_on = ("foundation_0001", "tracelog_0001")

_metadata = sa.MetaData()
_stock_submissions = sa.Table(
    "stock_submissions",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member", sa.String(3), nullable=False),
    sa.Column("period", sa.String(7), nullable=False),
    sa.Column("latest_version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("member", "period", name="uq_stock_submissions_member_period"),
)
_stock_versions = sa.Table(
    "stock_versions",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("submission_id", sa.Integer, sa.ForeignKey("stock_submissions.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("submitted_by", sa.String(120)),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("document", sa.Text, nullable=False),
    sa.Column("leaf_index", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("submission_id", "version", name="uq_stock_versions_submission_version"),
)
_stock_rows = sa.Table(
    "stock_rows",
    _metadata,
    sa.Column(
        "version_id", sa.Integer, sa.ForeignKey("stock_versions.id"), primary_key=True, autoincrement=False
    ),
    sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("mineral", sa.String(64), nullable=False),
    sa.Column("form", sa.String(120), nullable=False),
    sa.Column("holder_type", sa.String(32), nullable=False),
    sa.Column("purity_pct", sa.Float),
    sa.Column("quantity_gross_t", sa.Float),
    sa.Column("quantity_contained_t", sa.Float),
    sa.Column("location_country", sa.String(3)),
    sa.Column("consumption_share", sa.Float),
    sa.Column("days_of_cover", sa.Float),
    sa.Column("trend_5y", sa.String(16)),
    sa.Column("release_rule", sa.String(120)),
    sa.Column("withheld", sa.Text, nullable=False),
)
_TABLES = (_stock_submissions, _stock_versions, _stock_rows)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind, checkfirst=True)
