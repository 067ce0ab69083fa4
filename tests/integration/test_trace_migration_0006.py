"""Migration trace_0006 on a store whose directory was written before directory changes were logged, on both
backends: it appends one snapshot of the directory tables (a header, then every row in a fixed order), the
checkpoints signed before it still verify and are extended consistently, the audit passes and replays the earlier
events against the snapshot, an edit made afterwards is named, and the upgrade run again appends nothing."""

from __future__ import annotations

import json

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, update

from lodeline.store import trace as db
from lodeline.store import trace_parties, tracelog
from lodeline.store.engine import MIGRATIONS_DIR, upgrade, write_transaction
from lodeline.tlog import merkle
from lodeline.trace import keys, log, parties, signer
from lodeline.trace.audit import run_audit
from lodeline.trace.audit_derived import audit_derived
from lodeline.trace.capture import leaf_data_from_events
from lodeline.trace.chain_setup import capture_all, demo_key
from lodeline.trace.generator import Chain, lithium_chain


def _register_unlogged(engine: Engine, chain: Chain) -> dict:
    """The directory as the registry wrote it before trace_0006: table rows only, no log leaves."""
    private = {}
    with write_transaction(engine) as conn:
        at = parties.now()
        for n, (pid, name, role) in enumerate(chain.participants):
            key = demo_key(n)
            public = keys.public_b64(key)
            trace_parties.add_participant(conn, pid, name, role, at)
            trace_parties.add_key(conn, pid, keys.key_id(public), public, at)
            trace_parties.add_prefix(conn, chain.prefix_of(pid), pid, at)
            private[pid] = key
        for spec in chain.facilities.values():
            fid = parties.facility_id(spec.gln)
            trace_parties.add_facility(
                conn,
                {
                    "id": fid,
                    "name": spec.name,
                    "facility_type": spec.facility_type,
                    "country": spec.country,
                    "latitude": spec.latitude,
                    "longitude": spec.longitude,
                    "operator_id": spec.operator,
                    "custody_model": spec.custody_model,
                },
            )
            for text in spec.certifications:
                trace_parties.add_certification(conn, fid, *parties.parse_certification(text))
    return private


def _rerun_0006(engine: Engine) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "trace_0005")
    upgrade(engine)


def test_trace_0006_snapshots_an_unlogged_directory(engine: Engine) -> None:
    chain = lithium_chain()
    private = _register_unlogged(engine, chain)
    capture_all(engine, chain, private)
    events = sum(len(doc["epcisBody"]["eventList"]) for _, doc in chain.documents)
    old = signer.issue(engine).checkpoint
    assert old.tree_size == events  # only event leaves so far

    _rerun_0006(engine)

    with engine.connect() as conn:
        size = tracelog.tree_size(conn)
        leaves = tracelog.leaves_starting_with(conn, b"{", size)
        # the old checkpoint's root is the root of the first `events` leaves, and the new tree extends it
        assert log.root_at(conn, old.tree_size) == old.root_hash
        path = log.consistency_proof(conn, old.tree_size, size)
        new_root = log.root_at(conn, size)
    assert merkle.verify_consistency(old.tree_size, size, old.root_hash, new_root, path)
    # 6 participants, 6 keys, 6 prefixes, 6 facilities, 1 certification: 25 rows and the header
    assert size == events + 26 and [i for i, _ in leaves] == list(range(events, events + 26))
    decoded = [json.loads(data) for _, data in leaves]
    assert decoded[0]["op"] == "snapshot" and decoded[0]["record"] == {
        "records": 25,
        "revision": "trace_0006",
    }
    assert {d.get("snapshot") for d in decoded[1:]} == {"trace_0006"}
    ops = [d["op"] for d in decoded[1:]]
    assert ops == ["participant-registered"] * 6 + ["key-added"] * 6 + ["prefix-bound"] * 6 + [
        "facility-registered"
    ] * 6 + ["certification-added"]
    participants = [d["record"]["id"] for d in decoded[1:7]]
    assert participants == sorted(pid for pid, _, _ in chain.participants)

    with engine.connect() as conn, conn.begin():
        logged = run_audit(conn, signer.audit_verifiers(engine), leaf_source=leaf_data_from_events)
        report = audit_derived(conn, full=True)
    assert logged.ok, logged.findings
    assert logged.directory_leaves == 26 and logged.checkpoints_checked == 1
    assert report.ok, report.findings
    assert not report.warnings
    assert report.directory_leaves == 26 and report.snapshot_events == report.events_replayed == events

    _rerun_0006(engine)  # nothing changed: nothing appended
    with engine.connect() as conn:
        assert tracelog.tree_size(conn) == size

    mine = parties.facility_id(chain.facilities["m1"].gln)
    with engine.begin() as conn:
        conn.execute(update(db.facilities).where(db.facilities.c.id == mine).values(country="CHN"))
    with engine.connect() as conn, conn.begin():
        edited = audit_derived(conn, full=True)
    assert [f.message for f in edited.findings] == [f"facility {mine} country: table 'CHN', log 'AUS'"]


def test_trace_0006_on_a_new_store_appends_nothing(engine: Engine) -> None:
    _rerun_0006(engine)
    with engine.connect() as conn:
        assert tracelog.tree_size(conn) == 0
