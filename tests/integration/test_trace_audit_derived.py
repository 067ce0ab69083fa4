"""``trace audit`` recomputes the registry's derived tables from the logged events (issue 10): an untouched store
passes; one edited row in any derived table — origin edges, lots, balances, claims, credits, the custody
journal, the EPC index, the event columns, the document records — is named with its table, key, column, stored
and recomputed value; a forged document participant fails the signature check and the replay; documents
captured before the signed bytes were kept are reported by name. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import trace as db
from lodeline.trace import keys
from lodeline.trace.audit_derived import DerivedReport, audit_derived
from lodeline.trace.capture import capture
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.generator import T0, Chain, Events, document, nickel_chain
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.origin import origin_report

INSPECTION_ID = "urn:uuid:5b0c8a52-6d0e-4f3e-9a57-0c2d3e4f5a6b"


def _serial(chain: Chain) -> str:
    """A serialised item under the Halmahera miner's own company prefix (a row of the EPC index)."""
    return f"urn:epc:id:sgtin:{chain.prefix_of('halmahera-miner')}.012345.1001"


@pytest.fixture
def chain(engine: Engine) -> Chain:
    """The nickel chain (a mass-balance refinery: credits); one more commissioning that names a serialised item
    (a row of the EPC index); declared opening stock at the refinery; and an inspection of the pCAM lot with an
    eventID (a non-material event: its facility is where the submitter inspected)."""
    chain = nickel_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    events = Events(chain)
    extra = events.commission(
        chain.facilities["n1"], "ORE-H2", "laterite_ore_limonite", 1_000, T0 + timedelta(days=60)
    )
    extra["epcList"] = [_serial(chain)]
    opening = events.commission(
        chain.facilities["sf"],
        "NS-OPEN",
        "nickel_sulphate_hexahydrate",
        2_000,
        T0 + timedelta(days=61),
        opening_stock="sulphate held at onboarding (stocktake ST-12)",
    )
    inspection = events.inspect(
        chain.facilities["pc"], "PCAM-G1", 10, T0 + timedelta(days=62), event_id=INSPECTION_ID
    )
    for pid, ev in (("halmahera-miner", extra), ("ningbo-refiner", opening), ("gwangyang-pcam", inspection)):
        data = document_bytes(document([ev], T0 + timedelta(days=63)))
        capture(engine, data, participant=pid, signature=keys.sign(private[pid], data))
    return chain


EXTRA_DOCUMENTS = 3
EXTRA_EVENTS = 3


def _audit(engine: Engine, **options: Any) -> DerivedReport:
    with engine.connect() as conn, conn.begin():
        return audit_derived(conn, full=True, **options)


def _one(engine: Engine, table: Any, where: Any = None) -> dict[str, Any]:
    with engine.connect() as conn:
        q = select(table)
        if where is not None:
            q = q.where(where)
        return dict(conn.execute(q.limit(1)).mappings().one())


def _edit(engine: Engine, statement: Any) -> None:
    with engine.begin() as conn:
        assert conn.execute(statement).rowcount == 1


def test_an_untouched_store_passes_both_modes(engine: Engine, chain: Chain) -> None:
    for full in (True, False):
        with engine.connect() as conn, conn.begin():
            report = audit_derived(conn, full=full, sample=1, seed=7)
        assert report.ok, report.findings
        assert not report.warnings
        assert report.documents == report.documents_verified == len(chain.documents) + EXTRA_DOCUMENTS
        assert report.events_replayed == len(_rows(engine, db.events)) == 13 + EXTRA_EVENTS
        assert report.legacy_events == 0 and report.rules_first_leaf == 0
        for table in ("trace_lots", "trace_lot_sources", "trace_claims", "trace_lot_movements", "trace_event_epcs",
                      "trace_balances", "trace_credits"):  # fmt: skip
            assert report.rows_compared[table] > 0, table
    assert report.documents_reprepared <= 2  # the sample (1) and the newest document
    assert _audit(engine).documents_reprepared == report.documents


def _origin_edge(c: Chain) -> Any:
    mine = canonical_id(c.facilities["n1"].sgln)
    return (db.lot_sources.c.facility_id == mine) & db.lot_sources.c.source_lot.is_(None)


