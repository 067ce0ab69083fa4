"""Pure mass-balance rules on hand-made state (no store)."""

from __future__ import annotations

import pytest

from lodeline.trace.errors import EventIssue
from lodeline.trace.ledger import Item, LedgerOp, parse_event, quarter
from lodeline.trace.mass_balance import LEGACY_OPENING_STOCK, MassBalance, in_time_order, lot_owners


def _fac(fid: str, model: str = "segregated", certs: list | None = None, kind: str = "mine") -> dict:
    return {"id": fid, "custody_model": model, "certifications": certs or [], "facility_type": kind}


def _op(kind: str, facility: str, *, inputs=(), outputs=(), counterpart=None, **attrs) -> LedgerOp:
    return LedgerOp(
        kind=kind,
        index=0,
        hash_id="h",
        event_id=None,
        event_time="2025-05-02T00:00:00.000Z",
        facility=facility,
        counterpart=counterpart,
        inputs=list(inputs),
        outputs=list(outputs),
        attrs=attrs,
    )


def test_quarter() -> None:
    assert quarter("2025-05-02T00:00:00.000Z") == "2025-Q2"
    assert quarter("2025-12-31T23:59:59.999Z") == "2025-Q4"


def test_produce_ship_receive_transform() -> None:
    cert = [{"valid_from": "2025-01-01", "valid_to": "2025-12-31"}]
    mb = MassBalance({"M": _fac("M", certs=cert), "R": _fac("R")}, {}, {}, {})
    mb.apply(_op("produce", "M", outputs=[Item("ore", 1000.0)], material="lithium_carbonate"))
    mb.apply(_op("ship", "M", inputs=[Item("ore", 400.0)], counterpart="R"))
    mb.apply(_op("receive", "R", outputs=[Item("ore", 400.0)], counterpart="M"))
    assert mb.balances[("M", "ore", "stock")] == pytest.approx(600)
    assert mb.balances[("R", "ore", "stock")] == pytest.approx(400)
    assert mb.balances[("R", "ore", "transit")] == pytest.approx(0)
    # 400 kg Li2CO3 (75.14 kg Li) -> LiOH.H2O at 98 %: 445.2 kg
    mb.apply(
        _op(
            "transform",
            "R",
            inputs=[Item("ore", 400.0)],
            outputs=[Item("hyd", 445.2)],
            material="lithium_hydroxide_monohydrate",
            process="hydroxide_conversion",
        )
    )
    assert not mb.issues
    assert mb.lots["hyd"]["certified_fraction"] == pytest.approx(1.0)
    assert mb.sources[-1]["source_lot"] == "ore"


def test_violations_have_codes() -> None:
    mb = MassBalance({"M": _fac("M"), "R": _fac("R")}, {}, {}, {})
    mb.apply(_op("produce", "M", outputs=[Item("ore", 10.0)], material="lithium_carbonate"))
    mb.apply(_op("ship", "M", inputs=[Item("ore", 10.5)], counterpart="R"))
    mb.apply(_op("receive", "R", outputs=[Item("ore", 1.0)]))
    mb.apply(_op("ship", "X", inputs=[Item("ore", 1.0)]))
    mb.apply(_op("produce", "R", outputs=[Item("ore", 1.0)], material="lithium_carbonate"))
    mb.apply(_op("produce", "M", outputs=[Item("new", 1.0)], material="unobtainium"))
    mb.apply(
        _op(
            "transform",
            "M",
            inputs=[Item("ore", 10.0)],
            outputs=[Item("x", 10.0)],
            material="lithium_carbonate",
            process="spodumene_conversion",
        )
    )
    codes = [i.code for i in mb.issues]
    assert codes == [
        "over-shipment",
        "over-receipt",
        "unknown-facility",
        "lot-conflict",
        "unknown-material",
        "yield-above-maximum",
    ]


def test_drawing_to_exactly_zero_is_allowed() -> None:
    mb = MassBalance({"M": _fac("M")}, {}, {("M", "a", "stock"): 0.1 + 0.2}, {})
    mb.lots["a"] = {"metal_fraction": 1.0}
    mb.apply(_op("ship", "M", inputs=[Item("a", 0.3)]))
    assert not mb.issues


