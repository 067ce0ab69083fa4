"""SIGKILL the capture process in the middle of a large document: the store holds all of it or none of it, and
the Merkle log holds exactly one leaf per stored event."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from crash import LODELINE, kill_when  # same folder: pytest puts it on sys.path
from sqlalchemy import func, select

from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.synthetic import synthetic_chain

UNITS = 2500  # 20,000 events in one document


def _state(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(db.events)).scalar_one()
        lots = conn.execute(select(func.count()).select_from(db.lots)).scalar_one()
        size = tracelog.tree_size(conn)
    engine.dispose()
    return events, lots, size


@pytest.mark.slow
def test_sigkill_mid_capture_leaves_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    chain, docs = synthetic_chain(UNITS, units_per_document=UNITS)
    private = register(engine, chain)
    pid, doc = next(iter(docs))
    data = document_bytes(doc)
    (tmp_path / "doc.json").write_bytes(data)
    (tmp_path / "doc.sig").write_text(keys.sign(private[pid], data))
    engine.dispose()
    wal = tmp_path / "store.sqlite-wal"
    base = wal.stat().st_size if wal.exists() else 0
    env = {**os.environ, "LODELINE_DATABASE_URL": url}
    args = ["trace", "capture", str(tmp_path / "doc.json"), "--signature", str(tmp_path / "doc.sig")]
    args += ["--participant", pid]
    # Kill as soon as the capture transaction has started spilling pages into the WAL (mid-write).
    killed = kill_when(args, env, lambda: wal.exists() and wal.stat().st_size > base + 64 * 1024)
    events, lots, size = _state(url)
    # the registration's directory leaves (the operator, its key and prefix, 22 facilities, 8 certifications) are
    # committed before the capture
    directory = 3 + 22 + 8
    assert (events, size) in {(0, directory), (UNITS * 8, directory + UNITS * 8)}, (events, lots, size)
    _audit(url, monkeypatch)
    assert lots in {0, UNITS * 3}
    assert killed, "capture finished before it could be killed; the test did not exercise a crash"
    assert events == 0
    # The store is usable afterwards: the same document captures whole.
    retry = subprocess.run([*LODELINE, *args], env=env, capture_output=True, timeout=300)
    assert retry.returncode == 0, retry.stderr.decode()
    assert _state(url) == (UNITS * 8, UNITS * 3, directory + UNITS * 8)
    _audit(url, monkeypatch)


def _audit(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue a checkpoint and run `lodeline trace audit` (leaves recomputed from the stored events)."""
    from typer.testing import CliRunner

    from lodeline.cli.main import app
    from lodeline.config import get_settings

    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["trace", "checkpoint"]).exit_code == 0
    result = runner.invoke(app, ["trace", "audit"])
    assert result.exit_code == 0, result.output
