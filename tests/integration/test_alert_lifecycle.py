"""Recording scans and the alert lifecycle on SQLite and PostgreSQL: de-duplication (one open alert per mineral),
raising, the transactional outbox, log leaves for warning+ alerts accounted for by the log audit (and an edited
stored alert record named by it), transitions with actor and time in alert_events AND the audit log, 409 for an
invalid transition, and the history the Alerts page shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import pytest
from sqlalchemy import Engine, func, select, update

from lodeline.alerts.model import Alert, IndicatorReading, Level
from lodeline.errors import InvalidArgumentError, NotFoundError, UnknownMineralError
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store import alerts as db
from lodeline.store import tracelog
from lodeline.store.accounts import read_audit
from lodeline.store.engine import write_transaction
from lodeline.trace import signer
from lodeline.trace.audit import run_audit
from lodeline.trace.checkpoint import parse_vkey


@pytest.fixture(autouse=True)
def local_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on 127.0.0.1 over http: both refused by default (docs/alerts-delivery.md)."""
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_HTTP_TARGETS", "true")


def alert(mineral: str, level: Level, day: int = 1, value: float | None = 3.2) -> Alert:
    reading = IndicatorReading(
        indicator="price-zscore",
        mineral=mineral,
        value=value,
        level=level,
        explanation=f"monthly log return {value} robust z against 120 months",
        source="worldbank-pinksheet",
        edition="2026-11",
        observed=dt.date(2026, 10, 1),
        published=dt.date(2026, 11, 4),
    )
    return Alert(mineral, level, dt.date(2026, 11, day), f"{mineral} {level.value}: price spike", (reading,))


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _subscribe(
    engine: Engine, mineral: str = "*", level: str = "watch", member: str = "DEU"
) -> dict[str, object]:
    return lifecycle.subscribe(
        engine, member=member, mineral=mineral, min_level=level, channel="webhook",
        target="http://127.0.0.1:9/hook", created_by="t",
    )  # fmt: skip


def no_events(_conn: object) -> list[tuple[int, bytes]]:
    return []


def test_scan_opens_deduplicates_and_raises_with_outbox_and_log(engine: Engine) -> None:
    _subscribe(engine, "*", "watch")
    _subscribe(engine, "nickel", "alert", member="FRA")
    _subscribe(engine, "cobalt", "watch", member="JPN")
    first = lifecycle.record(
        engine,
        [alert("nickel", Level.WATCH), alert("gallium", Level.WARNING), alert("tin", Level.NORMAL)],
        "scan",
    )
    assert [(r.mineral, r.outcome, r.messages) for r in first] == [
        ("nickel", "opened", 1),  # DEU's '*' from watch; FRA waits for 'alert'
        ("gallium", "opened", 1),
        ("tin", "skipped", 0),  # normal with nothing open: nothing to record
    ]
    assert first[0].leaf_index is None and first[1].leaf_index == 0  # only warning+ goes to the log
    # the same scan again: nothing new (no event, no message, no leaf)
    again = lifecycle.record(
        engine, [alert("nickel", Level.WATCH, 2), alert("gallium", Level.WATCH, 2)], "scan"
    )
    assert [r.outcome for r in again] == ["unchanged", "unchanged"]
    assert _count(engine, db.alert_outbox) == 2 and _count(engine, db.alert_events) == 2
    gallium = lifecycle.show(engine, first[1].alert_id)  # type: ignore[arg-type]
    assert (gallium["level"], gallium["current_level"], gallium["as_of"]) == (
        "warning",
        "watch",
        dt.date(2026, 11, 2),
    )
    # nickel rises to alert: one 'raised' event, logged, messages to DEU and now FRA too
    raised = lifecycle.record(engine, [alert("nickel", Level.ALERT, 3)], "scan")
    assert (raised[0].outcome, raised[0].alert_id, raised[0].leaf_index, raised[0].messages) == (
        "raised",
        first[0].alert_id,
        1,
        2,
    )
    assert len(lifecycle.list_alerts(engine, state="open")) == 2
    nickel = lifecycle.show(engine, first[0].alert_id)  # type: ignore[arg-type]
    assert [e["action"] for e in nickel["events"]] == ["opened", "raised"]
    assert nickel["events"][1]["note"] == "level watch -> alert" and nickel["events"][1]["logged"]
    # the leaf is the prefix and the SHA-256 of the stored canonical document
    with engine.connect() as conn:
        doc = conn.execute(
            select(db.alert_events.c.document).where(db.alert_events.c.leaf_index == 1)
        ).scalar_one()
        _hash, data = tracelog.leaf_row(conn, 1)  # type: ignore[misc]
    assert data == b"lodeline-alert/v1:" + hashlib.sha256(doc.encode()).hexdigest().encode()
    assert json.loads(doc)["level"] == "alert" and json.loads(doc)["alert_id"] == first[0].alert_id
    payload = json.loads(db.list_outbox(engine, first[0].alert_id)[-1]["payload"])
    assert (payload["type"], payload["data"]["level"], payload["data"]["readings"][0]["value"]) == (
        "alert.raised",
        "alert",
        3.2,
    )


