"""Pure mass-balance rules on hand-made state (no store)."""

from __future__ import annotations

import pytest

from lodeline.trace.errors import EventIssue
from lodeline.trace.ledger import Item, LedgerOp, parse_event, quarter
from lodeline.trace.mass_balance import MassBalance


def _fac(fid: str, model: str = "segregated", certs: list | None = None) -> dict:
    return {"id": fid, "custody_model": model, "certifications": certs or []}


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
    assert "does not operate facility R (operator 'refiner')" in mb.issues[0].reason
    assert mb.balances[("R", "ore", "transit")] == pytest.approx(
        4.0
    )  # nothing applied for the refused events
