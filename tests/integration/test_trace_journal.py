"""The custody journal: every lot's trail (produced, shipped, received, consumed) in one indexed lookup, written
in the capture transaction and re-derivable from the stored events (the migration's backfill)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, delete, select

from lodeline.store import registry_reads
from lodeline.store import trace as db
from lodeline.trace.capture import backfill_event_epcs, backfill_lot_movements
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain
from lodeline.trace.identifiers import canonical_id


@pytest.fixture
def captured(engine: Engine) -> tuple[Engine, dict[str, str]]:
    chain = lithium_chain()
    capture_all(engine, chain, register(engine, chain))
    return engine, {name: canonical_id(urn) for name, urn in chain.lots.items()}


def _journal(engine: Engine) -> list[tuple]:
    cols = [c for c in db.lot_movements.c if c.name != "id"]
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(*cols)))


def test_trail_of_a_concentrate_lot_from_mine_to_converter(captured: tuple[Engine, dict[str, str]]) -> None:
    engine, lots = captured
    with engine.connect() as conn:
        trail = registry_reads.lot_trail(conn, lots["SC6-P1"])
        events = registry_reads.events_of_lot(conn, lots["SC6-P1"], 100)
    assert [(r["movement"], r["facility"], r["counterpart"]) for r in trail] == [
        ("produce", "Pilbara spodumene mine", None),
        ("ship", "Pilbara spodumene mine", "Sichuan lithium converter"),
        ("receive", "Sichuan lithium converter", "Pilbara spodumene mine"),
        ("consume", "Sichuan lithium converter", None),
    ]
    assert [r["quantity_kg"] for r in trail] == pytest.approx([1_000_000] * 4)
    assert [r["country"] for r in trail] == ["AUS", "AUS", "CHN", "CHN"]
    # the lot's events now include the shipment and the receipt between the two facilities
    assert [e["biz_step"] for e in events] == ["commissioning", "shipping", "receiving", "commissioning"]
    assert [e["hash_id"] for e in events] == [r["hash_id"] for r in trail]
    assert all(r["leaf_index"] is not None for r in trail)


def test_half_shipped_cathode_lot(captured: tuple[Engine, dict[str, str]]) -> None:
    engine, lots = captured
    with engine.connect() as conn:
        trail = registry_reads.lot_trail(conn, lots["CAM-U1"])
    moves = [(r["movement"], round(r["quantity_kg"], 3)) for r in trail]
    produced = moves[0][1]
    assert moves[0][0] == "produce" and moves[1:] == [
        ("ship", round(produced / 2, 3)),
        ("receive", round(produced / 2, 3)),
        ("consume", round(produced / 2, 3)),
    ]


def test_backfill_rebuilds_the_journal_from_stored_events(captured: tuple[Engine, dict[str, str]]) -> None:
    engine, _ = captured
    before = _journal(engine)
    # mines 2 × (produce, ship); converter 2 receipts, carbonate (2 in, 1 out), hydroxide (1, 1), ship;
    # recycler produce, carbonate (1, 1), ship; cathode 2 receipts, cathode (2, 1), ship; cells receipt, (1, 1)
    assert len(before) == 4 + 8 + 4 + 6 + 3
    with engine.begin() as conn:
        conn.execute(delete(db.lot_movements))
        assert backfill_lot_movements(conn) == len(before)
        assert backfill_lot_movements(conn) == 0  # nothing left to do: idempotent
    assert _journal(engine) == before


def _inspection(chain, private, engine: Engine) -> tuple[list[str], str]:
    """The cell plant inspects two serialised cells of lot CELL-X1 (moves no material); returns their EPCs."""
    from lodeline.trace import keys
    from lodeline.trace.capture import capture
    from lodeline.trace.chain_setup import document_bytes
    from lodeline.trace.generator import Events, document

    cells = ["urn:epc:id:sgtin:9521234.012345.1001", "urn:epc:id:sgtin:9521234.012345.1002"]
    when = datetime(2025, 4, 10, 8, tzinfo=UTC)
    event = Events(chain).inspect(chain.facilities["ce"], "CELL-X1", 10, when, epcs=cells)
    data = document_bytes(document([event], datetime(2025, 4, 10, tzinfo=UTC)))
    report = capture(
        engine, data, participant="saxony-cells", signature=keys.sign(private["saxony-cells"], data)
    )
    return [canonical_id(c) for c in cells], report.accepted[0]


def test_events_by_epc_are_indexed_lookups(engine: Engine) -> None:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    cells, inspection = _inspection(chain, private, engine)
    cell_lot = canonical_id(chain.lots["CELL-X1"])
    with engine.connect() as conn:
        by_serial = registry_reads.events_mentioning(conn, [cells[1]], None, 100)
        by_lot = registry_reads.events_mentioning(conn, [cell_lot], None, 100)
        by_ore = registry_reads.events_mentioning(conn, [canonical_id(chain.lots["SC6-P1"])], None, 100)
        nothing = registry_reads.events_mentioning(
            conn, [canonical_id("urn:epc:id:sgtin:9521234.012345.9")], None, 9
        )
        # the plan uses the indexes (SQLite): no scan of the events table
        if engine.dialect.name == "sqlite":
            sql = "EXPLAIN QUERY PLAN SELECT event_hash FROM trace_event_epcs WHERE epc = 'x'"
            assert "USING INDEX ix_trace_event_epcs_epc" in " ".join(
                str(r) for r in conn.exec_driver_sql(sql)
            )
    assert [e["hash_id"] for e in by_serial] == [inspection]
    # the cell lot: produced at the cell plant (journal) and inspected (EPC index, the event moves nothing)
    assert [e["biz_step"] for e in by_lot] == ["commissioning", "inspecting"]
    assert [e["biz_step"] for e in by_ore] == ["commissioning", "shipping", "receiving", "commissioning"]
    assert nothing == []


def test_backfill_rebuilds_the_epc_index(engine: Engine) -> None:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    _inspection(chain, private, engine)
    cols = [db.event_epcs.c.epc, db.event_epcs.c.event_hash]
    with engine.begin() as conn:
        before = sorted(tuple(r) for r in conn.execute(select(*cols)))
        assert len(before) == 3  # two serials and the class of the non-material event
        conn.execute(delete(db.event_epcs))
        assert backfill_event_epcs(conn) == 3
        assert sorted(tuple(r) for r in conn.execute(select(*cols))) == before
