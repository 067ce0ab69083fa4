"""Migration trace_0007 on a store whose events were hashed with the algorithm before issue 11, on both backends:
every event takes its current CBV 2.0 §8.9 hash ID everywhere it is referenced, its log leaf (append-only) keeps
the old one and is still proved and audited, duplicates are still found across the boundary, the checkpoint signed
before still verifies, the upgrade run again changes nothing, and the downgrade restores the old identities."""

from __future__ import annotations

import json

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select, update

from lodeline.errors import MigrationError
from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.engine import MIGRATIONS_DIR, upgrade
from lodeline.trace import capture as capture_module
from lodeline.trace import event_hash_v1, keys, log, rehash, signer
from lodeline.trace.audit import run_audit
from lodeline.trace.audit_derived import audit_derived
from lodeline.trace.capture import capture, leaf_data_from_events
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.event_hash import context_namespaces, event_hash_id
from lodeline.trace.generator import lithium_chain
from lodeline.trace.proof_verify import verify_inclusion_document


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def _sub_millisecond(chain) -> None:  # type: ignore[no-untyped-def]
    """eventTimes with digits below the millisecond that round up: the old algorithm truncated them, so every
    event's hash differs between the two algorithms (the generated chain otherwise hashes alike under both)."""
    for _, doc in chain.documents:
        for ev in doc["epcisBody"]["eventList"]:
            assert ev["eventTime"].endswith(".000Z")
            ev["eventTime"] = ev["eventTime"][:-1] + "7Z"  # .0007 -> .001 now, .000 before


def _events(engine: Engine) -> list[tuple[str, str | None, int, dict]]:
    e = db.events.c
    with engine.connect() as conn:
        rows = conn.execute(select(e.hash_id, e.leaf_hash_id, e.leaf_index, e.body).order_by(e.seq)).all()
    return [(h, leaf, int(i), json.loads(body)) for h, leaf, i, body in rows]


