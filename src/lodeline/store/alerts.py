"""Alerts, their lifecycle events, subscriptions and the delivery outbox (SQLAlchemy Core, both backends).

Created by ``alerts_0001``. The lifecycle service (:mod:`lodeline.services.alert_lifecycle`) writes an alert, its
events, its log leaf and its outbox rows in ONE write transaction (a transactional outbox); the delivery worker
(:mod:`lodeline.services.alert_delivery`) only claims and marks outbox rows.

- ``alerts``: one row per alert; ``open_key`` is the de-duplication key (the mineral) while the alert is not closed
  and NULL once closed, so a unique constraint keeps one open alert per mineral on both backends.
- ``alert_events``: who did what when (opened, raised, acknowledged, escalated, closed), with the actor and a note.
  An event that puts the alert on the tamper-evident log keeps the canonical ``document`` whose SHA-256 the leaf
  holds and the ``leaf_index`` (``lodeline-alert/v1:<sha256 hex>``); :func:`alert_leaves` recomputes those leaves
  from the stored documents for the log audit (:mod:`lodeline.store.leaf_kinds`).
- ``alert_subscriptions``: a member's subscription to a mineral (or ``*``) from a minimum level, by webhook (URL and
  ``whsec_`` secret) or e-mail; unsubscribing sets ``removed_at`` (outbox rows keep pointing at it).
- ``alert_outbox``: one message per (event, subscription); ``id`` is the idempotency key the receiver sees (the
  ``webhook-id`` header, the e-mail ``Message-ID``), identical on every retry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    and_,
    insert,
    or_,
    select,
    text,
    update,
)

from lodeline.store.schema import metadata

#: Leaf data prefix of an alert put on the log (an alert that reached ``warning`` or above).
ALERT_LEAF_PREFIX = b"lodeline-alert/v1:"

alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("mineral", String(64), nullable=False),
    # the highest level reached while the alert is not closed (normal/watch/warning/alert)
    Column("level", String(16), nullable=False),
    # the level of the latest scan that saw this mineral (may be lower than ``level``: not auto-closed)
    Column("current_level", String(16), nullable=False),
    Column("state", String(16), nullable=False),  # open, acknowledged, escalated, closed
    Column("opened_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("as_of", Date, nullable=False),  # the scan date of the latest scan that saw it
    Column("explanation", Text, nullable=False),
    Column(
        "readings", Text, nullable=False
    ),  # JSON list of the indicator readings (Alert.to_dict()["readings"])
    Column("dedup_key", String(64), nullable=False),
    Column("open_key", String(64)),  # = dedup_key while not closed, NULL once closed
    UniqueConstraint("open_key", name="uq_alerts_open_key"),
)

alert_events = Table(
    "alert_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(16), nullable=False),  # opened, raised, acknowledged, escalated, closed
    Column("from_state", String(16)),
    Column("to_state", String(16), nullable=False),
    Column("level", String(16), nullable=False),
    Column("note", Text),
    Column("document", Text),  # the canonical document logged (events that put the alert on the log)
    Column("leaf_index", BigInteger),
)
Index("ix_alert_events_alert", alert_events.c.alert_id)

alert_subscriptions = Table(
    "alert_subscriptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member", String(64), nullable=False),
    Column("mineral", String(64), nullable=False),  # a mineral id or "*"
    Column("min_level", String(16), nullable=False),
    Column("channel", String(16), nullable=False),  # webhook or email
    Column("target", String(2000), nullable=False),  # the webhook URL or the e-mail address
    Column("secret", String(200)),  # whsec_<base64> of a webhook subscription
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("removed_at", DateTime(timezone=True)),
)

alert_outbox = Table(
    "alert_outbox",
    metadata,
    Column("id", String(64), primary_key=True),  # msg_<hex>: the idempotency key
    Column("alert_id", Integer, ForeignKey("alerts.id"), nullable=False),
    Column("event_id", Integer, ForeignKey("alert_events.id"), nullable=False),
    Column("subscription_id", Integer, ForeignKey("alert_subscriptions.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("payload", Text, nullable=False),  # the JSON body (webhook) / the data the e-mail is written from
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True)),  # NULL: sent or given up
    Column("sent_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),  # given up after the last allowed attempt
    Column("last_error", Text),
    UniqueConstraint("event_id", "subscription_id", name="uq_alert_outbox_event_subscription"),
)
Index("ix_alert_outbox_due", alert_outbox.c.next_attempt_at)

ALERT_TABLES = (alerts, alert_events, alert_subscriptions, alert_outbox)


def leaf_of(document: str) -> bytes:
    return ALERT_LEAF_PREFIX + hashlib.sha256(document.encode("utf-8")).hexdigest().encode("ascii")


def alert_leaves(conn: Any) -> dict[int, bytes]:
    """Leaf index -> the leaf data its stored document yields, for every logged alert event (the log audit's
    check that each alert leaf is accounted for by a stored alert record that still hashes to it)."""
    rows = conn.execute(
        select(alert_events.c.leaf_index, alert_events.c.document).where(
            alert_events.c.leaf_index.is_not(None)
        )
    )
    return {int(index): leaf_of(document or "") for index, document in rows}


def lock_alerts(conn: Connection) -> None:
    """Serialise writers of alerts until the end of the transaction (PostgreSQL; SQLite's BEGIN IMMEDIATE does)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(1414)"))


# ------------------------------------------------------------------------------------------------ alerts
def open_alert(conn: Connection, dedup_key: str) -> dict[str, Any] | None:
    found = conn.execute(select(alerts).where(alerts.c.open_key == dedup_key)).mappings().first()
    return None if found is None else dict(found)


def alert_row(conn: Connection, alert_id: int, *, for_update: bool = False) -> dict[str, Any] | None:
    query = select(alerts).where(alerts.c.id == alert_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    found = conn.execute(query).mappings().first()
    return None if found is None else dict(found)


def insert_alert(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(alerts).values(**values)).inserted_primary_key[0])  # type: ignore[index]


def update_alert(conn: Connection, alert_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def insert_event(conn: Connection, values: dict[str, Any]) -> int:
    return int(conn.execute(insert(alert_events).values(**values)).inserted_primary_key[0])  # type: ignore[index]


def list_alerts(
    engine: Engine, *, mineral: str | None = None, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    query = select(alerts).order_by(alerts.c.id.desc()).limit(limit)
    if mineral is not None:
        query = query.where(alerts.c.mineral == mineral)
    if state is not None:
        query = query.where(alerts.c.state == state)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def events_of(engine: Engine, alert_ids: Sequence[int]) -> list[dict[str, Any]]:
    if not alert_ids:
        return []
    query = (
        select(alert_events).where(alert_events.c.alert_id.in_(list(alert_ids))).order_by(alert_events.c.id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def get_alert(engine: Engine, alert_id: int) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return alert_row(conn, alert_id)


# ------------------------------------------------------------------------------------------------ subscriptions
def matching_subscriptions(conn: Connection, mineral: str) -> list[dict[str, Any]]:
    """Active subscriptions to ``mineral`` or to every mineral (the caller filters by level)."""
    query = (
        select(alert_subscriptions)
        .where(
            alert_subscriptions.c.removed_at.is_(None),
            or_(alert_subscriptions.c.mineral == mineral, alert_subscriptions.c.mineral == "*"),
        )
        .order_by(alert_subscriptions.c.id)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def insert_subscription(conn: Connection, values: dict[str, Any]) -> int:
    return int(
        conn.execute(insert(alert_subscriptions).values(**values)).inserted_primary_key[0]  # type: ignore[index]
    )


def list_subscriptions(engine: Engine, member: str | None) -> list[dict[str, Any]]:
    """Active subscriptions of ``member`` (None: every member's), without their secrets."""
    cols = [c for c in alert_subscriptions.c if c.name != "secret"]
    query = select(*cols).where(alert_subscriptions.c.removed_at.is_(None)).order_by(alert_subscriptions.c.id)
    if member is not None:
        query = query.where(alert_subscriptions.c.member == member)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def remove_subscription(conn: Connection, subscription_id: int, member: str | None, now: dt.datetime) -> bool:
    """Mark a subscription removed (only ``member``'s own unless None); False when there is no such active one."""
    cond = [alert_subscriptions.c.id == subscription_id, alert_subscriptions.c.removed_at.is_(None)]
    if member is not None:
        cond.append(alert_subscriptions.c.member == member)
    return bool(conn.execute(update(alert_subscriptions).where(*cond).values(removed_at=now)).rowcount)


# ------------------------------------------------------------------------------------------------ outbox
def insert_outbox(conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(insert(alert_outbox), list(rows))


def due_messages(conn: Connection, now: dt.datetime, limit: int) -> list[dict[str, Any]]:
    """Unsent messages whose next attempt is due, oldest first, locked for this transaction (PostgreSQL: rows
    another worker holds are skipped; SQLite: the write transaction already excludes other workers), with the
    subscription's channel target and secret."""
    query = (
        select(
            alert_outbox,
            alert_subscriptions.c.target,
            alert_subscriptions.c.secret,
            alert_subscriptions.c.removed_at,
        )
        .join(alert_subscriptions, alert_subscriptions.c.id == alert_outbox.c.subscription_id)
        .where(
            and_(
                alert_outbox.c.sent_at.is_(None),
                alert_outbox.c.failed_at.is_(None),
                alert_outbox.c.next_attempt_at.is_not(None),
                alert_outbox.c.next_attempt_at <= now,
            )
        )
        .order_by(alert_outbox.c.next_attempt_at, alert_outbox.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(of=alert_outbox, skip_locked=True)
    return [dict(r) for r in conn.execute(query).mappings()]


def update_message(conn: Connection, message_id: str, values: dict[str, Any]) -> None:
    conn.execute(update(alert_outbox).where(alert_outbox.c.id == message_id).values(**values))


def list_outbox(engine: Engine, alert_id: int | None = None) -> list[dict[str, Any]]:
    query = select(alert_outbox).order_by(alert_outbox.c.created_at, alert_outbox.c.id)
    if alert_id is not None:
        query = query.where(alert_outbox.c.alert_id == alert_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
