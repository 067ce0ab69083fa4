"""The Risk page in Debian's Chromium (Playwright, headless): the SR-vs-EI chart is drawn with every material's
label and no two drawn labels overlap (measured in the browser, not estimated), the thresholds are there, the
tornado is drawn with a menu of every material, the deviations and the official-list comparison are listed
beside the chart, nothing is fetched from outside the server and no script or CSP error occurs."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
DRAWN = "() => ['criticality', 'tornado'].every(id => document.getElementById(id)?.dataset.drawn === 'true')"
#: Boxes of the chart's annotations as drawn, in page pixels.
LABEL_BOXES = """() => Array.from(document.querySelectorAll('#criticality g.annotation')).map(g => {
  const r = g.querySelector('.bg').getBoundingClientRect();
  return {text: g.querySelector('.annotation-text').textContent, x0: r.left, y0: r.top, x1: r.right, y1: r.bottom};
})"""
NOT_POINT_LABELS = ("SR = 1", "EI = 2.8", "EI n/a (not bundled)")


@pytest.fixture(scope="module")
def server(built_sqlite: tuple[str, Engine]) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    try:
        with running_server(
            built_sqlite[0], env={"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0"}, ready_path="/ready"
        ) as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_risk_page_chart_tornado_and_deviations(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))
        response = page.goto(server + "/risk", timeout=120_000)
        assert response is not None and response.status == 200, page.content()[:2000]
        page.wait_for_function(DRAWN, timeout=60_000)

        assert page.locator("#criticality svg .scatterlayer .point").count() == 54
        boxes = page.evaluate(LABEL_BOXES)
        texts = [b["text"] for b in boxes]
        assert "SR = 1" in texts and "EI = 2.8" in texts
        labels = [
            b for b in boxes if b["text"] not in NOT_POINT_LABELS and not b["text"].startswith("Source")
        ]
        assert len(labels) == 54 and "Gallium" in texts
        overlapping = [
            (a["text"], b["text"])
            for a, b in itertools.combinations(labels, 2)
            if a["x0"] < b["x1"] and b["x0"] < a["x1"] and a["y0"] < b["y1"] and b["y0"] < a["y1"]
        ]
        assert not overlapping, overlapping

        assert page.locator("#tornado svg .barlayer .point").count() >= 4
        assert (page.locator("#tornado .gtitle").text_content() or "").startswith("Supply-risk tornado:")
        # The menu lists every material with an SR (54), the first one drawn.
        page.click("#tornado .updatemenu-header-group")
        buttons = page.locator("#tornado .updatemenu-dropdown-button")
        assert buttons.count() == 54
        first = buttons.nth(0).text_content() or ""
        assert first and first in (page.locator("#tornado .gtitle").text_content() or "")
        page.click("#tornado .updatemenu-header-group")  # close the menu again

        assert "49 agree" in page.inner_text("#agreement")
        assert page.locator("#deviation-list dt").count() >= 8
        assert "Copper" in page.inner_text("#disagreements")
        aside, chart = page.locator("#deviations").bounding_box(), page.locator("#criticality").bounding_box()
        assert (
            aside is not None and chart is not None and aside["x"] >= chart["x"] + chart["width"]
        )  # beside it
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "web-risk.png"), full_page=True)
        assert not outside, outside
        assert not problems, problems
        browser.close()