def _edits(c: Chain) -> dict[str, tuple[Callable[[dict[str, Any]], Any], Any, str, Any]]:
    """table (or table.column for the columns capture derives since trace_0004) -> (statement from the row, row
    filter, column named, value written)."""
    refinery = canonical_id(c.facilities["sf"].sgln)
    mhp = canonical_id(c.lots["MHP-O1"])
    opening = canonical_id(c.lots["NS-OPEN"])
    ls, lots, bal, cl, cr, mv, ep, ev = (
        db.lot_sources, db.lots, db.balances, db.claims, db.credits, db.lot_movements, db.event_epcs, db.events,
    )  # fmt: skip
    inspected = ev.c.biz_step == "inspecting"
    return {
        # an origin edge moved from an Indonesian mine to the Chinese refinery (origin shares shift)
        "trace_lot_sources": (
            lambda r: update(ls).where(ls.c.id == r["id"]).values(facility_id=refinery),
            _origin_edge(c), "facility_id", refinery,
        ),
        "trace_lots": (lambda r: update(lots).where(lots.c.id == r["id"]).values(facility_id=refinery),
                       lots.c.id == mhp, "facility_id", refinery),
        # the opening-stock flag wiped: origin reports would no longer flag the metal resting on it
        "trace_lots.opening_stock": (lambda r: update(lots).where(lots.c.id == r["id"]).values(opening_stock=None),
                                     lots.c.id == opening, "opening_stock", None),
        "trace_balances": (
            lambda r: update(bal).where(bal.c.lot_id == r["lot_id"], bal.c.facility_id == r["facility_id"],
                                        bal.c.state == r["state"]).values(quantity_kg=r["quantity_kg"] + 500),
            None, "quantity_kg", None,
        ),
        # a balance dated earlier than the event that filled it: a back-dated shipment could draw on it
        "trace_balances.added_at": (
            lambda r: update(bal).where(bal.c.lot_id == r["lot_id"], bal.c.facility_id == r["facility_id"],
                                        bal.c.state == r["state"]).values(added_at="2020-01-01T00:00:00.000Z"),
            None, "added_at", "2020-01-01T00:00:00.000Z",
        ),
        "trace_claims": (lambda r: update(cl).where(cl.c.id == r["id"]).values(certified_metal_kg=123.0),
                         cl.c.lot_id == mhp, "certified_metal_kg", 123.0),
        "trace_credits": (lambda r: update(cr).where(cr.c.facility_id == r["facility_id"],
                                                     cr.c.period == r["period"]).values(claimed_kg=0.5),
                          None, "claimed_kg", 0.5),
        "trace_lot_movements": (lambda r: update(mv).where(mv.c.id == r["id"]).values(counterpart_id=refinery),
                                mv.c.movement == "ship", "counterpart_id", refinery),
        "trace_event_epcs": (lambda r: update(ep).where(ep.c.id == r["id"]).values(epc=mhp),
                             ep.c.epc == canonical_id(_serial(c)), "", mhp),
        "trace_events": (lambda r: update(ev).where(ev.c.seq == r["seq"]).values(event_time="2020-01-01T00:00:00.000Z"),
                         ev.c.event_type == "TransformationEvent", "event_time", "2020-01-01T00:00:00.000Z"),
        # another submitter: its reads would show someone else's event in full, and the eventID index moves
        "trace_events.participant_id": (
            lambda r: update(ev).where(ev.c.seq == r["seq"]).values(participant_id="ningbo-refiner"),
            inspected, "participant_id", "ningbo-refiner",
        ),
        "trace_events.event_id": (
            lambda r: update(ev).where(ev.c.seq == r["seq"]).values(event_id="urn:uuid:forged"),
            inspected, "event_id", "urn:uuid:forged",
        ),
        # a non-material event's facility (where the submitter inspected) moved to the refinery
        "trace_events.facility_id": (
            lambda r: update(ev).where(ev.c.seq == r["seq"]).values(facility_id=refinery),
            inspected, "facility_id", refinery,
        ),
        "trace_documents": (lambda r: update(db.documents).where(db.documents.c.sha256 == r["sha256"]).values(events=99),
                            None, "events", 99),
    }  # fmt: skip


EDITS = [
    "trace_lot_sources", "trace_lots", "trace_lots.opening_stock", "trace_balances", "trace_balances.added_at",
    "trace_claims", "trace_credits", "trace_lot_movements", "trace_event_epcs", "trace_events",
    "trace_events.participant_id", "trace_events.event_id", "trace_events.facility_id", "trace_documents",
]  # fmt: skip


