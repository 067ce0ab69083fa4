"""What the browser tests share: Debian's Chromium, its launch flags, and the dashboard served on the built store.

``built_store_server`` is the one way a test module gets a real ``lodeline serve`` on the bundled data with rate
limits off; a module uses it as its ``server`` fixture (``server = built_store_server``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from benchmarks.server import running_server
from sqlalchemy import Engine

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


@pytest.fixture(scope="module")
def built_store_server(built_sqlite: tuple[str, Engine]) -> Iterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("LODELINE_REQUIRE_BROWSER"):
            pytest.fail("LODELINE_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    env = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}
    try:
        with running_server(built_sqlite[0], env=env, ready_path="/ready") as base:
            yield base
    except RuntimeError as exc:
        pytest.fail(str(exc))
