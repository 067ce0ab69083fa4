"""Witnesses as real processes: three ``lodeline witness serve`` subprocesses, each with its own key and state.

Normal growth of the registry's log is cosigned by all three, and an inclusion proof verifies with a quorum of
them. A fork (a second store signing another root at the same size, and a larger one, with the same origin and
key, its signer state bypassed) and a rollback (an older copy of the log signing a smaller tree) are refused by
every witness, and verification with a quorum fails for them. A witness restarted keeps its state.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
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
from lodeline.store.engine import get_engine, make_engine, upgrade, write_transaction
from lodeline.trace import log
from lodeline.trace.witness_protocol import SIZE_CONTENT_TYPE, format_add_checkpoint

ORIGIN = "registry.example.org/minerals"
LODELINE = [
    sys.executable,
    "-c",
    "import sys; from lodeline.cli.main import main; sys.argv[0] = 'lodeline'; main()",
]


@contextmanager
def witness_servers(*folders: Path) -> Iterator[list[str]]:
    """`lodeline witness serve` for each folder (started together); their base URLs once all answer."""
    procs, bases = [], []
    for folder in folders:
        port = free_port()
        command = [*LODELINE, "witness", "serve", "--dir", str(folder), "--port", str(port)]
        procs.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bases.append(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 60
        for proc, base in zip(procs, bases, strict=True):
            while True:
                try:
                    if httpx.get(base + "/", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the witness at {base} did not start")
                time.sleep(0.1)
        yield bases
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def cli(url: str, *args: str, state: Path | None = None) -> object:
    """Run `lodeline …` in-process against the store at ``url`` (optionally with another signer state file)."""
    saved = dict(os.environ)
    os.environ["LODELINE_DATABASE_URL"] = url
    if state is not None:
        os.environ["LODELINE_REGISTRY_SIGNER_STATE"] = str(state)
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


def flat(result: object) -> str:
    """The command's output with rich's line wrapping undone."""
    return " ".join(result.output.split())  # type: ignore[attr-defined]


def grow(engine: Engine, tag: str, count: int) -> None:
    with write_transaction(engine) as conn:
        log.append_leaves(conn, [f"ni:///sha-256;{tag}-{i}?ver=CBV2.0".encode() for i in range(count)])


def snapshot(url: str, engine: Engine, folder: Path) -> tuple[str, str | None]:
    """A copy of the store as it is now: (its URL, a PostgreSQL database to drop afterwards)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        copy = folder / "older.sqlite"
        with sqlite3.connect(str(parsed.database)) as live, sqlite3.connect(copy) as target:
            live.backup(target)
        live.close()
        target.close()
        return f"sqlite:///{copy}", None
    name = f"{parsed.database}_older"
    engine.dispose()
    get_engine(url).dispose()  # TEMPLATE needs the database free of connections
    with psycopg.connect(os.environ["LODELINE_TEST_POSTGRES"], autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"')  # type: ignore[arg-type]
    return parsed.set(database=name).render_as_string(hide_password=False), name


def drop_pg(name: str | None) -> None:
    if name is not None:
        with psycopg.connect(os.environ["LODELINE_TEST_POSTGRES"], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def prove_and_verify(
    url: str, folder: Path, event: str, witness_keys: list[Path], quorum: int, **kw: Path
) -> object:
    proof, note = folder / "proof.json", folder / "checkpoint.txt"
    done = cli(url, "trace", "prove", event, "-o", str(proof), "--checkpoint-out", str(note), **kw)  # type: ignore[arg-type]
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    args = ["trace", "verify", "-c", str(note), "-p", str(proof), "-k", str(folder / "registry.vkey")]
    for key in witness_keys:
        args += ["--witness", str(key)]
    return cli(url, *args, "--quorum", str(quorum))


def test_witnesses_cosign_growth_and_refuse_forks_and_rollbacks(
    store: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    monkeypatch.setenv("LODELINE_REGISTRY_ORIGIN", ORIGIN)  # one origin for the real log and the impostors
    monkeypatch.setenv("LODELINE_WITNESS_TIMEOUT", "10")
    grow(engine, "a", 10)
    vkey = cli(url, "trace", "vkey").stdout.strip()  # type: ignore[attr-defined]
    (tmp_path / "registry.vkey").write_text(vkey + "\n")

    folders = [tmp_path / f"w{n}" for n in range(3)]
    witness_keys = []
    for n, folder in enumerate(folders):
        out = cli(url, "witness", "key", "--dir", str(folder), "--name", f"w{n}.example.org/witness")
        witness_keys.append(tmp_path / f"w{n}.vkey")
        witness_keys[-1].write_text(out.stdout)  # type: ignore[attr-defined]
        added = cli(url, "witness", "add-log", "--dir", str(folder), "--origin", ORIGIN, "--vkey", vkey)
        assert added.exit_code == 0, added.output  # type: ignore[attr-defined]

    with witness_servers(*folders) as (w0, w1, w2):
        for base, key in zip((w0, w1, w2), witness_keys, strict=True):
            assert cli(url, "trace", "witness", "add", base, key.read_text().strip()).exit_code == 0  # type: ignore[attr-defined]

        # normal growth: every checkpoint is cosigned by all three (the server asks when it issues one)
        done = cli(url, "trace", "checkpoint")
        assert done.exit_code == 0 and "3 witness cosignature(s)" in flat(done), done.output  # type: ignore[attr-defined]
        grow(engine, "b", 7)
        older_url, older_db = snapshot(url, engine, tmp_path)  # the log at 17 leaves (last checkpoint: 10)
        try:
            verified = prove_and_verify(url, tmp_path, "ni:///sha-256;b-3?ver=CBV2.0", witness_keys, 3)
            assert verified.exit_code == 0, verified.output  # type: ignore[attr-defined]
            assert "cosigned by 3 of 3 witnesses (quorum 3)" in verified.stdout  # type: ignore[attr-defined]
            listed = json.loads(cli(url, "trace", "witness", "list", "-f", "json").stdout)  # type: ignore[attr-defined]
            assert [w["known_size"] for w in listed] == [17, 17, 17] and {
                w["last_error"] for w in listed
            } == {None}
            grow(engine, "c", 5)
            assert "3 of 3 witness(es) cosigned" in flat(cli(url, "trace", "cosign"))  # type: ignore[attr-defined]

            # a fork: another store, same origin and key, its signer state elsewhere, another root at size 22
            impostor_path = tmp_path / "impostor.sqlite"
            impostor = make_engine(f"sqlite:///{impostor_path}")
            upgrade(impostor)
            grow(impostor, "x", 22)
            impostor_url, bypass = f"sqlite:///{impostor_path}", tmp_path / "bypassed-state.json"
            for base, key in zip((w0, w1, w2), witness_keys, strict=True):
                cli(impostor_url, "trace", "witness", "add", base, key.read_text().strip())
            forked = cli(impostor_url, "trace", "cosign", state=bypass)
            assert forked.exit_code == 1 and "0 of 3 witness(es) cosigned" in flat(forked)  # type: ignore[attr-defined]
            assert flat(forked).count("refused (a fork)") == 3, forked.output  # type: ignore[attr-defined]
            refused = prove_and_verify(
                impostor_url, tmp_path, "ni:///sha-256;x-1?ver=CBV2.0", witness_keys, 2, state=bypass
            )
            assert refused.exit_code != 0  # type: ignore[attr-defined]
            assert "0 of the 2 witness cosignatures required" in str(refused.exception)  # type: ignore[attr-defined]
            # the same impostor grown larger: its proof from the witnesses' size does not verify (422)
            grow(impostor, "y", 3)
            larger = cli(impostor_url, "trace", "cosign", state=bypass)
            assert flat(larger).count("HTTP 422") == 3, larger.output  # type: ignore[attr-defined]
            impostor.dispose()

            # a rollback: the log's older copy (17 leaves), its signer state lost, signs the smaller tree
            lost = tmp_path / "lost-state.json"
            rolled = cli(older_url, "trace", "cosign", state=lost)
            assert rolled.exit_code == 1 and flat(rolled).count("(a rollback)") == 3, rolled.output  # type: ignore[attr-defined]
            assert "larger than this checkpoint's 17" in flat(rolled)  # type: ignore[attr-defined]
            refused = prove_and_verify(
                older_url, tmp_path, "ni:///sha-256;b-3?ver=CBV2.0", witness_keys, 1, state=lost
            )
            assert refused.exit_code != 0 and "0 of the 1" in str(refused.exception)  # type: ignore[attr-defined]
        finally:
            get_engine(older_url).dispose()
            drop_pg(older_db)

    # a witness restarted keeps its state: it still holds size 22, refuses a request from size 0 with it, and
    # cosigns the next growth from there
    grow(engine, "d", 4)
    with engine.connect() as conn:
        at_22 = log.checkpoint_at_size(conn, 22).note
    with witness_servers(folders[0]) as (again,):
        assert f"log {ORIGIN} 22" in httpx.get(again + "/", timeout=5).text
        stale = httpx.post(again + "/add-checkpoint", content=format_add_checkpoint(0, [], at_22), timeout=5)
        assert (stale.status_code, stale.text) == (409, "22\n")
        assert stale.headers["content-type"].startswith(SIZE_CONTENT_TYPE)
        cli(url, "trace", "witness", "add", again, witness_keys[0].read_text().strip())  # its new address
        done = cli(url, "trace", "cosign")
        assert "w0.example.org/witness: cosigned" in flat(done), done.output  # type: ignore[attr-defined]
    rows = cli(url, "witness", "list", "--dir", str(folders[0]), "-f", "json")
    assert json.loads(rows.stdout)[0]["tree_size"] == 26  # type: ignore[attr-defined]

    # the API serves the cosigned note (text), lists the cosignatures (JSON) and embeds the note in proofs
    rates = {"LODELINE_API_ANONYMOUS_RATE_PER_SECOND": "0", "LODELINE_API_RATE_PER_SECOND": "0"}
    with running_server(url, env=rates) as base:
        doc = httpx.get(f"{base}/api/v1/registry/checkpoint?format=json", timeout=30).json()
        text = httpx.get(f"{base}/api/v1/registry/checkpoint", timeout=30).text
        proof = httpx.get(f"{base}/api/v1/registry/proofs/consistency", params={"old": 22}, timeout=30).json()
    assert doc["tree_size"] == 26 and [c["witness"] for c in doc["cosignatures"]] == [
        "w0.example.org/witness"
    ]
    assert text == doc["note"] == proof["checkpoint"] and text.endswith(doc["cosignatures"][0]["line"] + "\n")
    assert proof["old_checkpoint"].count("\n— w") == 3  # the checkpoint at 22, cosigned by all three