@pytest.mark.parametrize("edit", EDITS)
def test_one_edited_row_is_named(engine: Engine, chain: Chain, edit: str) -> None:
    table = edit.split(".")[0]
    statement, where, column, value = _edits(chain)[edit]
    row = _one(engine, db.metadata.tables[table], where)
    assert row.get(column) != value or not column, "the edit must change the row"
    before = origin_report(engine, chain.lots["PCAM-G1"])["by_country"]
    _edit(engine, statement(row))
    report = _audit(engine)
    assert not report.ok
    named = [f for f in report.findings if f.table == table]
    assert named, report.findings
    if table == "trace_event_epcs":  # the index row now names another EPC: one row extra, one missing
        kinds = {(f.kind, (f.key or {}).get("epc")) for f in named}
        assert kinds == {("derived-extra", value), ("derived-missing", canonical_id(_serial(chain)))}
        return
    hit = [f for f in named if f.kind == "derived-mismatch" and f.column == column]
    assert hit, named
    if value is not None or edit == "trace_lots.opening_stock":
        assert hit[0].stored == value and hit[0].recomputed == row[column]
    assert str(hit[0].key) and column in hit[0].message and table in hit[0].message
    if table == "trace_lot_sources":  # the attack the audit now catches: origin moved to another country
        after = origin_report(engine, chain.lots["PCAM-G1"])["by_country"]
        assert {r["country"] for r in after} == {"IDN", "CHN"} and {r["country"] for r in before} == {"IDN"}


def test_a_deleted_journal_row_and_a_forged_lot_are_named(engine: Engine, chain: Chain) -> None:
    row = _one(engine, db.lot_movements, db.lot_movements.c.movement == "receive")
    _edit(engine, delete(db.lot_movements).where(db.lot_movements.c.id == row["id"]))
    forged = _one(engine, db.lots) | {"id": "https://id.gs1.org/01/09521234000129/10/FORGED"}
    with engine.begin() as conn:
        conn.execute(db.lots.insert().values(**forged))
    report = _audit(engine)
    kinds = {(f.kind, f.table) for f in report.findings}
    assert ("derived-missing", "trace_lot_movements") in kinds and ("derived-extra", "trace_lots") in kinds
    missing = next(f for f in report.findings if f.kind == "derived-missing")
    assert missing.key == {"lot_id": row["lot_id"], "event_hash": row["event_hash"], "movement": "receive"}


def test_a_forged_document_participant_fails_the_signature_and_the_replay(
    engine: Engine, chain: Chain
) -> None:
    doc = _one(engine, db.documents, db.documents.c.participant_id == "halmahera-miner")
    _edit(
        engine,
        update(db.documents)
        .where(db.documents.c.sha256 == doc["sha256"])
        .values(participant_id="sulawesi-miner"),
    )
    report = _audit(engine)
    signature = [f for f in report.findings if f.kind == "document-signature"]
    assert [(f.document, f.stored) for f in signature] == [(doc["sha256"], "sulawesi-miner")]
    assert "bad-signature" in signature[0].message
    # replayed as the forged participant, every event of the document happens at a facility it does not operate,
    # and its lot is created under another participant's company prefix
    rejected = [f for f in report.findings if f.kind == "replay-rejected" and f.document == doc["sha256"]]
    hashes = [r["hash_id"] for r in _rows(engine, db.events) if r["document_sha256"] == doc["sha256"]]
    codes = {(h, code) for f in rejected for h in hashes for code in ("facility-not-operated", "foreign-company-prefix")
             if h in f.message and f"{code} —" in f.message}  # fmt: skip
    assert {h for h, code in codes if code == "facility-not-operated"} == set(hashes)
    assert {code for _, code in codes} == {"facility-not-operated", "foreign-company-prefix"}
    assert all(any(f"{code} —" in f.message for _, code in codes) for f in rejected)
    # and its events' stored submitter no longer matches their document's
    moved = {
        (f.key or {})["hash_id"]
        for f in report.findings
        if (f.table, f.column) == ("trace_events", "participant_id")
    }
    assert moved == set(hashes)


def test_a_forged_key_id_and_corrupted_bytes_are_named(engine: Engine, chain: Chain) -> None:
    first, second = [r["sha256"] for r in _rows(engine, db.documents)][:2]
    _edit(engine, update(db.documents).where(db.documents.c.sha256 == first).values(key_id="0" * 32))
    _edit(engine, update(db.document_bytes).where(db.document_bytes.c.sha256 == second).values(body=b"junk"))
    report = _audit(engine)
    assert any(
        f.kind == "derived-mismatch" and f.column == "key_id" and f.document is None for f in report.findings
    )
    assert [f.document for f in report.findings if f.kind == "document-bytes-mismatch"] == [second]


def _rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()]


