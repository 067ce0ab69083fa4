"""The Projects page in Debian's Chromium (Playwright, headless) on a copy of the built SQLite store with one member
project (DEU, capex confidential): the visitor sees the 60 designations and the financed projects listed and mapped,
gaps as "not stated", the confidential capex nowhere, and the compare chart empty with the reason (no public project
states capex, a convertible capacity and dates together); the table sorts by capital intensity with gaps last. The
signed-in owner sees its capex and its project on the chart. Nothing is fetched from outside the server and no
script or CSP error occurs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

from lodeline.services import projects as service
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SECRET = 312_345_678
DOC = {
    "project_id": "deu-lithium-refinery-1",
    "name": "Bitterfeld lithium refinery",
    "countries": ["DE"],
    "latitude": 51.62,
    "longitude": 12.32,
    "minerals": ["lithium"],
    "stages": ["processing"],
    "capex": {"value": SECRET, "currency": "EUR"},
    "capacity": {"value": 10000, "product": "lithium carbonate"},
    "status_history": [{"status": "designated", "date": "2025-03-25"}],
    "expected_start_year": 2028,
    "confidential": ["capex"],
}


@pytest.fixture(scope="module")
def server(
    built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    copy = tmp_path_factory.mktemp("projects-page") / "store.sqlite"
    with sqlite3.connect(built_sqlite[0].removeprefix("sqlite:///")) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    service.add_projects(engine, DOC, owner_org="DEU", by="test")
    token = create_token(engine, "deu-projects", "member", "DEU")[1]
    engine.dispose()
    env = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}
    try:
        with running_server(url, env=env, ready_path="/ready") as base:
            yield base, token
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_projects_page_visitor_and_owner(server: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, token = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)

        response = page.goto(base + "/projects", timeout=120_000)
        assert response is not None and response.status == 200
        # 95 public records (60 designations + 41 financed projects, 6 folded by de-duplication) + the member's
        assert page.inner_text("#projects-summary").startswith("96 projects")
        rows = page.locator("#projects-table tbody tr")
        assert rows.count() == 96
        bam = page.locator("#projects-table tr[data-project='dsg-eu-crma-bam4ever'] td").all_inner_texts()
        assert bam[4].strip() == "not stated" and bam[5].strip() == "not stated"
        page.wait_for_function("() => document.getElementById('projects-map').dataset.drawn === 'true'")
        assert page.locator("#projects-map svg .choroplethlocation").count() >= 20
        page.wait_for_function("() => document.getElementById('projects-chart').dataset.drawn === 'empty'")
        assert page.locator("#projects-chart-empty").is_visible()
        assert f"{SECRET:,}" not in page.content() and str(SECRET) not in page.content()

        # sort by capital intensity, descending: the largest figure first (Jadar), gaps last in either direction
        header = page.locator("#projects-table thead th", has_text="Capital intensity")
        header.click()
        header.click()
        assert header.get_attribute("aria-sort") == "descending"
        first = page.locator("#projects-table tbody tr").first.get_attribute("data-project")
        assert first == "dsg-eu-crma-jadar"
        last = page.locator("#projects-table tbody tr").last.locator("td").nth(6).inner_text()
        assert last.strip() == "not stated"
        assert not problems, problems

        page.goto(base + "/login")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")
        page.goto(base + "/projects?mineral=lithium")
        page.wait_for_function("() => document.getElementById('projects-chart').dataset.drawn === 'true'")
        assert page.locator("#projects-chart svg .scatterlayer .point").count() == 1
        own = page.locator(f"#projects-table tr[data-project='{DOC['project_id']}'] td").all_inner_texts()
        assert own[5].strip() == f"{SECRET / 1e6:,.0f} EUR"  # m in the stated currency, visible to the owner
        assert (
            page.locator("#projects-map svg .scattergeo, #projects-map svg .scattergeolayer path").count()
            >= 1
        )
        assert not outside, outside
        assert not problems, problems
        browser.close()
