"""Capture a signed EPCIS 2.0 document: validate, hash, check the signature, enforce mass balance, store the
events and append their hash IDs to the Merkle log — all in ONE transaction, so a document is recorded whole or
not at all (a crash mid-way leaves nothing behind).

Idempotent by event hash ID: an event already in the registry is reported as a duplicate and not applied again.
Re-submitting the very same document bytes is a replay and is rejected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from lodeline.store import trace as db
from lodeline.store import trace_parties
from lodeline.store.engine import write_transaction
from lodeline.trace import keys
from lodeline.trace.epcis import event_list, load_and_validate
from lodeline.trace.errors import EventIssue, TraceError, reject
from lodeline.trace.event_hash import context_namespaces, event_hash_id, normalise_time
from lodeline.trace.ledger import LedgerOp, movements, named_epcs, parse_event, quarter
from lodeline.trace.log import append_leaves
from lodeline.trace.mass_balance import MassBalance, keys_needed


@dataclass
class CaptureReport:
    document_sha256: str
    participant: str
    key_id: str
    accepted: list[str] = field(default_factory=list)  # hash IDs, document order
    duplicates: list[dict[str, Any]] = field(default_factory=list)  # {index, hash_id}
    leaf_indices: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "document_sha256": self.document_sha256,
            "participant": self.participant,
            "key_id": self.key_id,
            "accepted": len(self.accepted),
            "duplicates": self.duplicates,
            "first_leaf": self.leaf_indices[0] if self.leaf_indices else None,
            "last_leaf": self.leaf_indices[-1] if self.leaf_indices else None,
        }


def verify_signature(conn: Connection, participant: str, signature: str, data: bytes, at: datetime) -> str:
    """The id of the participant's key that signed ``data``; reject unsigned, unknown, revoked or bad."""
    if not signature.strip():
        raise reject("unsigned-document", "the document carries no signature")
    if trace_parties.get_participant(conn, participant) is None:
        raise reject("unknown-participant", f"participant {participant!r} is not registered")
    candidates = trace_parties.keys_of(conn, participant)
    if not candidates:
        raise reject("unknown-key", f"participant {participant!r} has no registered key")
    for k in candidates:
        if keys.verify(k["public_key"], signature, data):
            revoked = k["revoked_at"]
            if revoked is not None:
                revoked = revoked if revoked.tzinfo else revoked.replace(tzinfo=UTC)
                if revoked <= at:
                    raise reject(
                        "revoked-key", f"key {k['key_id']} of {participant!r} was revoked at {revoked}"
                    )
            return str(k["key_id"])
    raise reject("bad-signature", f"the signature does not verify with any key of {participant!r}")


@dataclass
class PreparedDocument:
    """Everything capture derives from the document bytes alone, computed by :func:`prepare` with no store.

    Pure data (picklable), so a process pool can prepare the next documents while one writer commits
    (:mod:`lodeline.trace.capture_pipeline`). Ledger issues are kept per event and only count for events that
    turn out to be new at commit (an event already in the registry is a duplicate, not re-applied).
    """

    sha256: str
    file: str | None
    hashes: list[str]  # EPCIS event hash IDs, document order
    ops: dict[int, LedgerOp]  # event index -> what the event does to lots and stocks
    issues: dict[int, list[EventIssue]]  # event index -> ledger problems
    rows: list[dict[str, Any]]  # per event: the stored columns that depend on the event alone
    epcs: dict[int, list[str]]  # event index -> identifiers it is indexed under for events?epc=


