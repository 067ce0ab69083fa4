"""The custody journal: every lot's trail (produced, shipped, received, consumed) in one indexed lookup, written
in the capture transaction and re-derivable from the stored events (the migration's backfill)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, select

from lodeline.store import registry_reads
from lodeline.store import trace as db
from lodeline.trace.capture import backfill_lot_movements
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
