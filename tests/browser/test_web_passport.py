"""The registry explorer's passport section in Debian's Chromium (headless): a visitor searching the lithium chain's
cathode lot sees its passport's materials provenance (AUS/DEU shares as issued) and, after "Verify", every check
passing; a passport whose stored copy was edited afterwards (a share changed in the database) is shown INVALID
naming the credential signature and the shares. No script error."""

from __future__ import annotations

import copy
import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from benchmarks.server import running_server
from sqlalchemy import insert

from lodeline.services import passports as service
from lodeline.store import passports as db
from lodeline.store.engine import make_engine, upgrade
from passport_helpers import lithium_registry  # tests/passport_helpers.py

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")


def _open(base: str, p: Any) -> Any:
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.problems = problems
    page.goto(base + "/registry?lot=CAM-U1")
    page.wait_for_selector("#passport-body", state="visible", timeout=30_000)
    return browser, page


def test_passport_shown_and_verified_in_the_browser(tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    _require_chromium()
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    private = lithium_registry(engine)
    doc = service.issue(engine, "CAM-U1", participant="ulsan-cathode", private_key=private["ulsan-cathode"])
    stated = {
        m["originCountry"]["countryName"]: m["massFraction"]
        for m in doc["credentialSubject"]["materialsProvenance"]
    }
    env = {
        "LODELINE_DATA_DIR": os.environ["LODELINE_DATA_DIR"],
        "LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0",
    }
    with running_server(url, env=env) as base, sync_playwright() as p:
        browser, page = _open(base, p)
        assert page.inner_text("#passport-id") == doc["id"]
        rows = page.locator("#passport-materials tbody tr")
        shown = {
            rows.nth(i).locator("td").nth(0).inner_text(): rows.nth(i).locator("td").nth(1).inner_text()
            for i in range(rows.count())
        }
        assert shown == {name: f"{100 * share:.2f} %" for name, share in stated.items()}
        page.click("#passport-verify")
        expect(page.locator("#passport-status")).to_have_text(re.compile("^valid"), timeout=30_000)
        statuses = page.locator("#passport-checks tbody td:nth-child(2)").all_inner_texts()
        assert len(statuses) == 8 and set(statuses) == {"pass"}
        assert not page.problems
        browser.close()

        # the stored copy edited behind the registry's back: shown, and verification names what broke
        forged = copy.deepcopy(doc)
        forged["id"] = doc["id"] + "-forged"
        forged["credentialSubject"]["materialsProvenance"][0]["massFraction"] = 0.99
        with engine.begin() as conn:
            conn.execute(insert(db.passports).values(
                id=forged["id"], lot_id=forged["credentialSubject"]["registryEvidence"]["lot"], gtin=None, batch=None,
                profile="untp-dpp", issuer="ulsan-cathode", issued_at=datetime.now(UTC) + timedelta(days=1),
                document=json.dumps(forged), leaf_index=0,
            ))  # fmt: skip
        browser, page = _open(base, p)
        assert page.inner_text("#passport-id") == forged["id"]
        page.click("#passport-verify")
        expect(page.locator("#passport-status")).to_have_text(re.compile("^INVALID"), timeout=30_000)
        assert page.inner_text("#passport-status") == "INVALID: failed credential-signature, shares"
        assert page.locator('#passport-checks tr[data-check="shares"] td').nth(1).inner_text() == "fail"
        assert not page.problems
        browser.close()
    engine.dispose()
