"""``lodeline admin token …`` and ``lodeline serve``: tokens round-trip through the CLI; serve builds an empty
store first, answers health and readiness, and shuts down gracefully on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store.accounts import authenticate_token
from lodeline.store.engine import get_engine

runner = CliRunner()


def test_token_create_list_revoke(tmp_path: Path) -> None:
    created = runner.invoke(
        app, ["admin", "token", "create", "--account", "deu", "--role", "member", "--org", "DEU"]
    )
    assert created.exit_code == 0, created.output
    token = created.stdout.strip().splitlines()[-1]
    assert token.startswith("ll_")
    principal = authenticate_token(get_engine(), token)
    assert principal is not None and principal.role == "member" and principal.org == "DEU"

    listed = runner.invoke(app, ["admin", "token", "list", "--format", "json"])
    rows = json.loads(listed.stdout)
    assert [r["account"] for r in rows] == ["deu"] and token.split("_")[2] not in listed.stdout

    assert runner.invoke(app, ["admin", "token", "revoke", rows[0]["id"]]).exit_code == 0
    assert authenticate_token(get_engine(), token) is None
    again = runner.invoke(app, ["admin", "token", "revoke", rows[0]["id"]])
    assert again.exit_code != 0

    audit = runner.invoke(app, ["admin", "audit", "--format", "json"])
    assert {e["event"] for e in json.loads(audit.stdout)} == {"token.create", "token.revoke"}


@pytest.mark.parametrize(
    "args",
    [
        ["--account", "x", "--role", "member"],  # a member acts for an organisation
        ["--account", "x", "--role", "public"],
        ["--account", "x", "--role", "superuser"],
    ],
)
def test_token_create_rejects_bad_roles(args: list[str]) -> None:
    result = runner.invoke(app, ["admin", "token", "create", *args])
    assert result.exit_code != 0


def test_serve_builds_empty_store_and_stops_gracefully(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "LODELINE_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}"}
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "lodeline"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline, "serve did not come up"
            time.sleep(0.5)
        ready = httpx.get(f"{base}/ready").json()
        assert ready == {"status": "ready", "database": True, "data_built": True}
        assert httpx.get(f"{base}/api/v1/sources").json()["page"]["total"] >= 1
        proc.send_signal(signal.SIGTERM)
        # uvicorn drains, runs the shutdown, then re-raises SIGTERM so the exit status tells how it ended
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
        output = proc.stdout.read() if proc.stdout else ""
        assert "building the bundled data" in output
        assert "Waiting for application shutdown" in output and "Finished server process" in output
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
