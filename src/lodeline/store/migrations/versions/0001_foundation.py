"""Foundation: canonical tables and the dataset catalog.

Revision ID: foundation_0001
Revises:
Branch: foundation. Each capability (trace, sim, stockpiles …) owns its own Alembic branch whose first
revision ``depends_on`` this one, so branches never conflict; the store upgrades to ``heads``.
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Boolean, Column, Date, DateTime, Float, Integer, MetaData, String, Table, Text

revision = "foundation_0001"
down_revision = None
branch_labels = ("foundation",)
depends_on = None

# The tables as this revision creates them, copied from lodeline.store.schema on the day the migration was frozen
# (issue 12): a migration imports no application code that can change (docs/ARCHITECTURE.md, Migrations).
_metadata = MetaData()


def _provenance() -> list[Column]:
    return [
        Column("source", String(64), nullable=False),
        Column("edition", String(64), nullable=False),
        Column("flag", String(16)),
    ]


production = Table(
    "production",
    _metadata,
    Column("mineral", String(48), nullable=False),
    Column("stage", String(16), nullable=False),
    # production | capacity | reserves
    Column("measure", String(16), nullable=False),
    Column("country", String(3), nullable=False),
    Column("country_raw", String(160), nullable=False),
    Column("year", Integer, nullable=False),
    Column("quantity", Float),
    Column("unit", String(48), nullable=False),
    # gross | contained
    Column("basis", String(16), nullable=False),
    # the source's own label for the series (USGS "TYPE"/"Statistics_detail")
    Column("series", String(240), nullable=False),
    # one primary series per (source, mineral, stage, measure): the one indicators use
    Column("is_primary", Boolean, nullable=False),
    Column("note", Text),
    *_provenance(),
)

stage_shares = Table(
    "stage_shares",
    _metadata,
    Column("mineral", String(48), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("country", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    Column("share", Float),  # 0-1, as published (rounded)
    *_provenance(),
)

trade = Table(
    "trade",
    _metadata,
    Column("hs6", String(6), nullable=False),
    Column("mineral", String(48), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("exporter", String(3), nullable=False),
    Column("importer", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    Column("value_usd", Float),
    Column("quantity_t", Float),
    # complete = every bilateral pair; top6 = truncated to each side's top-6 partners
    Column("coverage", String(16), nullable=False),
    *_provenance(),
)

prices = Table(
    "prices",
    _metadata,
    Column("series_id", String(64), nullable=False),
    Column("mineral", String(48), nullable=False),
    Column("description", String(240), nullable=False),
    Column("period", Date, nullable=False),
    # M = monthly, A = annual
    Column("frequency", String(1), nullable=False),
    Column("value", Float),
    Column("unit", String(48), nullable=False),
    *_provenance(),
)

governance = Table(
    "governance",
    _metadata,
    Column("country", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    # va pv ge rq rl cc (WGI dimensions)
    Column("indicator", String(8), nullable=False),
    Column("estimate", Float),
    Column("pct_rank", Float),
    *_provenance(),
)

recycling_rates = Table(
    "recycling_rates",
    _metadata,
    Column("element", String(8), nullable=False),
    Column("mineral", String(48)),
    # eol_rr | recycled_content | old_scrap_ratio
    Column("metric", String(24), nullable=False),
    # percent (0-100) as published; an open bound is NULL with flag "<" (only an upper bound) or ">"
    Column("value_low", Float),
    Column("value_high", Float),
    Column("raw", String(120), nullable=False),
    Column("note", Text),
    *_provenance(),
)

salient = Table(
    "salient",
    _metadata,
    Column("mineral", String(48), nullable=False),
    Column("country", String(3), nullable=False),
    Column("year", Integer, nullable=False),
    # e.g. net_import_reliance, price, production, imports, exports, consumption
    Column("statistic", String(48), nullable=False),
    Column("detail", String(240), nullable=False),
    Column("value", Float),
    Column("unit", String(64), nullable=False),
    Column("note", Text),
    *_provenance(),
)

criticality_inputs = Table(
    "criticality_inputs",
    _metadata,
    Column("material", String(64), nullable=False),
    Column("mineral", String(48)),
    # e.g. SI_EI, SI_SR, IR_extraction_pct, EoL_RIR_pct, supply_basis_extraction
    Column("parameter", String(48), nullable=False),
    Column("value", Float),
    Column("text_value", String(64)),
    *_provenance(),
)

trade_factors = Table(
    "trade_factors",
    _metadata,
    Column("material", String(64), nullable=False),
    Column("mineral", String(48)),
    Column("country", String(3), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("scope", String(16), nullable=False),
    Column("t_c", Float, nullable=False),
    *_provenance(),
)

targets = Table(
    "targets",
    _metadata,
    Column("target_id", String(80), nullable=False),
    Column("body", String(160), nullable=False),
    Column("instrument", String(240), nullable=False),
    Column("year_adopted", Integer),
    Column("minerals", Text, nullable=False),  # JSON list of mineral ids ([] = "all critical minerals")
    Column("scope_raw", String(240), nullable=False),
    Column("stage_scope", String(120), nullable=False),
    Column("metric", Text, nullable=False),
    Column("comparator", String(4), nullable=False),
    Column("value", Float),
    Column("unit", String(64), nullable=False),
    Column("deadline", Integer),
    Column("ambition_value", Float),
    Column("note", Text),
    *_provenance(),
)

minerals_table = Table(
    "minerals",
    _metadata,
    Column("id", String(48), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("aliases", Text, nullable=False),  # JSON list
    Column("hs_codes", Text, nullable=False),  # JSON object code -> stage
    Column("basis", String(120), nullable=False),
    Column("eu_crm_2023", Boolean, nullable=False),
)

country_groups_table = Table(
    "country_groups",
    _metadata,
    Column("group_id", String(32), nullable=False),
    Column("iso3", String(3), nullable=False),
    Column("description", String(240), nullable=False),
)

datasets = Table(
    "datasets",
    _metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(240), nullable=False),
    Column("publisher", String(240), nullable=False),
    Column("edition", String(64), nullable=False),
    Column("licence", String(240), nullable=False),
    Column("files", Text, nullable=False),  # JSON list of {path, sha256, bytes}
    Column("sha256", String(64), nullable=False),  # over the files' hashes
    Column("rows", Integer, nullable=False),
    Column("tables", Text, nullable=False),  # JSON object table -> rows
    Column("built_at", DateTime(timezone=True), nullable=False),
)

build_runs = Table(
    "build_runs",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=False),
    Column("inputs_sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
)

_CANONICAL_TABLES: tuple[Table, ...] = (
    production,
    stage_shares,
    trade,
    prices,
    governance,
    recycling_rates,
    salient,
    criticality_inputs,
    trade_factors,
    targets,
    minerals_table,
    country_groups_table,
)

_TABLES = (*_CANONICAL_TABLES, datasets, build_runs)


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
