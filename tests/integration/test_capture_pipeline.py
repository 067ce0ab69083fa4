"""The capture pipeline (documents prepared in a worker process, committed in order by one writer) records
exactly what capturing the same documents one by one records: same outcomes, same events in the same log
order, same Merkle root, same balances — on both backends. A SIGKILL in the middle of a multi-document capture
leaves whole documents only, and the store audits clean."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from crash import gone_within, kill_when  # same folder: pytest puts it on sys.path
from sqlalchemy import Engine, func, select

from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace import keys, log
from lodeline.trace.capture import capture
from lodeline.trace.capture_pipeline import Outcome, Submission, capture_many
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.errors import TraceError
from lodeline.trace.synthetic import synthetic_chain

UNITS, PER_DOC = 60, 10  # 6 documents of 80 events


def _submissions(engine: Engine) -> list[Submission]:
    """Six chain documents plus the awkward cases, in this order:
    0-2 good; 3 an over-shipment; 4 a replay of 1; 5 a re-serialisation of 0 (every event a duplicate);
    6-8 good."""
    chain, docs = synthetic_chain(UNITS, units_per_document=PER_DOC)
    private = register(engine, chain)
    docs = list(docs)

    def sub(pid: str, data: bytes) -> Submission:
        return Submission(data, pid, keys.sign(private[pid], data), f"doc{len(out)}")

    out: list[Submission] = []
    for pid, doc in docs[:3]:
        out.append(sub(pid, document_bytes(doc)))
    pid, doc = docs[3]
    bad = json.loads(document_bytes(doc))
    shipped = next(e for e in bad["epcisBody"]["eventList"] if e.get("bizStep") == "shipping")
    shipped["quantityList"][0]["quantity"] *= 3
    out.append(sub(pid, document_bytes(bad)))
    out.append(Submission(out[1].data, out[1].participant, out[1].signature, "replay"))
    pid0, doc0 = docs[0]
    out.append(sub(pid0, json.dumps(doc0, indent=1).encode()))
    for pid, doc in docs[3:6]:
        out.append(sub(pid, document_bytes(doc)))
    return out


def _summary(outcomes: list[Outcome]) -> list[tuple[str, int, int]]:
    rows = []
    for o in outcomes:
        if o.report is None:
            assert isinstance(o.error, TraceError)
            rows.append((o.error.code, 0, 0))
        else:
            rows.append(("ok", len(o.report.accepted), len(o.report.duplicates)))
    return rows


def _state(engine: Engine) -> tuple[list[tuple[str, int]], list[bytes], list[tuple[str, str, str, float]]]:
    with engine.connect() as conn:
        events = [
            (h, i)
            for h, i in conn.execute(select(db.events.c.hash_id, db.events.c.leaf_index).order_by("seq"))
        ]
        # the log's leaves, with each directory leaf as its op and record: they also hold when they were written,
        # so the two stores' roots differ by the registration times alone
        leaves = [
            data if not data.startswith(b"{") else repr(_without_times(json.loads(data))).encode()
            for _, _, data in tracelog.iter_leaves(conn, 0, log.tree_size(conn))
        ]
        balances = sorted(
            (f, lot, s, round(q, 6))
            for f, lot, s, q in conn.execute(
                select(
                    db.balances.c.facility_id,
                    db.balances.c.lot_id,
                    db.balances.c.state,
                    db.balances.c.quantity_kg,
                )
            )
        )
    return events, leaves, balances


def _without_times(leaf: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    times = ("at", "created_at", "valid_from", "added_at")
    return leaf["op"], {k: v for k, v in leaf["record"].items() if k not in times or len(str(v)) == 10}


def test_pipeline_equals_one_by_one(engine: Engine, tmp_path: Path) -> None:
    subs = _submissions(engine)
    piped = list(capture_many(engine, subs, workers=1))
    assert [o.submission.file for o in piped] == [s.file for s in subs]  # submission order
    expected = [
        ("ok", 80, 0),
        ("ok", 80, 0),
        ("ok", 80, 0),
        ("over-shipment", 0, 0),
        ("replayed-document", 0, 0),
        ("ok", 0, 80),
        ("ok", 80, 0),
        ("ok", 80, 0),
        ("ok", 80, 0),
    ]
    assert _summary(piped) == expected
    # The same submissions captured one by one in this process, into a fresh SQLite store.
    reference = make_engine(f"sqlite:///{tmp_path / 'reference.sqlite'}")
    upgrade(reference)
    _submissions(reference)
    one_by_one = list(capture_many(reference, subs, workers=0))
    assert _summary(one_by_one) == expected
    assert _state(engine) == _state(reference)
    events, _, _ = _state(engine)
    # the registration's 33 directory leaves come first: the operator, its key and prefix (3), 22 facilities and
    # 8 certifications
    assert [i for _, i in events] == list(range(33, 33 + 480))
    reference.dispose()


def test_pipeline_reports_the_same_error_as_capture(engine: Engine) -> None:
    subs = _submissions(engine)
    bad = subs[3]
    with pytest.raises(TraceError) as single:
        capture(engine, bad.data, participant=bad.participant, signature=bad.signature, file=bad.file)
    [outcome] = capture_many(engine, [bad], workers=1)
    assert isinstance(outcome.error, TraceError)
    assert [i.to_dict() for i in outcome.error.issues] == [i.to_dict() for i in single.value.issues]
    # a schema-invalid document is rejected in the worker and comes back with its field named
    broken = Submission(b'{"type": "EPCISDocument", "schemaVersion": "2.0"}', bad.participant, "x", "broken")
    [outcome] = capture_many(engine, [broken], workers=1)
    assert isinstance(outcome.error, TraceError) and outcome.error.code == "epcis-missing-field"
    assert "broken" in outcome.error.message
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar_one() == 0


@pytest.mark.slow
def test_sigkill_mid_stream_leaves_whole_documents(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    per_doc = 1000  # units per document: 8,000 events each
    chain, docs = synthetic_chain(8 * per_doc, units_per_document=per_doc)
    private = register(engine, chain)
    files = []
    for n, (pid, doc) in enumerate(docs):
        data = document_bytes(doc)
        path = tmp_path / f"doc{n}.json"
        path.write_bytes(data)
        (tmp_path / f"doc{n}.json.sig").write_text(keys.sign(private[pid], data))
        files.append(str(path))
    engine.dispose()
    env = {**os.environ, "LODELINE_DATABASE_URL": url}
    args = ["trace", "capture", *files, "--participant", pid, "--workers", "1"]
    # Kill once some documents are in and the next one is being written.
    children: list[int] = []
    killed = kill_when(args, env, lambda: _events(url) >= 2 * 8 * per_doc, timeout=180, children=children)
    assert killed, "the capture finished before it could be killed; the test did not exercise a crash"
    # the preparing worker does not outlive its writer (it would otherwise hold its memory for good)
    assert children, "the pipeline started no worker process"
    assert gone_within(children, 10) == []
    stored = _events(url)
    assert stored % (8 * per_doc) == 0 and 0 < stored < 8 * 8 * per_doc, stored
    engine = make_engine(url)
    with engine.connect() as conn:
        directory = len(tracelog.leaves_starting_with(conn, b"{", log.tree_size(conn)))
        assert log.tree_size(conn) == stored + directory
    engine.dispose()
    _audit(url)


def _audit(url: str) -> None:
    """Issue a checkpoint, then `lodeline trace audit` (leaves recomputed from the stored events) passes."""
    env = {**os.environ, "LODELINE_DATABASE_URL": url}
    for command in (["checkpoint"], ["audit"]):
        done = subprocess.run(
            [sys.executable, "-m", "lodeline.cli.main", "trace", *command], env=env, capture_output=True
        )
        assert done.returncode == 0, done.stdout.decode() + done.stderr.decode()


def _events(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(db.events)).scalar_one())
    finally:
        engine.dispose()


def test_cli_captures_several_files_and_exits_2_on_a_rejection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    subs = _submissions(engine)[:5]  # good, good, good, over-shipment, replay
    engine.dispose()
    files = []
    for n, sub in enumerate(subs):
        path = tmp_path / f"d{n}.json"
        path.write_bytes(sub.data)
        path.with_name(path.name + ".sig").write_text(sub.signature)
        files.append(str(path))
    env = {**os.environ, "LODELINE_DATABASE_URL": url}
    base = [sys.executable, "-m", "lodeline.cli.main", "trace", "capture"]
    done = subprocess.run(
        [*base, *files, "--participant", subs[0].participant, "--format", "csv"], env=env, capture_output=True
    )
    assert done.returncode == 2, done.stderr.decode()
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith("file,status,accepted,duplicates")
    assert [line.split(",")[1:3] for line in lines[1:]] == [
        ["captured", "80"],
        ["captured", "80"],
        ["captured", "80"],
        ["rejected", "0"],
        ["rejected", "0"],
    ]
    assert "over-shipment" in lines[4] and "replayed-document" in lines[5]
    assert "2 of 5 document(s) rejected" in done.stderr.decode()
    assert _events(url) == 240
    # --signature names one document's signature: several files with it is a usage error, nothing stored
    again = subprocess.run(
        [*base, *files[:2], "--signature", files[0] + ".sig", "--participant", "p"],
        env=env,
        capture_output=True,
    )
    assert again.returncode == 2 and "--signature" in again.stderr.decode()
    # a failed audit exits non-zero through the real entry point too (click returns, not raises, its code)
    with make_engine(url).begin() as conn:
        assert (
            conn.execute(
                # the sixth event: leaf 5 after the registration's 33 directory leaves
                db.events.update()
                .where(db.events.c.leaf_index == 33 + 5)
                .values(body='{"type":"ObjectEvent"}')
            ).rowcount
            == 1
        )
    subprocess.run([sys.executable, "-m", "lodeline.cli.main", "trace", "checkpoint"], env=env, check=True)
    audit = subprocess.run([sys.executable, "-m", "lodeline.cli.main", "trace", "audit"], env=env)
    assert audit.returncode == 1
