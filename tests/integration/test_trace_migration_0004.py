"""Migration trace_0004 on a store captured before it, on both backends: the new columns are filled from what the
store already holds, as capture would have written them, and legacy origins at facilities that cannot originate
material are flagged as opening stock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, delete, select, update

from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.store.engine import MIGRATIONS_DIR, upgrade
from lodeline.trace import keys, parties
from lodeline.trace.audit_derived import DerivedReport, audit_derived
from lodeline.trace.capture import capture
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.generator import Chain, Events, FacilitySpec, document, lithium_chain
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.mass_balance import LEGACY_OPENING_STOCK
from lodeline.trace.origin import origin_report


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _snapshot(engine: Engine) -> dict[str, list[tuple]]:
    e, b, lots = db.events, db.balances, db.lots
    with engine.connect() as conn:
        return {
            "events": sorted(
                tuple(r)
                for r in conn.execute(select(e.c.hash_id, e.c.participant_id, e.c.event_id, e.c.facility_id))
            ),
            "balances": sorted(
                tuple(r) for r in conn.execute(select(b.c.facility_id, b.c.lot_id, b.c.state, b.c.added_at))
            ),
            "lots": sorted(tuple(r) for r in conn.execute(select(lots.c.id, lots.c.opening_stock))),
        }


def test_upgrade_fills_what_capture_would_have_written(engine: Engine) -> None:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    inspection = Events(chain).inspect(
        chain.facilities["ce"],
        "CELL-X1",
        10,
        datetime(2025, 4, 10, 8, tzinfo=UTC),
        event_id="urn:uuid:0d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
    )
    data = document_bytes(document([inspection], datetime(2025, 4, 10, tzinfo=UTC)))
    capture(engine, data, participant="saxony-cells", signature=keys.sign(private["saxony-cells"], data))
    captured = _snapshot(engine)
    assert ("saxony-cells", inspection["eventID"], canonical_id(chain.facilities["ce"].sgln)) in {
        r[1:] for r in captured["events"]
    }
    assert all(r[3] for r in captured["balances"])  # every balance dated

    _downgrade(engine, "trace_0003")
    # a store of that time: non-material events had no facility, and one mine was (wrongly) typed a warehouse
    with engine.begin() as conn:
        conn.execute(update(db.events).where(db.events.c.biz_step == "inspecting").values(facility_id=None))
        fid = canonical_id(chain.facilities["m2"].sgln)
        conn.execute(update(db.facilities).where(db.facilities.c.id == fid).values(facility_type="warehouse"))
    upgrade(engine)

    after = _snapshot(engine)
    assert after["events"] == captured["events"]
    assert after["balances"] == captured["balances"]
    yilgarn = canonical_id(chain.lots["SC6-Y1"])
    assert dict(after["lots"]) == {
        lot: (LEGACY_OPENING_STOCK if lot == yilgarn else None) for lot, _ in captured["lots"]
    }
    # the origin report flags the metal resting on that legacy origin: the Yilgarn third of the primary lithium
    report = origin_report(engine, chain.lots["CELL-X1"])
    yilgarn_share = next(r["share"] for r in report["by_facility"] if r["name"] == "Yilgarn spodumene mine")
    assert report["opening_stock_share"] == yilgarn_share > 0.25
    upgrade(engine)  # idempotent
    assert _snapshot(engine) == after


def _audit(engine: Engine) -> DerivedReport:
    with engine.connect() as conn, conn.begin():
        return audit_derived(conn, full=True)


def _directory_leaves(engine: Engine, stop: int) -> int:
    with engine.connect() as conn:
        return len(tracelog.leaves_starting_with(conn, b"{", stop))


def _log_order(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        q = select(db.events.c.document_sha256).order_by(db.events.c.leaf_index)
        return list(dict.fromkeys(conn.execute(q).scalars()))


def test_the_audit_replays_what_was_accepted_before_the_rules_as_it_was_accepted(engine: Engine) -> None:
    """A store of the trace_0003 era (built as the test above builds one: captured, downgraded, then given what
    the older capture accepted and the rules now refuse), upgraded: the audit passes, replaying the events before
    the upgrade under the older rules and the documents after it under the new ones; without the recorded
    boundary those older events would be refused by today's rules, and a boundary moved is named."""
    chain = lithium_chain()
    depot = chain.facility(
        FacilitySpec("wh", "Saxony cell depot", "warehouse", "DEU", "saxony-cells", 51.0, 13.7)
    )
    private = register(engine, chain)
    capture_all(engine, chain, private)
    inspection = Events(chain).inspect(
        depot,
        "CELL-X1",
        10,
        datetime(2025, 4, 10, tzinfo=UTC),
        event_id="urn:uuid:6f1e2d3c-4b5a-4c6d-8e7f-901a2b3c4d5e",
    )
    data = document_bytes(document([inspection], datetime(2025, 4, 10, tzinfo=UTC)))
    capture(engine, data, participant="saxony-cells", signature=keys.sign(private["saxony-cells"], data))
    before = _log_order(engine)

    _downgrade(engine, "trace_0003")
    with engine.begin() as conn:
        # what capture before trace_0004 accepted: material originated at a warehouse (the Yilgarn mine, typed
        # wrongly), and a non-material event recorded at a competitor's site (the depot is the cathode maker's)
        for key, changes in (
            ("m2", {"facility_type": "warehouse"}),
            ("wh", {"operator_id": "ulsan-cathode"}),
        ):
            fid = canonical_id(chain.facilities[key].sgln)
            conn.execute(update(db.facilities).where(db.facilities.c.id == fid).values(**changes))
    upgrade(engine)  # company prefixes are not backfilled: every lot so far is under a prefix bound to nobody

    report = _audit(engine)
    assert report.ok, report.findings
    events = sum(len(doc["epcisBody"]["eventList"]) for _, doc in chain.documents) + 1
    assert report.legacy_events == report.events_replayed == events
    # the boundary is the log size at the upgrade: the events and the directory leaves logged at registration
    assert report.rules_first_leaf == events + _directory_leaves(engine, report.rules_first_leaf or 0)
    # trace_0005's rule still holds: documents from before it have no signed bytes, each named as legacy
    assert [(f.kind, f.document) for f in report.warnings if f.kind == "document-bytes-legacy"] == [
        ("document-bytes-legacy", sha) for sha in before
    ]
    # trace_0006's snapshot of the edited tables replaces what the registration leaves said, each change named
    rebased = {f.message.split(") ", 1)[1] for f in report.warnings if f.kind == "directory-snapshot-rebased"}
    m2, wh = (canonical_id(chain.facilities[k].sgln) for k in ("m2", "wh"))
    assert f"changes facility {m2} facility_type from 'mine' to 'warehouse'" in rebased
    assert f"changes facility {wh} operator_id from 'saxony-cells' to 'ulsan-cathode'" in rebased
    assert len(rebased) == 2 + len(chain.participants)  # and drops every company prefix

    # the operator binds the prefixes; a new document is judged under the rules, and has its bytes
    for pid, _name, _role in chain.participants:
        parties.add_company_prefix(engine, pid, chain.prefix_of(pid))
    later = datetime(2025, 5, 2, tzinfo=UTC)
    Events(chain).mine_and_ship(
        "pilbara-miner",
        chain.facilities["m1"],
        chain.facilities["cv"],
        "SC6-P2",
        "spodumene_concentrate_sc6",
        5_000,
        later,
        later + timedelta(hours=2),
    )
    capture_all(engine, Chain(documents=chain.documents[-1:]), private)
    report = _audit(engine)
    assert report.ok, report.findings
    assert (report.legacy_events, report.events_replayed, report.documents_verified) == (
        events,
        events + 2,
        1,
    )
    assert [f.document for f in report.warnings if f.kind == "document-bytes-legacy"] == before

    # a boundary moved past a document captured under the rules is named
    with engine.begin() as conn:
        conn.execute(update(db.capture_rules).values(first_leaf=tracelog.tree_size(conn)))
    report = _audit(engine)
    boundary = [f for f in report.findings if f.kind == "capture-rules-boundary"]
    assert [f.document for f in boundary] == [_log_order(engine)[-1]]
    # without the boundary, today's rules judge the older events: the warehouse origination, the event at the
    # competitor's depot and the lots created under unbound prefixes are named
    with engine.begin() as conn:
        conn.execute(delete(db.capture_rules))
    report = _audit(engine)
    codes = {
        f.message.split(": ", 2)[-1].split(" — ")[0] for f in report.findings if f.kind == "replay-rejected"
    }
    assert {"origination-not-allowed", "facility-not-operated", "foreign-company-prefix"} <= codes
    assert report.rules_first_leaf is None and report.legacy_events == 0