def _references(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        return {t.name: sorted(conn.execute(select(t.c.event_hash)).scalars()) for t in rehash.REFERRING}


def _leaves(engine: Engine) -> list[tuple[bytes, bytes]]:
    """(leaf hash, leaf data) of every leaf of the log."""
    with engine.connect() as conn:
        return [(h, d) for _, h, d in tracelog.iter_leaves(conn, 0, tracelog.tree_size(conn))]


def test_trace_0007_rekeys_events_hashed_the_old_way(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _alembic(engine, "downgrade", "trace_0006")
    chain = lithium_chain()
    _sub_millisecond(chain)
    private = register(engine, chain)
    with monkeypatch.context() as patched:  # capture as the registry did before issue 11
        patched.setattr(capture_module, "event_hash_id", event_hash_v1.event_hash_id)
        capture_all(engine, chain, private)
    e = db.events.c
    with engine.connect() as conn:
        before = {
            json.dumps(json.loads(b), sort_keys=True): h
            for h, b in conn.execute(select(e.hash_id, e.body)).all()
        }
    refs_before = _references(engine)
    leaves_before = _leaves(engine)
    old_cp = signer.issue(engine).checkpoint
    assert all(
        event_hash_v1.event_hash_id(json.loads(b), context_namespaces(json.loads(b)["@context"])) == h
        for b, h in before.items()
    )

    upgrade(engine)

    rows = _events(engine)
    assert len(rows) == len(before) > 0
    mapping = {}
    for hash_id, leaf_hash_id, _, body in rows:
        old = before[json.dumps(body, sort_keys=True)]
        assert hash_id == event_hash_id(body, context_namespaces(body["@context"]))  # current algorithm
        assert leaf_hash_id == old != hash_id  # the leaf's hash ID kept beside it
        mapping[old] = hash_id
    # every reference follows its event; none is left on an old hash ID
    assert _references(engine) == {t: sorted(mapping[h] for h in hs) for t, hs in refs_before.items()}
    assert any(refs_before.values())
    # the log is untouched, and the checkpoint signed before still covers the same leaves
    assert _leaves(engine) == leaves_before
    with engine.connect() as conn:
        assert log.root_at(conn, old_cp.tree_size) == old_cp.root_hash
        assert rehash.boundary(conn) == len(leaves_before)

    # proofs: asked for by the new hash ID or by the old receipt, they prove the leaf as it is
    cp = signer.issue(engine).checkpoint
    verifiers = signer.audit_verifiers(engine)
    new_id, _, index, _ = rows[0]
    with engine.connect() as conn:
        for asked in (new_id, rows[0][1]):
            doc = log.prove_event(conn, log.event_leaf_data(str(asked)), cp)
            assert doc["leaf_index"] == index and doc["leaf_data"] == rows[0][1]
            assert verify_inclusion_document(doc, cp.note, verifiers).leaf_index == index

    with engine.connect() as conn, conn.begin():
        logged = run_audit(conn, verifiers, leaf_source=leaf_data_from_events)
        derived = audit_derived(conn, full=True)
    assert logged.ok, logged.findings
    assert derived.ok, derived.findings

    # the same document again is a duplicate across the boundary: nothing new is stored or logged
    pid, doc = chain.documents[0]
    doc = {
        **doc,
        "creationDate": "2026-01-01T00:00:00.000Z",
    }  # another document (a replay is refused as such)
    data = document_bytes(doc)
    report = capture(engine, data, participant=pid, signature=keys.sign(private[pid], data))
    assert not report.accepted and len(report.duplicates) == len(doc["epcisBody"]["eventList"])
    assert {d["hash_id"] for d in report.duplicates} <= set(mapping.values())
    assert _leaves(engine) == leaves_before

    # an edited body is named by the audit (the old leaf is recomputed with the old algorithm)
    with engine.begin() as conn:
        conn.execute(
            update(db.events)
            .where(db.events.c.hash_id == new_id)
            .values(body=json.dumps({**rows[0][3], "bizStep": "edited"}))
        )
    with engine.connect() as conn, conn.begin():
        assert not run_audit(conn, verifiers, leaf_source=leaf_data_from_events).ok
    with engine.begin() as conn:
        conn.execute(
            update(db.events).where(db.events.c.hash_id == new_id).values(body=json.dumps(rows[0][3]))
        )

    # an event row put back on its old hash ID is named by the derived-table audit (hash_id = current algorithm)
    with engine.begin() as conn:
        conn.execute(update(db.events).where(db.events.c.hash_id == new_id).values(hash_id=rows[0][1]))
    with engine.connect() as conn, conn.begin():
        assert not audit_derived(conn, full=True).ok
    with engine.begin() as conn:
        conn.execute(update(db.events).where(db.events.c.hash_id == rows[0][1]).values(hash_id=new_id))

    upgrade(engine)  # again: nothing changes
    assert _events(engine) == rows

    _alembic(engine, "downgrade", "trace_0006")
    with engine.connect() as conn:
        back = dict(conn.execute(select(e.body, e.hash_id)).all())
    assert sorted(back.values()) == sorted(before.values())
    assert _references(engine) == refs_before
    upgrade(engine)
    assert [(h, leaf, i) for h, leaf, i, _ in _events(engine)] == [(h, leaf, i) for h, leaf, i, _ in rows]


def test_trace_0007_stops_on_events_that_now_hash_alike(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two stored events whose eventTimes were .0006 and .001 s past the second: distinct under the old algorithm
    (which truncated .0006 to .000), the same event under the current one (which rounds it to .001). The registry
    cannot give both the same unique hash ID: the upgrade fails with an error naming them and changes nothing."""
    _alembic(engine, "downgrade", "trace_0006")
    chain = lithium_chain()
    private = register(engine, chain)
    pid, doc = chain.documents[0]
    first = doc["epcisBody"]["eventList"][0]
    twin = json.loads(json.dumps(first))
    first["eventTime"] = first["eventTime"][:-1] + "6Z"  # .0006: .000 before, .001 now
    twin["eventTime"] = twin["eventTime"].replace(".000Z", ".001Z")
    doc["epcisBody"]["eventList"] = [first, twin]
    data = document_bytes(doc)
    with monkeypatch.context() as patched:
        patched.setattr(capture_module, "event_hash_id", event_hash_v1.event_hash_id)
        report = capture(engine, data, participant=pid, signature=keys.sign(private[pid], data))
    assert len(report.accepted) == 2
    with pytest.raises(MigrationError, match="have the same hash ID") as refused:
        upgrade(engine)
    # the frozen migration's plain error reaches the CLI and API as a Lodeline error with its own code
    assert refused.value.code == "rehash-conflict"
    assert isinstance(refused.value.__cause__, rehash.RehashError)
    with engine.connect() as conn:
        stored = set(conn.execute(select(db.events.c.hash_id)).scalars())
    assert stored == set(report.accepted)
