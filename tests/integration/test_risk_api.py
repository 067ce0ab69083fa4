"""The risk service, its API routes and the Risk page on the bundled data: every route answers the same
figures as ``lodeline risk …`` with provenance and CSV; bad input is a 4xx with a code, never a 5xx; the work
of a request is bounded; the chart's labels never overlap."""

from __future__ import annotations

import csv
import io
import itertools
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.routes.risk import MAX_DRAWS, MAX_MATERIALS
from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli_app
from lodeline.config import RAW_DATA_DIR, get_settings
from lodeline.risk import EI_THRESHOLD, SR_THRESHOLD
from lodeline.risk.chart import (
    CHART_HEIGHT,
    CHART_WIDTH,
    PAGE_CHART_SIZE,
    criticality_frame,
    criticality_labels,
)
from lodeline.server import create_app
from lodeline.services import risk
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine, upgrade
from webstore import copy_built_sqlite  # tests/webstore.py

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    settings = ApiSettings(anonymous_rate_per_second=0)
    with TestClient(create_app(built_sqlite[1], settings), base_url="https://testserver") as c:
        yield c


@pytest.fixture
def cli(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return CliRunner()


#: Every risk route and what each caller gets: the figures are built from public data (Action.READ_PUBLISHED;
#: the geopolitical risk of an alliance Action.READ_ALLIANCE), so every role, signed in or not, reads them.
RISK_ROUTES = (
    "/api/v1/risk/criticality",
    "/api/v1/risk/criticality/official-list",
    "/api/v1/risk/criticality/deviations",
    "/api/v1/risk/sensitivity?draws=100",
    "/api/v1/risk/tornado?material=Cobalt",
    "/api/v1/risk/geopolitical?importer=G7",
    "/risk",
)


def test_role_matrix(built_sqlite: tuple[str, Engine], tmp_path: Path) -> None:
    """Each risk route as anonymous, member, participant, auditor and admin (on a copy of the built store, as the
    tokens are written to it); a revoked-looking bad token is 401 like on every other read."""
    engine = make_engine(copy_built_sqlite(built_sqlite[0], tmp_path))
    upgrade(engine)
    orgs: dict[str, str | None] = {
        "member": "DEU",
        "participant": "acme-mining",
        "auditor": None,
        "admin": None,
    }
    callers = {"public": {}} | {
        role: {"Authorization": f"Bearer {create_token(engine, f'{role}-risk', role, org)[1]}"}
        for role, org in orgs.items()
    }
    failures = []
    with TestClient(
        create_app(engine, ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        for path in RISK_ROUTES:
            for role, headers in callers.items():
                status = c.get(path, headers=headers).status_code
                if status != 200:
                    failures.append(f"{role} {path}: {status}")
            bad = c.get(path, headers={"Authorization": "Bearer not-a-token"})
            if bad.status_code != 401:
                failures.append(f"bad token {path}: {bad.status_code}")
    engine.dispose()
    assert not failures, failures


def _cli_json(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    result = cli.invoke(cli_app, ["risk", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.stdout)
    return rows


def _api(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _published_ei(material: str) -> float:
    with (RAW_DATA_DIR / "eu_crm_2023" / "eu_crm_2023_economic_importance.csv").open(encoding="utf-8") as f:
        return next(float(r["EI_published"]) for r in csv.DictReader(f) if r["material"] == material)


def test_criticality_route_equals_the_cli(client: TestClient, cli: CliRunner) -> None:
    """Every row and column of ``/api/v1/risk/criticality`` is the CLI's. Cobalt's EI is the raw file's
    (eu_crm_2023_economic_importance.csv: Cobalt,6.8), and it is critical (SR >= 1, 6.8 >= 2.8)."""
    body = _api(client, "/api/v1/risk/criticality?limit=1000")
    assert body["data"] == _cli_json(cli, "criticality")
    assert body["page"]["total"] == 90
    cobalt = next(r for r in body["data"] if r["material"] == "Cobalt")
    assert cobalt["ei"] == _published_ei("Cobalt") == 6.8 and cobalt["critical"] is True
    ids = {s["id"] for s in body["provenance"]["sources"]}
    assert {"eu_crm_2023", "wgi", "cepii_baci", "usgs_mcs2026"} <= ids
    assert body["provenance"]["method"] == "docs/methods/criticality.md"
    processing = _api(client, "/api/v1/risk/criticality?stage=processing&years=3&limit=1000")["data"]
    assert processing == _cli_json(cli, "criticality", "--stage", "processing", "--years", "3")


def test_sensitivity_and_tornado_routes_equal_the_cli(client: TestClient, cli: CliRunner) -> None:
    body = _api(client, "/api/v1/risk/sensitivity?draws=200&seed=3&material=Cobalt&material=gallium")
    assert body["data"] == _cli_json(
        cli, "sensitivity", "--draws", "200", "--seed", "3", "-m", "Cobalt", "-m", "gallium"
    )
    assert [r["material"] for r in body["data"]] == ["Gallium", "Cobalt"] and body["data"][0]["draws"] == 200
    bars = _api(client, "/api/v1/risk/tornado?material=Cobalt")["data"]
    assert {r["factor"] for r in bars} == {"share year", "WGI dimensions", "t_c", "EoL-RIR"}
    base = body["data"][1]["sr_base"]
    assert all(r["sr_base"] == base and r["sr_low"] <= base <= r["sr_high"] for r in bars)


def test_geopolitical_route_equals_the_cli(client: TestClient, cli: CliRunner) -> None:
    body = _api(client, "/api/v1/risk/geopolitical?importer=G7%2B&mineral=cobalt&limit=1000")
    rows = _cli_json(cli, "geopol", "--importer", "G7+", "--mineral", "cobalt")
    key = lambda r: (r["stage"], r["year"])  # noqa: E731
    assert len(body["data"]) == len(rows) > 0
    for api_row, cli_row in zip(sorted(body["data"], key=key), sorted(rows, key=key), strict=True):
        assert api_row.keys() == cli_row.keys()
        for column, value in cli_row.items():
            # sums over trade flows may differ in the last bit between runs (summation order)
            assert api_row[column] == (pytest.approx(value, rel=1e-12) if isinstance(value, float) else value)
    assert {"cepii_baci", "wgi"} <= {s["id"] for s in body["provenance"]["sources"]}


def test_official_list_and_deviations(client: TestClient) -> None:
    """The counts of docs/methods/criticality.md section 5: 54 materials classified, 49 agree with Annex II of
    Regulation (EU) 2024/1252 (40 listed and critical, 9 unlisted and not critical); copper and nickel are
    listed but not critical; tin and tungsten have no SR at their bottleneck stage (section 6, stage choice)."""
    rows = _api(client, "/api/v1/risk/criticality/official-list?limit=1000")["data"]
    classified = [r for r in rows if r["agrees"] is not None]
    assert (len(classified), sum(r["agrees"] for r in classified)) == (54, 49)
    assert {r["material"] for r in rows if r["verdict"] == "listed, not critical here"} == {
        "Copper",
        "Nickel",
    }
    deviations = {r["topic"]: r for r in _api(client, "/api/v1/risk/criticality/deviations")["data"]}
    assert deviations["stage choice"]["affected"] == "Tin, Tungsten"
    assert deviations["EI"]["materials"] == 90 and deviations["insufficient data"]["materials"] == 36
    csv_rows = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/risk/criticality/deviations?format=csv").text))
    )
    assert [r["topic"] for r in csv_rows] == list(deviations)


@pytest.mark.parametrize(
    ("path", "status", "code", "text"),
    [
        (f"/api/v1/risk/sensitivity?draws={MAX_DRAWS + 1}", 400, "invalid-argument", str(MAX_DRAWS)),
        ("/api/v1/risk/sensitivity?draws=0", 400, "invalid-argument", "draws"),
        ("/api/v1/risk/sensitivity?seed=-1", 400, "invalid-argument", "seed"),
        ("/api/v1/risk/sensitivity?material=Unobtainium", 400, "invalid-argument", "Unobtainium"),
        (
            "/api/v1/risk/tornado?" + "&".join(f"material=m{i}" for i in range(MAX_MATERIALS + 1)),
            422,
            "invalid-request",
            "material",
        ),
        ("/api/v1/risk/criticality?years=11", 400, "invalid-argument", "10"),
        ("/api/v1/risk/criticality?stage=mining", 422, "invalid-request", "stage"),
        ("/api/v1/risk/geopolitical?wgi=xx", 400, "invalid-argument", "va, pv"),
        ("/api/v1/risk/geopolitical?importer=Narnia", 400, "unknown-country", "Narnia"),
        ("/api/v1/risk/geopolitical?mineral=unobtainium", 404, "unknown-mineral", "unobtainium"),
        ("/api/v1/risk/geopolitical?year=1950", 404, "not-found", "no trade rows"),
        ("/api/v1/risk/criticality?limit=0", 400, "invalid-argument", "limit"),
        ("/api/v1/risk/criticality?cursor=zzz", 400, "invalid-cursor", "cursor"),
    ],
)
def test_bad_input_is_a_4xx_with_a_code(
    client: TestClient, path: str, status: int, code: str, text: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code and text in response.json()["message"]


@pytest.mark.parametrize("size", [(CHART_WIDTH, CHART_HEIGHT), PAGE_CHART_SIZE])
def test_chart_labels_never_overlap_on_the_bundled_data(
    built_sqlite: tuple[str, Engine], size: tuple[int, int]
) -> None:
    """Every material with an SR (54 with the published EI) gets a label; no two label boxes overlap, none
    covers a marker, all stay inside the plot area, at both the HTML file's and the page's size."""
    table = risk.criticality(built_sqlite[1]).frame
    labels = criticality_labels(table, size)
    assert len(labels) == table.filter(table["sr"].is_not_null()).height == 54
    for a, b in itertools.combinations(labels, 2):
        assert not a.box.overlaps(b.box), (a.text, b.text)
    _, _, frame = criticality_frame(table, size)
    assert all(label.box.inside(frame.area) for label in labels)


def test_risk_page_shows_chart_tornado_and_deviations(client: TestClient) -> None:
    response = client.get("/risk")
    assert response.status_code == 200
    html = response.text
    assert (
        "49 agree" in html and 'id="deviation-list"' in html and "<dt>stage choice (2 materials)</dt>" in html
    )
    assert "<strong>Copper</strong>: listed, not critical here" in html
    assert "<script>" not in html  # CSP: the figures are JSON blocks, drawn by static/js/risk.js
    start = html.index('id="criticality-figure">') + len('id="criticality-figure">')
    figure = json.loads(html[start : html.index("</script>", start)])
    lines = {(s.get("y0"), s.get("x0")) for s in figure["layout"]["shapes"]}
    assert any(y == SR_THRESHOLD for y, _ in lines) and any(x == EI_THRESHOLD for _, x in lines)
    labels = [a["text"] for a in figure["layout"]["annotations"] if a.get("name") == "point-label"]
    assert len(labels) == 54 and "Gallium" in labels
    assert 'id="tornado-figure"' in html and "share year" in html