def test_mass_balance_credits_go_to_first_output() -> None:
    cert = [{"valid_from": "2025-01-01", "valid_to": "2025-12-31"}]
    mb = MassBalance({"M": _fac("M", certs=cert), "N": _fac("N"), "S": _fac("S", "mass_balance")}, {}, {}, {})
    for fac, lot in (("M", "a"), ("N", "b")):
        mb.apply(_op("produce", fac, outputs=[Item(lot, 100.0)], material="lithium_carbonate"))
        mb.apply(_op("ship", fac, inputs=[Item(lot, 100.0)], counterpart="S"))
        mb.apply(_op("receive", "S", outputs=[Item(lot, 100.0)]))
    mb.apply(
        _op(
            "transform",
            "S",
            inputs=[Item("a", 100.0), Item("b", 100.0)],
            outputs=[Item("o1", 90.0), Item("o2", 90.0)],
            material="lithium_carbonate",
            process="blending",
        )
    )
    assert not mb.issues
    # credits = 100 kg-equivalent certified input × yield 0.9 → o1 (90 × f) fully certified, o2 none
    assert mb.lots["o1"]["certified_fraction"] == pytest.approx(1.0)
    assert mb.lots["o2"]["certified_fraction"] == pytest.approx(0.0)
    assert {c["custody_model"] for c in mb.claims if c["lot_id"] in ("o1", "o2")} == {"mass_balance"}


def test_parse_event_reads_cbv_and_units() -> None:
    issues: list[EventIssue] = []
    ev = {
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "bizStep": "urn:epcglobal:cbv:bizstep:shipping",
        "eventTime": "2025-01-01T10:00:00+08:00",
        "readPoint": {"id": "urn:epc:id:sgln:9521234.00001.0"},
        "quantityList": [{"epcClass": "urn:epc:class:lgtin:9521234.000012.L1", "quantity": 2, "uom": "TNE"}],
        "destinationList": [{"type": "location", "destination": "urn:epc:id:sgln:9521234.00002.0"}],
    }
    op = parse_event(0, ev, "h", issues)
    assert op is not None and op.kind == "ship" and op.inputs[0].kg == 2000
    assert op.counterpart == "https://id.gs1.org/414/9521234000020"
    assert op.event_time == "2025-01-01T02:00:00.000Z"
    ev["quantityList"][0]["uom"] = "LTR"
    assert parse_event(0, ev, "h", issues) is None and issues[0].code == "ledger-bad-quantity"


def test_only_a_facilitys_operator_records_events_there() -> None:
    facs = {"M": _fac("M") | {"operator_id": "miner"}, "R": _fac("R") | {"operator_id": "refiner"}}
    mb = MassBalance(facs, {}, {}, {}, submitter="miner")
    mb.apply(_op("produce", "M", outputs=[Item("ore", 10.0)], material="lithium_carbonate"))
    mb.apply(_op("ship", "M", inputs=[Item("ore", 4.0)], counterpart="R"))  # to another operator's site: fine
    assert not mb.issues
    mb.apply(_op("receive", "R", outputs=[Item("ore", 4.0)], counterpart="M"))  # the refiner's to record
    mb.apply(_op("produce", "R", outputs=[Item("x", 1.0)], material="lithium_carbonate"))
    assert [(i.code, i.field) for i in mb.issues] == [
        ("facility-not-operated", "destinationList"),
        ("facility-not-operated", "bizLocation"),
    ]
    # the facility named in the submitter's own event, and why; never its operator (another party)
    assert "'miner' does not operate facility R;" in mb.issues[0].reason
    assert all("refiner" not in i.reason for i in mb.issues)
    assert mb.balances[("R", "ore", "transit")] == pytest.approx(
        4.0
    )  # nothing applied for the refused events


def test_a_lot_conflict_does_not_say_where_another_partys_lot_was_produced() -> None:
    facs = {
        "M": _fac("M") | {"operator_id": "miner"},
        "N": _fac("N") | {"operator_id": "other-miner"},
    }
    lots = {"ore": {"facility_id": "M", "metal_fraction": 0.1, "opening_stock": None, "recycled": None}}
    mb = MassBalance(facs, lots, {}, {}, submitter="other-miner")
    mb.apply(_op("produce", "N", outputs=[Item("ore", 5.0)], material="lithium_carbonate"))
    (issue,) = mb.issues
    assert (issue.code, issue.field) == ("lot-conflict", "quantityList[0]")
    # the submitter's own lot and facility, and why; not where (nor how) the other party produced the lot
    assert "lot ore was first produced at another facility, not at N" in issue.reason
    assert "M" not in issue.reason.replace("lot ore", "") and "miner'" not in issue.reason
    # the same lot declared as opening stock at N: still the generic conflict, not "first recorded as primary"
    mb.issues.clear()
    mb.apply(_op("produce", "N", outputs=[Item("ore", 5.0)], material="lithium_carbonate", openingStock="x"))
    assert [i.code for i in mb.issues] == ["lot-conflict"] and "primary" not in mb.issues[0].reason


def _at(op: LedgerOp, when: str) -> LedgerOp:
    op.event_time = when
    return op


