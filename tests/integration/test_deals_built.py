"""Deals reads that need the built market tables (coverage, restrictions, the producer-country view) through the
API and the CLI, on the bundled data."""

from __future__ import annotations

import json
import warnings

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


def test_coverage_restrictions_country(built_sqlite: tuple[str, Engine]) -> None:
    """Lithium refining, alliance G7+: the top external supplier is CHN; Chile (EU-Chile agreements naming
    lithium) is a mineral-specific partner with a known share. Gallium on 2025-06-01: the 2023 licensing measure
    is in force and 811292 is in the trade tables; the December 2024 denial to the US has no HS codes."""
    _, engine = built_sqlite
    with TestClient(create_app(engine, ApiSettings()), base_url="https://testserver") as client:  # type: ignore[arg-type]
        cov = client.get(
            "/api/v1/deals/coverage", params={"mineral": "lithium", "stage": "refining", "limit": 500}
        )
        assert cov.status_code == 200, cov.text
        rows = {r["partner"]: r for r in cov.json()["data"]}
        assert rows["CHL"]["top_external_supplier"] == "CHN" and rows["CHL"]["mineral_specific"] is True
        assert rows["CHL"]["partner_share"] > 0 and 0 < rows["CHL"]["replaceable_specific"] <= 1
        res = client.get(
            "/api/v1/deals/restrictions", params={"mineral": "gallium", "on": "2025-06-01"}
        ).json()["data"]
        by_id = {r["measure_id"]: r for r in res}
        gage = by_id["ctl-cn-gage-2023-export-licensing"]
        assert gage["status"] == "in force" and gage["hs6_with_trade_data"] == "811292"
        assert gage["affected_share"] is not None and "282590" in gage["hs6_without_trade_data"]
        view = client.get("/api/v1/deals/countries/IDN").json()
        assert {d["case_id"] for d in view["parts"]["disputes"]["data"]} == {
            "wto-ds592",
            "idn-nickel-ore-ban",
        }
        assert len(view["parts"]["governance"]["data"]) == 6
        assert client.get("/api/v1/deals/countries/Atlantis").status_code == 404


def test_cli(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> None:
    from lodeline.cli.main import app as cli
    from lodeline.config import get_settings

    _, engine = built_sqlite
    monkeypatch.setenv("LODELINE_DATABASE_URL", str(engine.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    env: dict[str, str] = {}
    runner = CliRunner()
    got = runner.invoke(cli, ["deals", "list", "-r", "disputes", "-f", "json"], env=env)
    assert got.exit_code == 0, got.output
    assert len(json.loads(got.output)) == 16
    got = runner.invoke(cli, ["deals", "coverage", "-m", "lithium", "-s", "refining", "-f", "csv"], env=env)
    assert got.exit_code == 0 and "CHL" in got.output
    got = runner.invoke(cli, ["deals", "financing", "-f", "csv"], env=env)
    assert got.exit_code == 0 and got.output.count("\n") == 11
    got = runner.invoke(
        cli, ["deals", "timeline", "-m", "gallium", "--on", "2025-06-01", "-f", "csv"], env=env
    )
    assert got.exit_code == 0 and "ctl-cn-gage-2023-export-licensing" in got.output
    got = runner.invoke(cli, ["deals", "partners", "-f", "csv"], env=env)
    assert got.exit_code == 0 and "\nBRA,FTA chapter," in got.output
    got = runner.invoke(cli, ["deals", "show", "wto-ds592"], env=env)
    assert got.exit_code == 0 and json.loads(got.output)["host_country"] == "IDN"


def test_pages_refuse_bad_input_without_5xx(built_sqlite: tuple[str, Engine]) -> None:
    """The Deals and Country pages: bad dates, stages, minerals, alliances and countries get a 4xx error page (never
    5xx); a name redirects to the ISO3 page; a mineral and stage without dependency data say so on the page."""
    _, engine = built_sqlite
    html = {"accept": "text/html"}
    with TestClient(create_app(engine, ApiSettings()), base_url="https://testserver") as client:  # type: ignore[arg-type]
        for path, code in [
            ("/deals?on=garbage", 422), ("/deals?stage=foo", 400), ("/deals?mineral=xx", 404),
            ("/deals?alliance=XXX", 400), ("/deals/countries/Atlantis", 404), ("/deals/countries?country=", 422),
            ("/deals/countries/" + "x" * 81, 422), ("/deals?on=1800-01-01", 200), ("/deals/countries/ATA", 200),
        ]:  # fmt: skip
            got = client.get(path, headers=html)
            assert got.status_code == code, (path, got.status_code)
        got = client.get("/deals/countries?country=Indonesia", follow_redirects=False)
        assert got.status_code == 303 and got.headers["location"] == "/deals/countries/IDN"
        got = client.get("/deals/countries/Chile", params={"on": "2025-01-01"}, follow_redirects=False)
        assert got.status_code == 307 and got.headers["location"] == "/deals/countries/CHL?on=2025-01-01"
        page = client.get("/deals", params={"mineral": "helium", "stage": "component"}, headers=html)
        assert page.status_code == 200 and 'id="coverage-message"' in page.text
        assert 'id="coverage-table"' not in page.text
        empty = client.get("/deals/countries/ATA", headers=html).text
        assert 'id="agreements-none"' in empty and 'id="disputes-none"' in empty and "not stated" in empty
