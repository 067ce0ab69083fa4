"""Shared fixtures: a fresh store on SQLite and, when LODELINE_TEST_POSTGRES is set, on PostgreSQL.

Each PostgreSQL test store is its own throw-away database (created from the server URL and dropped
afterwards), so concurrent runs never see each other's rows.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lodeline.config import RAW_DATA_DIR
from lodeline.store.engine import make_engine, upgrade

PG_ENV = "LODELINE_TEST_POSTGRES"
PG_SKIP_REASON = f"PostgreSQL tests need {PG_ENV}=postgresql://user@host:port/db (set by .ci/run)"
REPO_ROOT = Path(__file__).resolve().parents[1]
# benchmarks/ (kernels and the test server helper, outside the installed package) is imported by some tests
if str(REPO_ROOT) not in sys.path:
    sys.path.append(str(REPO_ROOT))


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the user's real store from a test."""
    from lodeline.config import get_settings

    data_dir = tmp_path_factory.mktemp("lodeline-data")
    monkeypatch.setenv("LODELINE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("LODELINE_DATABASE_URL", raising=False)
    get_settings.cache_clear()


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def create_pg_database() -> tuple[str, str]:
    """Create an empty database on the test server; return (sqlalchemy url, name)."""
    import psycopg

    admin = _pg_admin_url()
    assert admin is not None
    name = f"lodeline_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1), name


def drop_pg_database(name: str) -> None:
    import psycopg

    admin = _pg_admin_url()
    assert admin is not None
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _new_store(backend: str, tmp: Path) -> Iterator[tuple[str, Engine]]:
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'store.sqlite'}"
        engine = make_engine(url)
        upgrade(engine)
        yield url, engine
        engine.dispose()
        return
    if _pg_admin_url() is None:
        if os.environ.get("LODELINE_REQUIRE_POSTGRES"):
            pytest.fail(f"LODELINE_REQUIRE_POSTGRES is set but {PG_ENV} is not")
        pytest.skip(PG_SKIP_REASON)
    url, name = create_pg_database()
    engine = make_engine(url)
    try:
        upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()
        drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    """A fresh, migrated, EMPTY store on each backend: (url, engine)."""
    yield from _new_store(request.param, tmp_path)


@pytest.fixture
def engine(store: tuple[str, Engine]) -> Engine:
    return store[1]


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def built_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Engine]]:
    """A store built ONCE per session and backend from the bundled data. Tests must not write to it."""
    from lodeline.data.build import build

    for url, engine in _new_store(request.param, tmp_path_factory.mktemp(f"built-{request.param}")):
        build(engine, RAW_DATA_DIR)
        yield url, engine


@pytest.fixture(scope="session")
def built_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Engine]]:
    """The bundled data built once into SQLite (for tests that only need one backend)."""
    from lodeline.data.build import build

    for url, engine in _new_store("sqlite", tmp_path_factory.mktemp("built-sqlite-only")):
        build(engine, RAW_DATA_DIR)
        yield url, engine
