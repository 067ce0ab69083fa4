"""An ``alert_level`` release trigger reads the mineral's recorded alert from the alert lifecycle, on SQLite and
PostgreSQL: it fires when the alert that is not closed (open, acknowledged, escalated) stands at the rule's level or
above, not below, not once the alert is closed, not on another mineral's alert. The plan says which alert fired it.

The case is tests/unit/test_release_plan.py's two-member gallium case (its docstring works the figures out): when
the trigger fires in month 1 the optimised plan releases USA 20 t and JPN 40 t (each left 20 t short); when it does
not, nothing is released and the shortfall stays USA 60 t, JPN 40 t.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.alerts.model import Alert, Level
from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli_app
from lodeline.inputs import read_yaml
from lodeline.server import create_app
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.services import release, sim
from lodeline.stockpiles.release_rules import ReleaseRulesError, parse_rules
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

DATA = Path(__file__).resolve().parents[1] / "data" / "release"
SCENARIO = DATA / "two-member.yaml"
STOCKS = DATA / "two-member-stocks.csv"
STOCK_ROWS = [
    {"member": "USA", "mineral": "gallium", "tonnes": 20, "holder_type": "public_strategic"},
    {"member": "JPN", "mineral": "gallium", "tonnes": 40, "holder_type": "public_strategic"},
]
FIRED = {"USA": 20.0, "JPN": 40.0}


def _rules_yaml(level: str) -> str:
    return f"name: alert {level}\ntrigger: {{kind: alert_level, level: {level}}}\nallocation: optimised\nrelease_months: 1\n"


def _plan(engine: Engine, level: str) -> dict[str, Any]:
    scenario = sim.parse_data(read_yaml(SCENARIO, "scenario"), "two-member.yaml")
    rules = parse_rules(yaml.safe_load(_rules_yaml(level)), "rules")
    rows = release.stock_rows_from_csv(STOCKS.read_text("utf-8"), "stocks.csv")
    return release.plan(scenario, "two-member.yaml", rules, rows, engine=engine)


def _scan(engine: Engine, mineral: str, level: Level, day: int = 1) -> int | None:
    done = lifecycle.record(
        engine, [Alert(mineral, level, dt.date(2026, 11, day), f"{mineral} {level}", ())], "t"
    )
    return done[0].alert_id


def _released(plan: dict[str, Any]) -> dict[str, float]:
    return {r["member"]: r["release_t"] for r in plan["members"]}


def test_fires_at_and_above_the_rule_level_not_below(engine: Engine) -> None:
    quiet = _plan(engine, "watch")
    assert not quiet["triggered"] and quiet["trigger_alert"] is None
    assert (
        quiet["trigger_reason"]
        == "gallium: no alert that is not closed (closed alerts do not count) < rule's watch"
    )
    assert quiet["totals"]["release_t"] == 0.0 and quiet["totals"]["shortfall_with_release_t"] == 100.0
    _scan(engine, "cobalt", Level.ALERT)  # another mineral's alert does not count
    assert not _plan(engine, "watch")["triggered"]
    alert_id = _scan(engine, "gallium", Level.WATCH)
    assert _plan(engine, "watch")["triggered"]
    below = _plan(engine, "warning")
    assert not below["triggered"]
    assert (
        below["trigger_reason"]
        == f"gallium: open alert #{alert_id} at watch (as of 2026-11-01) < rule's warning"
    )
    assert _scan(engine, "gallium", Level.WARNING, day=2) == alert_id  # raised: the same alert
    at = _plan(engine, "warning")
    assert at["triggered"] and at["trigger_month"] == 1
    assert at["trigger_reason"] == (
        f"gallium: open alert #{alert_id} at warning (as of 2026-11-02) ≥ rule's warning: the release starts in month 1"
    )
    assert at["trigger_alert"] == {
        "mineral": "gallium", "alert_id": alert_id, "state": "open", "level": "warning",
        "peak_level": "warning", "as_of": "2026-11-02",
    }  # fmt: skip
    assert _released(at) == pytest.approx(FIRED)
    assert _plan(engine, "watch")["triggered"]  # above the rule's level
    assert not _plan(engine, "alert")["triggered"]


def test_acknowledged_and_escalated_count_closed_does_not(engine: Engine) -> None:
    alert_id = _scan(engine, "gallium", Level.WARNING)
    assert alert_id is not None
    lifecycle.transition(engine, alert_id, "acknowledge", "ana")
    plan = _plan(engine, "warning")
    assert plan["triggered"] and f"acknowledged alert #{alert_id}" in plan["trigger_reason"]
    lifecycle.transition(engine, alert_id, "escalate", "ana")
    assert _plan(engine, "warning")["trigger_alert"]["state"] == "escalated"
    lifecycle.transition(engine, alert_id, "close", "ana")
    closed = _plan(engine, "watch")
    assert not closed["triggered"] and closed["trigger_alert"] is None
    assert closed["totals"]["release_t"] == 0.0
    reopened = _scan(engine, "gallium", Level.ALERT, day=5)  # a new alert after the closed one
    assert reopened != alert_id and _plan(engine, "alert")["trigger_alert"]["alert_id"] == reopened


def test_the_current_level_counts_not_the_peak(engine: Engine) -> None:
    """An open alert raised to warning whose latest scan says watch stands at watch (the lifecycle keeps it open
    until a person closes it, but its current level is the latest scan's)."""
    alert_id = _scan(engine, "gallium", Level.WARNING)
    _scan(engine, "gallium", Level.WATCH, day=3)
    plan = _plan(engine, "warning")
    assert not plan["triggered"]
    assert plan["trigger_reason"] == (
        f"gallium: open alert #{alert_id} at watch (as of 2026-11-03, raised to warning earlier) < rule's warning"
    )
    assert _plan(engine, "watch")["triggered"]


def test_rule_level_is_a_lifecycle_level() -> None:
    with pytest.raises(ReleaseRulesError) as err:
        parse_rules({"name": "x", "trigger": {"kind": "alert_level", "level": 3}}, "rules.yaml")
    assert err.value.field == "trigger.level" and "'watch', 'warning' or 'alert'" in err.value.message


def _client(engine: Engine) -> TestClient:
    settings = ApiSettings(rate_per_second=0, anonymous_rate_per_second=0)  # type: ignore[call-arg]
    return TestClient(create_app(engine, settings), base_url="https://testserver")


def test_api_and_cli_say_which_alert_fired(
    store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    alert_id = _scan(engine, "gallium", Level.ALERT)
    body = {
        "scenario_yaml": SCENARIO.read_text(encoding="utf-8"),
        "stocks": STOCK_ROWS,
        "rules_yaml": _rules_yaml("warning"),
    }
    headers = {"Authorization": f"Bearer {create_token(engine, 'planner', 'member', 'USA')[1]}"}
    with _client(engine) as client:
        ok = client.post("/api/v1/stocks/release-plan", json=body, headers=headers)
        assert ok.status_code == 200, ok.text
        plan = ok.json()["data"]
        assert plan["trigger_alert"]["alert_id"] == alert_id and _released(plan) == pytest.approx(FIRED)
        assert f"open alert #{alert_id} at alert" in plan["trigger_reason"]
        stated = client.post("/api/v1/stocks/release-plan", json={**body, "alert_level": 3}, headers=headers)
        assert stated.status_code == 422 and "alert_level" in stated.text  # no caller-stated level any more
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    result = CliRunner().invoke(
        cli_app,
        ["stocks", "release-plan", "--scenario", str(SCENARIO), "--stocks", str(STOCKS), "--rules",
         str(DATA / "two-member-alert-rules.yaml"), "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["triggered"] and out["trigger_alert"]["alert_id"] == alert_id


def test_exercise_says_which_alert_fired(engine: Engine) -> None:
    script = {
        "name": "two-member drill",
        "scenario": yaml.safe_load(SCENARIO.read_text(encoding="utf-8")),
        "decisions": [],
        "release_rules": yaml.safe_load(_rules_yaml("warning")),
        "stocks": STOCK_ROWS,
    }
    assert not sim.exercise(script, "drill.yaml", engine=engine)["release_plan"]["triggered"]
    alert_id = _scan(engine, "gallium", Level.WARNING)
    plan = sim.exercise(script, "drill.yaml", engine=engine)["release_plan"]
    assert plan["triggered"] and plan["trigger_alert"]["alert_id"] == alert_id
    assert _released(plan) == pytest.approx(FIRED)
    html = sim.report_html("exercise", sim.exercise(script, "drill.yaml", engine=engine))
    assert f"open alert #{alert_id} at warning" in html
