"""The registry explorer's screening section in Debian's Chromium: an auditor searches a lot and sees its TVPRA
hits with the list's edition; a lot with no listing says so. The lithium chain is registered with its cell plant
moved to China (a constructed variant), so CELL-X1 hits the TVPRA entry "Lithium-Ion Batteries, China" (listed as
derived from DRC cobalt: ilab_tvpra_list_goods_by_country.csv), while LC-S1 (a carbonate made in China from
Australian spodumene) hits nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server import running_server

from lodeline.server import create_app  # noqa: F401  (the composition root the server runs)
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("comply-explorer")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    chain = lithium_chain()
    chain.facilities["ce"].country = "CHN"
    capture_all(engine, chain, register(engine, chain))
    token = create_token(engine, "auditor-x", "auditor")[1]
    engine.dispose()
    env = {"LODELINE_DATA_DIR": str(tmp / "data"),
           "LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}  # fmt: skip
    try:
        with running_server(url, env=env) as base:
            yield base, token
    except RuntimeError as exc:
        pytest.fail(str(exc))


def test_screening_section_shows_hits_and_edition(server: tuple[str, str]) -> None:
    from playwright.sync_api import sync_playwright

    base, token = server
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = chromium.new_context(extra_http_headers={"Authorization": f"Bearer {token}"}).new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(base + "/registry?lot=CELL-X1")
        page.wait_for_function(
            "() => document.getElementById('screening-edition').textContent.includes('edition')",
            timeout=60_000,
        )
        assert "2022 (10th) edition" in page.inner_text("#screening-edition")
        rows = page.locator("#screening-table tbody tr").all_inner_texts()
        assert (
            len(rows) == 1 and "Lithium-Ion Batteries / CHN" in rows[0] and "derived from Congo" in rows[0]
        ), rows
        page.goto(base + "/registry?lot=LC-S1")
        page.wait_for_function(
            "() => document.querySelector('#screening-table tbody tr') !== null", timeout=60_000
        )
        assert (
            page.locator("#screening-table tbody tr")
            .all_inner_texts()[0]
            .startswith("no TVPRA listing applies")
        )
        assert not problems, problems
        chromium.close()
