"""The store-backed Merkle log on SQLite and PostgreSQL: appends, proofs, concurrency, audit, checkpoints."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import Engine, delete, update

from lodeline.store import tracelog as tables
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle
from lodeline.trace import checkpoint, log, signer
from lodeline.trace.audit import run_audit
from lodeline.trace.registry_key import RegistryKey


def event_ids(prefix: str, count: int) -> list[bytes]:
    return [log.event_leaf_data(f"ni:///sha-256;{prefix}{i:060x}?ver=CBV2.0") for i in range(count)]


def append(engine: Engine, data: list[bytes]) -> list[int]:
    with write_transaction(engine) as conn:
        return log.append_leaves(conn, data)


def all_leaf_hashes(engine: Engine) -> list[bytes]:
    with engine.connect() as conn:
        return [h for _, h, _ in tables.iter_leaves(conn, 0, log.tree_size(conn))]


def test_append_and_proofs_equal_pure(engine: Engine) -> None:
    rng = random.Random(7)
    data: list[bytes] = []
    for batch in range(25):
        items = event_ids(f"{batch:04x}", rng.choice([0, 1, 2, 3, 7, 16, 33, 100]))
        assert append(engine, items) == list(range(len(data), len(data) + len(items)))
        data += items
    leaves = [merkle.leaf_hash(d) for d in data]
    n = len(leaves)
    with engine.connect() as conn:
        assert log.tree_size(conn) == n
        for size in range(n + 1):
            assert log.root_at(conn, size) == merkle.root_hash(leaves[:size]), size
        for _ in range(150):
            size = rng.randint(1, n)
            index = rng.randrange(size)
            proof = log.inclusion_proof(conn, index, size)
            assert proof == merkle.inclusion_proof(index, leaves[:size])
            assert merkle.verify_inclusion(leaves[index], index, size, proof, merkle.root_hash(leaves[:size]))
        for _ in range(150):
            old = rng.randint(0, n)
            new = rng.randint(old, n)
            assert log.consistency_proof(conn, old, new) == merkle.consistency_proof(old, leaves[:new])
        assert log.leaf_index(conn, leaves[17]) == 17
        assert log.leaf_index(conn, merkle.leaf_hash(b"not there")) is None
        with pytest.raises(log.TreeSizeError):
            log.root_at(conn, n + 1)
        with pytest.raises(log.TreeSizeError):
            log.root_at(conn, -1)
        with pytest.raises(log.TreeSizeError):
            log.consistency_proof(conn, 0, n + 1)
        with pytest.raises(log.TreeSizeError):
            log.inclusion_proof(conn, n, n)
        with pytest.raises(log.TreeSizeError):
            log.consistency_proof(conn, 5, 4)


def test_append_rolls_back_with_the_callers_transaction(engine: Engine) -> None:
    append(engine, event_ids("a", 10))
    with pytest.raises(RuntimeError), write_transaction(engine) as conn:
        log.append_leaves(conn, event_ids("b", 50))
        assert log.tree_size(conn) == 60
        raise RuntimeError("the capture failed mid-document")
    with engine.connect() as conn:
        assert log.tree_size(conn) == 10
        assert tables.node_counts(conn)[1] == (5, 4)
    assert append(engine, event_ids("c", 3)) == [10, 11, 12]


def test_missing_head_row_is_a_clear_error(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(delete(tables.tracelog_head))
    with pytest.raises(tables.TraceLogError, match="head row") as info, write_transaction(engine) as conn:
        log.append_leaves(conn, event_ids("a", 2))
    assert info.value.code == "trace-log"


def test_bad_leaf_data_rejected(engine: Engine) -> None:
    with pytest.raises(Exception, match="expected bytes"), write_transaction(engine) as conn:
        log.append_leaves(conn, [b"ok", "not bytes"])  # type: ignore[list-item]
    with pytest.raises(Exception, match="not an EPCIS event hash ID"):
        log.event_leaf_data("sha256:abc")


def test_concurrent_appends_do_not_corrupt_the_tree(store: tuple[str, Engine]) -> None:
    url, engine = store
    batches_per_worker, batch = 12, 37
    results: dict[str, list[list[int]]] = {"x": [], "y": []}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            for b in range(batches_per_worker):
                items = event_ids(f"{name}{b:03x}", batch)
                if url.startswith("sqlite"):
                    got = append(engine, items)
                else:  # on PostgreSQL the head-row lock alone serialises, without BEGIN IMMEDIATE
                    with engine.begin() as conn:
                        got = log.append_leaves(conn, items)
                results[name].append(got)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in results]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    total = 2 * batches_per_worker * batch
    indices = sorted(i for runs in results.values() for run in runs for i in run)
    assert indices == list(range(total))
    for runs in results.values():  # each batch got a contiguous run
        assert all(run == list(range(run[0], run[0] + batch)) for run in runs)
    leaves = all_leaf_hashes(engine)
    with engine.connect() as conn:
        assert log.tree_size(conn) == total
        assert log.root_at(conn, total) == merkle.root_hash(leaves)
        report = run_audit(conn, [])
    assert report.ok, report.findings


# --- checkpoints and audit ------------------------------------------------------------------------------------


def issue(engine: Engine) -> log.StoredCheckpoint:
    return signer.issue(engine).checkpoint


def store_key(engine: Engine) -> RegistryKey:
    with engine.connect() as conn:
        return signer.signer_key(conn)


def test_checkpoint_round_trip(engine: Engine) -> None:
    key = store_key(engine)
    empty = issue(engine)
    assert empty.tree_size == 0 and empty.root_hash == merkle.EMPTY_ROOT
    data = event_ids("c", 21)
    append(engine, data)
    cp = issue(engine)
    assert issue(engine).checkpoint_id == cp.checkpoint_id  # nothing new to sign
    opened = checkpoint.open_checkpoint(cp.note, [checkpoint.parse_vkey(key.vkey)])
    assert opened.origin == key.name
    assert opened.tree_size == 21
    assert opened.root_hash == merkle.root_hash([merkle.leaf_hash(d) for d in data])
    # another key's signature is not accepted
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    stranger = checkpoint.format_vkey(key.name, checkpoint.public_key_bytes(Ed25519PrivateKey.generate()))
    with pytest.raises(checkpoint.CheckpointError, match="no signature by a known key"):
        checkpoint.open_checkpoint(cp.note, [checkpoint.parse_vkey(stranger)])
    # a proof against it verifies offline
    from lodeline.trace.proof_verify import verify_inclusion_document

    with engine.connect() as conn:
        doc = log.prove_event(conn, data[9], cp)
    result = verify_inclusion_document(doc, cp.note, [key.verifier()])
    assert (result.leaf_index, result.tree_size) == (9, 21)


def audit(engine: Engine, **kwargs: object) -> list[tuple[str, int | None, int | None, int | None]]:
    key = store_key(engine)
    with engine.connect() as conn:
        report = run_audit(conn, [key.verifier()], **kwargs)  # type: ignore[arg-type]
    return [(f.kind, f.leaf_index, f.level, f.node_index) for f in report.findings]


@pytest.fixture
def logged(engine: Engine) -> tuple[Engine, list[bytes]]:
    data = event_ids("d", 100)
    append(engine, data[:40])
    issue(engine)
    append(engine, data[40:])
    issue(engine)
    assert audit(engine) == []
    return engine, data


def test_audit_names_a_changed_leaf(logged: tuple[Engine, list[bytes]]) -> None:
    engine, _ = logged
    with engine.begin() as conn:
        conn.execute(
            update(tables.tracelog_leaves)
            .where(tables.tracelog_leaves.c.leaf_index == 57)
            .values(leaf_data=b"forged")
        )
    findings = audit(engine)
    assert ("leaf-hash-mismatch", 57, None, None) in findings
    assert [f for f in findings if f[0].startswith("subtree")] == []  # no stored subtree row was touched
    assert {f[0] for f in findings} == {"leaf-hash-mismatch", "checkpoint-root-mismatch"}


def test_audit_names_a_consistently_rewritten_leaf_by_its_parent(logged: tuple[Engine, list[bytes]]) -> None:
    engine, _ = logged
    forged = b"ni:///sha-256;forged?ver=CBV2.0"
    with engine.begin() as conn:
        conn.execute(
            update(tables.tracelog_leaves)
            .where(tables.tracelog_leaves.c.leaf_index == 13)
            .values(leaf_data=forged, leaf_hash=merkle.leaf_hash(forged))
        )
    findings = audit(engine)
    # leaf 13's parent (level 1, index 6) no longer matches its stored children; nothing above is blamed
    assert [f for f in findings if f[0] == "subtree-mismatch"] == [("subtree-mismatch", None, 1, 6)]
    assert sum(f[0] == "checkpoint-root-mismatch" for f in findings) == 2


def test_audit_names_a_changed_subtree_row(logged: tuple[Engine, list[bytes]]) -> None:
    engine, _ = logged
    with engine.begin() as conn:
        conn.execute(
            update(tables.tracelog_nodes)
            .where(tables.tracelog_nodes.c.level == 3, tables.tracelog_nodes.c.node_index == 5)
            .values(hash=b"\x11" * 32)
        )
    assert audit(engine) == [("subtree-mismatch", None, 3, 5)]


def test_audit_names_missing_rows_and_changed_head(logged: tuple[Engine, list[bytes]]) -> None:
    engine, _ = logged
    with engine.begin() as conn:
        conn.execute(delete(tables.tracelog_leaves).where(tables.tracelog_leaves.c.leaf_index == 70))
    assert ("leaf-missing", 70, None, None) in audit(engine)
    with engine.begin() as conn:
        conn.execute(update(tables.tracelog_head).values(tree_size=90))
    kinds = {f[0] for f in audit(engine)}
    assert {"leaf-extra", "subtree-extra", "checkpoint-beyond-log"} <= kinds


def test_audit_detects_changed_checkpoints(logged: tuple[Engine, list[bytes]]) -> None:
    engine, _ = logged
    with engine.connect() as conn:
        first, second = tables.checkpoints(conn)
    with engine.begin() as conn:
        c = tables.tracelog_checkpoints.c
        conn.execute(
            update(tables.tracelog_checkpoints)
            .where(c.checkpoint_id == first["checkpoint_id"])
            .values(note=first["note"].replace("\n40\n", "\n41\n"))
        )
        conn.execute(
            update(tables.tracelog_checkpoints)
            .where(c.checkpoint_id == second["checkpoint_id"])
            .values(root_hash=b"\x22" * 32)
        )
    findings = {(f[0]) for f in audit(engine)}
    assert findings == {"checkpoint-signature", "checkpoint-row-mismatch"}


def test_audit_leaf_source_hook(logged: tuple[Engine, list[bytes]]) -> None:
    engine, data = logged

    def from_events(conn: object) -> list[tuple[int, bytes]]:
        recomputed = list(enumerate(data))
        recomputed[33] = (33, b"ni:///sha-256;edited-event?ver=CBV2.0")
        del recomputed[90]
        return recomputed

    findings = audit(engine, leaf_source=from_events)
    assert findings == [("event-leaf-mismatch", 33, None, None), ("leaf-without-event", 90, None, None)]


KILL_SCRIPT = """
import sys
from lodeline.store.engine import make_engine, write_transaction
from lodeline.trace import log
engine = make_engine(sys.argv[1])
batch = 0
while True:
    data = [f"ni:///sha-256;{batch:08x}{i:056x}?ver=CBV2.0".encode() for i in range(5000)]
    with write_transaction(engine) as conn:
        log.append_leaves(conn, data)
    batch += 1
    print(batch, flush=True)
"""


def test_sigkill_mid_append_leaves_a_whole_tree(store: tuple[str, Engine]) -> None:
    """Kill an appender (SIGKILL) while it writes: the store holds whole batches only and audits clean."""
    import signal
    import subprocess
    import sys
    import time

    url, engine = store
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, url], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "1"  # at least one batch committed
    time.sleep(0.15)  # now it is somewhere inside a later batch
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    with engine.connect() as conn:
        size = log.tree_size(conn)
        assert size > 0 and size % 5000 == 0
        report = run_audit(conn, [])
    assert report.ok, report.findings
    assert report.leaves_checked == size
    assert append(engine, event_ids("after", 3)) == [size, size + 1, size + 2]
