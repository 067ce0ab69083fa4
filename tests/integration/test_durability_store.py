"""Issue 10's reproduction on the default set-up (SQLite, one worker, the real ``lodeline serve``): a capture, an
anonymous market read, another capture, SIGTERM, then a restart and a third capture. Every acknowledged capture
must survive, the store's -wal/-shm must never be deleted under the server, the signed log must not fork, and the
server process must hold exactly one SQLite library. Plus a static guard: no module opens the store through
another database library."""

from __future__ import annotations

import ast
import os
import signal
import tomllib
from pathlib import Path

import httpx
from durability_harness import Server, copy_sqlite, deleted_store_files, sqlite_libraries
from sqlalchemy import Engine, func, select

from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.checkpoint import open_checkpoint, parse_vkey
from lodeline.trace.generator import lithium_chain

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src" / "lodeline"
# Libraries that would open the SQLite file with a SQLite of their own (or bypass the engine's driver).
FOREIGN_READERS = ("adbc_driver_sqlite", "adbc_driver_manager", "duckdb", "connectorx", "apsw", "sqlean")


def _count_events(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(db.events)).scalar_one())
    finally:
        engine.dispose()


def _capture(base: str, token: str, data: bytes, signature: str) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {token}",
        "Lodeline-Signature": signature,
        "Content-Type": "application/json",
    }
    return httpx.post(f"{base}/epcis/capture", content=data, headers=headers, timeout=60)


def test_issue_sequence_keeps_every_acknowledged_capture(
    built_sqlite: tuple[str, Engine], tmp_path: Path
) -> None:
    store = tmp_path / "store.sqlite"
    url = copy_sqlite(built_sqlite[0].removeprefix("sqlite:///"), store)
    setup = make_engine(url)
    chain = lithium_chain()
    private = register(setup, chain)
    with setup.connect() as conn:
        directory_leaves = tracelog.tree_size(conn)  # registration logs the directory before any event
    assert directory_leaves > 0
    tokens = {
        pid: create_token(setup, f"{pid}-acct", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    setup.dispose()
    env = {**os.environ, "LODELINE_DATABASE_URL": url, "LODELINE_DATA_DIR": str(tmp_path / "data")}
    docs = [(pid, document_bytes(doc)) for pid, doc in chain.documents[:3]]
    expected = 0

    server = Server(env, tmp_path / "serve.log").start()
    try:
        pid, data = docs[0]
        assert _capture(server.base, tokens[pid], data, keys.sign(private[pid], data)).status_code == 202
        expected += len(chain.documents[0][1]["epcisBody"]["eventList"])
        assert httpx.get(f"{server.base}/api/v1/minerals", timeout=60).status_code == 200
        assert deleted_store_files(server.pid, store) == [], "the store's files were deleted under the server"
        pid, data = docs[1]
        assert _capture(server.base, tokens[pid], data, keys.sign(private[pid], data)).status_code == 202
        expected += len(chain.documents[1][1]["epcisBody"]["eventList"])
        served = httpx.get(f"{server.base}/api/v1/registry/checkpoint?format=json", timeout=60).json()
        assert served["tree_size"] == directory_leaves + expected
        libraries = sqlite_libraries(server.pid)
        assert len(libraries) == 1, f"the server maps more than one SQLite library: {libraries}"
    finally:
        server.stop(signal.SIGTERM)
    assert _count_events(url) == expected, "acknowledged captures were lost on SIGTERM"

    server = Server(env, tmp_path / "serve.log").start()
    try:
        pid, data = docs[2]
        assert _capture(server.base, tokens[pid], data, keys.sign(private[pid], data)).status_code == 202
        assert httpx.get(f"{server.base}/api/v1/registry/checkpoint", timeout=60).status_code == 200
    finally:
        server.stop(signal.SIGTERM)

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            history = tracelog.checkpoints(conn)
    finally:
        engine.dispose()
    verifier = parse_vkey(served["vkey"])
    roots: dict[int, set[bytes]] = {}
    for row in history:
        cp = open_checkpoint(row["note"], [verifier])
        roots.setdefault(cp.tree_size, set()).add(cp.root_hash)
    assert all(len(r) == 1 for r in roots.values()), f"two roots signed for one size: {roots}"
    assert roots[served["tree_size"]] == {bytes.fromhex(served["root_hash"])}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_no_module_opens_the_store_with_another_database_library() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for name in _imports(tree) & set(FOREIGN_READERS):
            offenders.append(f"{path.relative_to(REPO)} imports {name}")
        for node in ast.walk(tree):  # polars' own database readers go through connectorx / ADBC
            if isinstance(node, ast.Attribute) and node.attr in ("read_database", "read_database_uri"):
                offenders.append(f"{path.relative_to(REPO)}:{node.lineno} calls {node.attr}")
    assert offenders == []
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert not [d for d in project["dependencies"] if d.lower().startswith("adbc-driver-sqlite")]
    assert 'name = "adbc-driver-sqlite"' not in (REPO / "uv.lock").read_text()


def test_sessions_are_durable(store: tuple[str, Engine]) -> None:
    """SQLite: WAL with synchronous=FULL (a commit is on disk before it returns) and the busy timeout.
    PostgreSQL: synchronous_commit is never off, even when the database's default says so."""
    url, engine = store
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        return
    with engine.begin() as conn:
        name = conn.exec_driver_sql("SELECT current_database()").scalar()
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    fresh = make_engine(url)  # new sessions start with the database's default
    try:
        with fresh.connect() as conn:
            assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
        raw = fresh.raw_connection()  # the setting is the session's, not one transaction's
        try:
            cur = raw.cursor()
            cur.execute("SHOW synchronous_commit")
            assert cur.fetchone()[0] == "on"
        finally:
            raw.close()
    finally:
        fresh.dispose()
