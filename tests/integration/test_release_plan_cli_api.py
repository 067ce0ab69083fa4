"""``stocks release-plan`` on the command line, ``POST /api/v1/stocks/release-plan`` and the exercise's release plan,
on the hand-worked two-member case of tests/unit/test_release_plan.py (its docstring works the figures out):
optimised, USA and JPN release 20 t and 40 t and are each left 20 t short (60 t and 40 t without release).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.stocks_release import register
from lodeline.errors import DataFormatError
from lodeline.server import create_app
from lodeline.services import sim
from lodeline.stockpiles.release_rules import ReleaseRulesError
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

DATA = Path(__file__).resolve().parents[1] / "data" / "release"
SCENARIO = DATA / "two-member.yaml"
STOCKS = DATA / "two-member-stocks.csv"
RULES = DATA / "two-member-rules.yaml"
STOCK_ROWS = [
    {"member": "USA", "mineral": "gallium", "tonnes": 20, "holder_type": "public_strategic"},
    {"member": "JPN", "mineral": "gallium", "tonnes": 40, "holder_type": "public_strategic"},
]


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def stocks() -> None:
        """The stocks group (as cli/stocks.py will be)."""

    register(app)
    return app


def _members(plan: dict[str, Any], key: str) -> dict[str, float]:
    return {r["member"]: r[key] for r in plan["members"]}


def test_cli_release_plan_json_and_csv(tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["release-plan", "--scenario", str(SCENARIO), "--stocks", str(STOCKS), "--rules", str(RULES)]
    result = runner.invoke(_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert _members(plan, "release_t") == {"USA": 20.0, "JPN": 40.0}
    assert _members(plan, "shortfall_with_release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert _members(plan, "shortfall_avoided_t") == pytest.approx({"USA": 40.0, "JPN": 20.0})
    out = tmp_path / "plan.csv"
    result = runner.invoke(_app(), [*args, "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("member,stock_t,pooled_t,releasable_t")
    assert lines[1].startswith("USA,20.0,20.0,20.0,1,20.0,60.0,20.0,40.0")
    table = runner.invoke(_app(), [*args])
    assert table.exit_code == 0, table.output
    assert "Binding constraints" in table.stdout and "balance" in table.stdout


def test_cli_refuses_bad_stocks_and_rules(tmp_path: Path) -> None:
    runner = CliRunner()
    bad = tmp_path / "stocks.csv"
    bad.write_text("member,mineral,tonnes\nUSA,gallium,20\nJPN,gallium,-5\n", encoding="utf-8")
    result = runner.invoke(
        _app(), ["release-plan", "--scenario", str(SCENARIO), "--stocks", str(bad), "--rules", str(RULES)]
    )
    assert isinstance(result.exception, DataFormatError)
    assert "row 3, column 'tonnes'" in result.exception.message
    rules = tmp_path / "rules.yaml"
    rules.write_text("name: x\ntrigger: {kind: price_rise}\n", encoding="utf-8")
    result = runner.invoke(_app(), ["release-plan", "--scenario", str(SCENARIO), "--rules", str(rules)])
    assert isinstance(result.exception, ReleaseRulesError)
    assert result.exception.field == "trigger" and "needs 'rise'" in result.exception.message
    result = runner.invoke(_app(), ["release-plan", "--scenario", str(SCENARIO), "--rules", "no-such-rules"])
    assert isinstance(result.exception, ReleaseRulesError) and "iea-style" in result.exception.message


def _client(engine: Engine) -> TestClient:
    settings = ApiSettings(rate_per_second=0, anonymous_rate_per_second=0)  # type: ignore[call-arg]
    return TestClient(create_app(engine, settings), base_url="https://testserver")


def _auth(engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(engine, 'planner', 'member', 'USA')[1]}"}


def _body(**over: Any) -> dict[str, Any]:
    return {
        "scenario_yaml": SCENARIO.read_text(encoding="utf-8"),
        "stocks": STOCK_ROWS,
        "rules_yaml": RULES.read_text(encoding="utf-8"),
        **over,
    }


def test_api_release_plan(engine: Engine) -> None:
    with _client(engine) as client:
        headers = _auth(engine)
        ok = client.post("/api/v1/stocks/release-plan", json=_body(), headers=headers)
        assert ok.status_code == 200, ok.text
        plan = ok.json()["data"]
        assert _members(plan, "release_t") == {"USA": 20.0, "JPN": 40.0}
        assert _members(plan, "shortfall_with_release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
        assert {(d["month"], d["constraint"], d["member"]) for d in plan["duals"]} >= {
            (2, "balance", None),
            (2, "stock", "JPN"),
        }
        assert ok.json()["provenance"]["method"] == "docs/methods/release-plan.md"
        assert "/api/v1/stocks/release-plan" in client.get("/openapi.json").json()["paths"]


@pytest.mark.parametrize(
    ("over", "status", "needle"),
    [
        ({"stocks": [{**STOCK_ROWS[0], "tonnes": -1}]}, 400, "row 1, column 'tonnes'"),
        ({"stocks": [{**STOCK_ROWS[0], "member": "DEU"}]}, 400, "DEU is not an alliance member"),
        ({"rules_yaml": "name: x\ntrigger: {kind: exercise}\nallocation: lottery\n"}, 400, "allocation"),
        ({"rules_yaml": "name: [\n"}, 400, "rules_yaml"),
        ({"rules": "iea-style"}, 400, "exactly one of 'rules' and 'rules_yaml'"),
        ({"scenario": "cn-graphite-2023"}, 400, "exactly one of 'scenario' and 'scenario_yaml'"),
        ({"rules_yaml": None, "rules": "no-such"}, 404, "no bundled release rule set"),
        ({"scenario_yaml": "name: x\nmineral: unobtainium\n"}, 400, "mineral"),
        ({"stocks": [STOCK_ROWS[0]] * 10_001}, 422, "stocks"),
        ({"budget": 1}, 422, "budget"),
    ],
)
def test_api_bad_input_is_a_4xx_naming_it(
    engine: Engine, over: dict[str, Any], status: int, needle: str
) -> None:
    with _client(engine) as client:
        answer = client.post("/api/v1/stocks/release-plan", json=_body(**over), headers=_auth(engine))
        assert answer.status_code == status, answer.text
        assert needle in answer.text


def test_api_needs_a_signed_in_caller(engine: Engine) -> None:
    with _client(engine) as client:
        assert client.post("/api/v1/stocks/release-plan", json=_body()).status_code == 401


def test_exercise_after_action_report_includes_the_release_plan() -> None:
    script = {
        "name": "two-member drill",
        "scenario": yaml.safe_load(SCENARIO.read_text(encoding="utf-8")),
        "decisions": [{"month": 1, "participant": "USA", "action": "release", "tonnes": 5}],
        "release_rules": yaml.safe_load(RULES.read_text(encoding="utf-8")),
        "stocks": STOCK_ROWS,
    }
    aar = sim.exercise(script, "drill.yaml")
    plan = aar["release_plan"]
    assert _members(plan, "release_t") == {"USA": 20.0, "JPN": 40.0}
    assert _members(plan, "shortfall_with_release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert "release_plan" not in sim.exercise(
        {k: v for k, v in script.items() if k != "release_rules"}, "old.yaml"
    )
    with pytest.raises(ReleaseRulesError) as err:
        sim.exercise(
            {**script, "release_rules": {"name": "x", "trigger": {"kind": "alert_level"}}}, "drill.yaml"
        )
    assert err.value.field == "release_rules.trigger"
    with pytest.raises(DataFormatError, match="row 2, column 'tonnes'"):
        sim.exercise({**script, "stocks": [STOCK_ROWS[0], {**STOCK_ROWS[1], "tonnes": "lots"}]}, "drill.yaml")


def test_after_action_html_report_shows_the_release_plan() -> None:
    script = {
        "name": "two-member drill",
        "scenario": yaml.safe_load(SCENARIO.read_text(encoding="utf-8")),
        "release_rules": "optimised-exercise",
    }
    aar = sim.exercise(script, "drill.yaml")
    page = sim.report_html("exercise", aar)
    assert "<h2>Release plan</h2>" in page and "Optimised release for exercises" in page
    assert "release_plan" in aar and "Release plan" not in sim.report_html(
        "exercise", sim.exercise({k: v for k, v in script.items() if k != "release_rules"}, "old.yaml")
    )


def test_cli_release_plan_pools_the_submitted_stocks(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--period` pools what the members submitted (the secretariat's view): USA 20 t and JPN 40 t of gallium
    contained, as in the CSV above, give the same plan (USA releases 20 t, JPN 40 t; 40 t and 20 t avoided). A gross
    figure stands in where no contained one is given; a withheld quantity is left out; nothing submitted → 404."""
    from lodeline.config import get_settings
    from lodeline.services import release
    from lodeline.services import stocks as stocks_service
    from lodeline.stockpiles.submission import EXAMPLE_ROW

    for member, tonnes in (("USA", "20"), ("JPN", "40")):
        row = {**EXAMPLE_ROW, "period": "2026-Q3", "member": member, "location_country": member,
               "mineral": "gallium", "form": "gallium metal", "quantity_gross_t": tonnes,
               "quantity_contained_t": tonnes}  # fmt: skip
        stocks_service.submit_rows(engine, [(1, row)], member=member, period="2026-Q3")
    pooled = release.stock_rows_from_submissions(engine, "2026-Q3")
    assert sorted((r.member, r.mineral, r.tonnes) for r in pooled) == [
        ("JPN", "gallium", 40.0),
        ("USA", "gallium", 20.0),
    ]
    monkeypatch.setenv("LODELINE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    args = [
        "release-plan",
        "--scenario",
        str(SCENARIO),
        "--period",
        "2026-Q3",
        "--basis",
        "submissions",
        "--rules",
        str(RULES),
    ]
    result = CliRunner().invoke(_app(), [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert _members(plan, "release_t") == {"USA": 20.0, "JPN": 40.0}
    assert _members(plan, "shortfall_avoided_t") == pytest.approx({"USA": 40.0, "JPN": 20.0})
    both = CliRunner().invoke(_app(), [*args, "--stocks", str(STOCKS)])
    assert both.exit_code != 0 and "give --stocks or --period, not both" in str(both.exception or both.output)
    with pytest.raises(Exception, match="no stockpile submission for 2026-Q1"):
        release.stock_rows_from_submissions(engine, "2026-Q1")
