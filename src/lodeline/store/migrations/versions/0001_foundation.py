"""Foundation: canonical tables and the dataset catalog.

Revision ID: foundation_0001
Revises:
Branch: foundation. Each capability (trace, sim, stockpiles …) owns its own Alembic branch whose first
revision ``depends_on`` this one, so branches never conflict; the store upgrades to ``heads``.
"""

from __future__ import annotations

from alembic import op

from lodeline.store import schema

revision = "foundation_0001"
down_revision = None
branch_labels = ("foundation",)
depends_on = None

_TABLES = (*schema.CANONICAL_TABLES, schema.datasets, schema.build_runs)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind, checkfirst=True)
    op.create_index("ix_production_lookup", "production", ["mineral", "stage", "measure", "year"])
    op.create_index("ix_trade_lookup", "trade", ["mineral", "stage", "year"])
    op.create_index("ix_governance_lookup", "governance", ["country", "year", "indicator"])
    op.create_index("ix_prices_lookup", "prices", ["series_id", "period"])


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind, checkfirst=True)
