"""The Targets page's 2030 outlook section in Debian's Chromium (Playwright, headless), on the built SQLite store:
one row per mineral × stage the IEA projects, the rare-earth refining row with China's base-year share
(73.75667 / 80.80513 kt = 91.3 %, IEA May 2025), a band whose low end is at most its high end, probabilities in
[0, 1], the count of projects counted out of those found; and the same figures as ``GET /api/v1/outlook`` gives for
rare-earth refining with the page's draws and seed. No script error and nothing fetched from outside the server."""

from __future__ import annotations

import httpx
import pytest
from browser_env import ARGS, CHROMIUM, built_store_server

from lodeline.services.outlook import PAGE_DRAWS

pytestmark = pytest.mark.browser
server = built_store_server


def _pct(text: str) -> float:
    return float(text.strip().rstrip("%").split()[-1]) / 100


def test_targets_page_shows_the_2030_outlook(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        outside: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))
        page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 500 else None)
        response = page.goto(server + "/targets", timeout=120_000)
        assert response is not None and response.status == 200
        assert "The 2030 outlook" in page.inner_text("#outlook-heading")
        rows = page.locator("#outlook tbody tr")
        assert rows.count() == 12
        cells = {}
        for i in range(rows.count()):
            row = rows.nth(i)
            name = row.locator("th").inner_text()
            tds = row.locator("td").all_inner_texts()
            cells[(name, tds[0])] = tds
            median, band = tds[4].split(" (")
            low, high = band.rstrip(")").split("–")
            assert _pct(low) <= _pct(median) <= _pct(high)
            assert 0 <= float(tds[5]) <= 1 and 0 <= float(tds[6]) <= 1
            counted, found = tds[7].split(" of ")
            assert 0 <= int(counted) <= int(found)
        ree = next(v for (name, stage), v in cells.items() if stage == "refining" and "are earth" in name)
        assert ree[2] == "CHN 91.3%"
        api = httpx.get(
            server + "/api/v1/outlook",
            params={"mineral": "rare-earths", "stage": "refining", "draws": PAGE_DRAWS, "seed": 0},
            timeout=120,
        ).json()["data"][0]
        assert ree[5] == f"{api['p_below_60']:.2f}" and ree[6] == f"{api['p_below_50']:.2f}"
        assert ree[7] == f"{api['pipeline_counted']} of {api['pipeline_projects']}"
        assert not outside, outside
        assert not problems, problems
        browser.close()
