"""The alert lifecycle: recording a scan, acknowledging, escalating and closing alerts, subscriptions, history.

:func:`record` stores a scan's :class:`~lodeline.alerts.model.Alert` records in ONE write transaction with
everything that follows from them (docs/alerts-delivery.md):

- de-duplication: one alert per mineral is open (``Alert.key``). A mineral with no open alert and a level above
  ``normal`` opens one; the same or a lower level updates the open alert's ``current_level`` and ``as_of`` and
  nothing else (no event, no message); a higher level raises it (a ``raised`` event, new messages). A mineral back
  to ``normal`` is NOT closed automatically: a person closes an alert (``close``), so that an alert is never lost
  to a quiet month;
- the outbox: one message per event and matching subscription (mineral or ``*``, level at or above the
  subscription's minimum), in the same transaction (a transactional outbox: an alert exists iff its messages do);
- the tamper-evident log: an event that brings an alert to ``warning`` or above appends the leaf
  ``lodeline-alert/v1:<sha256 of the canonical document>`` to the registry's log, in the same transaction;
- the audit log (``audit_log``, event ``alert.<action>``): who did what when, also in the same transaction.

Transitions by people: ``open → acknowledged → escalated → closed`` (escalating an open alert and closing from any
state but closed are allowed too); any other is an :class:`AlertStateError` (409).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, insert

from lodeline.alerts import targets, webhook
from lodeline.alerts.model import Alert, Level
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.store import alerts as db
from lodeline.store import tracelog
from lodeline.store.accounts import audit_log
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle

LOGGED_FROM = Level.WARNING  # an alert at or above this level is appended to the log
STATES = ("open", "acknowledged", "escalated", "closed")
#: action -> (states it may start from, the state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "acknowledge": (frozenset({"open"}), "acknowledged"),
    "escalate": (frozenset({"open", "acknowledged"}), "escalated"),
    "close": (frozenset({"open", "acknowledged", "escalated"}), "closed"),
}
_PAST = {"acknowledge": "acknowledged", "escalate": "escalated", "close": "closed"}
CHANNELS = ("webhook", "email")
_EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$")
_URL = re.compile(r"^https?://[^\s/?#@]+(:\d{1,5})?(/[^\s]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # in a header, an address, an actor: refused
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")  # a note may hold line breaks and tabs


def _text(value: str | None, what: str, limit: int, pattern: re.Pattern[str] = _CONTROL) -> None:
    if value is not None and (len(value) > limit or pattern.search(value)):
        raise InvalidArgumentError(f"{what} is at most {limit} characters without control characters")


class AlertStateError(LodelineError):
    """The transition is not allowed from the alert's current state."""

    code = "alert-state-conflict"
    http_status = 409


