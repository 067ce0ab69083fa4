"""The pure visibility rules (lodeline.trace.visibility): who held a lot, which facilities a participant knows,
how much of a lot's metal flowed along each upstream edge, and what an event looks like to another party."""

from __future__ import annotations

import pytest

from lodeline.trace.visibility import edge_flows, event_out, holders, known_facilities


def _row(lot: str, move: str, at: str, to: str | None, op: str, to_op: str | None, signer: str) -> dict:
    return {
        "lot_id": lot,
        "event_hash": f"h-{lot}-{move}",
        "movement": move,
        "facility_id": at,
        "counterpart_id": to,
        "quantity_kg": 10.0,
        "facility_operator": op,
        "counterpart_operator": to_op,
        "signer": signer,
    }


JOURNAL = [
    _row("L", "produce", "fa", None, "a", None, "a"),
    _row("L", "ship", "fa", "fb", "a", "b", "a"),
    _row("L", "receive", "fb", "fa", "b", "a", "b"),
    _row("L", "ship", "fb", "fc", "b", "c", "b"),  # b ships on to c: a never dealt with c
    _row("L", "receive", "fc", "fb", "c", "b", "c"),
]


def test_holders_and_known_facilities() -> None:
    assert holders(JOURNAL, {"L": "a", "M": "z"}) == {"L": {"a", "b", "c"}, "M": {"z"}}
    assert known_facilities(JOURNAL, "a") == {"fa", "fb"}  # its own and its customer, not its customer's
    assert known_facilities(JOURNAL, "b") == {"fa", "fb", "fc"}
    assert known_facilities(JOURNAL, "c") == {"fb", "fc"}
    assert known_facilities(JOURNAL, "nobody") == set()


def test_another_partys_event_is_custody_facts_only() -> None:
    stored = {
        "hash_id": "h", "leaf_index": 3, "event_time": "t", "event_type": "ObjectEvent", "biz_step": "shipping",
        "facility_id": "fb", "document_sha256": None, "body": None, "own": 0,
    }  # fmt: skip
    seen = event_out(stored, [JOURNAL[3]], "a", known_facilities(JOURNAL, "a"))
    assert seen["visibility"] == "custody" and seen["event"] is None and seen["document_sha256"] is None
    assert seen["facility_id"] == "fb"  # a shipped to fb
    assert seen["movements"] == [
        {"lot": "L", "movement": "ship", "quantity_kg": 10.0, "facility_id": "fb", "counterpart_id": None}
    ]
    own = event_out(
        stored | {"own": 1, "body": '{"type": "ObjectEvent"}', "document_sha256": "d"}, [], "b", set()
    )
    assert (
        own["visibility"] == "full"
        and own["event"] == {"type": "ObjectEvent"}
        and own["document_sha256"] == "d"
    )


def test_edge_flows_follow_the_metal_through_a_diamond() -> None:
    # R blends X (30) and Y (10); X and Y each take half of S (produced at mine m: 100); X also has 20 from mine n
    graph = {
        "R": [("r", "X", 30.0), ("r", "Y", 10.0)],
        "X": [("x", "S", 20.0), ("x", None, 20.0)],
        "Y": [("y", "S", 20.0)],
        "S": [("m", None, 100.0)],
    }
    flows = {(lot, src): share for lot, _f, src, _m, share in edge_flows(graph, "R")}
    assert flows[("R", "X")] == pytest.approx(0.75) and flows[("R", "Y")] == pytest.approx(0.25)
    assert flows[("X", "S")] == pytest.approx(0.375) and flows[("X", None)] == pytest.approx(0.375)
    assert flows[("S", None)] == pytest.approx(0.375 + 0.25)  # both paths through S, summed before S is split
    origins = sum(share for (lot, src), share in flows.items() if src is None)
    assert origins == pytest.approx(1.0)
    order = [lot for lot, *_ in edge_flows(graph, "R")]
    assert order.index("S") > max(order.index("X"), order.index("Y"))  # a lot after every lot it feeds