def test_draws_only_from_stock_added_at_or_before_their_time() -> None:
    mb = MassBalance({"M": _fac("M"), "R": _fac("R", kind="refinery")}, {}, {}, {})
    mb.apply(
        _at(
            _op("produce", "M", outputs=[Item("ore", 10.0)], material="lithium_carbonate"),
            "2025-05-02T10:00:00.000Z",
        )
    )
    mb.apply(_at(_op("ship", "M", inputs=[Item("ore", 4.0)], counterpart="R"), "2025-05-02T09:59:59.999Z"))
    assert [(i.code, i.field) for i in mb.issues] == [("event-out-of-order", "quantityList[0]")]
    mb.issues.clear()
    mb.apply(_at(_op("ship", "M", inputs=[Item("ore", 4.0)], counterpart="R"), "2025-05-02T10:00:00.000Z"))
    assert mb.added_at[("R", "ore", "transit")] == "2025-05-02T10:00:00.000Z"
    mb.apply(
        _at(_op("receive", "R", outputs=[Item("ore", 4.0)]), "2025-05-02T09:00:00.000Z")
    )  # before shipment
    assert [i.code for i in mb.issues] == ["event-out-of-order"]
    # the same history replayed as accepted before the rule existed (legacy) is not re-judged
    legacy = MassBalance({"M": _fac("M"), "R": _fac("R", kind="refinery")}, {}, {}, {}, legacy=True)
    legacy.apply(
        _at(
            _op("produce", "M", outputs=[Item("ore", 10.0)], material="lithium_carbonate"),
            "2025-05-02T10:00:00.000Z",
        )
    )
    legacy.apply(
        _at(_op("ship", "M", inputs=[Item("ore", 4.0)], counterpart="R"), "2025-05-02T09:00:00.000Z")
    )
    assert not legacy.issues


def test_in_time_order_is_stable() -> None:
    ops = [_at(_op("ship", "M"), t) for t in ("2025-01-02T00:00:00.000Z", "2025-01-01T00:00:00.000Z")]
    ops.append(_at(_op("produce", "M"), "2025-01-02T00:00:00.000Z"))
    assert [(o.kind, o.event_time[:10]) for o in in_time_order(ops)] == [
        ("ship", "2025-01-01"),
        ("ship", "2025-01-02"),
        ("produce", "2025-01-02"),
    ]


def test_origination_only_at_mines_recyclers_or_as_opening_stock() -> None:
    facs = {"M": _fac("M"), "R": _fac("R", kind="refinery"), "C": _fac("C", kind="recycler")}
    mb = MassBalance(facs, {}, {}, {})
    mb.apply(_op("produce", "R", outputs=[Item("x", 1.0)], material="lithium_carbonate"))
    mb.apply(_op("produce", "C", outputs=[Item("y", 1.0)], material="black_mass"))
    assert [i.code for i in mb.issues] == ["origination-not-allowed"] * 2
    mb.issues.clear()
    mb.apply(_op("produce", "C", outputs=[Item("y", 1.0)], material="black_mass", recycled="post-consumer"))
    mb.apply(
        _op("produce", "R", outputs=[Item("x", 1.0)], material="lithium_carbonate", openingStock="stocktake")
    )
    assert not mb.issues
    assert mb.lots["x"]["opening_stock"] == "stocktake" and mb.lots["y"]["opening_stock"] is None
    # a lot keeps how it entered
    mb.apply(_op("produce", "M", outputs=[Item("z", 1.0)], material="lithium_carbonate"))
    mb.apply(
        _op("produce", "M", outputs=[Item("z", 1.0)], material="lithium_carbonate", openingStock="found")
    )
    assert [i.code for i in mb.issues] == ["lot-conflict"]
    # replaying events accepted before the rule: allowed, and flagged
    legacy = MassBalance(facs, {}, {}, {}, legacy=True)
    legacy.apply(_op("produce", "R", outputs=[Item("x", 1.0)], material="lithium_carbonate"))
    assert not legacy.issues and legacy.lots["x"]["opening_stock"] == LEGACY_OPENING_STOCK


def test_lot_owners_are_holders_and_the_producer() -> None:
    facs = {f: _fac(f) | {"operator_id": f.lower()} for f in ("M", "R", "S")}
    lots = {"ore": {"facility_id": "M"}}
    balances = {("R", "ore", "stock"): 5.0, ("S", "ore", "transit"): 2.0, ("S", "ore", "stock"): 1e-9}
    assert lot_owners("ore", lots, balances, facs) == {"m", "r", "s"}
    assert lot_owners("ore", lots, {("S", "ore", "stock"): 1e-9}, facs) == {"m"}
    assert lot_owners("unknown", lots, balances, facs) == set()