def test_record_is_all_or_nothing(engine: Engine) -> None:
    _subscribe(engine)
    with pytest.raises(InvalidArgumentError):
        lifecycle.record(engine, [alert("nickel", Level.WARNING), alert("nickel", Level.ALERT)], "scan")
    with pytest.raises(InvalidArgumentError):
        lifecycle.record(engine, [alert("gallium", Level.ALERT)], "")
    with engine.connect() as conn:
        assert tracelog.tree_size(conn) == 0
    assert [_count(engine, t) for t in (db.alerts, db.alert_events, db.alert_outbox)] == [0, 0, 0]


def test_audit_accounts_for_alert_leaves_and_names_an_edited_record(engine: Engine) -> None:
    lifecycle.record(engine, [alert("gallium", Level.WARNING), alert("germanium", Level.ALERT)], "scan")
    lifecycle.record(engine, [alert("gallium", Level.ALERT, 5)], "scan")
    vkey = parse_vkey(signer.verifier_key(engine))
    with engine.connect() as conn:
        report = run_audit(conn, [vkey], leaf_source=no_events)
    assert report.ok, report.findings
    assert report.kind_leaves["alerts"] == 3
    # someone rewrites the stored record of what the mechanism said (the explanation of leaf 1)
    with write_transaction(engine) as conn:
        doc = conn.execute(
            select(db.alert_events.c.document).where(db.alert_events.c.leaf_index == 1)
        ).scalar_one()
        conn.execute(
            update(db.alert_events)
            .where(db.alert_events.c.leaf_index == 1)
            .values(document=doc.replace("price spike", "all quiet"))
        )
    with engine.connect() as conn:
        report = run_audit(conn, [vkey], leaf_source=no_events)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("alert-leaf-mismatch", 1)]


def test_lifecycle_transitions_actor_time_audit_and_409(engine: Engine) -> None:
    (opened,) = lifecycle.record(engine, [alert("antimony", Level.WARNING)], "scan:2026-11-01")
    alert_id = opened.alert_id
    assert alert_id is not None
    lifecycle.transition(engine, alert_id, "acknowledge", "ana@DEU", "looking")
    with pytest.raises(lifecycle.AlertStateError):
        lifecycle.transition(engine, alert_id, "acknowledge", "ben@FRA")  # twice: 409
    escalated = lifecycle.transition(engine, alert_id, "escalate", "ben@FRA", "to ministers")
    assert escalated["state"] == "escalated"
    closed = lifecycle.transition(engine, alert_id, "close", "secretariat", "export licences granted")
    assert closed["state"] == "closed"
    for action in ("acknowledge", "escalate", "close"):
        with pytest.raises(lifecycle.AlertStateError) as caught:
            lifecycle.transition(engine, alert_id, action, "x")
        assert caught.value.http_status == 409 and "closed" in caught.value.message
    events = closed["events"]
    assert [(e["action"], e["actor"], e["from_state"], e["to_state"]) for e in events] == [
        ("opened", "scan:2026-11-01", None, "open"),
        ("acknowledged", "ana@DEU", "open", "acknowledged"),
        ("escalated", "ben@FRA", "acknowledged", "escalated"),
        ("closed", "secretariat", "escalated", "closed"),
    ]
    assert all(e["at"] is not None for e in events)
    audited = [
        (r["event"], r["detail"])
        for r in reversed(read_audit(engine, event=None))
        if r["event"].startswith("alert.")
    ]
    assert audited == [
        ("alert.opened", f"alert {alert_id} opened by scan:2026-11-01"),
        ("alert.acknowledged", f"alert {alert_id} acknowledged by ana@DEU: looking"),
        ("alert.escalated", f"alert {alert_id} escalated by ben@FRA: to ministers"),
        ("alert.closed", f"alert {alert_id} closed by secretariat: export licences granted"),
    ]
    # closed: the next warning on antimony opens a NEW alert (the dedup key is free again)
    (reopened,) = lifecycle.record(engine, [alert("antimony", Level.WARNING, 9)], "scan")
    assert reopened.outcome == "opened" and reopened.alert_id != alert_id
    with pytest.raises(NotFoundError):
        lifecycle.transition(engine, 999, "close", "x")
    for actor, note in (("", None), ("a\x00", None), ("a", "x\x00y"), ("a", "x" * 2001)):
        with pytest.raises(
            InvalidArgumentError
        ):  # PostgreSQL refuses NUL in text: refused before, never a 500
            lifecycle.transition(engine, reopened.alert_id, "acknowledge", actor, note)  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError):
        lifecycle.transition(engine, alert_id, "delete", "x")
    history = lifecycle.history(engine, "antimony")
    assert [(h["id"], h["state"], len(h["events"])) for h in history] == [
        (reopened.alert_id, "open", 1),
        (alert_id, "closed", 4),
    ]


