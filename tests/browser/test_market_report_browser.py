"""The market report in Debian's Chromium: plotly.js unpacks from the page itself (no network), every figure is
drawn, a contents link scrolls to its section, and the page height is measured (61,016 px before issue 12 at
1280 px wide, one figure per row; the figures now sit two to a row)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lodeline.reports.market_report import write_market_report

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
HEIGHT_BEFORE = 61_016


@pytest.fixture(scope="module")
def page(built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    out = write_market_report(built_sqlite[1], tmp_path_factory.mktemp("report") / "report.html")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.goto(out.as_uri())
        page.wait_for_function("document.body.dataset.rendered", timeout=120_000)
        page.problems = problems  # type: ignore[attr-defined]
        yield page
        browser.close()


def test_every_figure_is_drawn_offline(page: object) -> None:
    assert page.evaluate("document.body.dataset.rendered") == "yes", page.problems  # type: ignore[attr-defined]
    figures = page.evaluate("document.querySelectorAll('figure.fig').length")  # type: ignore[attr-defined]
    drawn = page.evaluate("document.querySelectorAll('figure.fig.js-plotly-plot .main-svg').length > 0")  # type: ignore[attr-defined]
    plotted = page.evaluate("document.querySelectorAll('figure.fig.js-plotly-plot').length")  # type: ignore[attr-defined]
    assert figures > 100 and plotted == figures and drawn
    assert not page.problems  # type: ignore[attr-defined]


def test_a_contents_link_scrolls_to_its_section(page: object) -> None:
    link = page.locator("nav.toc a", has_text="Lithium").first  # type: ignore[attr-defined]
    link.click()
    top = page.evaluate("document.getElementById('s-lithium').getBoundingClientRect().top")  # type: ignore[attr-defined]
    assert 0 <= top < 50


def test_the_page_is_shorter_than_before(page: object) -> None:
    height = page.evaluate("document.documentElement.scrollHeight")  # type: ignore[attr-defined]
    print(f"report page height at 1280 px: {height} px (before: {HEIGHT_BEFORE} px)")
    assert height < 0.8 * HEIGHT_BEFORE
