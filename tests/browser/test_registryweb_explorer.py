"""The registry explorer in Debian's Chromium (Playwright, headless): an auditor searches a lot, sees its origin
shares and upstream graph drawn, and every event's inclusion proof verifies in the browser (Web Crypto) against
the published checkpoint — with no console or CSP error. A participant sees another participant's lot refused,
and on its own lots other parties' events as custody facts only (still verified) and upstream facilities and
lots it never dealt with without their identities — in the page and in everything the page downloaded."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server import running_server

from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """uvicorn on a free loopback port over a SQLite store holding the captured lithium test chain."""
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("registry-explorer")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    chain = lithium_chain()
    capture_all(engine, chain, register(engine, chain))
    tokens = {
        "auditor": create_token(engine, "auditor-x", "auditor")[1],
        "pilbara": create_token(engine, "pilbara-x", "participant", "pilbara-miner")[1],
        "ulsan": create_token(engine, "ulsan-x", "participant", "ulsan-cathode")[1],
    }
    engine.dispose()
    env = {"LODELINE_DATA_DIR": str(tmp / "data"),
           "LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}  # fmt: skip
    try:
        with running_server(url, env=env) as base:
            yield base, tokens
    except RuntimeError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser(registry_server: tuple[str, dict[str, str]]) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _page(browser: object, token: str) -> object:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 1280, "height": 900}, extra_http_headers={"Authorization": f"Bearer {token}"}
    )
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    return page


def _wait_until_checked(page: object) -> None:
    """Until the explorer has finished checking the signature and every proof (either way)."""
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => ['verified', 'failed'].includes(document.getElementById('proof-status').dataset.state)",
        timeout=60_000,
    )


def test_search_lot_shows_origin_and_verifies_proofs(registry_server, browser) -> None:
    base, tokens = registry_server
    page = _page(browser, tokens["auditor"])
    page.goto(base + "/registry")  # type: ignore[attr-defined]
    page.fill("#lot-input", "LC-S1")  # type: ignore[attr-defined]
    page.click("#lot-search button[type=submit]")  # type: ignore[attr-defined]
    _wait_until_checked(page)
    assert page.inner_text("#proof-status") == "verified"  # type: ignore[attr-defined]
    assert page.inner_text("#signature-status") == "verified"  # type: ignore[attr-defined]
    cells = page.locator("#events-table tbody tr td:last-child").all_inner_texts()  # type: ignore[attr-defined]
    assert cells and all(c == "verified" for c in cells), cells
    assert page.inner_text("#lot-title").endswith("/10/LC-S1")  # type: ignore[attr-defined]
    assert "AUS" in page.inner_text("#origin-table")  # type: ignore[attr-defined]
    assert page.locator("#origin-chart svg .bars path").count() >= 1  # type: ignore[attr-defined]
    assert page.locator("#upstream-chart svg .sankey-link").count() >= 2  # type: ignore[attr-defined]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-registry.png"), full_page=True)  # type: ignore[attr-defined]
    assert not page.problems, page.problems  # type: ignore[attr-defined]


def test_tampered_proof_is_not_verified(registry_server, browser) -> None:
    """The browser check can fail: a proof whose path was altered in transit is shown as not verified."""
    base, tokens = registry_server
    page = _page(browser, tokens["auditor"])

    def tamper(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        body = response.json()
        body["inclusion_path"][0] = body["leaf_hash"]  # a well-formed hash, but the wrong one
        route.fulfill(response=response, json=body)  # type: ignore[attr-defined]

    page.route("**/api/v1/registry/proofs/inclusion*", tamper)  # type: ignore[attr-defined]
    page.goto(base + "/registry?lot=LC-S1")  # type: ignore[attr-defined]
    _wait_until_checked(page)
    assert page.inner_text("#proof-status") == "not verified"  # type: ignore[attr-defined]


def test_forged_checkpoint_signature_is_not_verified(registry_server, browser) -> None:
    """A checkpoint whose signature does not verify with the page's key fails the whole check, even though every
    inclusion proof still reaches its root (a server could serve a root nobody signed)."""
    base, tokens = registry_server
    page = _page(browser, tokens["auditor"])

    def forge(route: object) -> None:
        response = route.fetch()  # type: ignore[attr-defined]
        note = response.text()
        head, _, sig_line = note.rstrip("\n").rpartition("\n")
        prefix, blob = sig_line.rsplit(" ", 1)
        raw = bytearray(base64.b64decode(blob))
        raw[10] ^= 0x01  # one bit of the Ed25519 signature
        forged = f"{head}\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n"
        route.fulfill(response=response, body=forged)  # type: ignore[attr-defined]

    page.route("**/api/v1/registry/checkpoint", forge)  # type: ignore[attr-defined]
    page.goto(base + "/registry?lot=LC-S1")  # type: ignore[attr-defined]
    _wait_until_checked(page)
    assert page.inner_text("#signature-status") == "NOT verified"  # type: ignore[attr-defined]
    assert page.inner_text("#proof-status") == "not verified"  # type: ignore[attr-defined]
    cells = page.locator("#events-table tbody tr td:last-child").all_inner_texts()  # type: ignore[attr-defined]
    assert cells and all(c == "verified" for c in cells), cells  # the paths themselves are fine


def test_participant_cannot_open_another_participants_lot(registry_server, browser) -> None:
    base, tokens = registry_server
    page = _page(browser, tokens["pilbara"])
    # the full identifier (as on shipping papers, under the converter's company prefix) of its lot: refused
    page.goto(base + "/registry?lot=" + lithium_chain().lots["LC-S1"])  # type: ignore[attr-defined]
    page.wait_for_function(
        "() => document.getElementById('registry-message').textContent.startsWith('Error')"
    )  # type: ignore[attr-defined]
    assert "may not" in page.inner_text("#registry-message")  # type: ignore[attr-defined]
    assert page.locator("#registry-result").is_hidden()  # type: ignore[attr-defined]
    # a bare lot number is looked up among the participant's own lots: not found, nothing else named
    page.fill("#lot-input", "S1")  # type: ignore[attr-defined]
    page.click("#lot-search button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.getElementById('registry-message').textContent.includes(\"'S1'\")")  # type: ignore[attr-defined]
    message = page.inner_text("#registry-message")  # type: ignore[attr-defined]
    assert "no lot 'S1' visible" in message and "LC-S1" not in message and "LH-S1" not in message


#: What the cathode maker (ulsan-cathode) must not learn through its own lot CAM-U1: the lots upstream of its
#: suppliers' lots, the mines and miners, and the cell maker's output lot made from CAM-U1.
NOT_FOR_ULSAN = ["SC6-P1", "SC6-Y1", "LC-S1", "BM-R1", "CELL-X1", "Pilbara", "Yilgarn", "pilbara-miner",
                 "yilgarn-miner", "9521234000013", "9521234000020"]  # fmt: skip


def test_participant_sees_custody_facts_and_no_identities_it_never_dealt_with(
    registry_server, browser
) -> None:
    base, tokens = registry_server
    page = _page(browser, tokens["ulsan"])
    bodies: list[str] = []
    page.on(  # type: ignore[attr-defined]
        "response", lambda r: bodies.append(r.text()) if "/api/v1/registry/" in r.url and r.ok else None
    )
    page.goto(base + "/registry")  # type: ignore[attr-defined]
    page.fill("#lot-input", "CAM-U1")  # type: ignore[attr-defined]
    page.select_option("#by-select", "facility")  # type: ignore[attr-defined]
    page.click("#lot-search button[type=submit]")  # type: ignore[attr-defined]
    _wait_until_checked(page)
    # every event verifies, the other parties' ones too: hash ID and leaf are enough
    assert page.inner_text("#proof-status") == "verified"  # type: ignore[attr-defined]
    seen = page.locator("#events-table tbody td.visibility").all_inner_texts()  # type: ignore[attr-defined]
    assert seen == ["full event", "full event", "custody facts only", "custody facts only"], seen
    origin = page.inner_text("#origin-table")  # type: ignore[attr-defined]
    assert "undisclosed mine (AUS)" in origin and "Rhine recycling plant (DEU)" in origin
    assert page.locator("#upstream-chart svg .sankey-link").count() >= 4  # type: ignore[attr-defined]
    labels = page.locator("#upstream-chart svg .sankey-node text").all_text_contents()  # type: ignore[attr-defined]
    assert any(t.startswith("upstream lot ") for t in labels), labels
    html = page.content()  # type: ignore[attr-defined]
    assert bodies and not [s for s in NOT_FOR_ULSAN if s in html or any(s in b for b in bodies)]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-registry-participant.png"), full_page=True)  # type: ignore[attr-defined]
    assert not page.problems, page.problems  # type: ignore[attr-defined]