def test_back_to_normal_is_not_auto_closed_and_gaps_stay_gaps(engine: Engine) -> None:
    (opened,) = lifecycle.record(engine, [alert("cobalt", Level.WARNING, value=float("nan"))], "scan")
    (quiet,) = lifecycle.record(engine, [alert("cobalt", Level.NORMAL, 2)], "scan")
    assert quiet.outcome == "unchanged"
    shown = lifecycle.show(engine, opened.alert_id)  # type: ignore[arg-type]
    assert (shown["state"], shown["level"], shown["current_level"]) == ("open", "warning", "normal")
    assert shown["readings"][0]["value"] is None  # NaN is a gap: null, never a number


def test_subscription_validation_and_unsubscribe(engine: Engine) -> None:
    made = _subscribe(engine, "REE", "warning")
    assert made["mineral"] == "rare-earths" and str(made["secret"]).startswith("whsec_")
    email = lifecycle.subscribe(
        engine,
        member="FRA",
        mineral="*",
        min_level="alert",
        channel="email",
        target="ops@example.org",
        created_by="t",
    )
    assert "secret" not in email
    cases = [
        ({"mineral": "unobtainium"}, UnknownMineralError),
        ({"min_level": "normal"}, InvalidArgumentError),
        ({"min_level": "severe"}, InvalidArgumentError),
        ({"channel": "sms"}, InvalidArgumentError),
        ({"target": "ftp://x/y"}, InvalidArgumentError),
        ({"target": "http://user:pw@host/"}, InvalidArgumentError),
        ({"channel": "email", "target": "not-an-address"}, InvalidArgumentError),
        ({"channel": "email", "target": "a\x00b@example.org"}, InvalidArgumentError),
        ({"target": "https://x.org/h\x00"}, InvalidArgumentError),
        ({"member": "DE\x00"}, InvalidArgumentError),
    ]
    base = {
        "member": "DEU",
        "mineral": "*",
        "min_level": "watch",
        "channel": "webhook",
        "target": "https://x.org/h",
    }
    for change, error in cases:
        with pytest.raises(error):
            lifecycle.subscribe(engine, **{**base, **change}, created_by="t")  # type: ignore[arg-type]
    assert [s["id"] for s in lifecycle.subscriptions(engine, "DEU")] == [made["id"]]
    assert "secret" not in lifecycle.subscriptions(engine, "DEU")[0]
    with pytest.raises(NotFoundError):
        lifecycle.unsubscribe(engine, int(made["id"]), "FRA")  # type: ignore[call-overload]
    lifecycle.unsubscribe(engine, int(made["id"]), "DEU")  # type: ignore[call-overload]
    assert lifecycle.subscriptions(engine, "DEU") == []
    # a removed subscription gets no message
    (opened,) = lifecycle.record(engine, [alert("lithium", Level.WARNING)], "scan")
    assert opened.messages == 0
