"""``lodeline alerts list|show|ack|escalate|close|subscribe|subscriptions|unsubscribe|outbox|deliver`` end to end on
SQLite and PostgreSQL: the operator's tool over the same lifecycle service; errors are Lodeline errors (main() renders them)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.alerts.model import Alert, Level
from lodeline.cli.main import app
from lodeline.errors import NotFoundError
from lodeline.services import alert_lifecycle as lifecycle

runner = CliRunner()


def test_cli_lifecycle_subscribe_and_deliver(
    store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    args = ["alerts", "subscribe", "--member", "DEU", "--mineral", "Ga", "--level", "watch"]
    refused = runner.invoke(app, [*args, "--webhook", "http://127.0.0.1:9/closed"])
    assert refused.exit_code != 0 and isinstance(refused.exception, lifecycle.TargetRefusedError)
    assert "target 'http://127.0.0.1:9/closed' refused" in str(refused.exception)
    # the closed local port below is a private http target: allowed only by the settings
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_HTTP_TARGETS", "true")
    made = runner.invoke(
        app, ["alerts", "subscribe", "--member", "DEU", "--mineral", "Ga", "--level", "watch",
              "--webhook", "http://127.0.0.1:9/closed"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    sub = json.loads(made.stdout)
    assert sub["mineral"] == "gallium" and sub["secret"].startswith("whsec_")
    (opened,) = lifecycle.record(
        engine, [Alert("gallium", Level.ALERT, dt.date(2026, 11, 3), "why", ())], "scan"
    )
    listed = runner.invoke(app, ["alerts", "list", "--format", "json"])
    assert listed.exit_code == 0, listed.output
    assert [(r["mineral"], r["level"], r["state"]) for r in json.loads(listed.stdout)] == [
        ("gallium", "alert", "open")
    ]
    for command in ("ack", "escalate", "close"):
        done = runner.invoke(
            app, ["alerts", command, str(opened.alert_id), "--actor", "ana", "--note", command]
        )
        assert done.exit_code == 0, done.output
    shown = json.loads(runner.invoke(app, ["alerts", "show", str(opened.alert_id)]).stdout)
    assert [(e["action"], e["actor"]) for e in shown["events"]] == [
        ("opened", "scan"), ("acknowledged", "ana"), ("escalated", "ana"), ("closed", "ana"),
    ]  # fmt: skip
    refused = runner.invoke(app, ["alerts", "ack", str(opened.alert_id), "--actor", "ana"])
    # main() maps a Lodeline error to its message and exit code; the runner hands us the error itself
    assert (
        isinstance(refused.exception, lifecycle.AlertStateError) and "is closed" in refused.exception.message
    )
    # one pass of the worker: the closed port is a recorded error, retried later
    passed = runner.invoke(app, ["alerts", "deliver", "--once"])
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["failed"] == 1
    (message,) = json.loads(runner.invoke(app, ["alerts", "outbox"]).stdout)
    assert message["attempts"] == 1 and "cannot reach the receiver" in message["last_error"]
    assert runner.invoke(app, ["alerts", "deliver"]).exit_code != 0  # --once or --loop
    subs = json.loads(runner.invoke(app, ["alerts", "subscriptions", "--member", "DEU"]).stdout)
    assert [s["id"] for s in subs] == [sub["id"]] and "secret" not in subs[0]
    assert runner.invoke(app, ["alerts", "unsubscribe", str(sub["id"])]).exit_code == 0
    gone = runner.invoke(app, ["alerts", "unsubscribe", str(sub["id"])])
    assert isinstance(gone.exception, NotFoundError) and "no active subscription" in gone.exception.message
    both = runner.invoke(
        app, ["alerts", "subscribe", "--member", "DEU", "--email", "a@b.org", "--webhook", "http://x/"]
    )
    assert both.exit_code != 0
