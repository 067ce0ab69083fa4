"""What the registry's web endpoints compute (issue 4), one function per endpoint, over the trace Python API.

Routes stay thin: they authorise through :mod:`lodeline.api.access`, call one function here and return its
result. Nothing here looks at roles; scoping arguments (``operator``) come from the access layer.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Engine

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import registry_reads as reads
from lodeline.store import trace as db
from lodeline.store.engine import write_transaction
from lodeline.trace import log
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.origin import load_upstream, origin_report
from lodeline.trace.registry_key import load_registry_key

ORIGIN_VIEWS = {
    "country": "by_country",
    "facility": "by_facility",
    "certification": "by_certification",
    "recycled": "recycled",
}


def find_lot(engine: Engine, text: str) -> tuple[str, str | None]:
    """(canonical lot id, operator of the facility that produced it); a bare lot number is accepted."""
    lot_id = canonical_id(text)
    with engine.connect() as conn:
        exists, operator = reads.lot_operator(conn, lot_id)
        if not exists:
            matches = db.lot_ids_like(conn, text.strip())
            if len(matches) != 1:
                raise NotFoundError(f"unknown lot {text!r}" + (f"; candidates: {matches}" if matches else ""))
            lot_id = matches[0]
            exists, operator = reads.lot_operator(conn, lot_id)
    return lot_id, operator


def lot_origin(engine: Engine, lot_id: str, by: str) -> dict[str, Any]:
    """The lot's origin shares in one view, with its upstream composition edges (for a graph)."""
    report = origin_report(engine, lot_id)
    _, graph, _, _, facilities = load_upstream(engine, lot_id)
    edges = [
        {
            "lot": lot,
            "source_lot": source,
            "facility": facility,
            "facility_name": facilities[facility]["name"],
            "country": facilities[facility]["country"],
            "metal_kg": metal,
        }
        for lot, rows in sorted(graph.items())
        for facility, source, metal in rows
    ]
    keep = ("lot", "mineral", "material", "contained_metal_kg", "upstream_lots", "certified_at_origin")
    return {k: report[k] for k in keep} | {"by": by, "shares": report[ORIGIN_VIEWS[by]], "edges": edges}


def _event_out(row: dict[str, Any]) -> dict[str, Any]:
    return {**{k: v for k, v in row.items() if k != "body"}, "event": json.loads(row["body"])}


def lot_events(engine: Engine, lot_id: str, limit: int) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [_event_out(r) for r in reads.events_of_lot(conn, lot_id, limit)]


def epc_events(engine: Engine, epc: str, operator: str | None, limit: int) -> list[dict[str, Any]]:
    """Events naming the EPC (an instance EPC, or a class/lot in any of its spellings; looked up by its canonical
    Digital Link form in the EPC index and the custody journal), within ``operator``'s facilities when given."""
    spellings = sorted({epc.strip(), canonical_id(epc)})
    with engine.connect() as conn:
        return [_event_out(r) for r in reads.events_mentioning(conn, spellings, operator, limit)]


def current_checkpoint(engine: Engine) -> log.StoredCheckpoint:
    """The latest checkpoint, signing a new one first if the log has grown (as `lodeline trace checkpoint`)."""
    key = load_registry_key()
    # A public GET must not take the write lock when nothing changed (SQLite's BEGIN IMMEDIATE serialises
    # every writer): read first, sign only if the log has grown past the latest checkpoint.
    with engine.connect() as conn:
        latest = log.latest_checkpoint(conn)
        if (
            latest is not None
            and latest.tree_size == log.tree_size(conn)
            and (latest.key_name, latest.key_id) == (key.name, key.key_id_hex)
        ):
            return latest
    with write_transaction(engine) as conn:
        return log.issue_checkpoint(conn, key)


def verifier_key() -> str:
    """The registry's public verifier key (C2SP vkey) — publish it; verifiers should pin it out of band."""
    return load_registry_key().vkey


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
    return doc | {"checkpoint": cp.note}


def consistency(engine: Engine, old: int, new: int | None) -> dict[str, Any]:
    """The consistency proof from the checkpoint of size ``old`` to that of ``new`` (default: latest)."""
    if new is not None and old > new:
        raise InvalidArgumentError(f"old size {old} is larger than new size {new}", old=old, new=new)
    latest = current_checkpoint(engine) if new is None else None
    with engine.connect() as conn:
        old_cp = log.checkpoint_at_size(conn, old)
        new_cp = latest if latest is not None else log.checkpoint_at_size(conn, new or 0)
        doc = log.prove_consistency(conn, old_cp, new_cp)
    return doc | {"old_checkpoint": old_cp.note, "checkpoint": new_cp.note}


def capture_record(engine: Engine, capture_id: str) -> dict[str, Any] | None:
    with engine.connect() as conn:
        return reads.capture_document(conn, capture_id)
