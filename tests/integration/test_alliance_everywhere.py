"""One alliance resolver everywhere (``domain.groups.resolve_alliance``): the geopolitical-risk importer (CLI and
API) and a stress-test scenario's ``alliance`` accept a custom ISO3 list as well as a group id, and refuse a bad
list with the same error naming the entry.

No new figure is computed here: a custom list that spells out the G7 (``data/country_groups.csv``: CAN, DEU, FRA,
GBR, ITA, JPN, USA) must give exactly the G7's rows, one country by name exactly its ISO3 code's rows, and the
worked example's shortfalls (USA 50 t, DEU 20 t) are the ones worked out by hand in docs/methods/stress-test.md.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

import lodeline
from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.server import create_app
from lodeline.services import risk
from lodeline.services import sim as sim_service
from lodeline.sim.scenario import ScenarioError

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

WORKED = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml"
G7_SPELLED_OUT = " usa, jpn ,DEU,can,FRA,GBR,ita,USA"  # case, spaces, order and repeats do not matter


@pytest.fixture
def cli(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return CliRunner()


def _geopol(cli: CliRunner, importer: str) -> list[dict[str, Any]]:
    result = cli.invoke(app, ["risk", "geopol", "--importer", importer, "--mineral", "cobalt", "-f", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    assert rows
    return rows


def _approx(rows: list[dict[str, Any]], *, drop: str = "") -> list[dict[str, Any]]:
    """The rows (without column ``drop``), floats compared to 1e-12 (Polars may sum in another order)."""
    return [
        {k: pytest.approx(v, rel=1e-12) if isinstance(v, float) else v for k, v in r.items() if k != drop}
        for r in rows
    ]


def test_risk_importer_takes_a_custom_iso3_list_and_one_country(cli: CliRunner) -> None:
    g7 = _geopol(cli, "G7")
    custom = _geopol(cli, G7_SPELLED_OUT)
    assert {r["importer"] for r in custom} == {"CAN,DEU,FRA,GBR,ITA,JPN,USA"}
    assert [{k: v for k, v in r.items() if k != "importer"} for r in custom] == _approx(g7, drop="importer")
    # one country, by ISO3 code or by name, is a group of one
    by_code, by_name = _geopol(cli, "DEU"), _geopol(cli, "Germany")
    assert {r["importer"] for r in by_name} == {"DEU"} and by_name == _approx(by_code)
    assert len(by_code) != len(g7) or [r["wta"] for r in by_code] != [r["wta"] for r in g7]


@pytest.mark.parametrize(
    ("importer", "code", "words"),
    [
        ("USA,XYZ", "invalid-argument", "entry 2 'XYZ' is not an ISO 3166 alpha-3 country code"),
        ("USA,,JPN", "invalid-argument", "empty entry"),
        ("USA,WLD", "invalid-argument", "'WLD' is not an ISO 3166"),
        ("Atlantis", "unknown-country", "Atlantis"),
    ],
)
def test_a_bad_importer_is_a_clear_error(cli: CliRunner, importer: str, code: str, words: str) -> None:
    result = cli.invoke(app, ["risk", "geopol", "--importer", importer])
    assert isinstance(result.exception, LodelineError), result.output
    assert result.exception.code == code and words in result.exception.message


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    with TestClient(
        create_app(built_sqlite[1], ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        yield c


def test_the_api_accepts_the_same_importer_strings(client: TestClient, cli: CliRunner) -> None:
    path = "/api/v1/risk/geopolitical?mineral=cobalt&limit=1000&importer="
    custom = client.get(path + "USA,jpn,DEU")
    assert custom.status_code == 200, custom.text
    assert custom.json()["data"] == _approx(_geopol(cli, "DEU,JPN,USA"))
    bad = client.get(path + "USA,XYZ")
    assert bad.status_code == 400, bad.text
    assert bad.json()["code"] == "invalid-argument" and "entry 2 'XYZ'" in bad.json()["message"]


def _worked(alliance: Any) -> str:
    text = WORKED.read_text(encoding="utf-8")
    assert "alliance: [USA, DEU]\n" in text
    return text.replace("alliance: [USA, DEU]\n", f"alliance: {json.dumps(alliance)}\n")


@pytest.mark.parametrize("alliance", ["USA,DEU", " deu , usa ", ["usa", "DEU"], ["USA", "DEU", "USA"]])
def test_a_scenario_alliance_is_a_custom_iso3_list(alliance: Any) -> None:
    """Written as text or as a list, the worked example's alliance is USA and DEU, and the run's shortfalls are
    the hand-worked ones (USA 50 t, DEU 20 t; docs/methods/stress-test.md)."""
    scenario = sim_service.scenario_from_upload(_worked(alliance), "upload")
    assert scenario.alliance_members() == frozenset({"USA", "DEU"})
    by = {r["country"]: r for r in sim_service.run(scenario, "upload")["members"]}
    assert by["USA"]["shortfall_t"] == 50.0 and by["DEU"]["shortfall_t"] == 20.0


@pytest.mark.parametrize(
    ("alliance", "words"),
    [
        ("USA,XYZ", "entry 2 'XYZ' is not an ISO 3166 alpha-3 country code"),
        (["USA", "XYZ"], "entry 2 'XYZ' is not an ISO 3166 alpha-3 country code"),
        ("USA,,DEU", "empty entry"),
        ([], "the alliance list is empty"),
        ("G99", "unknown country group 'G99'"),
    ],
)
def test_a_bad_scenario_alliance_names_the_field(alliance: Any, words: str) -> None:
    with pytest.raises(ScenarioError, match="field 'alliance'") as info:
        sim_service.scenario_from_upload(_worked(alliance), "upload")
    assert words in info.value.message and info.value.code == "sim-scenario"


def test_the_python_facade_takes_a_custom_alliance(tmp_path: Path) -> None:
    """``lodeline.stress_test(..., alliance=)`` replaces the scenario's alliance with the same strings; the
    worked example has its own network, so no store is opened."""
    scenario = tmp_path / "worked.yaml"
    scenario.write_text(WORKED.read_text(encoding="utf-8"), encoding="utf-8")
    result = lodeline.stress_test(scenario, alliance="deu,USA")
    by = {r["country"]: r for r in result.report["members"]}
    assert by["USA"]["member"] is True and by["DEU"]["member"] is True
    assert by["USA"]["shortfall_t"] == 50.0 and by["DEU"]["shortfall_t"] == 20.0
    alone = {r["country"]: r for r in lodeline.stress_test(scenario, alliance="DEU").report["members"]}
    assert alone["USA"]["member"] is False and alone["DEU"]["member"] is True
    with pytest.raises(ScenarioError, match="entry 2 'XYZ'"):
        lodeline.stress_test(scenario, alliance="USA,XYZ")


def test_resolve_importer_keeps_a_group_a_list_and_a_name_apart() -> None:
    assert risk.resolve_importer("g7+").id == "G7+"
    assert risk.resolve_importer("jpn,usa").members == frozenset({"JPN", "USA"})
    assert risk.resolve_importer("France").members == frozenset({"FRA"})
    with pytest.raises(InvalidArgumentError, match="alliance is empty"):
        risk.resolve_importer("  ")
