"""Stress-test background jobs: one row per job (status, progress, owner, heartbeat, result JSON), so any
``serve`` worker answers a status poll for a job another worker runs.

The table is written out here as it is at this revision (not imported from ``lodeline.store.jobs``): a migration
must not change when application code does.

Revision ID: sim_0001
Branch: sim (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import Column, DateTime, Float, Index, Integer, MetaData, String, Table, Text

revision = "sim_0001"
down_revision = None
branch_labels = ("sim",)
depends_on = "foundation_0001"

_metadata = MetaData()
_SIM_JOBS = Table(
    "sim_jobs",
    _metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("progress", Float, nullable=False),
    Column("message", String(300), nullable=False),
    Column("title", String(200), nullable=False),
    Column("owner_account", Integer),
    Column("owner_name", String(120)),
    Column("worker", String(120), nullable=False),
    Column("params", Text, nullable=False),
    Column("result", Text),
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Index("ix_sim_jobs_status_heartbeat", "status", "heartbeat_at"),
)


def upgrade() -> None:
    _SIM_JOBS.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    _SIM_JOBS.drop(op.get_bind(), checkfirst=True)
