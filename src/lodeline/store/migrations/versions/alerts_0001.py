"""Alerts (issue 14): the alerts, their lifecycle events (each logged one with the canonical document whose digest is
a leaf of the registry's Merkle log), members' subscriptions and the delivery outbox.

The tables are written out here as they are at this revision (not imported from ``lodeline.store.alerts``): a
migration must not change when application code does (docs/ARCHITECTURE.md, Migrations).

Revision ID: alerts_0001
Branch: alerts (depends on foundation_0001 and tracelog_0001: a logged alert's leaf is in the registry's log).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "alerts_0001"
down_revision = None
branch_labels = ("alerts",)
depends_on = ("foundation_0001", "tracelog_0001")

_metadata = sa.MetaData()
_alerts = sa.Table(
    "alerts",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mineral", sa.String(64), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("current_level", sa.String(16), nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("explanation", sa.Text, nullable=False),
    sa.Column("readings", sa.Text, nullable=False),
    sa.Column("dedup_key", sa.String(64), nullable=False),
    sa.Column("open_key", sa.String(64)),
    sa.UniqueConstraint("open_key", name="uq_alerts_open_key"),
)
_alert_events = sa.Table(
    "alert_events",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.String(120), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("from_state", sa.String(16)),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("level", sa.String(16), nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("document", sa.Text),
    sa.Column("leaf_index", sa.BigInteger),
)
sa.Index("ix_alert_events_alert", _alert_events.c.alert_id)
_alert_subscriptions = sa.Table(
    "alert_subscriptions",
    _metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("member", sa.String(64), nullable=False),
    sa.Column("mineral", sa.String(64), nullable=False),
    sa.Column("min_level", sa.String(16), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(120), nullable=False),
    sa.Column("removed_at", sa.DateTime(timezone=True)),
)
_alert_outbox = sa.Table(
    "alert_outbox",
    _metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("alert_id", sa.Integer, sa.ForeignKey("alerts.id"), nullable=False),
    sa.Column("event_id", sa.Integer, sa.ForeignKey("alert_events.id"), nullable=False),
    sa.Column("subscription_id", sa.Integer, sa.ForeignKey("alert_subscriptions.id"), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("failed_at", sa.DateTime(timezone=True)),
    sa.Column("last_error", sa.Text),
    sa.UniqueConstraint("event_id", "subscription_id", name="uq_alert_outbox_event_subscription"),
)
sa.Index("ix_alert_outbox_due", _alert_outbox.c.next_attempt_at)
_TABLES = (_alerts, _alert_events, _alert_subscriptions, _alert_outbox)


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TABLES):
        table.drop(bind, checkfirst=True)
