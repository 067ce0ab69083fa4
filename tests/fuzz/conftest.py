"""Fixtures of the fuzz suite: one writable store (the bundled data, the lithium test chain, a token per role) and
one application over it with the request-rate limits off and the sign-in throttle out of reach, so generated bad
credentials do not lock the suite out of its own authenticated operations."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from webstore import WebStore, build_web_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient


@pytest.fixture(scope="package")
def fuzz_store(
    built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebStore]:
    store = build_web_store(built_sqlite[0], tmp_path_factory.mktemp("fuzz"))
    yield store
    store.engine.dispose()


@pytest.fixture(scope="package")
def fuzz_app(fuzz_store: WebStore) -> Any:
    settings = ApiSettings(  # type: ignore[call-arg]
        rate_per_second=0,
        anonymous_rate_per_second=0,
        auth_failures_per_address=10**9,
        auth_failures_per_account=10**9,
    )
    return create_app(fuzz_store.engine, settings)


@pytest.fixture
def fuzz_client(fuzz_app: Any) -> Iterator[TestClient]:
    with TestClient(fuzz_app, base_url="https://testserver", raise_server_exceptions=False) as client:
        yield client
