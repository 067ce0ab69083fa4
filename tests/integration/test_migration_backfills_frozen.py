"""The frozen backfills of migrations trace_0002, trace_0003 and trace_0004 (:mod:`lodeline.trace.ledger_v1`) and
the frozen re-keying of trace_0007 (:mod:`lodeline.trace.rehash_v2`) rebuild, through Alembic itself, what capture
writes today, on both backends.

A store holds the generated lithium chain and one inspection of two serialised cells; it is downgraded to
trace_0001 (the journal, the EPC index, the eventID and participant columns and the hash boundary go) and upgraded
again. The custody journal counts 25 rows by hand (the chain's documents: mines 2 × (produce, ship); converter
2 receipts, carbonate 2 in 1 out, hydroxide 1 in 1 out, ship; recycler produce, carbonate 1 in 1 out, ship;
cathode 2 receipts, cathode 2 in 1 out, ship; cells receipt, 1 in 1 out = 4 + 8 + 4 + 6 + 3), the EPC index 3 (the
two serials of the inspection and the lot class it names without moving it); every row comes back as capture
wrote it, and every event keeps its hash ID."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, select

from lodeline.store import trace as db
from lodeline.store.engine import MIGRATIONS_DIR, upgrade
from lodeline.trace import keys
from lodeline.trace.capture import capture
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.generator import Events, document, lithium_chain


def _downgrade(engine: Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def _state(engine: Engine) -> dict[str, list[tuple]]:
    e = db.events.c
    journal = [c for c in db.lot_movements.c if c.name != "id"]
    with engine.connect() as conn:
        return {
            "journal": sorted(tuple(r) for r in conn.execute(select(*journal))),
            "epcs": sorted(
                tuple(r) for r in conn.execute(select(db.event_epcs.c.epc, db.event_epcs.c.event_hash))
            ),
            "events": [
                tuple(r)
                for r in conn.execute(
                    select(
                        e.seq, e.hash_id, e.leaf_hash_id, e.participant_id, e.event_id, e.facility_id
                    ).order_by(e.seq)
                )
            ],
            "rules": sorted(tuple(r) for r in conn.execute(select(db.capture_rules.c.revision))),
        }


def test_downgraded_store_upgraded_again_is_rebuilt_as_captured(engine: Engine) -> None:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    cells = ["urn:epc:id:sgtin:9521234.012345.1001", "urn:epc:id:sgtin:9521234.012345.1002"]
    event = Events(chain).inspect(
        chain.facilities["ce"], "CELL-X1", 10, datetime(2025, 4, 10, 8, tzinfo=UTC), epcs=cells
    )
    data = document_bytes(document([event], datetime(2025, 4, 10, tzinfo=UTC)))
    capture(engine, data, participant="saxony-cells", signature=keys.sign(private["saxony-cells"], data))
    before = _state(engine)
    assert len(before["journal"]) == 4 + 8 + 4 + 6 + 3
    assert len(before["epcs"]) == 3
    assert before["rules"] == [("trace_0004",), ("trace_0007",)]

    _downgrade(engine, "trace_0001")
    with engine.connect() as conn:
        names = set(conn.dialect.get_table_names(conn))
    assert not names & {
        "trace_lot_movements",
        "trace_event_epcs",
        "trace_capture_rules",
        "trace_document_bytes",
    }
    upgrade(engine)

    assert _state(engine) == before