def prepare(data: bytes, *, file: str | None = None) -> PreparedDocument:
    """Parse, validate against the EPCIS 2.0 schema, hash every event, derive its ledger operation and its stored
    row. Raises TraceError (nothing to write) when the document is not valid EPCIS 2.0."""
    doc = load_and_validate(data, file=file)
    evs = event_list(doc)
    ns = context_namespaces(doc.get("@context"))
    # The stored body carries the document's @context so the hash ID can be recomputed from the row alone. It is
    # serialised once: '{"@context":…,' + the event's own serialisation equals dumps({"@context": …, **ev}).
    context_prefix = '{"@context":' + _dumps(doc.get("@context")) + ","
    hashes: list[str] = []
    ops: dict[int, LedgerOp] = {}
    issues: dict[int, list[EventIssue]] = {}
    rows: list[dict[str, Any]] = []
    epcs: dict[int, list[str]] = {}
    for i, ev in enumerate(evs):
        h = event_hash_id(ev, ns)
        hashes.append(h)
        found: list[EventIssue] = []
        op = parse_event(i, ev, h, found)
        if op is not None:
            ops[i] = op
        if found:
            issues[i] = found
        named = named_epcs(ev, op is not None)
        if named:
            epcs[i] = named
        rows.append(
            {
                "event_type": ev.get("type"),
                "event_time": op.event_time if op else normalise_time(str(ev.get("eventTime", ""))),
                "biz_step": ev.get("bizStep"),
                "facility_id": op.facility if op else None,
                "body": _dumps(ev) if "@context" in ev or not ev else context_prefix + _dumps(ev)[1:],
            }
        )
    return PreparedDocument(hashlib.sha256(data).hexdigest(), file, hashes, ops, issues, rows, epcs)


def capture(
    engine: Engine,
    data: bytes,
    *,
    participant: str,
    signature: str,
    file: str | None = None,
    at: datetime | None = None,
) -> CaptureReport:
    """Capture one signed document atomically; raise TraceError (nothing written) on any problem."""
    return commit_prepared(
        engine, prepare(data, file=file), data, participant=participant, signature=signature, at=at
    )


def commit_prepared(
    engine: Engine,
    prepared: PreparedDocument,
    data: bytes,
    *,
    participant: str,
    signature: str,
    at: datetime | None = None,
) -> CaptureReport:
    """The store half of capture, in ONE transaction: signature, replay and duplicate checks, mass balance, the
    event rows and their log leaves. ``data`` are the signed bytes ``prepared`` was computed from."""
    file, hashes, sha = prepared.file, prepared.hashes, prepared.sha256
    at = at or datetime.now(UTC)
    with write_transaction(engine) as conn:
        db.lock_registry(conn)
        kid = verify_signature(conn, participant, signature, data, at)
        if db.document_exists(conn, sha):
            raise reject("replayed-document", f"document {sha} was already captured")
        report = CaptureReport(document_sha256=sha, participant=participant, key_id=kid)
        known = db.existing_hashes(conn, hashes)
        fresh: list[int] = []
        for i, h in enumerate(hashes):
            if h in known:
                report.duplicates.append({"index": i, "hash_id": h})
            else:
                known.add(h)
                fresh.append(i)
        issues = [issue for i in fresh for issue in prepared.issues.get(i, ())]
        if issues:
            raise TraceError(issues, file=file)
        ops = [prepared.ops[i] for i in fresh if i in prepared.ops]
        mb = _apply(conn, ops, participant)
        if mb.issues:
            raise TraceError(mb.issues, file=file)
        report.accepted = [hashes[i] for i in fresh]
        # The log leaf of an event is the UTF-8 bytes of its hash ID, appended in this same transaction.
        report.leaf_indices = append_leaves(conn, [h.encode("utf-8") for h in report.accepted])
        _write(conn, prepared, fresh, ops, mb, report, signature, at)
    return report


def _apply(conn: Connection, ops: list[LedgerOp], participant: str) -> MassBalance:
    facs, lot_ids, _ = keys_needed(ops)
    facilities = db.facilities_by_id(conn, facs)
    mb_facilities = [f for f, row in facilities.items() if row["custody_model"] == "mass_balance"]
    credit_keys = {(f, quarter(o.event_time)) for o in ops for f in mb_facilities if o.facility == f}
    mb = MassBalance(
        facilities,
        db.lots_by_id(conn, lot_ids),
        db.balances_for(conn, lot_ids),
        db.credits_for(conn, credit_keys),
        submitter=participant,
    )
    for op in ops:
        mb.apply(op)
    return mb


