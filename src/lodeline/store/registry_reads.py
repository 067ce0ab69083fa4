"""Read queries behind the registry API (issue 4): who operates a lot's facility, and the events of a lot or an
EPC, optionally limited to one operator's facilities. SQLAlchemy Core only; identifiers arrive canonical."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, union

from lodeline.store.trace import claims, documents, event_epcs, events, facilities, lot_movements, lots

EVENT_COLUMNS = (
    events.c.hash_id,
    events.c.event_type,
    events.c.event_time,
    events.c.biz_step,
    events.c.facility_id,
    events.c.leaf_index,
    events.c.document_sha256,
    events.c.body,
)


def lot_operator(conn: Connection, lot_id: str) -> tuple[bool, str | None]:
    """(the lot exists, the participant operating the facility that produced it)."""
    q = (
        select(facilities.c.operator_id)
        .select_from(lots.outerjoin(facilities, facilities.c.id == lots.c.facility_id))
        .where(lots.c.id == lot_id)
    )
    row = conn.execute(q).first()
    return (row is not None, None if row is None else row[0])


def _operator_filter(operator: str | None) -> Any:
    if operator is None:
        return None
    return events.c.facility_id.in_(select(facilities.c.id).where(facilities.c.operator_id == operator))


def events_of_lot(conn: Connection, lot_id: str, limit: int) -> list[dict[str, Any]]:
    """Every event that moved the lot (produced, shipped, received or consumed it, from the custody journal) or
    made a custody claim on it, in event-time order."""
    hashes = union(
        select(lot_movements.c.event_hash).where(lot_movements.c.lot_id == lot_id),
        select(claims.c.event_hash).where(claims.c.lot_id == lot_id),
    )
    return _events_named_by(conn, hashes, None, limit)


def events_mentioning(
    conn: Connection, needles: list[str], operator: str | None, limit: int
) -> list[dict[str, Any]]:
    """Events that name one of ``needles`` (an EPC in its canonical spellings), optionally only those at
    facilities ``operator`` runs. Two indexed lookups: the EPC index (instance EPCs, and classes named by events
    that move no material) and the custody journal (the lots material events move)."""
    hashes = union(
        select(event_epcs.c.event_hash).where(event_epcs.c.epc.in_(needles)),
        select(lot_movements.c.event_hash).where(lot_movements.c.lot_id.in_(needles)),
    )
    return _events_named_by(conn, hashes, operator, limit)


def _events_named_by(conn: Connection, hashes: Any, operator: str | None, limit: int) -> list[dict[str, Any]]:
    """The events whose hash IDs ``hashes`` (a query of one column) selects, within ``operator``'s facilities
    when given, in event-time order."""
    found = hashes.subquery()
    q = select(*EVENT_COLUMNS).where(events.c.hash_id.in_(select(found.c.event_hash)))
    scope = _operator_filter(operator)
    if scope is not None:
        q = q.where(scope)
    q = q.order_by(events.c.event_time, events.c.seq).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def capture_document(conn: Connection, sha256: str) -> dict[str, Any] | None:
    """The stored record of one captured document (the capture job of the EPCIS REST binding)."""
    row = conn.execute(select(documents).where(documents.c.sha256 == sha256)).mappings().first()
    return None if row is None else dict(row)


def lot_trail(conn: Connection, lot_id: str) -> list[dict[str, Any]]:
    """The lot's custody trail from the journal: every movement in event-time order, with where it happened, the
    counterpart, and the event's type, business step, hash ID and log leaf."""
    here, there = facilities.alias("here"), facilities.alias("there")
    m = lot_movements.c
    q = (
        select(
            m.event_time,
            m.movement,
            m.quantity_kg,
            m.facility_id,
            here.c.name.label("facility"),
            here.c.country,
            there.c.name.label("counterpart"),
            events.c.event_type,
            events.c.biz_step,
            m.event_hash.label("hash_id"),
            events.c.leaf_index,
        )
        .join(events, events.c.hash_id == m.event_hash)
        .join(here, here.c.id == m.facility_id)
        .outerjoin(there, there.c.id == m.counterpart_id)
        .where(m.lot_id == lot_id)
        .order_by(m.event_time, events.c.seq)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
