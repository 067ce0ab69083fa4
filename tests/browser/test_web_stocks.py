"""The Stocks page in Debian's Chromium (Playwright, headless), on a copy of the built SQLite store with the synthetic
demonstration data (``stockpiles.demo``, seed 3, 5 members, submitted through the ordinary service): the banner
says the data are synthetic, the aggregates table shows ``:c`` in suppressed cells and a number in a published one
(the cobalt total, computed here as the sum of the generated cobalt rows), the chart is drawn with published
minerals only; a signed-in member sees its own rows and no other member's, and the release-plan form shows the
plan the API gives for the same request; a visitor's HTML holds no member figure. Nothing is fetched from outside the server and no script or CSP error occurs."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

from lodeline.services import stocks as service
from lodeline.stockpiles.demo import demo_rows
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
PERIOD = "2026-Q3"
ROWS = demo_rows(PERIOD, members=5, seed=3)


def _gross(member: str) -> set[str]:
    return {str(r["quantity_gross_t"]) for _, r in ROWS[member]}


@pytest.fixture(scope="module")
def server(
    built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """uvicorn over a copy of the built store (the release plan reads the scenario's network from it) with the demo
    submissions added, and a DEU member's token."""
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    copy = tmp_path_factory.mktemp("stocks-page") / "store.sqlite"
    with sqlite3.connect(built_sqlite[0].removeprefix("sqlite:///")) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    for member, rows in ROWS.items():
        service.submit_rows(engine, rows, member=member, period=PERIOD, submitted_by="demo")
    token = create_token(engine, "deu-page", "member", "DEU")[1]
    engine.dispose()
    env = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}
    try:
        with running_server(url, env=env, ready_path="/ready") as base:
            yield base, token
    except RuntimeError as exc:
        pytest.fail(str(exc))


def _cells(page: object, table: str) -> list[list[str]]:
    rows = page.locator(f"#{table} tbody tr")  # type: ignore[attr-defined]
    return [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]


