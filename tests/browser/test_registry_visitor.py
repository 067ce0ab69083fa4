"""The Registry page as a visitor (no sign-in) in Debian's Chromium: it shows the registry's latest checkpoint as
stored (the signed note, tree size and root hash), the witness that cosigned it with its cosignature line, and
example lots — demonstration lots only (GS1 prefix 952), never a company's lot — each a link that asks the visitor
to sign in, as every lot does.

The store: the lithium test chain captured, one `lodeline witness serve` process that cosigns the checkpoint `lodeline trace checkpoint` issues. The
expected values come from the store and the witness's own key, not from the page's code. That a company's lot is
never offered is checked on both backends in tests/integration/test_registry_public_page.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from benchmarks.server import free_port, running_server
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.config import get_settings
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace import log
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
LODELINE = [
    sys.executable,
    "-c",
    "import sys; from lodeline.cli.main import main; sys.argv[0] = 'lodeline'; main()",
]


def _cli(env: dict[str, str], *args: str) -> str:
    saved = dict(os.environ)
    os.environ.update(env)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.stdout


@pytest.fixture(scope="module")
def visitor_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("registry-visitor")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    chain = lithium_chain()
    capture_all(engine, chain, register(engine, chain))
    engine.dispose()
    env = {"LODELINE_DATABASE_URL": url, "LODELINE_DATA_DIR": str(tmp / "data"),
           "LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_WITNESS_TIMEOUT": "20"}  # fmt: skip
    vkey = _cli(env, "trace", "vkey").strip()
    witness_dir = tmp / "witness"
    witness_vkey = _cli(
        env, "witness", "key", "--dir", str(witness_dir), "--name", "w1.example.org/witness"
    ).strip()
    origin = vkey.split("+", 1)[0]
    _cli(env, "witness", "add-log", "--dir", str(witness_dir), "--origin", origin, "--vkey", vkey)
    port = free_port()
    proc = subprocess.Popen(
        [*LODELINE, "witness", "serve", "--dir", str(witness_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base_w = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_w + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the witness did not start")
            time.sleep(0.2)
        _cli(env, "trace", "witness", "add", base_w, witness_vkey)
        _cli(env, "trace", "checkpoint")
        engine = make_engine(url)
        with engine.connect() as conn:
            cp = log.latest_checkpoint(conn)
        engine.dispose()
        assert cp is not None
        with running_server(url, env=env) as base:
            yield {"base": base, "checkpoint": cp, "witness_vkey": witness_vkey, "chain": chain}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture
def page(visitor_site: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.problems = problems  # type: ignore[attr-defined]
        page.goto(visitor_site["base"] + "/registry")
        yield page
        browser.close()


def test_a_visitor_sees_the_stored_checkpoint(page: Any, visitor_site: dict[str, Any]) -> None:
    cp = visitor_site["checkpoint"]
    assert page.inner_text("#cp-root") == cp.root_hash.hex()
    assert page.inner_text("#cp-size") == f"{cp.tree_size:,}"
    assert page.inner_text("#cp-origin") == cp.origin
    note = page.inner_text("#cp-note")
    assert note.startswith(cp.note.strip())  # the signed note itself, then the cosignature lines
    assert note.splitlines()[1] == str(cp.tree_size)  # C2SP checkpoint body: origin, size, root (base64)


def test_a_visitor_sees_the_witness_and_its_cosignature(page: Any, visitor_site: dict[str, Any]) -> None:
    row = page.locator("#witnesses-table tbody tr").first
    cells = row.locator("td").all_inner_texts()
    assert cells[0] == "w1.example.org/witness"
    assert cells[1] == visitor_site["witness_vkey"]
    assert cells[2].startswith("yes")
    assert cells[3] == f"{visitor_site['checkpoint'].tree_size:,}"
    assert "— w1.example.org/witness " in page.inner_text("#cp-note")  # its cosignature line, from the store


def test_a_visitor_gets_demonstration_lots_only_and_must_sign_in_to_open_one(
    page: Any, visitor_site: dict[str, Any]
) -> None:
    links = page.locator("#example-lots a")
    numbers = links.all_inner_texts()
    chain = visitor_site["chain"]
    assert numbers and set(numbers) <= {lot.rsplit(".", 1)[-1] for lot in chain.lots.values()}
    assert "CELL-X1" in numbers  # the end of the chain: nothing was made from it
    ids = page.locator("#example-lots code.lot-id").all_inner_texts()
    assert all(i.startswith("https://id.gs1.org/01/0952") for i in ids)
    links.filter(has_text="CELL-X1").click()
    page.wait_for_function("document.getElementById('registry-message').textContent.length > 0")
    assert page.url.endswith("CELL-X1")
    assert (
        "sign in" in page.inner_text("#registry-message").lower()
        or "authentic" in page.inner_text("#registry-message").lower()
    )
    assert page.locator("#registry-result").is_hidden()
    assert not page.problems  # type: ignore[attr-defined]