@dataclass(frozen=True)
class Recorded:
    """What :func:`record` did with one alert of the scan."""

    mineral: str
    level: str
    outcome: str  # opened, raised, unchanged, skipped (normal with no open alert)
    alert_id: int | None
    leaf_index: int | None
    messages: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _finite(value: Any) -> Any:
    """NaN/inf are gaps: stored as null (JSON has no NaN), never as a number."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def canonical(value: Any) -> str:
    """The canonical JSON of a document: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        _finite(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def alert_document(alert_id: int, action: str, alert: Alert, at: dt.datetime) -> str:
    """The document whose SHA-256 a log leaf holds: the alert as the scan found it, its id and the event."""
    return canonical(
        {
            "type": "lodeline-alert/v1",
            "alert_id": alert_id,
            "event": action,
            "logged_at": at.isoformat(),
            **alert.to_dict(),
        }
    )


def _audit(
    conn: Connection, at: dt.datetime, action: str, alert_id: int, actor: str, note: str | None
) -> None:
    detail = f"alert {alert_id} {action} by {actor}" + (f": {note}" if note else "")
    conn.execute(insert(audit_log).values(at=at, event=f"alert.{action}"[:32], detail=detail[:2000]))


def _payload(event: str, row: dict[str, Any], alert: Alert | None, message_at: dt.datetime) -> str:
    body: dict[str, Any] = {
        "type": f"alert.{event}",
        "timestamp": message_at.isoformat(),
        "data": {
            "alert_id": row["id"],
            "mineral": row["mineral"],
            "level": row["level"],
            "state": row["state"],
            "as_of": row["as_of"].isoformat(),
            "explanation": row["explanation"],
            "readings": json.loads(row["readings"]) if alert is None else alert.to_dict()["readings"],
        },
    }
    return canonical(body)


def _enqueue(
    conn: Connection, event_id: int, row: dict[str, Any], alert: Alert, event: str, at: dt.datetime
) -> int:
    level = Level(row["level"])
    rows = []
    payload = _payload(event, row, alert, at)
    for sub in db.matching_subscriptions(conn, row["mineral"]):
        if level.rank < Level(sub["min_level"]).rank:
            continue
        rows.append(
            {
                "id": "msg_" + secrets.token_hex(12),
                "alert_id": row["id"],
                "event_id": event_id,
                "subscription_id": sub["id"],
                "channel": sub["channel"],
                "payload": payload,
                "created_at": at,
                "attempts": 0,
                "next_attempt_at": at,
            }
        )
    db.insert_outbox(conn, rows)
    return len(rows)


def _event(
    conn: Connection,
    *,
    alert_id: int,
    at: dt.datetime,
    actor: str,
    action: str,
    from_state: str | None,
    to_state: str,
    level: str,
    note: str | None,
    alert: Alert | None = None,
) -> tuple[int, int | None]:
    """Insert an event (logged to the Merkle log when ``alert`` reached ``warning``+); (event id, leaf index)."""
    document = leaf_index = None
    if alert is not None and Level(level).rank >= LOGGED_FROM.rank:
        document = alert_document(alert_id, action, alert, at)
        data = db.leaf_of(document)
        leaf_index = tracelog.append_hashes(conn, [data], [merkle.leaf_hash(data)])
    event_id = db.insert_event(
        conn,
        {
            "alert_id": alert_id,
            "at": at,
            "actor": actor[:120],
            "action": action,
            "from_state": from_state,
            "to_state": to_state,
            "level": level,
            "note": note,
            "document": document,
            "leaf_index": leaf_index,
        },
    )
    _audit(conn, at, action, alert_id, actor, note)
    return event_id, leaf_index


def _record_one(conn: Connection, alert: Alert, actor: str, at: dt.datetime) -> Recorded:
    readings = canonical(alert.to_dict()["readings"])
    current = db.open_alert(conn, alert.key)
    if current is None:
        if alert.level is Level.NORMAL:
            return Recorded(alert.mineral, alert.level.value, "skipped", None, None, 0)
        row: dict[str, Any] = {
            "mineral": alert.mineral,
            "level": alert.level.value,
            "current_level": alert.level.value,
            "state": "open",
            "opened_at": at,
            "updated_at": at,
            "as_of": alert.as_of,
            "explanation": alert.explanation,
            "readings": readings,
            "dedup_key": alert.key,
            "open_key": alert.key,
        }
        alert_id = row["id"] = db.insert_alert(conn, row)
        event_id, leaf = _event(
            conn, alert_id=alert_id, at=at, actor=actor, action="opened", from_state=None,
            to_state="open", level=alert.level.value, note=None, alert=alert,
        )  # fmt: skip
        sent = _enqueue(conn, event_id, row, alert, "opened", at)
        return Recorded(alert.mineral, alert.level.value, "opened", alert_id, leaf, sent)
    if alert.level.rank > Level(current["level"]).rank:
        values = {
            "level": alert.level.value,
            "current_level": alert.level.value,
            "updated_at": at,
            "as_of": alert.as_of,
            "explanation": alert.explanation,
            "readings": readings,
        }
        db.update_alert(conn, current["id"], values)
        row = {**current, **values}
        note = f"level {current['level']} -> {alert.level.value}"
        event_id, leaf = _event(
            conn, alert_id=current["id"], at=at, actor=actor, action="raised", from_state=current["state"],
            to_state=current["state"], level=alert.level.value, note=note, alert=alert,
        )  # fmt: skip
        sent = _enqueue(conn, event_id, row, alert, "raised", at)
        return Recorded(alert.mineral, alert.level.value, "raised", current["id"], leaf, sent)
    db.update_alert(
        conn, current["id"], {"current_level": alert.level.value, "as_of": max(alert.as_of, current["as_of"])}
    )
    return Recorded(alert.mineral, alert.level.value, "unchanged", current["id"], None, 0)


def record(engine: Engine, alerts: Sequence[Alert], actor: str) -> list[Recorded]:
    """Store a scan's alerts with their events, log leaves, audit rows and outbox messages, all or nothing."""
    if not actor:
        raise InvalidArgumentError("the actor recording a scan is 1 to 120 characters")
    _text(actor, "the actor", 120)
    keys = [a.key for a in alerts]
    if len(set(keys)) != len(keys):
        raise InvalidArgumentError("a scan has one alert per mineral; the list repeats a mineral")
    with write_transaction(engine) as conn:
        db.lock_alerts(conn)
        at = _now()
        return [_record_one(conn, alert, actor, at) for alert in alerts]


def transition(
    engine: Engine, alert_id: int, action: str, actor: str, note: str | None = None
) -> dict[str, Any]:
    """Acknowledge, escalate or close an alert as ``actor``; 409 when the state does not allow it."""
    if action not in TRANSITIONS:
        raise InvalidArgumentError(f"unknown action {action!r}: one of {', '.join(TRANSITIONS)}")
    if not actor:
        raise InvalidArgumentError("the actor is 1 to 120 characters")
    _text(actor, "the actor", 120)
    _text(note, "a note", 2000, _NOTE_CONTROL)
    allowed_from, to_state = TRANSITIONS[action]
    with write_transaction(engine) as conn:
        db.lock_alerts(conn)
        row = db.alert_row(conn, alert_id, for_update=True)
        if row is None:
            raise NotFoundError(f"no alert {alert_id}")
        if row["state"] not in allowed_from:
            raise AlertStateError(
                f"alert {alert_id} is {row['state']}: it cannot be {_PAST[action]} "
                f"(allowed from {', '.join(sorted(allowed_from))})",
                alert_id=alert_id,
                state=row["state"],
            )
        at = _now()
        values: dict[str, Any] = {"state": to_state, "updated_at": at}
        if to_state == "closed":
            values["open_key"] = None
        db.update_alert(conn, alert_id, values)
        _event(
            conn, alert_id=alert_id, at=at, actor=actor, action=_PAST[action], from_state=row["state"],
            to_state=to_state, level=row["level"], note=note,
        )  # fmt: skip
    return show(engine, alert_id)


def _public_row(row: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in row.items() if k not in ("open_key", "readings")}
    out["readings"] = json.loads(row["readings"])
    return out


def list_alerts(
    engine: Engine, *, mineral: str | None = None, state: str | None = None
) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise InvalidArgumentError(f"unknown state {state!r}: one of {', '.join(STATES)}")
    mineral_id = None if mineral is None else resolve_mineral(mineral)
    return [_public_row(r) for r in db.list_alerts(engine, mineral=mineral_id, state=state)]


def current_alerts(engine: Engine) -> dict[str, dict[str, Any]]:
    """Per mineral, its alert that is not closed (open, acknowledged or escalated; at most one, ``Alert.key``):
    ``id``, ``state``, ``current_level`` (the latest scan's level), ``level`` (the highest it was raised to) and
    ``as_of``. A mineral whose alerts are all closed is absent. Read by the release plan's alert trigger."""
    out: dict[str, dict[str, Any]] = {}
    for state in ("open", "acknowledged", "escalated"):
        for row in db.list_alerts(engine, state=state, limit=10_000):
            out.setdefault(
                row["mineral"],
                {k: row[k] for k in ("id", "mineral", "state", "level", "current_level", "as_of")},
            )
    return out


def show(engine: Engine, alert_id: int) -> dict[str, Any]:
    row = db.get_alert(engine, alert_id)
    if row is None:
        raise NotFoundError(f"no alert {alert_id}")
    out = _public_row(row)
    out["events"] = [_public_event(e) for e in db.events_of(engine, [alert_id])]
    return out


def _public_event(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k != "document"} | {"logged": event["leaf_index"] is not None}


def history(engine: Engine, mineral: str | None = None) -> list[dict[str, Any]]:
    """Every alert (newest first) with its events, oldest event first: what the Alerts page shows as history."""
    rows = list_alerts(engine, mineral=mineral)
    by_alert: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in rows}
    for event in db.events_of(engine, list(by_alert)):
        by_alert[event["alert_id"]].append(_public_event(event))
    return [{**r, "events": by_alert[r["id"]]} for r in rows]


