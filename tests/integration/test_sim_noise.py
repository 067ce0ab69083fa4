"""Numerical noise never reaches a reader: a bundled scenario whose raw engine output holds 1e-16-size values
(cobalt: DEU's demand is 6.6e-16 t, its "shortfall" 29 % of that) is reported with those values as 0, on the
service (API, page) and in the CLI's JSON alike. The tolerance is docs/methods/stress-test.md's (1e-6)."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.services import sim as service
from lodeline.sim.run import run_scenario
from lodeline.sim.shaping import NOISE_TOLERANCE
from lodeline.sim.store import load_network

SCENARIO = "cd-cobalt-export-suspension-2025"


def _noise(value: Any, path: str = "") -> list[str]:
    """Paths of floats that are neither 0 nor at least the tolerance in magnitude."""
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _noise(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _noise(v, f"{path}[{i}]")]
    return [path] if isinstance(value, float) and 0 < abs(value) < NOISE_TOLERANCE else []


def test_noise_in_the_engine_is_zero_in_every_report(
    built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = built_sqlite
    scenario = service.library(SCENARIO)
    raw = run_scenario(
        load_network(engine, scenario.mineral, scenario.alliance_members(), scenario.year), scenario
    ).to_dict()
    raw_deu = next(r for r in raw["members"] if r["country"] == "DEU")
    # the case this guards against, as the engine produces it today
    assert 0 < raw_deu["demand_t"] < 1e-12 and raw_deu["shortfall_pct"] > 1.0
    assert len(_noise(raw)) > 10

    report = service.run(scenario, SCENARIO, engine=engine)
    assert _noise(report) == []
    deu = next(r for r in report["members"] if r["country"] == "DEU")
    assert deu["demand_t"] == 0.0 and deu["shortfall_t"] == 0.0 and deu["shortfall_pct"] == 0.0
    assert (
        deu["days_of_cover_start"] is None
    )  # no demand: cover is undefined, not a ratio of two noise values
    # figures above the tolerance pass through unchanged
    raw_jpn = next(r for r in raw["members"] if r["country"] == "JPN")
    jpn = next(r for r in report["members"] if r["country"] == "JPN")
    assert jpn["demand_t"] == raw_jpn["demand_t"] and jpn["shortfall_t"] == raw_jpn["shortfall_t"]
    assert report["noise_tolerance"] == NOISE_TOLERANCE
    assert {a["kind"] for a in report["assumptions"]} >= {"placeholder stocks", "re-export hubs"}

    from lodeline.config import get_settings

    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    cli = CliRunner().invoke(app, ["sim", "run", SCENARIO, "--format", "json"])
    assert cli.exit_code == 0, cli.output
    printed = json.loads(cli.stdout)
    assert _noise(printed) == [] and printed["members"] == report["members"]
    html = service.report_html("run", report)
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert cells and not [c for c in cells if re.search(r"\d[eE]-\d", c)]  # no table cell printed as noise
    embedded = html.split("id='report-data'>", 1)[1].split("</script>", 1)[0]
    assert _noise(json.loads(unescape(embedded))) == [] and "PLACEHOLDER ASSUMPTION" in html
