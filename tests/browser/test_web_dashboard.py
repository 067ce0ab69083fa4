"""The dashboard in Debian's Chromium (Playwright, headless): every page renders data-driven SVG charts,
the year and mineral can be changed, a CSV downloads, no CSP violation or script error occurs, and the
first page stays under 300 KB before the charts. Screenshots go to test-artifacts/."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS_DONE = (
    "() => Array.from(document.querySelectorAll('.plot[data-chart]'))"
    ".every(e => e.dataset.rendered && e.dataset.rendered !== 'loading')"
)


@pytest.fixture(scope="module")
def server(built_sqlite: tuple[str, Engine]) -> Iterator[str]:
    """uvicorn on a free loopback port, serving the store built from the bundled data."""
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail(
                "LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing (apt-get install chromium)"
            )
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    url = built_sqlite[0]
    try:
        with running_server(
            url, env={"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0"}, ready_path="/ready"
        ) as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems  # type: ignore[attr-defined]
    yield page
    context.close()


def _marks(page: object, selector: str) -> int:
    """Data-driven SVG marks inside a chart: choropleth/bar/line paths, sankey links, bar rects."""
    return int(
        page.eval_on_selector(  # type: ignore[attr-defined]
            selector,
            "el => el.querySelectorAll('svg .choroplethlocation, svg .point, svg .sankey-link, svg .js-line, "
            "svg .trace path, svg .bars path').length",
        )
    )


def _open(page: object, url: str) -> None:
    page.goto(url)  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DONE, timeout=60_000)  # type: ignore[attr-defined]


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_overview_page(server: str, page: object) -> None:
    _open(page, server + "/")
    assert page.eval_on_selector(".plot[data-chart]", "e => e.dataset.rendered") == "true"  # type: ignore[attr-defined]
    assert _marks(page, '[data-chart="overview-bars"]') >= 5
    rows = page.locator("table.data tbody tr")  # type: ignore[attr-defined]
    assert rows.count() >= 10
    assert "Source:" in page.inner_text('[data-source-for="overview-bars"]')  # type: ignore[attr-defined]
    _shot(page, "overview")
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_first_page_is_light(server: str) -> None:
    """HTML + CSS + JS before the charts (plotly.js is deferred and loaded for the charts) < 300 KB."""
    html = httpx.get(server + "/")
    assets = [
        "/static/css/app.css",
        "/static/vendor/htmx/htmx.min.js",
        "/static/js/app.js",
        "/static/js/charts.js",
    ]
    total = len(html.content) + sum(len(httpx.get(server + a).content) for a in assets)
    assert total < 300_000, total
    assert "<script>" not in html.text and "onclick" not in html.text  # CSP: no inline scripts


def test_mineral_page_year_and_mineral_change_and_csv(server: str, page: object) -> None:
    _open(page, server + "/minerals/lithium")
    for chart in ("choropleth", "concentration", "sankey"):
        assert _marks(page, f'[data-chart="{chart}"]') > 0, chart
    countries = _marks(page, "#map")
    assert countries >= 3
    _shot(page, "mineral-lithium")

    years = page.eval_on_selector_all("#year-select option", "os => os.map(o => o.value)")  # type: ignore[attr-defined]
    assert len(years) >= 2
    page.select_option("#year-select", years[-1])  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DONE)  # type: ignore[attr-defined]
    page.wait_for_function(
        f"() => document.querySelector('#shares-table caption').textContent.includes('{years[-1]}')"
    )  # type: ignore[attr-defined]
    assert f"year={years[-1]}" in page.get_attribute("#map-csv", "href")  # type: ignore[attr-defined]
    assert _marks(page, "#map") > 0
    assert f"year={years[-1]}" in page.url  # type: ignore[attr-defined]

    with page.expect_download() as download_info:  # type: ignore[attr-defined]
        page.click("#map-csv")  # type: ignore[attr-defined]
    path = download_info.value.path()
    text = Path(path).read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("mineral,stage,year,country") and f",{years[-1]}," in text

    # the mineral picker is a plain GET form (keyboard arrows in a select must not navigate away)
    page.select_option("#mineral-select", "rare-earths")  # type: ignore[attr-defined]
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click("#mineral-picker button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DONE, timeout=60_000)  # type: ignore[attr-defined]
    assert page.url.endswith("/minerals/rare-earths")  # type: ignore[attr-defined]
    assert page.inner_text("h1") == "Rare earths"  # type: ignore[attr-defined]
    assert _marks(page, "#map") > 0
    _shot(page, "mineral-rare-earths")
    assert not [p for p in page.problems if "404" not in p], page.problems  # type: ignore[attr-defined]


def test_prices_chart(server: str, page: object) -> None:
    _open(page, server + "/minerals/copper")
    assert _marks(page, '[data-chart="prices"]') > 0
    assert "Source:" in page.inner_text('[data-source-for="prices"]')  # type: ignore[attr-defined]


def test_targets_page(server: str, page: object) -> None:
    """The chart draws the misses with the 60 % and 50 % lines (and 65 % for the EU27); the selector switches."""
    _open(page, server + "/targets")
    page.wait_for_selector('#targets-chart[data-rendered="true"]', timeout=60_000)  # type: ignore[attr-defined]
    assert _marks(page, "[data-targets-chart]") > 0
    chart = page.locator("#targets-chart")  # type: ignore[attr-defined]
    assert chart.get_attribute("data-lines") == "2"
    labels = chart.text_content()
    assert "60% test" in labels and "50% ambition" in labels and "65% CRMA" not in labels
    table = page.inner_text("table.data")  # type: ignore[attr-defined]
    assert "Rare earths" in table and "G7 target" in table and "comparison only" in table
    _shot(page, "targets")
    chart.screenshot(path=str(ARTIFACTS / "web-targets-chart.png"))
    page.fill("#alliance-input", "EU27")  # type: ignore[attr-defined]
    page.click("#alliance-picker button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**/targets?alliance=EU27")  # type: ignore[attr-defined]
    page.wait_for_selector('#targets-chart[data-rendered="true"]')  # type: ignore[attr-defined]
    assert chart.get_attribute("data-lines") == "3" and "65% CRMA" in chart.text_content()
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_keyboard_and_phone(server: str, browser: object) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)  # type: ignore[attr-defined]
    page = context.new_page()
    _open(page, server + "/minerals/lithium")
    # nothing overflows the phone's width except inside scrollable tables
    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    labels = page.eval_on_selector_all(
        "select", 'ss => ss.map(s => !!document.querySelector(`label[for="${s.id}"]`))'
    )
    assert labels and all(labels)
    _shot(page, "phone-lithium")
    context.close()


def test_unknown_mineral_page_is_a_404_with_suggestions(server: str, page: object) -> None:
    response = page.goto(server + "/minerals/lithum")  # type: ignore[attr-defined]
    assert response.status == 404
    assert "lithium" in page.inner_text("main")  # type: ignore[attr-defined]


def test_api_docs_render_without_cdn(server: str, page: object) -> None:
    external: list[str] = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(server) else None)  # type: ignore[attr-defined]
    page.goto(server + "/docs")  # type: ignore[attr-defined]
    page.wait_for_selector(".opblock", timeout=30_000)  # type: ignore[attr-defined]
    assert not external, external
    # the OpenAPI document declares its security schemes, so Swagger UI offers "Authorize" and marks the
    # operations that need a signed-in caller with a lock
    page.click(".btn.authorize")  # type: ignore[attr-defined]
    dialog = page.inner_text(".modal-ux")  # type: ignore[attr-defined]
    assert "bearerAuth" in dialog and "sessionCookie" in dialog
    assert page.locator(".opblock .authorization__btn").count() >= 5  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def signin_server(
    built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """A server over a copy of the built store (the shared one is never written) with a member's token."""
    source = built_sqlite[0].removeprefix("sqlite:///")
    copy = tmp_path_factory.mktemp("signin") / "store.sqlite"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # a consistent snapshot through SQLite's own backup API
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    token = create_token(engine, "deu-analyst", "member", "DEU")[1]
    engine.dispose()
    env = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_DATA_DIR": str(copy.parent / "data")}
    try:
        with running_server(url, env=env, ready_path="/ready") as base:
            yield base, token
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_sign_in_and_out_on_loopback_http(signin_server: tuple[str, str], browser: object) -> None:
    """Chromium keeps ``__Host-`` (Secure) cookies on http://127.0.0.1: loopback counts as a secure context."""
    base, token = signin_server
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))

    def cookies() -> dict[str, dict[str, object]]:
        return {c["name"]: c for c in context.cookies()}

    page.goto(base + "/login")
    login_cookie = cookies()["__Host-lodeline_login"]
    assert login_cookie["secure"] and login_cookie["httpOnly"] and login_cookie["path"] == "/"
    assert login_cookie["sameSite"] == "Strict"
    page.fill("#token", "ll_000000000000_wrong")
    page.click("form[action='/login'] button[type=submit]")
    assert "unknown or revoked" in page.inner_text("main")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")
    assert page.url == base + "/"
    assert "Sign out deu-analyst (member)" in page.inner_text("header")
    jar = cookies()
    session = jar["__Host-lodeline_session"]
    assert (
        session["secure"]
        and session["httpOnly"]
        and session["path"] == "/"
        and session["sameSite"] == "Strict"
    )
    assert (
        session["domain"] == "127.0.0.1" and "__Host-lodeline_login" not in jar
    )  # host-only; pre-session gone
    assert page.evaluate("fetch('/api/v1/me').then(r => r.json()).then(b => b.name)") == "deu-analyst"
    write = (
        "h => fetch('/api/v1/submissions', {method: 'POST', headers: {'content-type': 'application/json', ...h},"
        " body: JSON.stringify({mineral: 'REE', year: 2025, metric: 'stockpile_t', value: 1, unit: 't'})})"
        ".then(r => r.status)"
    )
    assert page.evaluate(write, {}) == 403  # a session write needs the CSRF token …
    csrf = page.get_attribute('meta[name="csrf-token"]', "content")
    assert page.evaluate(write, {"X-CSRF-Token": csrf}) == 201  # … which the page carries
    with page.expect_navigation():
        page.click("header form[action='/logout'] button")
    assert "Sign in" in page.inner_text("header") and "__Host-lodeline_session" not in cookies()
    assert page.evaluate("fetch('/api/v1/me').then(r => r.status)") == 401
    assert not [p for p in problems if "401" not in p and "403" not in p], problems
    context.close()