# ------------------------------------------------------------------------------------------------ subscriptions
class TargetRefusedError(InvalidArgumentError):
    """A webhook target the delivery settings refuse (https only, no private addresses by default)."""

    code = "target-refused"
    http_status = 422


def _check_target(target: str) -> None:
    from lodeline.services.alert_delivery import DeliverySettings

    settings = DeliverySettings()
    reason = targets.check_url(
        target, allow_private=settings.allow_private_targets, allow_http=settings.allow_http_targets
    )
    if reason is not None:
        raise TargetRefusedError(f"target {target[:200]!r} refused: {reason}", field="target")


def subscribe(
    engine: Engine,
    *,
    member: str,
    mineral: str,
    min_level: str,
    channel: str,
    target: str,
    created_by: str,
) -> dict[str, Any]:
    """Subscribe ``member`` to alerts on ``mineral`` (or ``*``) from ``min_level``; a webhook subscription's
    secret is returned here once (the receiver verifies signatures with it) and never shown again."""
    if not member:
        raise InvalidArgumentError("a subscription belongs to a member (1 to 64 characters)")
    _text(member, "the member", 64)
    mineral_id = "*" if mineral == "*" else resolve_mineral(mineral)
    try:
        level = Level(min_level)
    except ValueError:
        raise InvalidArgumentError(
            f"unknown level {min_level!r}: one of {', '.join(v.value for v in Level if v is not Level.NORMAL)}"
        ) from None
    if level is Level.NORMAL:
        raise InvalidArgumentError("the minimum level is watch, warning or alert (normal is not an alert)")
    if channel not in CHANNELS:
        raise InvalidArgumentError(f"unknown channel {channel!r}: webhook or email")
    _text(target, "the target", 2000)
    _text(created_by, "the actor", 120)
    if channel == "webhook" and (len(target) > 2000 or not _URL.match(target)):
        raise InvalidArgumentError(
            "a webhook target is an http(s) URL without credentials, at most 2000 characters"
        )
    if channel == "webhook":
        _check_target(target)
    if channel == "email" and not _EMAIL.match(target):
        raise InvalidArgumentError(f"{target[:80]!r} is not an e-mail address")
    secret = webhook.new_secret() if channel == "webhook" else None
    at = _now()
    with write_transaction(engine) as conn:
        sub_id = db.insert_subscription(
            conn,
            {
                "member": member,
                "mineral": mineral_id,
                "min_level": level.value,
                "channel": channel,
                "target": target,
                "secret": secret,
                "created_at": at,
                "created_by": created_by[:120],
            },
        )
        conn.execute(
            insert(audit_log).values(
                at=at,
                event="alert.subscribe",
                detail=f"subscription {sub_id} of {member} to {mineral_id} from {level.value} by {channel}"[
                    :2000
                ],
            )
        )
    out = {
        "id": sub_id,
        "member": member,
        "mineral": mineral_id,
        "min_level": level.value,
        "channel": channel,
        "target": target,
        "created_at": at,
    }
    if secret is not None:
        out["secret"] = secret
    return out


def subscriptions(engine: Engine, member: str | None) -> list[dict[str, Any]]:
    if member is not None and not member:
        raise InvalidArgumentError("the member is 1 to 64 characters")
    _text(member, "the member", 64)  # as subscribe() takes it
    return db.list_subscriptions(engine, member)


def unsubscribe(engine: Engine, subscription_id: int, member: str | None) -> None:
    """Remove ``member``'s subscription (None: any member's — the operator's CLI); another member's is not found."""
    at = _now()
    with write_transaction(engine) as conn:
        if not db.remove_subscription(conn, subscription_id, member, at):
            raise NotFoundError(f"no active subscription {subscription_id} of this member")
        conn.execute(
            insert(audit_log).values(
                at=at, event="alert.unsubscribe", detail=f"subscription {subscription_id}"
            )
        )