def test_stocks_page_marks_visitor_and_member(server: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, token = server
    cobalt = sum(
        int(str(r["quantity_gross_t"])) for rs in ROWS.values() for _, r in rs if r["mineral"] == "cobalt"
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(base) else outside.append(r.url))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)

        response = page.goto(base + "/stocks", timeout=120_000)
        assert response is not None and response.status == 200
        assert "SYNTHETIC DEMO DATA" in page.inner_text("#demo-banner")
        cells = _cells(page, "aggregates")
        by_key = {(c[0], c[1], c[2]): c for c in cells}
        assert by_key[("cobalt", "ALL", "ALL")][3] == f"{cobalt:,}"  # published: a number, no flag
        assert by_key[("cobalt", "ALL", "ALL")][4] == ""
        assert by_key[("tungsten", "ALL", "ALL")][3:] == [":c", ":c"]  # one or two holders: suppressed
        assert ":c = confidential" in page.inner_text("#legend")
        page.wait_for_function("() => document.getElementById('stocks-chart').dataset.drawn === 'true'")
        bars = page.locator("#stocks-chart svg .barlayer .point").count()
        assert bars == 3  # cobalt, lithium, nickel: the other minerals are suppressed, and said so
        assert "tungsten" in page.inner_text("#chart-caption")
        assert page.locator("#own").count() == 0
        html = page.content()
        every = set().union(*(_gross(m) for m in ROWS))
        assert not {c for row in cells for c in row} & every
        assert not any(f">{v}<" in html for v in every)
        assert page.locator("#plan-sign-in").count() == 1

        assert not problems, problems
        page.goto(base + "/login")
        page.fill("#token", token)
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")
        page.goto(base + f"/stocks?period={PERIOD}")
        page.wait_for_function("() => document.getElementById('stocks-chart').dataset.drawn === 'true'")
        own = _cells(page, "own-table")
        assert {r[0] for r in own} == {"DEU"}
        assert {r[4] for r in own} == _gross("DEU")
        others = set().union(*(_gross(m) for m in ROWS if m != "DEU")) - _gross("DEU")
        assert not any(f">{v}<" in page.content() for v in others)

        # the release plan of the first bundled scenario and rule set, as the API gives it for the same request
        body = {"scenario": page.input_value("#plan-scenario"), "rules": page.input_value("#plan-rules")}
        if page.input_value("#plan-stocks"):
            body["period"] = page.input_value("#plan-stocks")  # the period's pooled stocks (published basis)
        expected = httpx.post(
            base + "/api/v1/stocks/release-plan",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert expected.status_code == 200, expected.text
        page.click("#plan-form button[type=submit]")
        page.wait_for_selector("#plan-table:not([hidden])", timeout=120_000)
        shown = _cells(page, "plan-table")
        members = expected.json()["data"]["members"]
        assert [r[0] for r in shown] == [m["member"] for m in members]
        # whole tonnes on the page (JS rounds half up, Python half to even: compare within half a tonne)
        assert all(
            abs(int(r[1].replace(",", "")) - m["release_t"]) <= 0.5
            for r, m in zip(shown, members, strict=True)
        )
        assert not outside, outside
        assert not problems, problems
        browser.close()


def _login(page: object, base: str, token: str) -> None:
    page.goto(base + "/login")  # type: ignore[attr-defined]
    page.fill("#token", token)  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("form[action='/login'] button[type=submit]")  # type: ignore[attr-defined]


def test_upload_form_own_column_and_cover(server: tuple[str, str], tmp_path: Path) -> None:
    """Signed in as DEU: the aggregates table carries DEU's own tonnes beside each cell (the cobalt total: DEU's one
    generated cobalt row, shown to 0.1 t) next to the published ``:c`` marks; the cover section lists every
    mineral with its gap (the demo minerals have no refined-metal apparent consumption in the market tables). The
    upload form refuses a file with a negative quantity naming row 2 and the field, and stores nothing for the
    period; the good file (the template, period 2025-Q4) becomes version 1 with its log leaf index."""
    from playwright.sync_api import sync_playwright

    base, token = server
    auth = {"Authorization": f"Bearer {token}"}
    deu_cobalt = [float(str(r["quantity_gross_t"])) for _, r in ROWS["DEU"] if r["mineral"] == "cobalt"]
    template = (
        service.template("csv").decode().replace("2026-Q3", "2025-Q4")  # period of the file = the form's
    )
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(template, encoding="utf-8")
    bad.write_text(template.replace(",1200,", ",-5,"), encoding="utf-8")
    assert bad.read_text() != template
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        _login(page, base, token)
        page.goto(base + f"/stocks?period={PERIOD}")
        assert "Yours (DEU) t" in page.inner_text("#aggregates thead")
        cells = {(c[0], c[1], c[2]): c for c in _cells(page, "aggregates")}
        assert cells[("cobalt", "ALL", "ALL")][5] == f"{sum(deu_cobalt):,.1f}"
        assert cells[("tungsten", "ALL", "ALL")][3] == ":c"  # suppressed for everyone, the member included
        cover = {r[0]: r for r in _cells(page, "cover-table")}
        assert set(cover) == {"cobalt", "lithium", "nickel", "gallium", "germanium", "tungsten"}
        assert cover["cobalt"][5] == "—" and "no alliance apparent consumption" in cover["cobalt"][6]
        assert cover["tungsten"][1] == ":c"
        assert page.get_attribute("#template-csv", "href") == "/api/v1/stocks/template?format=csv"
        assert page.get_attribute("#template-xlsx", "href") == "/api/v1/stocks/template?format=xlsx"

        page.fill("#upload-period", "2025-Q4")
        page.set_input_files("#upload-file", str(bad))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-errors li")
        assert "row 2, field quantity_gross_t" in page.inner_text("#upload-errors")
        assert "nothing was stored" in page.inner_text("#upload-status")
        listed = httpx.get(base + "/api/v1/stocks/submissions", headers=auth, timeout=60).json()
        assert not [s for s in listed if s["period"] == "2025-Q4"]

        page.set_input_files("#upload-file", str(good))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#upload-status[data-version]")
        status = page.inner_text("#upload-status")
        assert "DEU 2025-Q4, version 1" in status and "log leaf index" in status
        listed = httpx.get(base + "/api/v1/stocks/submissions", headers=auth, timeout=60).json()
        assert [s["latest_version"] for s in listed if s["period"] == "2025-Q4"] == [1]
        assert not problems, problems
        browser.close()
