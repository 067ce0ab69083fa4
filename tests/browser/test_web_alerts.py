"""The Alerts page in Debian's Chromium (Playwright, headless) on the built store: the heat strip has one cell per
mineral with its level as the scan gives it (gallium `alert` on 2023-08-15: the 2023 licensing took effect on
2023-08-01 and China refined 97 % of it in 2021), the explanation names the measure, the indicator charts and the backtest
chart are drawn (episodes as shaded bands), nothing is fetched from outside and no script or CSP error occurs."""

from __future__ import annotations

import datetime as dt

import pytest
from browser_env import ARGS, CHROMIUM, built_store_server
from sqlalchemy import Engine

from lodeline.services import alerts as service

pytestmark = pytest.mark.browser
server = built_store_server


def test_alerts_page(server: str, built_sqlite: tuple[str, Engine]) -> None:
    from playwright.sync_api import sync_playwright

    day = dt.date(2023, 8, 15)
    expected = {a.mineral: a.level.value for a in service.scan(built_sqlite[1], day)}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        outside: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server) else outside.append(r.url))
        response = page.goto(server + "/alerts?as_of=2023-08-15&mineral=gallium", timeout=120_000)
        assert response is not None and response.status == 200
        cells = page.locator("#heat-strip li")
        shown = {
            cells.nth(i).inner_text().strip(): cells.nth(i).get_attribute("data-level")
            for i in range(cells.count())
        }
        assert shown == expected
        assert shown["gallium"] == "alert"
        assert "ctl-cn-gage-2023-export-licensing" in page.inner_text("#explanation")
        page.wait_for_function("() => document.getElementById('backtest-chart').dataset.drawn === 'true'")
        assert page.locator("#backtest-chart svg .shapelayer path").count() >= 1  # the 2023 episode band
        page.wait_for_function(
            "() => document.querySelectorAll('.indicator-chart[data-drawn=true]').length > 0"
        )
        assert page.locator(".indicator-chart").count() >= 1
        assert page.locator("#episodes tbody tr").count() == 10
        bad = page.goto(server + "/alerts?as_of=yesterday")
        assert bad is not None and bad.status == 200 and "YYYY-MM-DD" in page.inner_text("#alerts-error")
        assert not outside, outside
        assert not problems, problems
        browser.close()
