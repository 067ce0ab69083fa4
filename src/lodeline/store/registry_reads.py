"""Read queries behind the registry API (issue 4, scoped in issue 10): who held a lot, the custody journal of
lots with the parties on both ends, and the events of a lot or an EPC with each event's body returned only to
the viewer it belongs to. SQLAlchemy Core only; identifiers arrive canonical.

The rule itself (what a participant sees of other parties' events) is pure code in
:mod:`lodeline.trace.visibility`; these queries only make sure a body that is not the viewer's never leaves the
database (it is selected as NULL).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, case, exists, literal, or_, select, union

from lodeline.store import driver
from lodeline.store.trace import (
    claims,
    documents,
    event_epcs,
    events,
    facilities,
    lot_movements,
    lot_sources,
    lots,
)

SUFFIX_CANDIDATES = 5


def lot_operator(conn: Connection, lot_id: str) -> tuple[bool, str | None]:
    """(the lot exists, the participant operating the facility that produced it)."""
    q = (
        select(facilities.c.operator_id)
        .select_from(lots.outerjoin(facilities, facilities.c.id == lots.c.facility_id))
        .where(lots.c.id == lot_id)
    )
    row = conn.execute(q).first()
    return (row is not None, None if row is None else row[0])


def journal(conn: Connection, lot_ids: Iterable[str]) -> list[dict[str, Any]]:
    """The custody-journal rows of ``lot_ids`` with, for each, the operators of the facility and of the
    counterpart and the participant that submitted the event (who held the lot, and who may know which
    facility). In event-time order."""
    here, there = facilities.alias("here"), facilities.alias("there")
    m = lot_movements.c
    out: list[dict[str, Any]] = []
    wanted = sorted(set(lot_ids))
    for i in range(0, len(wanted), driver.CHUNK):
        q = (
            select(
                m.lot_id,
                m.event_hash,
                m.event_time,
                m.movement,
                m.facility_id,
                m.counterpart_id,
                m.quantity_kg,
                here.c.operator_id.label("facility_operator"),
                there.c.operator_id.label("counterpart_operator"),
                events.c.participant_id.label("signer"),
            )
            .select_from(
                lot_movements.outerjoin(here, here.c.id == m.facility_id)
                .outerjoin(there, there.c.id == m.counterpart_id)
                .outerjoin(events, events.c.hash_id == m.event_hash)
            )
            .where(m.lot_id.in_(wanted[i : i + driver.CHUNK]))
            .order_by(m.event_time, m.id)
        )
        out.extend(dict(r) for r in conn.execute(q).mappings())
    return out


def lot_producers(conn: Connection, lot_ids: Iterable[str]) -> dict[str, str | None]:
    """lot -> operator of the facility that produced it (for lots that exist)."""
    wanted = sorted(set(lot_ids))
    out: dict[str, str | None] = {}
    for i in range(0, len(wanted), driver.CHUNK):
        q = (
            select(lots.c.id, facilities.c.operator_id)
            .select_from(lots.outerjoin(facilities, facilities.c.id == lots.c.facility_id))
            .where(lots.c.id.in_(wanted[i : i + driver.CHUNK]))
        )
        out.update({lot: operator for lot, operator in conn.execute(q)})
    return out


def _viewer_facilities(viewer: str) -> Any:
    return select(facilities.c.id).where(facilities.c.operator_id == viewer)


def lots_ending_with(conn: Connection, text: str, viewer: str | None) -> list[str]:
    """Up to five lots whose id ends with ``text`` taken literally (``%`` and ``_`` are escaped, not
    wildcards), and when ``viewer`` is given only lots it produced or handled (a movement at, or to or from, a
    facility it operates) — so a suffix search never names another party's lot."""
    q = select(lots.c.id).where(lots.c.id.endswith(text, autoescape=True))
    if viewer is not None:
        own = _viewer_facilities(viewer)
        m = lot_movements.c
        handled = exists(
            select(literal(1))
            .select_from(lot_movements)
            .where(m.lot_id == lots.c.id, or_(m.facility_id.in_(own), m.counterpart_id.in_(own)))
        )
        q = q.where(or_(lots.c.facility_id.in_(own), handled))
    return list(conn.execute(q.order_by(lots.c.id).limit(SUFFIX_CANDIDATES)).scalars())


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


