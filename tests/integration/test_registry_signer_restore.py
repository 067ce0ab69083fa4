"""Restoring an older copy of the store under a real deployment (server subprocesses, SQLite and PostgreSQL).

Capture through the API, snapshot the store, capture more and fetch the checkpoint; then put the older copy
back under the running server (SQLite: SQLite's backup API into the live file; PostgreSQL: the database dropped
and re-created from the snapshot), and the next checkpoint request is refused with 503
``registry-signer-refused``. Stop, restore the older copy again (SQLite: the file copied over; PostgreSQL: the
snapshot renamed into place), and the restart is refused — by ``lodeline serve`` with a message naming the sizes,
and by a worker started through the app factory. ``trace signer reset`` is the deliberate way back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from benchmarks.server import free_port, running_server
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.config import get_settings
from lodeline.store.accounts import create_token, read_audit
from lodeline.store.engine import make_engine
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.generator import lithium_chain

ENV = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}
CHECKPOINT = "/api/v1/registry/checkpoint"


class Snapshots:
    """Take and restore copies of one store, the way an operator would on its backend."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        parsed = make_url(url)
        self.backend = parsed.get_backend_name()
        self.database = str(parsed.database)
        self.copy = folder / "older.sqlite"
        self.admin = os.environ.get("LODELINE_TEST_POSTGRES", "")
        self.snapshot_name = f"{self.database}_older"

    def _pg(self, *statements: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)  # type: ignore[arg-type]

    def take(self) -> None:
        """With the server stopped: SQLite's backup API (a consistent copy); PostgreSQL: CREATE DATABASE … TEMPLATE."""
        if self.backend == "sqlite":
            with sqlite3.connect(self.database) as live, sqlite3.connect(self.copy) as copy:
                live.backup(copy)
            live.close()
            copy.close()
        else:
            self._pg(f'CREATE DATABASE "{self.snapshot_name}" TEMPLATE "{self.database}"')

    def restore_under_running_server(self) -> None:
        if self.backend == "sqlite":
            with sqlite3.connect(self.copy) as older, sqlite3.connect(self.database) as live:
                older.backup(live)  # through SQLite's own locking: the server's connections see the old pages
            older.close()
            live.close()
        else:
            self._pg(
                f'DROP DATABASE "{self.database}" WITH (FORCE)',
                f'CREATE DATABASE "{self.database}" TEMPLATE "{self.snapshot_name}"',
            )

    def restore_stopped(self) -> None:
        if self.backend == "sqlite":
            for suffix in ("-wal", "-shm"):
                Path(self.database + suffix).unlink(missing_ok=True)
            shutil.copyfile(self.copy, self.database)
        else:
            self._pg(
                f'DROP DATABASE "{self.database}" WITH (FORCE)',
                f'ALTER DATABASE "{self.snapshot_name}" RENAME TO "{self.database}"',
            )

    def drop(self) -> None:
        if self.backend == "postgresql":
            self._pg(f'DROP DATABASE IF EXISTS "{self.snapshot_name}" WITH (FORCE)')


@pytest.fixture
def deployment(store: tuple[str, Engine], tmp_path: Path) -> Iterator[tuple[str, Snapshots, dict]]:
    url, engine = store
    chain = lithium_chain()
    private = register(engine, chain)
    tokens = {
        pid: create_token(engine, f"{pid}-x", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    engine.dispose()  # the server is the store's only user from here (PostgreSQL snapshots need that)
    snaps = Snapshots(url, tmp_path)
    docs = [(pid, document_bytes(doc), tokens[pid], private[pid]) for pid, doc in chain.documents]
    try:
        yield url, snaps, {"docs": docs}
    finally:
        snaps.drop()


def capture(base: str, doc: tuple) -> None:
    _, data, token, key = doc
    headers = {"Authorization": f"Bearer {token}", "Lodeline-Signature": keys.sign(key, data)}
    response = httpx.post(f"{base}/epcis/capture", content=data, headers=headers, timeout=30)
    assert response.status_code == 202, response.text


def checkpoint_size(base: str) -> tuple[int, str]:
    response = httpx.get(f"{base}{CHECKPOINT}?format=json", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["tree_size"], response.json()["origin"]


@contextmanager
def cli_env(url: str) -> Iterator[None]:
    saved = os.environ.get("LODELINE_DATABASE_URL")
    os.environ["LODELINE_DATABASE_URL"] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("LODELINE_DATABASE_URL", None)
        else:
            os.environ["LODELINE_DATABASE_URL"] = saved
        get_settings.cache_clear()


def lodeline_serve(url: str) -> subprocess.CompletedProcess[str]:
    """`lodeline serve` as an operator starts it (it must refuse before building data or binding)."""
    command = [
        sys.executable,
        "-c",
        "import sys; from lodeline.cli.main import main; sys.argv[0] = 'lodeline'; main()",
    ]
    command += ["serve", "--port", str(free_port())]
    env = {**os.environ, **ENV, "LODELINE_DATABASE_URL": url}
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_restoring_an_older_store_is_refused(deployment: tuple[str, Snapshots, dict]) -> None:
    url, snaps, data = deployment
    docs = data["docs"]
    with running_server(url, env=ENV) as base:
        for doc in docs[:3]:
            capture(base, doc)
        older_size, origin = checkpoint_size(base)
    snaps.take()
    with running_server(url, env=ENV) as base:
        for doc in docs[3:]:
            capture(base, doc)
        newer_size, _ = checkpoint_size(base)
        assert newer_size > older_size

        # the older copy put back under the running server: the next checkpoint request is refused
        snaps.restore_under_running_server()
        response = httpx.get(f"{base}{CHECKPOINT}", timeout=30)
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["code"] == "registry-signer-refused"
        assert (body["signed_size"], body["store_size"]) == (newer_size, older_size)
        assert (
            f"holds {older_size} leaves" in body["message"] and f"the {newer_size} leaves" in body["message"]
        )
        proof = httpx.get(
            f"{base}/api/v1/registry/proofs/consistency", params={"old": older_size}, timeout=30
        )
        assert proof.status_code == 503 and proof.json()["code"] == "registry-signer-refused"

    # stop, restore the older copy again, restart: refused by `lodeline serve` ...
    snaps.restore_stopped()
    done = lodeline_serve(url)
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())
    assert "registry-signer-refused" in message and f"holds {older_size} leaves" in message
    assert "Traceback" not in done.stderr
    # ... and by a worker started through the app factory
    with pytest.raises(RuntimeError, match="did not answer"), running_server(url, env=ENV, timeout=30):
        pass

    # the operator's deliberate way out, audited; then the older store serves again
    with cli_env(url):
        status = CliRunner().invoke(app, ["trace", "signer", "status"])
        assert status.exit_code == 1 and "refuses" in status.output
        reset = CliRunner().invoke(app, ["trace", "signer", "reset", "--confirm", origin])
        assert reset.exit_code == 0, reset.output
    with running_server(url, env=ENV) as base:
        assert checkpoint_size(base) == (older_size, origin)
    engine = make_engine(url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert read_audit(engine, event="signer.reset")[0]["detail"].count(f'"tree_size": {newer_size}') == 1
    engine.dispose()
