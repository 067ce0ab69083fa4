"""Today's scan recorded in the alert lifecycle (``lodeline alerts scan --record``, ``POST
/api/v1/alerts/scan/record``) on a store freshly built from the bundled data, on SQLite and PostgreSQL.

What must hold: every mineral the scan puts above normal gets exactly one open alert at the scan's level; a member
subscribed to all minerals from ``watch`` gets one outbox message per such alert; recording the same scan again
opens nothing and sends nothing (de-duplication); every warning or above is a log leaf that ``lodeline trace
audit`` accounts for; only the secretariat and admins may record (members 403, the public 401); a past ``--as-of``
with ``--record`` is refused (a replay is not an alert).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.alerts.model import Level
from lodeline.cli.main import app as cli_app
from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.server import create_app
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.services import alerts
from lodeline.store.accounts import create_token
from lodeline.trace import signer
from lodeline.trace.audit import run_audit
from lodeline.trace.checkpoint import parse_vkey

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def built(engine: Engine) -> Iterator[Engine]:
    build(engine, RAW_DATA_DIR)
    yield engine


def test_recorded_scan_opens_one_alert_per_mineral_and_notifies_once(built: Engine) -> None:
    lifecycle.subscribe(
        built,
        member="DEU",
        mineral="*",
        min_level="watch",
        channel="email",
        target="desk@example.org",
        created_by="test",
    )
    found, recorded = alerts.record_scan(built, "ops")
    raised = {a.mineral: a.level for a in found if a.level is not Level.NORMAL}
    assert raised, "today's scan raises no mineral: the test would prove nothing"
    open_alerts = {r["mineral"]: r for r in lifecycle.list_alerts(built, mineral=None, state="open")}
    assert set(open_alerts) == set(raised)
    assert all(open_alerts[m]["level"] == level.value for m, level in raised.items())
    assert sum(r.messages for r in recorded) == len(raised)
    warnings_up = [r for r in recorded if Level(r.level).rank >= Level.WARNING.rank]
    assert all(r.leaf_index is not None for r in warnings_up)

    _, again = alerts.record_scan(built, "ops")
    assert all(r.outcome in ("unchanged", "skipped") for r in again)
    assert sum(r.messages for r in again) == 0
    assert len(lifecycle.list_alerts(built, mineral=None, state="open")) == len(raised)

    signer.issue(built)  # a checkpoint over the alert leaves, so the audit checks a signed root too

    def no_events(_conn: object) -> list[tuple[int, bytes]]:
        return []

    with built.connect() as conn:
        report = run_audit(conn, [parse_vkey(signer.verifier_key(built))], leaf_source=no_events)
    assert report.ok, report.findings
    assert report.kind_leaves.get("alerts", 0) == len(warnings_up)


def test_only_the_secretariat_and_admins_record(built: Engine) -> None:
    tokens = {
        role: create_token(built, f"{role}-1", role, "DEU" if role == "member" else None)[1]
        for role in ("member", "secretariat", "admin")
    }
    with TestClient(create_app(built), base_url="https://testserver") as client:
        assert client.post("/api/v1/alerts/scan/record").status_code == 401
        member = {"Authorization": f"Bearer {tokens['member']}"}
        assert client.post("/api/v1/alerts/scan/record", headers=member).status_code == 403
        bad = client.post(
            "/api/v1/alerts/scan/record",
            json={"stock_period": "2026-Q9"},
            headers={"Authorization": f"Bearer {tokens['secretariat']}"},
        )
        assert bad.status_code == 422 and "stock_period" in bad.text
        ok = client.post("/api/v1/alerts/scan/record", headers={"Authorization": f"Bearer {tokens['admin']}"})
        assert ok.status_code == 200, ok.text
        body = ok.json()
        assert {r["mineral"] for r in body["recorded"]} == {a["mineral"] for a in body["alerts"]}
        assert all(
            "admin-1 (admin)" in e["actor"]
            for a in lifecycle.list_alerts(built, mineral=None, state=None)
            for e in lifecycle.show(built, a["id"])["events"][:1]
        )


def test_cli_record_refuses_a_past_date() -> None:
    result = CliRunner().invoke(cli_app, ["alerts", "scan", "--record", "--as-of", "2023-08-15"])
    assert result.exit_code == 2 and "--as-of" in result.output and "Traceback" not in result.output
