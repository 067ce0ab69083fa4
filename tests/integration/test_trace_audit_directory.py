"""``trace audit`` checks the registry's directory against the log (issue 10): every directory change is a log
leaf, so an edit made in the database to a mine's country, a facility's operator, a participant's public key, a
company prefix's owner or a revocation is named, with the table's and the log's value; the replay and the
signature checks use the directory as the log held it when each document was captured, not the edited tables.
An untouched store passes. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.trace import keys, log, parties
from lodeline.trace.audit import run_audit
from lodeline.trace.audit_derived import DerivedReport, audit_derived
from lodeline.trace.capture import capture, leaf_data_from_events
from lodeline.trace.chain_setup import capture_all, demo_key, document_bytes, register
from lodeline.trace.directory import parse_leaf
from lodeline.trace.generator import T0, Chain, Events, document, lithium_chain
from lodeline.trace.identifiers import canonical_id


@pytest.fixture
def chain(engine: Engine) -> Chain:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    return chain


def _audit(engine: Engine) -> DerivedReport:
    with engine.connect() as conn, conn.begin():
        return audit_derived(conn, full=True)


def _edit(engine: Engine, statement: Any) -> None:
    with engine.begin() as conn:
        assert conn.execute(statement).rowcount == 1


def _fid(chain: Chain, key: str) -> str:
    return canonical_id(chain.facilities[key].sgln)


def _named(report: DerivedReport) -> list[tuple[str, str]]:
    return [(f.kind, f.message) for f in report.findings]


def test_an_untouched_store_passes_and_counts_its_directory_leaves(engine: Engine, chain: Chain) -> None:
    report = _audit(engine)
    assert report.ok, report.findings
    assert not report.warnings
    # per participant: registered, its key, its company prefix; per facility: registered, and its certifications
    assert (len(chain.participants), len(chain.facilities)) == (6, 6)
    assert sum(len(f.certifications) for f in chain.facilities.values()) == 1
    assert report.directory_leaves == 6 * 3 + 6 + 1 == 25
    assert report.rows_compared["trace_facilities"] == 6
    assert report.rows_compared["trace_participant_keys"] == 6
    assert report.snapshot_events == 0
    # the log-level audit accounts for every leaf: events and directory changes
    with engine.connect() as conn, conn.begin():
        log_report = run_audit(conn, [], leaf_source=leaf_data_from_events)
    assert not [f for f in log_report.findings if f.kind != "checkpoint-signature"], log_report.findings
    assert log_report.directory_leaves == 25
    assert log_report.events_checked + 25 == log_report.leaves_checked


def test_a_mine_moved_to_another_country_is_named(engine: Engine, chain: Chain) -> None:
    mine = _fid(chain, "m1")
    assert chain.facilities["m1"].country == "AUS"
    _edit(engine, update(db.facilities).where(db.facilities.c.id == mine).values(country="CHN"))
    report = _audit(engine)
    assert _named(report) == [("directory-mismatch", f"facility {mine} country: table 'CHN', log 'AUS'")]
    finding = report.findings[0]
    assert (finding.table, finding.column, finding.stored, finding.recomputed) == (
        "trace_facilities",
        "country",
        "CHN",
        "AUS",
    )


def test_a_facility_operator_is_named_and_the_replay_keeps_the_logged_one(
    engine: Engine, chain: Chain
) -> None:
    """The converter handed to the cathode maker in the table: named once. The replay still judges the
    converter's documents against the logged operator, so no capture rule fires on them (it would if the
    replay read the table: facility-not-operated)."""
    converter = _fid(chain, "cv")
    owner = chain.facilities["cv"].operator
    _edit(
        engine,
        update(db.facilities).where(db.facilities.c.id == converter).values(operator_id="ulsan-cathode"),
    )
    report = _audit(engine)
    assert _named(report) == [
        ("directory-mismatch", f"facility {converter} operator_id: table 'ulsan-cathode', log '{owner}'")
    ]


def test_a_public_key_swapped_in_the_table_is_named(engine: Engine, chain: Chain) -> None:
    """An attacker's key put in place of a miner's: named; the documents still verify against the logged key."""
    with engine.connect() as conn:
        kid = conn.execute(
            db.participant_keys.select().where(db.participant_keys.c.participant_id == "pilbara-miner")
        ).one()
    forged = keys.public_b64(demo_key(99))
    _edit(
        engine,
        update(db.participant_keys)
        .where(db.participant_keys.c.key_id == kid.key_id)
        .values(public_key=forged),
    )
    report = _audit(engine)
    assert _named(report) == [
        ("directory-mismatch", f"key {kid.key_id} public_key: table '{forged}', log '{kid.public_key}'")
    ]


def test_a_company_prefix_given_to_another_participant_is_named(engine: Engine, chain: Chain) -> None:
    prefix = chain.prefix_of("pilbara-miner")
    table = db.company_prefixes
    _edit(engine, update(table).where(table.c.prefix == prefix).values(participant_id="ulsan-cathode"))
    report = _audit(engine)
    assert _named(report) == [
        (
            "directory-mismatch",
            f"company prefix {prefix} participant_id: table 'ulsan-cathode', log 'pilbara-miner'",
        )
    ]


def test_rows_added_or_removed_in_the_tables_are_named(engine: Engine, chain: Chain) -> None:
    mine = _fid(chain, "m1")
    with engine.begin() as conn:
        conn.execute(delete(db.certifications).where(db.certifications.c.facility_id == mine))
        conn.execute(
            insert(db.company_prefixes).values(prefix="9999999", participant_id="pilbara-miner", added_at=T0)
        )
    kinds = sorted((f.kind, f.table) for f in _audit(engine).findings)
    assert kinds == [
        ("directory-extra", "trace_company_prefixes"),
        ("directory-missing", "trace_certifications"),
    ]


def test_the_replay_uses_the_directory_as_logged_at_capture(engine: Engine, chain: Chain) -> None:
    """A key revoked later with a revocation time before the documents it signed: the documents were captured
    while it was valid, which the log shows (the revocation leaf follows them). Checked against the table alone,
    they would fail as signed by a revoked key."""
    with engine.connect() as conn:
        kid = conn.execute(
            db.participant_keys.select().where(db.participant_keys.c.participant_id == "pilbara-miner")
        ).one()
    parties.revoke_key(engine, "pilbara-miner", kid.key_id, at=T0 - timedelta(days=1), reason="compromised")
    report = _audit(engine)
    assert report.ok, report.findings
    assert report.directory_leaves == 26
    # a new document signed with it is refused at capture, so nothing new is logged
    ev = Events(chain).commission(
        chain.facilities["m1"], "SC6-X9", "spodumene_concentrate_sc6", 1_000, T0 + timedelta(days=90)
    )
    data = document_bytes(document([ev], T0 + timedelta(days=90)))
    with pytest.raises(Exception, match="revoked"):
        capture(engine, data, participant="pilbara-miner", signature=keys.sign(demo_key(0), data))


def test_a_garbled_directory_leaf_is_named(engine: Engine, chain: Chain) -> None:
    with write_transaction(engine) as conn:
        (index,) = log.append_leaves(conn, [b'{"op":"facility-registered"}'])
    report = _audit(engine)
    assert [(f.kind, f.leaf_index) for f in report.findings] == [("directory-leaf-invalid", index)]
    with engine.connect() as conn, conn.begin():
        log_report = run_audit(conn, [], leaf_source=leaf_data_from_events)
    assert [f.leaf_index for f in log_report.findings if f.kind == "leaf-without-event"] == [index]


def test_directory_leaves_are_canonical_and_decode_to_the_rows(engine: Engine, chain: Chain) -> None:
    mine = _fid(chain, "m1")
    with engine.connect() as conn:
        leaves = tracelog.leaves_starting_with(conn, b"{", tracelog.tree_size(conn))
    entries = [parse_leaf(i, d) for i, d in leaves]
    (registered,) = [e for e in entries if e.op == "facility-registered" and e.key == mine]
    spec = chain.facilities["m1"]
    assert registered.record == {
        "id": mine,
        "name": spec.name,
        "facility_type": "mine",
        "country": "AUS",
        "latitude": spec.latitude,
        "longitude": spec.longitude,
        "operator_id": spec.operator,
        "custody_model": "segregated",
    }
    data = dict(leaves)[registered.index]
    assert data.startswith(b'{"at":"') and b'"type":"lodeline-directory/v1"}' in data
    assert json.loads(data)["record"]["country"] == "AUS"


def test_the_cli_audit_fails_naming_the_edit(
    store: tuple[str, Engine], chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    assert runner.invoke(app, ["trace", "checkpoint"]).exit_code == 0
    passed = runner.invoke(app, ["trace", "audit", "--format", "json"])
    assert passed.exit_code == 0, passed.output
    assert json.loads(passed.stdout)["directory_leaves"] == 25
    mine = _fid(chain, "m1")
    _edit(engine, update(db.facilities).where(db.facilities.c.id == mine).values(country="CHN"))
    result = runner.invoke(app, ["trace", "audit", "--format", "json"])
    assert result.exit_code == 1, result.output
    body = json.loads(result.stdout)
    messages = [f["message"] for f in body["derived"]["findings"]]
    assert f"facility {mine} country: table 'CHN', log 'AUS'" in messages


def test_a_directory_record_is_proven_from_the_cli_and_verifies(
    store: tuple[str, Engine], chain: Chain, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    url, _engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    gln = chain.facilities["m1"].gln
    proof, note = tmp_path / "proof.json", tmp_path / "checkpoint.txt"
    made = runner.invoke(
        app, ["trace", "prove", "--facility", gln, "--out", str(proof), "--checkpoint-out", str(note)]
    )
    assert made.exit_code == 0, made.output
    doc = json.loads(proof.read_text())
    leaf = json.loads(doc["leaf_data"])
    assert (leaf["op"], leaf["record"]["id"], leaf["record"]["country"]) == (
        "facility-registered",
        canonical_id(chain.facilities["m1"].sgln),
        "AUS",
    )
    checked = runner.invoke(app, ["trace", "verify", "--checkpoint", str(note), "--proof", str(proof)])
    assert checked.exit_code == 0, checked.output
    assert f"verified: leaf {doc['leaf_index']} (" in checked.output
    for option, value, column in (
        ("--participant", "pilbara-miner", "id"),
        ("--prefix", chain.prefix_of("pilbara-miner"), "participant_id"),
    ):
        assert runner.invoke(app, ["trace", "prove", option, value, "--out", str(proof)]).exit_code == 0
        assert json.loads(json.loads(proof.read_text())["leaf_data"])["record"][column] == "pilbara-miner"
    # a record the log does not hold, and two things at once, are refused by name
    missing = runner.invoke(app, ["trace", "prove", "--participant", "nobody"])
    assert missing.exit_code != 0 and "no directory leaf records participant 'nobody'" in str(
        missing.exception
    )
    both = runner.invoke(app, ["trace", "prove", "--participant", "pilbara-miner", "--facility", gln])
    assert both.exit_code != 0 and "exactly one" in str(both.exception)
