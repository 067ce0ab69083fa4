"""Custody ledger: what each event does to lots and stocks, and the mass-balance rules checked at capture.

Pure computation: :class:`Ledger` works on in-memory state that the capture step loads from the store (only the
lots, balances and credits a document touches) and writes back in the same transaction.

Event semantics (CBV 2.0 business steps):
- ``commissioning`` (ObjectEvent ADD with a quantityList): a lot is extracted, produced or collected at a facility.
- ``shipping``: stock leaves the facility; with a destination ``location`` it is in transit to it.
- ``receiving``: in-transit stock arrives; a facility cannot receive more than was shipped to it.
- TransformationEvent: input lots are consumed at the facility and output lots produced; contained metal out
  must not exceed contained metal in (same mineral) times the process's maximum yield.
Material attributes come from the ILMD (``lodeline:material``, ``lodeline:metalFraction``, ``lodeline:recycled``)
and the event (``lodeline:process``, ``lodeline:declaredYield``); conversion factors are data (materials.yaml).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from lodeline.trace.errors import EventIssue
from lodeline.trace.event_hash import normalise_time
from lodeline.trace.identifiers import canonical_id

DATA_FILE = Path(__file__).resolve().parent / "data" / "materials.yaml"
NS = "lodeline:"
YIELD_TOLERANCE = 0.005  # |declared - computed| allowed, absolute


@lru_cache(maxsize=1)
def reference_data() -> dict[str, Any]:
    return yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


@dataclass(slots=True)
class Item:
    lot: str
    kg: float


@dataclass(slots=True)
class LedgerOp:
    kind: str  # produce | ship | receive | transform
    index: int
    hash_id: str
    event_id: str | None
    event_time: str
    facility: str
    counterpart: str | None = None  # ship: destination; receive: source
    inputs: list[Item] = field(default_factory=list)
    outputs: list[Item] = field(default_factory=list)
    attrs: dict[str, Any] = field(default_factory=dict)


def _step(raw: Any) -> str:
    text = str(raw or "")
    return text.rsplit("-", 1)[-1] if text.startswith("http") else text.rsplit(":", 1)[-1]


def _typed(entries: Any, wanted: str) -> str | None:
    for e in entries or []:
        if isinstance(e, dict) and _step(e.get("type")) == wanted:
            value = e.get("source") or e.get("destination")
            return canonical_id(value) if isinstance(value, str) else None
    return None


def _where(ev: dict[str, Any]) -> str | None:
    for key in ("bizLocation", "readPoint"):
        loc = ev.get(key)
        if isinstance(loc, dict) and isinstance(loc.get("id"), str):
            return canonical_id(loc["id"])
    return None


def parse_event(index: int, ev: dict[str, Any], hash_id: str, issues: list[EventIssue]) -> LedgerOp | None:
    """The ledger operation of an event, or None when it does not move material."""
    etype, step = ev.get("type"), _step(ev.get("bizStep"))
    if etype == "TransformationEvent":
        kind, ins, outs = "transform", ev.get("inputQuantityList"), ev.get("outputQuantityList")
    elif (
        etype in ("ObjectEvent", "TransactionEvent") and step == "commissioning" and ev.get("action") == "ADD"
    ):
        kind, ins, outs = "produce", None, ev.get("quantityList")
    elif etype in ("ObjectEvent", "TransactionEvent") and step == "shipping":
        kind, ins, outs = "ship", ev.get("quantityList"), None
    elif etype in ("ObjectEvent", "TransactionEvent") and step == "receiving":
        kind, ins, outs = "receive", None, ev.get("quantityList")
    else:
        return None
    eid = ev.get("eventID") if isinstance(ev.get("eventID"), str) else None

    def bad(code: str, reason: str, fld: str | None = None) -> None:
        issues.append(EventIssue(code=code, reason=reason, index=index, event_id=eid, field=fld))

    if kind == "ship":
        facility = _typed(ev.get("sourceList"), "location") or _where(ev)
        counterpart = _typed(ev.get("destinationList"), "location")
    elif kind == "receive":
        facility = _typed(ev.get("destinationList"), "location") or _where(ev)
        counterpart = _typed(ev.get("sourceList"), "location")
    else:
        facility, counterpart = _where(ev), None
    if facility is None:
        bad("ledger-no-facility", f"a {kind} event needs bizLocation or readPoint", "bizLocation")
        return None
    units = reference_data()["units_kg"]

    def items(raw: Any, name: str) -> list[Item]:
        out: list[Item] = []
        for j, q in enumerate(raw or []):
            uom, qty = q.get("uom"), q.get("quantity")
            if qty is None or uom not in units:
                bad(
                    "ledger-bad-quantity",
                    f"needs a quantity and a mass unit ({', '.join(units)}), got uom {uom!r}",
                    f"{name}[{j}]",
                )
                continue
            if qty <= 0:
                bad("ledger-bad-quantity", "quantity must be positive", f"{name}[{j}].quantity")
                continue
            out.append(Item(canonical_id(q["epcClass"]), float(qty) * units[uom]))
        return out

    in_name = "inputQuantityList" if kind == "transform" else "quantityList"
    out_name = "outputQuantityList" if kind == "transform" else "quantityList"
    op = LedgerOp(
        kind=kind,
        index=index,
        hash_id=hash_id,
        event_id=eid,
        event_time=normalise_time(str(ev.get("eventTime", ""))),
        facility=facility,
        counterpart=counterpart,
        inputs=items(ins, in_name),
        outputs=items(outs, out_name),
    )
    if not (op.inputs or op.outputs):
        bad("ledger-bad-quantity", f"a {kind} event needs at least one mass quantity", out_name)
        return None
    raw_ilmd = ev.get("ilmd")
    ilmd: dict[str, Any] = raw_ilmd if isinstance(raw_ilmd, dict) else {}
    for key in ("material", "metalFraction", "recycled"):
        if NS + key in ilmd:
            op.attrs[key] = ilmd[NS + key]
    for key in ("process", "declaredYield"):
        if NS + key in ev:
            op.attrs[key] = ev[NS + key]
    return op


_MOVES = {"produce": (None, "produce"), "transform": ("consume", "produce"), "ship": ("ship", None)}


def movements(op: LedgerOp) -> list[dict[str, Any]]:
    """The custody-journal rows of an operation: one per lot it moves, with the gross kg moved."""
    take, give = _MOVES.get(op.kind, (None, "receive"))
    rows = []
    for kind, items in ((take, op.inputs), (give, op.outputs)):
        if kind is None:
            continue
        for it in items:
            rows.append(
                {
                    "lot_id": it.lot,
                    "event_hash": op.hash_id,
                    "event_time": op.event_time,
                    "movement": kind,
                    "facility_id": op.facility,
                    "counterpart_id": op.counterpart,
                    "quantity_kg": it.kg,
                }
            )
    return rows


_INSTANCE_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_CLASS_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


def named_epcs(ev: dict[str, Any], moves_material: bool) -> list[str]:
    """The identifiers to index an event under for ``events?epc=``, canonical: every instance-level EPC it names
    (EPC lists, ``parentID``) and, for an event that moves no material, the classes in its quantity lists (the
    custody journal already indexes the lots a material event moves)."""
    found: list[str] = []
    for key in _INSTANCE_LISTS:
        for value in ev.get(key) or ():
            if isinstance(value, str):
                found.append(canonical_id(value))
    parent = ev.get("parentID")
    if isinstance(parent, str):
        found.append(canonical_id(parent))
    if not moves_material:
        for key in _CLASS_LISTS:
            for q in ev.get(key) or ():
                if isinstance(q, dict) and isinstance(q.get("epcClass"), str):
                    found.append(canonical_id(q["epcClass"]))
    return sorted(set(found))


def quarter(event_time: str) -> str:
    """Mass-balance credit period of an event: its calendar quarter (``2025-Q3``)."""
    return f"{event_time[:4]}-Q{(int(event_time[5:7]) - 1) // 3 + 1}"


def certified_at(facility: dict[str, Any], event_time: str) -> bool:
    day = event_time[:10]
    return any(str(c["valid_from"]) <= day <= str(c["valid_to"]) for c in facility["certifications"])
