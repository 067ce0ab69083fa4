"""FROZEN: the custody backfills of migrations ``trace_0002``, ``trace_0003`` and ``trace_0004``. Do not change.

What those revisions derive from the stored event JSON, copied from :mod:`lodeline.trace.ledger` and
:mod:`lodeline.trace.capture` as they were when issue 12 froze the revisions: the ledger operation an event is
(:func:`parse_event`, without the issues capture reports: a stored event was accepted), the custody-journal rows it
writes (:func:`movements`), the EPCs it is indexed under (:func:`named_epcs`) and the facilities it names on the
submitter's side (:func:`own_locations`). Identifiers are compared in the frozen Digital Link form
(:mod:`lodeline.trace.digital_link_v1`), times normalised as the frozen event hash does. Its sha256 is pinned in
``tests/unit/test_import_cycles.py`` (``FROZEN``): a migration does tomorrow what it did the day it was written
(docs/ARCHITECTURE.md, Migrations); the application's ledger may change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from lodeline.trace.digital_link_v1 import to_digital_link
from lodeline.trace.event_hash_rules_v2 import normalise_time

NS = "lodeline:"
#: Mass units and their kg (materials.yaml ``units_kg`` on the day).
UNITS_KG = {
    "KGM": 1.0,
    "TNE": 1000.0,
    "GRM": 0.001,
    "MGM": 1e-06,
    "KTN": 1000000.0,
    "LBR": 0.45359237,
    "STN": 907.18474,
    "LTN": 1016.0469088,
}
#: Business steps after which the destination is where the event happens (the submitter's side).
RECEIVING_STEPS = frozenset({"receiving", "arriving", "accepting"})

# The columns the backfills read and write, as they were on the day (lodeline.store.trace).
events = sa.table(
    "trace_events",
    sa.column("seq", sa.Integer),
    sa.column("hash_id", sa.String),
    sa.column("body", sa.Text),
)
lot_movements = sa.table(
    "trace_lot_movements",
    sa.column("lot_id", sa.String),
    sa.column("event_hash", sa.String),
    sa.column("event_time", sa.String),
    sa.column("movement", sa.String),
    sa.column("facility_id", sa.String),
    sa.column("counterpart_id", sa.String),
    sa.column("quantity_kg", sa.Float),
)
event_epcs = sa.table("trace_event_epcs", sa.column("epc", sa.String), sa.column("event_hash", sa.String))


def canonical_id(identifier: str) -> str:
    """The identifier the registry compared on: its Digital Link form when it has one, else itself."""
    return to_digital_link(identifier) or identifier.strip()


@dataclass(slots=True)
class Item:
    lot: str
    kg: float


@dataclass(slots=True)
class LedgerOp:
    kind: str  # produce | ship | receive | transform
    hash_id: str
    event_time: str
    facility: str
    counterpart: str | None = None  # ship: destination; receive: source
    inputs: list[Item] = field(default_factory=list)
    outputs: list[Item] = field(default_factory=list)


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


def parse_event(ev: dict[str, Any], hash_id: str) -> LedgerOp | None:
    """The ledger operation of a stored event, or None when it moves no material (or would not have been one)."""
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
    if kind == "ship":
        facility = _typed(ev.get("sourceList"), "location") or _where(ev)
        counterpart = _typed(ev.get("destinationList"), "location")
    elif kind == "receive":
        facility = _typed(ev.get("destinationList"), "location") or _where(ev)
        counterpart = _typed(ev.get("sourceList"), "location")
    else:
        facility, counterpart = _where(ev), None
    if facility is None:
        return None

    def items(raw: Any) -> list[Item]:
        out: list[Item] = []
        for q in raw or []:
            uom, qty = q.get("uom"), q.get("quantity")
            if qty is None or uom not in UNITS_KG or qty <= 0:
                continue
            out.append(Item(canonical_id(q["epcClass"]), float(qty) * UNITS_KG[uom]))
        return out

    op = LedgerOp(
        kind=kind,
        hash_id=hash_id,
        event_time=normalise_time(str(ev.get("eventTime", ""))),
        facility=facility,
        counterpart=counterpart,
        inputs=items(ins),
        outputs=items(outs),
    )
    if not (op.inputs or op.outputs):
        return None
    raw_ilmd = ev.get("ilmd")
    ilmd: dict[str, Any] = raw_ilmd if isinstance(raw_ilmd, dict) else {}
    if NS + "openingStock" in ilmd and kind != "produce":
        return None
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
    (EPC lists, ``parentID``) and, for an event that moves no material, the classes in its quantity lists."""
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


def own_locations(ev: dict[str, Any], op: LedgerOp | None) -> list[str]:
    """The facilities an event names on the submitter's side, in order: bizLocation, readPoint, a ``location``
    source (the origin of a shipment) or, for a receiving event, a ``location`` destination."""
    receiving = (op.kind == "receive") if op is not None else _step(ev.get("bizStep")) in RECEIVING_STEPS
    found: list[str] = []
    for key in ("bizLocation", "readPoint"):
        loc = ev.get(key)
        if type(loc) is dict and type(loc.get("id")) is str:
            found.append(canonical_id(loc["id"]))
    for key, member, own in (
        ("sourceList", "source", not receiving),
        ("destinationList", "destination", receiving),
    ):
        for entry in ev.get(key) or ():
            if own and type(entry) is dict and _is_location(entry.get("type")):
                value = entry.get(member)
                if type(value) is str:
                    found.append(canonical_id(value))
    return found


def _is_location(raw: Any) -> bool:
    """Whether a source/destination type is CBV ``location`` (bare word, URN or Web URI)."""
    return type(raw) is str and _step(raw) == "location"


def _event_hashes_and_bodies(conn: Any, chunk: int = 5000) -> Iterator[tuple[str, str]]:
    """(hash ID, stored body) of every stored event, in capture order, read in chunks."""
    last = 0
    while True:
        q = sa.select(events.c.seq, events.c.hash_id, events.c.body).where(events.c.seq > last)
        rows = conn.execute(q.order_by(events.c.seq).limit(chunk)).all()
        if not rows:
            return
        for seq, hash_id, body in rows:
            last = seq
            yield hash_id, body


def _backfill(conn: Any, table: Any, rows_of: Callable[[str, dict[str, Any]], list[dict[str, Any]]]) -> int:
    done = set(conn.execute(sa.select(table.c.event_hash).distinct()).scalars())
    written = 0
    batch: list[dict[str, Any]] = []
    for hash_id, body in _event_hashes_and_bodies(conn):
        if hash_id not in done:
            batch.extend(rows_of(hash_id, json.loads(body)))
        if len(batch) >= 5000:
            conn.execute(sa.insert(table), batch)
            written, batch = written + len(batch), []
    if batch:
        conn.execute(sa.insert(table), batch)
    return written + len(batch)


def backfill_lot_movements(conn: Any) -> int:
    """Write the custody journal (``trace_lot_movements``) of every stored event that has none, from the stored
    event JSON (migration ``trace_0002``). Returns the rows written."""

    def rows(hash_id: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        op = parse_event(event, hash_id)
        return movements(op) if op is not None else []

    return _backfill(conn, lot_movements, rows)


def backfill_event_epcs(conn: Any) -> int:
    """Index every stored event under the EPCs it names (``trace_event_epcs``, migration ``trace_0003``)."""

    def rows(hash_id: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        moves = parse_event(event, hash_id) is not None
        return [{"epc": epc, "event_hash": hash_id} for epc in named_epcs(event, moves)]

    return _backfill(conn, event_epcs, rows)