def _write(
    conn: Connection,
    prepared: PreparedDocument,
    fresh: list[int],
    ops: list[LedgerOp],
    mb: MassBalance,
    report: CaptureReport,
    signature: str,
    at: datetime,
) -> None:
    leaves = report.leaf_indices
    rows = [
        {
            "hash_id": prepared.hashes[i],
            "document_sha256": report.document_sha256,
            "event_index": i,
            **prepared.rows[i],
            "leaf_index": leaves[n] if leaves else None,
        }
        for n, i in enumerate(fresh)
    ]
    db.insert_rows(conn, db.events, rows)
    db.insert_rows(
        conn,
        db.documents,
        [
            {
                "sha256": report.document_sha256,
                "participant_id": report.participant,
                "key_id": report.key_id,
                "signature": signature.strip(),
                "captured_at": at,
                "events": len(fresh),
                "duplicates": len(report.duplicates),
            }
        ],
    )
    db.upsert_lots(conn, [mb.lots[lot] for lot in sorted(mb.touched_lots)], mb.existing_lots)
    db.insert_rows(conn, db.lot_sources, mb.sources)
    db.insert_rows(conn, db.claims, mb.claims)
    db.insert_rows(conn, db.lot_movements, [row for op in ops for row in movements(op)])
    named = [(epc, prepared.hashes[i]) for i in fresh for epc in prepared.epcs.get(i, ())]
    db.insert_rows(conn, db.event_epcs, [{"epc": epc, "event_hash": h} for epc, h in named])
    db.write_balances(conn, {it.lot for op in ops for it in op.inputs + op.outputs}, mb.balances)
    db.write_credits(conn, {k: mb.credits[k] for k in mb.touched_credits})


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def backfill_lot_movements(conn: Connection) -> int:
    """Write the custody journal (``trace_lot_movements``) of every stored event that has none, re-derived from the
    stored event JSON (for stores captured before the journal existed). Returns the rows written."""

    def rows(hash_id: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        op = parse_event(0, event, hash_id, [])
        return movements(op) if op is not None else []

    return _backfill(conn, db.lot_movements, rows)


def backfill_event_epcs(conn: Connection) -> int:
    """Index every stored event under the EPCs it names (``trace_event_epcs``), from the stored event JSON."""

    def rows(hash_id: str, event: dict[str, Any]) -> list[dict[str, Any]]:
        moves = parse_event(0, event, hash_id, []) is not None
        return [{"epc": epc, "event_hash": hash_id} for epc in named_epcs(event, moves)]

    return _backfill(conn, db.event_epcs, rows)


def _backfill(
    conn: Connection, table: Any, rows_of: Callable[[str, dict[str, Any]], list[dict[str, Any]]]
) -> int:
    done = set(conn.execute(select(table.c.event_hash).distinct()).scalars())
    written = 0
    batch: list[dict[str, Any]] = []
    for hash_id, body in db.iter_event_hashes_and_bodies(conn):
        if hash_id not in done:
            batch.extend(rows_of(hash_id, json.loads(body)))
        if len(batch) >= 5000:
            db.insert_rows(conn, table, batch)
            written, batch = written + len(batch), []
    db.insert_rows(conn, table, batch)
    return written + len(batch)


def leaf_data_from_events(conn: Connection) -> Iterator[tuple[int, bytes]]:
    """For ``lodeline trace audit``: each stored event's leaf data re-derived from the stored event itself
    (its EPCIS hash ID recomputed from the stored JSON), so an edited event row is detected even when its
    leaf was left alone."""
    for leaf_index, body in db.iter_event_bodies(conn):
        if leaf_index is None:
            continue
        event = json.loads(body)
        yield leaf_index, event_hash_id(event, context_namespaces(event.get("@context"))).encode("utf-8")
