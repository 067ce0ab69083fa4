"""Custody ledger: what each event does to lots and stocks, and the mass-balance rules checked at capture.

Pure computation: :class:`Ledger` works on in-memory state that the capture step loads from the store (only the
lots, balances and credits a document touches) and writes back in the same transaction.

Event semantics (CBV 2.0 business steps):
- ``commissioning`` (ObjectEvent ADD with a quantityList): a lot is extracted, produced or collected at a facility.
- ``shipping``: stock leaves the facility; with a destination ``location`` it is in transit to it.
- ``receiving``: in-transit stock arrives; a facility cannot receive more than was shipped to it.
- TransformationEvent: input lots are consumed at the facility and output lots produced; contained metal out
  must not exceed contained metal in (same mineral) times the process's maximum yield.
Material attributes come from the ILMD (``lodeline:material``, ``lodeline:metalFraction``, ``lodeline:recycled``,
``lodeline:openingStock``) and the event (``lodeline:process``, ``lodeline:declaredYield``); conversion factors
are data (materials.yaml). :func:`event_facts` lists what capture checks for every event, material or not: the
facilities it names (and on whose side), the identifiers it creates, the lots a non-material event names.
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
    for key in ("material", "metalFraction", "recycled", "openingStock"):
        if NS + key in ilmd:
            op.attrs[key] = ilmd[NS + key]
    if "openingStock" in op.attrs and kind != "produce":
        bad(
            "ledger-bad-value",
            "lodeline:openingStock declares stock that entered the registry: only on a commissioning event",
            "ilmd.lodeline:openingStock",
        )
        return None
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


#: Business steps after which the destination is where the event happens (the submitter's side).
RECEIVING_STEPS = frozenset({"receiving", "arriving", "accepting"})


#: What capture checks for one event besides mass balance, all identifiers canonical: (locations as (field,
#: facility, on the submitter's side), identifiers the event creates as (field, id), lots an event that moves no
#: material names as (field, class)). Plain, shared tuples: the writer unpickles them for every event of the pipeline,
#: and a store-sized run keeps fewer objects for the garbage collector to scan.
EventFacts = tuple[
    tuple[tuple[str, str, bool], ...], tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]
]
_SHARED: dict[Any, Any] = {}  # equal tuples and field names shared, so a document pickles each once


def _shared(value: Any) -> Any:
    found = _SHARED.get(value)
    if found is None:
        if len(_SHARED) >= 8192:
            _SHARED.clear()
        _SHARED[value] = found = value
    return found


def event_facts(ev: dict[str, Any], op: LedgerOp | None) -> EventFacts | None:
    """The facilities an event names, the identifiers it creates and the lots it names without moving them.

    A location is on the submitter's side when it is the bizLocation, the readPoint, a ``location`` source (the
    origin of a shipment) or, for a receiving event, a ``location`` destination; the other end of a shipment or
    receipt is the counterpart. Created: the EPCs and classes of an ObjectEvent or TransactionEvent that
    commissions (action ADD) and a transformation's outputs. Runs for every captured event: kept tight."""
    get = ev.get
    etype = get("type")
    receiving = (op.kind == "receive") if op is not None else _step(get("bizStep")) in RECEIVING_STEPS
    locations: list[tuple[str, str, bool]] = []
    for key in ("bizLocation", "readPoint"):
        loc = get(key)
        if type(loc) is dict:
            ident = loc.get("id")
            if type(ident) is str:
                locations.append(_shared((key, canonical_id(ident), True)))
    for key, member, own in (
        ("sourceList", "source", not receiving),
        ("destinationList", "destination", receiving),
    ):
        entries = get(key)
        if entries:
            for j, entry in enumerate(entries):
                if type(entry) is dict and _is_location(entry.get("type")):
                    value = entry.get(member)
                    if type(value) is str:
                        locations.append(_shared((_shared(f"{key}[{j}]"), canonical_id(value), own)))
    created: list[tuple[str, str]] = []
    made: tuple[str, ...] = ()
    if etype == "TransformationEvent":
        made = ("outputEPCList", "outputQuantityList")
    elif get("action") == "ADD" and (etype == "ObjectEvent" or (op is not None and op.kind == "produce")):
        made = ("epcList", "quantityList")
    for key in made:
        values = get(key)
        if values:
            for j, value in enumerate(values):
                if type(value) is dict:
                    ident = value.get("epcClass")
                    if type(ident) is str:
                        created.append((_shared(f"{key}[{j}].epcClass"), canonical_id(ident)))
                elif type(value) is str:
                    created.append((_shared(f"{key}[{j}]"), canonical_id(value)))
    lots: list[tuple[str, str]] = []
    if op is None:
        for key in _CLASS_LISTS:
            for j, q in enumerate(get(key) or ()):
                if type(q) is dict and type(q.get("epcClass")) is str:
                    lots.append((f"{key}[{j}].epcClass", canonical_id(q["epcClass"])))
    if not (locations or created or lots):
        return None
    # Events at one facility name the same locations: share one tuple (fewer objects kept, pickled once).
    return _shared(tuple(locations)), tuple(created), tuple(lots)


_LOCATION_TYPES: dict[str, bool] = {}


def _is_location(raw: Any) -> bool:
    """Whether a source/destination type is CBV ``location`` (bare word, URN or Web URI)."""
    if type(raw) is not str:
        return False
    known = _LOCATION_TYPES.get(raw)
    if known is None:
        known = _step(raw) == "location"
        if len(_LOCATION_TYPES) < 256:
            _LOCATION_TYPES[raw] = known
    return known
