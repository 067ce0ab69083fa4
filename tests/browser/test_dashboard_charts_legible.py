"""The dashboard's overview and mineral charts are legible, measured in Debian's Chromium (Playwright):

- the plotly mode bar, shown while the pointer is over a chart, intersects none of its labels (colour-bar title,
  Sankey node labels, axis titles and tick labels): ``getBoundingClientRect`` of each against the mode bar's;
- the Sankey's node labels do not overlap one another (pairwise bounding boxes);
- on the share map the smallest non-zero share is drawn in another colour than a country without data (the fill
  of that country's path against the fill of the land layer, which is what a country without data shows), and a
  legend names the no-data colour;
- axis labels are not cut: every tick label of the overview bar chart lies inside its SVG.

The store is the one built from the bundled data; which country has the smallest share is read from the chart's
own data (plotly binds each map path to its location and value), not assumed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")

CHARTS_DONE = (
    "() => Array.from(document.querySelectorAll('.plot[data-chart]'))"
    ".every(e => e.dataset.rendered && e.dataset.rendered !== 'loading')"
)
BOXES = """(sel) => Array.from(document.querySelectorAll(sel)).map(e => {
  const r = e.getBoundingClientRect(); return {x: r.left, y: r.top, w: r.width, h: r.height, text: e.textContent};
}).filter(b => b.w > 0 && b.h > 0)"""


def _overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["x"] < b["x"] + b["w"] - 0.5
        and b["x"] < a["x"] + a["w"] - 0.5
        and a["y"] < b["y"] + b["h"] - 0.5
        and b["y"] < a["y"] + a["h"] - 0.5
    )


@pytest.fixture(scope="module")
def server(built_sqlite: tuple[str, Engine]) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    env = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0"}
    with running_server(built_sqlite[0], env=env, ready_path="/ready") as base:
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    yield page
    context.close()


def _open(page: Any, server: str, path: str) -> None:
    page.goto(server + path)
    page.wait_for_function(CHARTS_DONE, timeout=60_000)


def _mode_bar_clear_of(page: Any, chart: str, labels: str) -> list[str]:
    """Hover the chart, then name every label its mode bar covers."""
    page.locator(chart).scroll_into_view_if_needed()
    page.locator(chart).hover(position={"x": 200, "y": 200})
    page.wait_for_function(
        "(sel) => { const m = document.querySelector(sel + ' .modebar');"
        " return m && getComputedStyle(m).opacity === '1'; }",
        arg=chart,
    )
    bar = page.evaluate(BOXES, f"{chart} .modebar")
    assert len(bar) == 1, bar
    found = page.evaluate(BOXES, f"{chart} {labels}")
    assert found, f"no labels matched {labels}"
    return [b["text"] for b in found if _overlap(bar[0], b)]


def test_mode_bar_covers_no_label(page: Any, server: str) -> None:
    _open(page, server, "/minerals/lithium")
    assert _mode_bar_clear_of(page, "#map", ".cbtitle text, .colorbar .tick text") == []
    assert _mode_bar_clear_of(page, "#sankey", ".node-label") == []
    _open(page, server, "/minerals/copper")  # lithium has no price series in the bundled sources
    assert _mode_bar_clear_of(page, "#prices", ".xtick text, .ytick text, .g-ytitle text, .legendtext") == []
    _open(page, server, "/")
    assert (
        _mode_bar_clear_of(
            page, ".plot[data-chart=overview-bars]", ".ytick text, .xtick text, .g-xtitle text"
        )
        == []
    )
    assert not page.problems


def test_sankey_labels_do_not_overlap(page: Any, server: str) -> None:
    _open(page, server, "/minerals/lithium")
    labels = page.evaluate(BOXES, "#sankey .node-label")
    assert len(labels) >= 10  # origins and importers: the chart that overlapped before
    clashes = [
        (a["text"], b["text"]) for i, a in enumerate(labels) for b in labels[i + 1 :] if _overlap(a, b)
    ]
    assert clashes == []


def test_a_low_share_is_not_drawn_in_the_no_data_colour(page: Any, server: str) -> None:
    _open(page, server, "/minerals/lithium")
    fills = page.evaluate(
        """() => Array.from(document.querySelectorAll('#map .choroplethlocation'))
             .map(p => ({loc: p.__data__.loc, z: p.__data__.z, fill: getComputedStyle(p).fill}))"""
    )
    no_data = page.evaluate("() => getComputedStyle(document.querySelector('#map .layer.land path')).fill")
    smallest = min((f for f in fills if f["z"] > 0), key=lambda f: f["z"])
    assert smallest["z"] < 1.0, smallest  # a share below 1 % exists: the case that looked like no data
    assert smallest["fill"] != no_data, (smallest, no_data)
    assert all(f["fill"] != no_data for f in fills)

    # The two colours are far apart, not one shade apart: at least 40 in one RGB channel.
    def rgb(text: str) -> list[int]:
        return [int(v) for v in text[text.index("(") + 1 : text.index(")")].split(",")]

    assert max(abs(a - b) for a, b in zip(rgb(smallest["fill"]), rgb(no_data), strict=True)) >= 40
    legend = page.locator('.map-legend[data-legend-for="map"]')
    assert "no data" in legend.inner_text()
    swatch = page.evaluate("() => getComputedStyle(document.querySelector('.swatch-nodata')).backgroundColor")
    assert swatch == no_data


def test_axis_labels_are_not_cut(page: Any, server: str) -> None:
    _open(page, server, "/")
    chart = ".plot[data-chart=overview-bars]"
    svg = page.evaluate(BOXES, f"{chart} svg.main-svg")[0]
    ticks = page.evaluate(BOXES, f"{chart} .ytick text")
    assert len(ticks) > 10
    outside = [
        t["text"] for t in ticks if t["x"] < svg["x"] - 0.5 or t["x"] + t["w"] > svg["x"] + svg["w"] + 0.5
    ]
    assert outside == []


def test_charts_and_tables_format_numbers_alike(page: Any, server: str) -> None:
    """format.js writes a share, tonnes and an HHI as the pages' tables do (web/pages.py: `percent`, `number`):
    the overview table's cells for the first mineral, formatted again in the browser from the API's raw values,
    read the same; and the bar chart's hover text carries that same share."""
    _open(page, server, "/")
    api = page.evaluate(
        "() => fetch(document.querySelector('.plot[data-chart=overview-bars]').dataset.src,"
        " {headers: {Accept: 'application/json'}}).then(r => r.json())"
    )
    first = api["data"][0]
    row = page.locator("table.data tbody tr").first.locator("td").all_inner_texts()
    # columns after the mineral's name: stages, stage-year, HHI, top supplier, top share, dependency, HHI change
    assert row[2] == page.evaluate("(v) => window.LodelineFormat.hhi(v)", first["hhi"])
    assert row[4] == page.evaluate("(v) => window.LodelineFormat.share(v)", first["top1_share"])
    assert page.evaluate("() => window.LodelineFormat.tonnes(1234567.4)") == "1,234,567 t"
    assert page.evaluate("() => window.LodelineFormat.share(0.0004)") == "0.0%"
    assert page.evaluate("() => window.LodelineFormat.share(null)") == "—"
    bars = page.evaluate("() => document.querySelector('.plot[data-chart=overview-bars]').data[0].text")
    with_dependency = [r for r in api["data"] if r["alliance_dependency"] is not None]
    expected = {
        page.evaluate("(v) => window.LodelineFormat.share(v)", r["alliance_dependency"])
        for r in with_dependency
    }
    assert {t.split(" from ")[0] for t in bars} == expected