def _lot_hashes(lot_id: str) -> Any:
    return union(
        select(lot_movements.c.event_hash).where(lot_movements.c.lot_id == lot_id),
        select(claims.c.event_hash).where(claims.c.lot_id == lot_id),
    )


def events_of_lot(
    conn: Connection, lot_id: str, limit: int, *, viewer: str | None = None
) -> list[dict[str, Any]]:
    """Every event that moved the lot (produced, shipped, received or consumed it, from the custody journal) or
    made a custody claim on it, in event-time order. With ``viewer``, the bodies of events that are not the
    viewer's come back as NULL (the caller decides the lot is the viewer's to read)."""
    custody = select(lot_movements.c.event_hash).where(lot_movements.c.lot_id == lot_id)
    return _events_named_by(conn, _lot_hashes(lot_id), viewer, custody, limit)


def events_mentioning(
    conn: Connection,
    needles: list[str],
    viewer: str | None,
    limit: int,
    *,
    custody_lots: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Events that name one of ``needles`` (an EPC in its canonical spellings). Two indexed lookups: the EPC
    index (instance EPCs, and classes named by events that move no material) and the custody journal (the lots
    material events move). With ``viewer``: the viewer's own events in full, and other parties' movements of
    ``custody_lots`` (lots the viewer may read) without their bodies; nothing else."""
    hashes = union(
        select(event_epcs.c.event_hash).where(event_epcs.c.epc.in_(needles)),
        select(lot_movements.c.event_hash).where(lot_movements.c.lot_id.in_(needles)),
    )
    custody = select(lot_movements.c.event_hash).where(lot_movements.c.lot_id.in_(list(custody_lots)))
    return _events_named_by(conn, hashes, viewer, custody, limit)


def _events_named_by(
    conn: Connection, hashes: Any, viewer: str | None, custody: Any, limit: int
) -> list[dict[str, Any]]:
    """The events whose hash IDs ``hashes`` (a query of one column) selects, in event-time order, with an
    ``own`` flag. For a ``viewer``: its own events (those it submitted: the signer of their document, recorded
    on the event since trace_0004, and since then every location on an event's submitter side is the
    submitter's) and the events ``custody`` selects, whose body and document come back NULL."""
    found = hashes.subquery()
    q = select(*EVENT_COLUMNS, literal(1).label("own"))
    if viewer is not None:
        own = events.c.participant_id == viewer
        hidden = case((own, events.c.body), else_=None).label("body")
        doc = case((own, events.c.document_sha256), else_=None).label("document_sha256")
        columns = [c for c in EVENT_COLUMNS if c.name not in ("body", "document_sha256")]
        q = select(*columns, doc, hidden, case((own, 1), else_=0).label("own")).where(
            or_(own, events.c.hash_id.in_(custody))
        )
    q = q.where(events.c.hash_id.in_(select(found.c.event_hash)))
    q = q.order_by(events.c.event_time, events.c.seq).limit(limit)
    return [dict(r) for r in conn.execute(q).mappings()]


def movements_of(conn: Connection, lot_ids: Sequence[str], hashes: Sequence[str]) -> list[dict[str, Any]]:
    """The journal rows of ``lot_ids`` moved by the events ``hashes`` (the movements an event list shows)."""
    wanted = set(hashes)
    return [row for row in journal(conn, lot_ids) if row["event_hash"] in wanted]


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


#: GS1 General Specifications: the GS1 prefix 952 is reserved for demonstrations and examples of the GS1 system;
#: no company's product carries it. In a lot id (GS1 Digital Link, AI 01) the GTIN-14's indicator digit comes
#: first, so the prefix is digits 2-4: https://id.gs1.org/01/<indicator>952…/10/<lot>.
DEMONSTRATION_LOT = "https://id.gs1.org/01/_952%"


def demonstration_lots(conn: Connection, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` lots under a GS1 demonstration prefix (952) that no other lot was made from (the end of a
    demonstration chain first): id and material only. The registry page offers them to visitors as examples;
    a real company's lot never appears here."""
    consumed = select(lot_sources.c.source_lot).where(lot_sources.c.source_lot.is_not(None))
    q = (
        select(lots.c.id, lots.c.material, lots.c.mineral)
        .where(lots.c.id.like(DEMONSTRATION_LOT), lots.c.id.not_in(consumed))
        .order_by(lots.c.mineral, lots.c.id)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(q).mappings()]
