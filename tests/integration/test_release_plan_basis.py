"""The release plan pools the stocks the caller may see (SQLite and PostgreSQL): the published aggregates for a
member (and on the CLI by default), every member's submission for the secretariat (an audited read). The response
says which basis it used.

Hand-worked on the two-member case (tests/data/release/two-member.yaml; tests/unit/test_release_plan.py works the
scenario out: CHN ships USA 60 and JPN 40 t/month, halved in months 1-2, so USA lacks 30 and JPN 20 each month).
Submissions for 2026-Q3, gallium, contained tonnes: USA 20, JPN 40, GBR 40 (GBR is not in the scenario's alliance).
- published basis: the gallium total 100 t has 3 contributors, the two largest 80 of 100 (80 % < 85 %), the rest
  20 ≥ 10 % of 40: published. It is placed at the scenario's members pro rata to baseline demand 60 : 40 → USA
  60 t, JPN 40 t. Optimised, release_months 1: month 1 gap 50 drawn from stock, month 2 gap 50 drawn from the 50 t
  left → no shortfall: released 100 t in all, shortfall avoided 100 t (USA 60, JPN 40).
- submissions basis (secretariat): USA 20 and JPN 40 as submitted (GBR left out, said in the notes) → the plan of
  the unit test: release USA 20, JPN 40; left short USA 20, JPN 20.
- published with two submitters only (USA 20, JPN 40): the gallium cells have fewer than 3 contributors and are
  suppressed, so nothing is pooled: shortfalls as without release (USA 60, JPN 40).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli
from lodeline.config import get_settings
from lodeline.server import create_app
from lodeline.services import stocks as stocks_service
from lodeline.stockpiles.submission import EXAMPLE_ROW
from lodeline.store.accounts import create_token, read_audit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

DATA = Path(__file__).resolve().parents[1] / "data" / "release"
SCENARIO = DATA / "two-member.yaml"
RULES = DATA / "two-member-rules.yaml"


def _submit(engine: Engine, holdings: dict[str, str]) -> None:
    for member, tonnes in holdings.items():
        row = {**EXAMPLE_ROW, "period": "2026-Q3", "member": member, "location_country": member,
               "mineral": "gallium", "form": "gallium metal", "quantity_gross_t": tonnes,
               "quantity_contained_t": tonnes}  # fmt: skip
        stocks_service.submit_rows(engine, [(1, row)], member=member, period="2026-Q3")


def _body() -> dict[str, Any]:
    return {
        "scenario_yaml": SCENARIO.read_text(encoding="utf-8"),
        "rules_yaml": RULES.read_text(encoding="utf-8"),
        "period": "2026-Q3",
    }


def _members(plan: dict[str, Any], key: str) -> dict[str, float]:
    return {r["member"]: r[key] for r in plan["members"]}


def _post(engine: Engine, role: str, org: str | None) -> dict[str, Any]:
    settings = ApiSettings(rate_per_second=0, anonymous_rate_per_second=0)  # type: ignore[call-arg]
    token = create_token(engine, f"{role}-{org}", role, org)[1]
    with TestClient(create_app(engine, settings), base_url="https://testserver") as client:
        response = client.post(
            "/api/v1/stocks/release-plan", json=_body(), headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200, response.text
    return dict(response.json()["data"])


def test_member_gets_the_published_basis_secretariat_the_submissions(engine: Engine) -> None:
    _submit(engine, {"USA": "20", "JPN": "40", "GBR": "40"})
    member = _post(engine, "member", "USA")
    assert member["basis"]["kind"] == "published"
    assert _members(member, "stock_t") == pytest.approx({"USA": 60.0, "JPN": 40.0})
    assert _members(member, "shortfall_with_release_t") == pytest.approx({"USA": 0.0, "JPN": 0.0}, abs=1e-6)
    assert member["totals"]["release_t"] == pytest.approx(100.0)
    assert member["totals"]["shortfall_avoided_t"] == pytest.approx(100.0)
    text = json.dumps(member)
    assert "GBR" not in text  # no member's own figure or name from the submissions is in the published plan
    assert not read_audit(engine, event="stocks:secretariat-read")

    secretariat = _post(engine, "secretariat", None)
    assert secretariat["basis"]["kind"] == "submissions"
    assert _members(secretariat, "release_t") == pytest.approx({"USA": 20.0, "JPN": 40.0})
    assert _members(secretariat, "shortfall_with_release_t") == pytest.approx({"USA": 20.0, "JPN": 20.0})
    assert any("not pooled: GBR" in n for n in secretariat["notes"])
    audited = read_audit(engine, event="stocks:secretariat-read")
    assert len(audited) == 1 and "2026-Q3" in audited[0]["detail"]


def test_published_basis_leaves_suppressed_cells_out(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _submit(engine, {"USA": "20", "JPN": "40"})
    member = _post(engine, "member", "JPN")
    assert member["basis"]["kind"] == "published"
    assert member["totals"]["pooled_t"] == 0.0
    assert _members(member, "shortfall_with_release_t") == pytest.approx({"USA": 60.0, "JPN": 40.0})
    assert any("suppressed (:c) cells not pooled" in n for n in member["notes"])
    monkeypatch.setenv("LODELINE_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    get_settings.cache_clear()
    args = [
        "stocks",
        "release-plan",
        "--scenario",
        str(SCENARIO),
        "--rules",
        str(RULES),
        "--period",
        "2026-Q3",
    ]
    default = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert default.exit_code == 0, default.output
    assert json.loads(default.stdout)["basis"]["kind"] == "published"
    full = CliRunner().invoke(cli, [*args, "--basis", "submissions", "--format", "json"])
    assert full.exit_code == 0, full.output
    assert _members(json.loads(full.stdout), "release_t") == pytest.approx({"USA": 20.0, "JPN": 40.0})
    bad = CliRunner().invoke(cli, [*args, "--basis", "everything"])
    assert bad.exit_code != 0