def test_concentration_over_time_is_the_stitched_trend(server: str, page: object) -> None:
    """Copper refining: ten years with a figure (BGS 2000, 2005, 2010, 2015, 2020–2022 from the raw CSV; USGS MCS
    2023–2025), 2001–2004 drawn as gaps (null, never interpolated), a marker shape per source, and a break line
    whose hover names the change of source. Picking another stage redraws the trend for that stage."""
    _open(page, server + "/minerals/copper?stage=refining")
    chart = "#concentration"
    hhi = page.eval_on_selector(
        chart, "el => ({x: el.data[0].x, y: el.data[0].y, s: el.data[0].marker.symbol})"
    )  # type: ignore[attr-defined]
    years = [x for x, y in zip(hhi["x"], hhi["y"], strict=True) if y is not None]
    assert years == [2000, 2005, 2010, 2015, 2020, 2021, 2022, 2023, 2024, 2025]
    assert all(y is None for x, y in zip(hhi["x"], hhi["y"], strict=True) if 2001 <= x <= 2004)
    symbols = dict(zip(hhi["x"], hhi["s"], strict=True))
    assert len({symbols[2000], symbols[2023], symbols[2025]}) == 3  # BGS, MCS 2025, MCS 2026
    breaks = page.eval_on_selector(  # type: ignore[attr-defined]
        chart, "el => el.data.filter(t => t.name === 'source change').map(t => [t.x[0], t.text[0]])"
    )
    assert [b[0] for b in breaks] == [2022.5, 2023.5]
    assert breaks[0][1].startswith("source changes: bgs_refined_shares → usgs_mcs2025")
    assert "Source:" in page.inner_text('[data-source-for="concentration"]')  # type: ignore[attr-defined]
    assert _marks(page, chart) >= 10
    page.select_option("#stage-select", "mining")  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DONE)  # type: ignore[attr-defined]
    page.wait_for_function(
        "() => document.getElementById('concentration').dataset.src.includes('stage=mining')"
    )  # type: ignore[attr-defined]
    page.wait_for_function(CHARTS_DONE)  # type: ignore[attr-defined]
    assert "stage=mining" in page.get_attribute("#concentration-csv", "href")  # type: ignore[attr-defined]
    assert page.inner_text("#concentration-stage") == "mining"  # type: ignore[attr-defined]
    _shot(page, "trend-copper")
    assert not [p for p in page.problems if "404" not in p], page.problems  # type: ignore[attr-defined]
