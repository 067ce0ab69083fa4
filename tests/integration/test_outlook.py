"""The 2030 outlook on the bundled data, through the service, the CLI and the API (docs/methods/outlook-2030.md):
base year and demand growth as the raw IEA file gives them, unquantified projects listed and counted, never
zero-filled, same answer for the same seed, bad input a 4xx / clean CLI error."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli_app
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.server import create_app
from lodeline.services import outlook

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    with TestClient(
        create_app(built_sqlite[1], ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        yield c


@pytest.fixture
def cli(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return CliRunner()


def test_rare_earth_refining_base_year_and_demand_from_the_raw_iea_file(
    built_store: tuple[str, Engine],
) -> None:
    """By hand from iea_critical_minerals/iea_cm_may2025_barrytho_iea.json, supply."Rare Earth Elements".refining:
    China 73.75667 of a 80.80513 kt total in 2024 = 0.912772 (the G7+ has no larger outside supplier).
    totalDemand."Rare Earth Elements".totalDemand: 2024 90.92178, STEPS 2030 122.84618 → growth 1.351119.
    IEA base case 2030: China 81.12665 of 106.68198 = 0.760453."""
    result = outlook.outlook(built_store[1], "rare-earths", "refining", draws=500, seed=3)
    s = result.summary
    assert s["base_year"] == 2024 and s["base_top_external_supplier"] == "CHN"
    assert s["base_dependency"] == pytest.approx(73.75667016860831 / 80.80512702814008)
    growth = dict(
        zip(result.trajectory["year"].to_list(), result.trajectory["demand_growth"].to_list(), strict=True)
    )
    assert growth[2030] == pytest.approx(122.8461793184506 / 90.92177761290353)
    assert s["iea_base_case"]["dependency"] == pytest.approx(81.12665123569371 / 106.68198331763352)
    assert result.trajectory["year"].to_list() == list(range(2024, 2036))


def test_unquantified_pipeline_is_listed_and_counted_never_zero_filled(
    built_sqlite: tuple[str, Engine],
) -> None:
    result = outlook.outlook(built_sqlite[1], "rare-earths", "refining", draws=200)
    p = result.summary["pipeline"]
    assert p["projects"] == result.projects.height > 0
    missing = result.projects.filter(~result.projects["counted"])
    assert missing["not_counted_because"].null_count() == 0
    no_capacity = result.projects.filter(result.projects["capacity"].is_null())
    assert no_capacity.height == p["capacity_not_stated"]
    assert all(
        r.startswith(("capacity not stated", "country not stated"))
        for r in no_capacity["not_counted_because"]
    )
    assert no_capacity["swing_pp"].null_count() == no_capacity.height
    if p["counted"] == 0:  # nothing quantified: the band is the no-pipeline line, and the output says why
        assert result.trajectory["median"].to_list() == result.trajectory["no_pipeline"].to_list()
        assert any("state no capacity" in n for n in result.summary["notes"])


def test_same_seed_same_answer_and_bounds(built_sqlite: tuple[str, Engine]) -> None:
    a = outlook.outlook(built_sqlite[1], "lithium", "refining", draws=300, seed=11)
    b = outlook.outlook(built_sqlite[1], "lithium", "refining", draws=300, seed=11)
    assert a.summary == b.summary
    t = a.trajectory
    assert (t["p10"] <= t["median"]).all() and (t["median"] <= t["p90"]).all()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"mineral": "gallium", "stage": "refining"}, NotFoundError),
        ({"mineral": "lithium", "stage": "component"}, InvalidArgumentError),
        ({"mineral": "lithium", "stage": "refining", "draws": 0}, InvalidArgumentError),
        ({"mineral": "lithium", "stage": "refining", "year": 2024}, InvalidArgumentError),
        ({"mineral": "lithium", "stage": "refining", "scenario": "XYZ"}, InvalidArgumentError),
    ],
)
def test_bad_input_is_a_clear_error(
    built_sqlite: tuple[str, Engine], kwargs: dict[str, object], error: type
) -> None:
    with pytest.raises(error):
        outlook.outlook(built_sqlite[1], **kwargs)  # type: ignore[arg-type]


def test_cli_json_and_table(cli: CliRunner) -> None:
    result = cli.invoke(
        cli_app, ["outlook", "show", "-m", "rare-earths", "-s", "refining", "-n", "200", "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert set(doc) == {"summary", "trajectory", "projects", "provenance"}
    assert set(doc["summary"]["probabilities"]) == {"below 60%", "below 50%"}
    table = cli.invoke(cli_app, ["outlook", "show", "-m", "REE", "-n", "100"])
    assert table.exit_code == 0, table.output
    assert "P(dependency below 60% in 2030)" in table.output
    bad = cli.invoke(cli_app, ["outlook", "show", "-m", "gallium"])
    assert bad.exit_code != 0 and "Traceback" not in bad.output
    # the spelling: the same command under the register's group, same answer for the same seed
    args = ["-m", "rare-earths", "-s", "refining", "--year", "2030", "-n", "200", "--seed", "7", "-f", "json"]
    under_projects = cli.invoke(cli_app, ["projects", "outlook", *args])
    alone = cli.invoke(cli_app, ["outlook", "show", *args])
    assert under_projects.exit_code == 0, under_projects.output
    assert json.loads(under_projects.output)["summary"] == json.loads(alone.output)["summary"]


def test_api_views_and_errors(client: TestClient) -> None:
    r = client.get("/api/v1/outlook", params={"mineral": "rare-earths", "draws": 200})
    assert r.status_code == 200, r.text
    body = r.json()
    row = body["data"][0]
    assert row["base_top_external_supplier"] == "CHN" and 0 <= row["p_below_60"] <= 1
    assert body["provenance"]["method"] == "docs/methods/outlook-2030.md"
    traj = client.get(
        "/api/v1/outlook", params={"mineral": "rare-earths", "draws": 200, "view": "trajectory"}
    )
    assert traj.status_code == 200 and len(traj.json()["data"]) == 12
    csv = client.get(
        "/api/v1/outlook", params={"mineral": "lithium", "draws": 100, "view": "projects", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.text.startswith("project_id")
    for params in (
        {"mineral": "gallium"},
        {"mineral": "lithium", "draws": 10**6},
        {"mineral": "lithium", "stage": "component"},
        {"mineral": "lithium", "view": "nope"},
        {"mineral": "lithium", "alliance": "XXX"},
    ):
        bad = client.get("/api/v1/outlook", params=params)
        assert 400 <= bad.status_code < 500, (params, bad.status_code)
        assert "code" in bad.json() or "detail" in bad.json()


def test_targets_page_shows_the_projected_band_and_probabilities(client: TestClient) -> None:
    page = client.get("/targets")
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="outlook-2030"' in html and "P(&lt; 60%)" in html
    # one row per mineral x stage the IEA projects, rare-earth refining among them with China's base share
    assert html.count("<tr>", html.index('id="outlook"')) >= 12
    assert "CHN 91.3%" in html  # 73.75667 / 80.80513 = 0.9128 (see the rare-earth refining test above)


def test_overview_has_one_row_per_mineral_and_stage(built_sqlite: tuple[str, Engine]) -> None:
    result = outlook.overview(built_sqlite[1], draws=100)
    assert result.frame.height == len(outlook.minerals_and_stages())
    assert {"p_below_60", "p_below_50", "median", "p10", "p90", "pipeline_counted"} <= set(
        result.frame.columns
    )


def test_a_register_project_with_capacity_moves_the_trajectory(built_sqlite: tuple[str, Engine]) -> None:
    """By hand: a 30,000 t/yr lithium hydroxide plant in the US, construction, start 2027. The register converts it
    to 30,000 x 6.94 / 41.962 = 4,961.6 t Li = 4.9616 kt. IEA May 2025, lithium chemicals 2024: China 169.67759 of
    241.61175 kt (0.702274); demand 205.0 kt (2024) and 455.48724 (STEPS 2030): growth 2.221889. In 2030 the plant is
    in its fourth year (full capacity): P = 4.9616 / 241.61175 = 0.020536, so China's share
    = 0.702274 x (2.221889 - 0.020536) / 2.221889 = 0.695783. A project without capacity beside it adds nothing."""
    from lodeline.projects.conversion import convert
    from lodeline.projects.schema import Capacity, Project, ProjectStage, StudyStage

    plant = Project(
        project_id="hand-1",
        name="hand-worked plant",
        countries=("US",),
        minerals=("lithium",),
        stages=(ProjectStage.PROCESSING,),
        capacity=convert(Capacity(30_000.0, "t/yr", "lithium hydroxide", "30,000 t/yr lithium hydroxide")),
        expected_start_year=2027,
        study_stage=StudyStage.CONSTRUCTION,
    )
    empty = Project(
        project_id="hand-2",
        name="no figures",
        countries=("FR",),
        minerals=("lithium",),
        stages=(ProjectStage.PROCESSING,),
    ).with_gaps()
    result = outlook.outlook(
        built_sqlite[1], "lithium", "refining", draws=2_000, seed=5, projects=[plant, empty]
    )
    t = result.trajectory.filter(result.trajectory["year"] == 2030).row(0, named=True)
    assert t["deterministic"] == pytest.approx(0.695783, abs=1e-6)
    assert t["no_pipeline"] == pytest.approx(169.67759096410308 / 241.6117526503776)
    assert t["p10"] <= t["median"] <= t["no_pipeline"]
    rows = {r["project_id"]: r for r in result.projects.to_dicts()}
    assert rows["hand-1"]["counted"] and rows["hand-1"]["capacity"] == pytest.approx(4.96163, rel=1e-5)
    assert rows["hand-2"]["not_counted_because"] == "capacity not stated"
    assert result.summary["pipeline"] == {
        "projects": 2,
        "counted": 1,
        "capacity_stated": 1,
        "capacity_not_stated": 1,
        "start_not_stated": 1,
        "counted_capacity": pytest.approx(4.96163, rel=1e-5),
        "unit": "kt",
    }


def test_a_members_new_project_reaches_the_outlook_without_a_rebuild(
    built_sqlite: tuple[str, Engine], tmp_path: Path
) -> None:
    """The API's cache is keyed on the register's figures: a member's project with capacity and start is counted
    on the next read; a project whose capacity is confidential is not (the outlook reads the public view)."""
    from lodeline.services.projects import add_projects
    from lodeline.store.engine import make_engine
    from webstore import copy_built_sqlite  # tests/webstore.py

    engine = make_engine(copy_built_sqlite(built_sqlite[0], tmp_path))
    params = {"mineral": "lithium", "stage": "refining", "draws": 200}
    with TestClient(
        create_app(engine, ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        before = c.get("/api/v1/outlook", params=params).json()["data"][0]
        plant = {
            "project_id": "member-lioh-1",
            "name": "Member hydroxide plant",
            "countries": ["US"],
            "minerals": ["lithium"],
            "stages": ["processing"],
            "capacity": {"value": 30000, "product": "lithium hydroxide"},
            "expected_start_year": 2027,
            "study_stage": "construction",
        }
        secret = {
            **plant,
            "project_id": "member-lioh-2",
            "name": "Quiet refinery",
            "confidential": ["capacity"],
        }
        add_projects(engine, [plant, secret], owner_org="member-org")
        after = c.get("/api/v1/outlook", params=params).json()["data"][0]
    assert after["pipeline_projects"] == before["pipeline_projects"] + 2
    assert after["pipeline_counted"] == before["pipeline_counted"] + 1
    assert after["deterministic"] < before["deterministic"]
    engine.dispose()