def _documents_in_log_order(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        q = select(db.events.c.document_sha256).order_by(db.events.c.leaf_index)
        return list(dict.fromkeys(conn.execute(q).scalars()))


def test_documents_without_signed_bytes(engine: Engine, chain: Chain) -> None:
    order = _documents_in_log_order(engine)
    # the oldest two documents lost their bytes as if captured before trace_0005: named, the audit still passes
    with engine.begin() as conn:
        conn.execute(delete(db.document_bytes).where(db.document_bytes.c.sha256.in_(order[:2])))
    report = _audit(engine)
    assert report.ok and [f.document for f in report.warnings] == order[:2]
    assert {f.kind for f in report.warnings} == {"document-bytes-legacy"}
    # a later document without bytes cannot be legacy: its predecessors have theirs
    with engine.begin() as conn:
        conn.execute(delete(db.document_bytes).where(db.document_bytes.c.sha256 == order[3]))
    report = _audit(engine)
    assert [(f.kind, f.document) for f in report.findings] == [("document-bytes-missing", order[3])]


def test_cli_audit_full_names_the_edit(store: tuple[str, Engine], chain: Chain, monkeypatch) -> None:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    runner = CliRunner()
    ok = runner.invoke(app, ["trace", "checkpoint"])
    assert ok.exit_code == 0, ok.output
    for args in (["--full"], [], ["--sample", "1", "--seed", "3"]):
        result = runner.invoke(app, ["trace", "audit", *args, "--format", "json"])
        assert result.exit_code == 0, result.output
        body = json.loads(result.stdout)
        assert body["ok"] and body["derived"]["ok"]
        assert body["derived"]["mode"] == ("full" if args == ["--full"] else "sampled")
        assert (body["derived"]["seed"] is None) == (args == ["--full"])  # a sample can be repeated
        if "--seed" in args:
            assert body["derived"]["seed"] == 3
    statement, where, _column, _value = _edits(chain)["trace_lot_sources"]
    _edit(engine, statement(_one(engine, db.lot_sources, where)))
    result = runner.invoke(app, ["trace", "audit", "--full", "--format", "json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert not body["ok"] and body["findings"] == []  # the log itself is intact
    assert [f["table"] for f in body["derived"]["findings"]] == ["trace_lot_sources"]
    table = runner.invoke(app, ["trace", "audit"])
    assert table.exit_code == 1 and "derived-mismatch" in table.stdout and "trace_lot_sources" in table.stdout
    assert runner.invoke(app, ["trace", "audit", "--no-derived"]).exit_code == 0


def test_migration_trace_0005_on_a_populated_store(engine: Engine, chain: Chain) -> None:
    """Down to trace_0003 (the bytes table goes) and up again: the documents captured before have no bytes and
    are reported as legacy, by name; the audit of everything else still runs and passes."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from lodeline.store.engine import MIGRATIONS_DIR, upgrade

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "trace_0003")
    assert "trace_document_bytes" not in inspect(engine).get_table_names()
    upgrade(engine)
    report = _audit(engine)
    assert report.ok and report.documents_verified == 0
    legacy = [f.document for f in report.warnings if f.kind == "document-bytes-legacy"]
    assert legacy == _documents_in_log_order(engine)
    # trace_0003 had no company prefixes: trace_0006's snapshot of the tables drops the bound ones, by name
    rebased = [(f.table, f.key, f.message) for f in report.warnings if f.kind == "directory-snapshot-rebased"]
    prefixes = sorted(chain.prefix_of(pid) for pid, _name, _role in chain.participants)
    assert [(t, k) for t, k, _ in rebased] == [("trace_company_prefixes", {"key": p}) for p in prefixes]
    assert f"drops company prefix {prefixes[0]}, which earlier directory leaves recorded" in rebased[0][2]
    assert report.rows_compared["trace_lot_sources"] > 0


#: Stored bodies edited into something capture's validation never lets through
EDITED_BODIES = {
    "a quantity that is not a number": lambda ev: (
        ev["quantityList"][0].update(quantity="lots") or json.dumps(ev)
    ),
    "a quantity list that is not a list": lambda ev: ev.update(quantityList="x") or json.dumps(ev),
    "nested 5,000 deep": lambda _ev: '{"a":' + "[" * 5000 + "]" * 5000 + "}",
}


@pytest.mark.parametrize("edit", EDITED_BODIES)
def test_an_edited_body_is_named_not_a_crash(
    store: tuple[str, Engine], chain: Chain, monkeypatch, edit
) -> None:
    url, engine = store
    row = _one(engine, db.events, db.events.c.biz_step == "shipping")
    body = EDITED_BODIES[edit](json.loads(row["body"]))
    _edit(engine, update(db.events).where(db.events.c.seq == row["seq"]).values(body=body))
    report = _audit(engine)
    named = [f for f in report.findings if f.kind == "event-body-unreadable"]
    assert [f.key for f in named] == [{"hash_id": row["hash_id"]}]
    # the whole command (the log audit recomputes each event's hash ID from its body, too)
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["trace", "audit", "--format", "json"])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # a finding, not a traceback
    out = json.loads(result.stdout)
    assert any(
        f["kind"] == "event-leaf-mismatch" and f["leaf_index"] == row["leaf_index"] for f in out["findings"]
    )
    assert any(f["kind"] == "event-body-unreadable" for f in out["derived"]["findings"])
