"""What the Registry page shows every visitor (`web.registry_page.public_registry`): demonstration lots only, the
ends of chains first; the checkpoint as stored, without signing one on a page view."""

from __future__ import annotations

from sqlalchemy import Engine, insert

from lodeline.store import trace as db
from lodeline.store.registry_reads import demonstration_lots
from lodeline.trace import keys, parties
from lodeline.web.registry_page import public_registry


def _lot(base: str, lot: str, fid: str) -> dict[str, object]:
    return {"id": base + lot, "material": "spodumene_concentrate_sc6", "mineral": "lithium", "metal_fraction": 0.1,
            "recycled": None, "certified_fraction": 0.0, "produced_metal_kg": 1.0, "facility_id": fid}  # fmt: skip


def test_only_demonstration_lots_at_the_end_of_a_chain_are_examples(engine: Engine) -> None:
    """Lots under GS1 prefix 952 (digits 2-4 of the GTIN-14) qualify; 0614141 (a company's) and 9520… in another
    place of the id do not; a lot another lot was made from is not an end of a chain."""
    parties.add_participant(engine, "p", "P", "miner", keys.public_b64(keys.generate()))
    fid = parties.add_facility(
        engine, "9521234000013", name="M", facility_type="mine", country="AUS", operator="p"
    )
    demo, company = "https://id.gs1.org/01/09521234000129/10/", "https://id.gs1.org/01/00614141000012/10/"
    with engine.begin() as conn:
        conn.execute(
            insert(db.lots),
            [_lot(demo, "ORE-1", fid), _lot(demo, "CELL-1", fid), _lot(company, "952-X", fid)],
        )
        conn.execute(
            insert(db.lot_sources),
            [{"lot_id": demo + "CELL-1", "event_hash": "h", "facility_id": fid, "source_lot": demo + "ORE-1",
              "metal_kg": 1.0, "event_time": "2025-01-01T00:00:00Z"}],
        )  # fmt: skip
    with engine.connect() as conn:
        assert [r["id"] for r in demonstration_lots(conn, 5)] == [demo + "CELL-1"]
        assert demonstration_lots(conn, 0) == []
    page = public_registry(engine, examples=True)
    assert [(lot["number"], lot["href"]) for lot in page["example_lots"]] == [
        ("CELL-1", "/registry?lot=https%3A%2F%2Fid.gs1.org%2F01%2F09521234000129%2F10%2FCELL-1")
    ]
    assert public_registry(engine, examples=False)["example_lots"] == []


def test_a_page_view_signs_nothing(engine: Engine) -> None:
    """No checkpoint stored: the page says so and stores none (the API's /checkpoint is what signs)."""
    page = public_registry(engine, examples=True)
    assert page["checkpoint"] is None and page["witnesses"] == []
    with engine.connect() as conn:
        from lodeline.trace import log

        assert log.latest_checkpoint(conn) is None
