"""What the registry's web endpoints compute (issue 4), one function per endpoint, over the trace Python API.

Routes stay thin: they authorise through :mod:`lodeline.api.access`, call one function here and return its
result. Nothing here looks at roles: the scoping argument (``viewer``, the participant reading, or None for
auditors, admins and the operator's CLI) comes from the access layer; what a viewer sees of other parties'
records is :mod:`lodeline.trace.visibility`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import registry_reads as reads
from lodeline.trace import cosign, log, signer, visibility
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.origin import load_upstream, origin_report

ORIGIN_VIEWS = {
    "country": "by_country",
    "facility": "by_facility",
    "certification": "by_certification",
    "recycled": "recycled",
}


def _identifier(text: str, what: str) -> str:
    """``text`` stripped; a control character (a NUL breaks PostgreSQL's text type) is bad input, not a 500."""
    value = text.strip()
    if not value or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise InvalidArgumentError(f"{what} {text!r}: empty or contains a control character", field=what)
    return value


def _holders(conn: Connection, lot_ids: Iterable[str]) -> tuple[list[dict[str, Any]], dict[str, set[str]]]:
    """The custody journal of ``lot_ids`` and, per lot, the participants that held it."""
    wanted = sorted(set(lot_ids))
    rows = reads.journal(conn, wanted)
    return rows, visibility.holders(rows, reads.lot_producers(conn, wanted))


def find_lot(engine: Engine, text: str, viewer: str | None = None) -> tuple[str, set[str]]:
    """(canonical lot id, the participants that held it). A bare lot number is accepted: it is matched as a
    literal suffix among the lots ``viewer`` held (every lot when None), so the error of an ambiguous or unknown
    number names only lots the caller may read."""
    typed = _identifier(text, "lot")
    lot_id = canonical_id(typed)
    with engine.connect() as conn:
        exists, _ = reads.lot_operator(conn, lot_id)
        if not exists:
            matches = reads.lots_ending_with(conn, typed, viewer)
            if len(matches) != 1:
                among = "" if viewer is None else " visible to this account"
                listed = f"; candidates: {matches}" if matches else ""
                raise NotFoundError(f"no lot {typed!r}{among}{listed}", lot=typed)
            lot_id = matches[0]
        _, held = _holders(conn, [lot_id])
    return lot_id, held.get(lot_id, set())


def lot_origin(engine: Engine, lot_id: str, by: str, viewer: str | None = None) -> dict[str, Any]:
    """The lot's origin shares in one view, with its upstream composition edges (for a graph), as ``viewer``
    may see them (:mod:`lodeline.trace.visibility`; None: everything)."""
    report = origin_report(engine, lot_id)
    _, graph, _, _, facilities = load_upstream(engine, lot_id)
    readable: set[str] = set()
    known: set[str] = set()
    if viewer is not None:
        upstream = set(graph) | {source for edges in graph.values() for _, source, _ in edges if source}
        with engine.connect() as conn:
            rows, held = _holders(conn, upstream)
        readable = {lot for lot, who in held.items() if viewer in who} | {lot_id}
        own = {fid for fid, row in facilities.items() if row["operator_id"] == viewer}
        known = visibility.known_facilities(rows, viewer) | own
    view = visibility.origin_view(report, ORIGIN_VIEWS[by], graph, facilities, viewer, readable, known)
    return view | {"by": by}


def _answer(
    rows: list[dict[str, Any]], journal: list[dict[str, Any]], viewer: str | None, known: set[str]
) -> list[dict[str, Any]]:
    moves: dict[str, list[dict[str, Any]]] = {}
    for m in journal:
        moves.setdefault(m["event_hash"], []).append(m)
    return [visibility.event_out(r, moves.get(r["hash_id"], []), viewer, known) for r in rows]


def lot_events(engine: Engine, lot_id: str, limit: int, viewer: str | None = None) -> list[dict[str, Any]]:
    """Every event that moved the lot or claimed on it, as ``viewer`` may see them: its own in full, other
    parties' as custody facts (the caller has checked that the viewer held the lot)."""
    with engine.connect() as conn:
        rows = reads.events_of_lot(conn, lot_id, limit, viewer=viewer)
        journal = reads.journal(conn, [lot_id])
    known = set() if viewer is None else visibility.known_facilities(journal, viewer)
    return _answer(rows, journal, viewer, known)


def epc_events(engine: Engine, epc: str, viewer: str | None, limit: int) -> list[dict[str, Any]]:
    """Events naming the EPC (an instance EPC, or a class/lot in any of its spellings; looked up by its canonical
    Digital Link form in the EPC index and the custody journal). For a ``viewer``: its own events in full and,
    when the EPC is a lot it held, other parties' movements of it as custody facts — the same as ``lot=``."""
    typed = _identifier(epc, "epc")
    spellings = sorted({typed, canonical_id(typed)})
    with engine.connect() as conn:
        journal, held = _holders(conn, spellings)
        readable = sorted(lot for lot, who in held.items() if viewer is None or viewer in who)
        rows = reads.events_mentioning(conn, spellings, viewer, limit, custody_lots=readable)
    journal = [m for m in journal if m["lot_id"] in readable]
    known = set() if viewer is None else visibility.known_facilities(journal, viewer)
    return _answer(rows, journal, viewer, known)


def current_checkpoint(engine: Engine) -> log.StoredCheckpoint:
    """The latest checkpoint, signing a new one first if the log has grown (as `lodeline trace checkpoint`).

    The signer refuses (``registry-signer-refused``, 503) when the store does not extend what it signed. A newly
    signed checkpoint is sent to the configured witnesses for cosigning, after the signing transaction committed
    (no lock is held during the network calls, which are bounded by LODELINE_WITNESS_TIMEOUT)."""
    issued = signer.issue(engine)
    if issued.new:
        cosign.collect(engine, issued.checkpoint)
    return issued.checkpoint


def checkpoint_document(engine: Engine) -> dict[str, Any]:
    """The latest checkpoint as served: the note with its cosignature lines, and its fields (JSON form)."""
    cp = current_checkpoint(engine)
    with engine.connect() as conn:
        rows = cosign.cosignature_rows(conn, cp)
        note = cosign.cosigned_note(conn, cp)
    return {
        "origin": cp.origin,
        "tree_size": cp.tree_size,
        "root_hash": cp.root_hash.hex(),
        "key_name": cp.key_name,
        "key_id": cp.key_id,
        "issued_at": cp.issued_at.isoformat(),
        "note": note,
        "cosignatures": rows,
        "vkey": verifier_key(engine),
    }


def verifier_key(engine: Engine) -> str:
    """The registry's public verifier key (C2SP vkey) — publish it; verifiers should pin it out of band."""
    return signer.verifier_key(engine)


def inclusion(engine: Engine, event_hash: str, size: int | None) -> dict[str, Any]:
    """The inclusion proof of an event (by hash ID) against the latest checkpoint or the one of ``size``."""
    data = log.event_leaf_data(event_hash.strip())
    if size is None:
        cp = current_checkpoint(engine)
    else:
        with engine.connect() as conn:
            cp = log.checkpoint_at_size(conn, size)
    with engine.connect() as conn:
        doc = log.prove_event(conn, data, cp, scan=False)
        return doc | {"checkpoint": cosign.cosigned_note(conn, cp)}


#: what ``lodeline trace prove`` names a directory record by -> its table
DIRECTORY_RECORDS = {
    "participant": "trace_participants",
    "key": "trace_participant_keys",
    "prefix": "trace_company_prefixes",
    "facility": "trace_facilities",
    "certification": "trace_certifications",
}


def directory_inclusion(engine: Engine, kind: str, key: str, size: int | None) -> dict[str, Any]:
    """The inclusion proof of a directory record (``kind``: a key of :data:`DIRECTORY_RECORDS`; a facility by GLN,
    SGLN or URI, a certification by its id) — the last leaf recording it — against the latest checkpoint or the
    one of ``size``; the JSON adds the decoded ``record`` so a reader sees what was proven."""
    from lodeline.trace.parties import facility_id

    table = DIRECTORY_RECORDS.get(kind)
    if table is None:
        raise InvalidArgumentError(
            f"directory record kind {kind!r}: expected one of {', '.join(DIRECTORY_RECORDS)}"
        )
    value: object = _identifier(key, kind)
    if kind == "facility":
        value = facility_id(str(value))
    elif kind == "certification":
        if not str(value).isdigit():
            raise InvalidArgumentError(f"certification id {key!r}: expected a number", field=kind)
        value = int(str(value))
    cp = current_checkpoint(engine) if size is None else None
    with engine.connect() as conn:
        cp = cp or log.checkpoint_at_size(conn, size or 0)
        doc = log.prove_directory_record(conn, table, value, cp)
        return doc | {"checkpoint": cosign.cosigned_note(conn, cp)}


def consistency(engine: Engine, old: int, new: int | None) -> dict[str, Any]:
    """The consistency proof from the checkpoint of size ``old`` to that of ``new`` (default: latest)."""
    if new is not None and old > new:
        raise InvalidArgumentError(f"old size {old} is larger than new size {new}", old=old, new=new)
    latest = current_checkpoint(engine) if new is None else None
    with engine.connect() as conn:
        old_cp = log.checkpoint_at_size(conn, old)
        new_cp = latest if latest is not None else log.checkpoint_at_size(conn, new or 0)
        doc = log.prove_consistency(conn, old_cp, new_cp)
        notes = {
            "old_checkpoint": cosign.cosigned_note(conn, old_cp),
            "checkpoint": cosign.cosigned_note(conn, new_cp),
        }
    return doc | notes


def capture_record(engine: Engine, capture_id: str) -> dict[str, Any] | None:
    """The stored capture job (document record); the route shows it to its participant, auditors and admins."""
    with engine.connect() as conn:
        return reads.capture_document(conn, capture_id)
