"""SIGKILL during stock submissions (the real ``lodeline serve`` in a child process, durability_harness): every
version in the store afterwards is whole (all its rows, its log leaf hashing its stored document) or absent, every
version the server acknowledged (201) is there with the figures sent, versions are numbered 1..n without a gap, and
the log audit accounts for every stock leaf. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import httpx
from durability_harness import Server
from sqlalchemy import Engine, func, select

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.store import stocks as db
from lodeline.store import tracelog
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine
from lodeline.trace.audit import run_audit

ROWS = 40  # rows per version: a version is many inserts, so a kill lands inside one often


def _body(n: int) -> dict[str, object]:
    """Version ``n`` of the member's submission: ROWS forms whose gross tonnes are n*1000 + i (contained: 1 t)."""
    rows = [
        {
            "mineral": "cobalt",
            "form": f"form {i}",
            "holder_type": "public_strategic",
            "quantity_gross_t": str(n * 1000 + i),
            "quantity_contained_t": "1",
        }
        for i in range(ROWS)
    ]
    return {"period": "2026-Q3", "rows": rows}


def _submit(
    base: str,
    token: str,
    stop: threading.Event,
    offset: int,
    acknowledged: dict[int, int],
    unexpected: list[str],
) -> None:
    """Submit versions until ``stop`` or the server is gone; record each acknowledged version's body number."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
        for n in range(offset + 1, offset + 1000):
            if stop.is_set():
                return
            try:
                response = client.post("/api/v1/stocks/submissions", json=_body(n))
            except httpx.TransportError:
                return  # the server is gone
            if response.status_code == 201:
                acknowledged[response.json()["version"]] = n
            elif response.status_code not in (429, 503):
                unexpected.append(f"{response.status_code}: {response.text[:200]}")


def test_sigkill_leaves_each_version_whole_or_absent(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = store
    build(engine, RAW_DATA_DIR)  # `serve` is ready only on a built store
    token = create_token(engine, "dur-stocks", "member", "DEU")[1]
    engine.dispose()
    env = {**os.environ, "LODELINE_DATABASE_URL": url, "LODELINE_DATA_DIR": str(tmp_path / "data")}
    acknowledged: dict[int, int] = {}  # version -> n of the body it was made from
    unexpected: list[str] = []
    for round_ in range(2):
        server = Server(env, tmp_path / f"serve-{round_}.log").start()
        stop = threading.Event()

        args = (server.base, token, stop, 1000 * round_, acknowledged, unexpected)
        writers = [threading.Thread(target=_submit, args=args, daemon=True) for _ in range(2)]
        for w in writers:
            w.start()
        time.sleep(2.5 + round_)
        server.stop(signal.SIGKILL)
        stop.set()
        for w in writers:
            w.join(timeout=60)

    assert acknowledged, "no submission was acknowledged before the kill"
    assert not unexpected, unexpected
    engine = make_engine(url)
    try:
        submission_id = db.find_submission(engine, "DEU", "2026-Q3")
        assert submission_id is not None
        versions = db.versions(engine, submission_id)
        numbers = [v["version"] for v in versions]
        assert numbers == list(range(1, len(numbers) + 1))
        with engine.connect() as conn:
            latest = conn.execute(select(db.stock_submissions.c.latest_version)).scalar_one()
            leaves = {i: d for i, _h, d in tracelog.iter_leaves(conn, 0, tracelog.tree_size(conn))}
            for v in versions:
                rows = conn.execute(
                    select(func.count())
                    .select_from(db.stock_rows)
                    .where(db.stock_rows.c.version_id == v["id"])
                ).scalar_one()
                assert rows == ROWS == v["row_count"], v
                document = conn.execute(
                    select(db.stock_versions.c.document).where(db.stock_versions.c.id == v["id"])
                ).scalar_one()
                assert leaves[v["leaf_index"]] == db.leaf_of(document), v
            report = run_audit(conn, [], leaf_source=lambda _c: [])
        assert latest == numbers[-1]
        # every acknowledged version is there with the figures sent: gross of form i = n*1000 + i
        for version, n in acknowledged.items():
            detail = db.version_detail(engine, submission_id, version)
            assert detail is not None, version
            rows = json.loads(detail["document"])["rows"]
            assert {r["form"]: r["quantity_gross_t"] for r in rows} == {
                f"form {i}": str(n * 1000 + i) for i in range(ROWS)
            }
        assert report.kind_leaves["stocks"] == len(versions)
        assert not [f for f in report.findings if f.kind != "checkpoint-signature"], report.findings
    finally:
        engine.dispose()
