"""Capture a signed EPCIS 2.0 document: validate, hash, check the signature, apply the capture rules
(:mod:`lodeline.trace.capture_rules`: time, eventIDs, facilities, company prefixes, lot owners), enforce mass
balance, store the events and append their hash IDs to the Merkle log — all in ONE transaction, so a document is
recorded whole or not at all (a crash mid-way leaves nothing behind).

Idempotent by event hash ID: an event already in the registry is reported as a duplicate and not applied again.
Re-submitting the very same document bytes is a replay and is rejected.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select

from lodeline.store import trace as db
from lodeline.store import trace_parties
from lodeline.store.engine import write_transaction
from lodeline.trace import capture_core as core
from lodeline.trace import capture_rules as rules
from lodeline.trace import keys, rehash
from lodeline.trace.capture_core import describe_event
from lodeline.trace.epcis import document_events, load_and_validate
from lodeline.trace.errors import EventIssue, TraceError, reject
from lodeline.trace.event_hash import context_namespaces, event_hash_id, normalise_time
from lodeline.trace.ledger import EventFacts, LedgerOp, movements, named_epcs, parse_event
from lodeline.trace.log import append_leaves
from lodeline.trace.mass_balance import Key


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
    known = trace_parties.get_participant(conn, participant) is not None
    candidates = trace_parties.keys_of(conn, participant) if known else []
    return check_signature(participant, known, candidates, signature, data, at)


def check_signature(
    participant: str, known: bool, candidates: list[dict[str, Any]], signature: str, data: bytes, at: datetime
) -> str:
    """:func:`verify_signature` on a given directory: whether the participant is ``known`` and its keys
    (``candidates``, rows as :func:`lodeline.store.trace_parties.keys_of` returns them). The audit passes the
    directory the log held when the document was captured."""
    if not signature.strip():
        raise reject("unsigned-document", "the document carries no signature")
    if not signature.isascii():
        raise reject("bad-signature", "the signature is not ASCII (base64 or a detached JWS expected)")
    if not known:
        raise reject("unknown-participant", f"participant {participant!r} is not registered")
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
    facts: dict[int, EventFacts] = field(default_factory=dict)  # event index -> what capture_rules check
    event_ids: dict[int, str] = field(default_factory=dict)  # event index -> its eventID


def prepare(data: bytes, *, file: str | None = None) -> PreparedDocument:
    """Parse, validate against the EPCIS 2.0 schema, hash every event, derive its ledger operation and its stored
    row. Raises TraceError (nothing to write) when the document is not valid EPCIS 2.0."""
    doc = load_and_validate(data, file=file, capture=True)
    evs = document_events(doc)
    ns = context_namespaces(doc.get("@context"))
    # The stored body carries the document's @context so the hash ID can be recomputed from the row alone. It is
    # serialised once: '{"@context":…,' + the event's own serialisation equals dumps({"@context": …, **ev}).
    context_prefix = '{"@context":' + _dumps(doc.get("@context")) + ","
    hashes: list[str] = []
    ops: dict[int, LedgerOp] = {}
    issues: dict[int, list[EventIssue]] = {}
    rows: list[dict[str, Any]] = []
    epcs: dict[int, list[str]] = {}
    facts: dict[int, EventFacts] = {}
    event_ids: dict[int, str] = {}
    for i, ev in enumerate(evs):
        h = event_hash_id(ev, ns)
        hashes.append(h)
        described = describe_event(i, ev, h)
        if described.op is not None:
            ops[i] = described.op
        if described.issues:
            issues[i] = described.issues
        if described.epcs:
            epcs[i] = described.epcs
        if described.facts is not None:
            facts[i] = described.facts
        if described.event_id is not None:
            event_ids[i] = described.event_id
        row = described.row
        row["body"] = _dumps(ev) if "@context" in ev or not ev else context_prefix + _dumps(ev)[1:]
        rows.append(row)
    sha = hashlib.sha256(data).hexdigest()
    return PreparedDocument(sha, file, hashes, ops, issues, rows, epcs, facts, event_ids)


def check_event_times(doc: dict[str, Any], *, at: datetime | None = None, file: str | None = None) -> None:
    """Raise TraceError when an event of a (valid) document is dated past ``at`` (default now) plus the clock-skew
    tolerance, as capture would."""
    events = document_events(doc)
    limit = normalise_time(((at or datetime.now(UTC)) + clock_skew()).isoformat())
    times = {i: normalise_time(str(ev.get("eventTime", ""))) for i, ev in enumerate(events)}
    ids = {i: ev["eventID"] for i, ev in enumerate(events) if isinstance(ev.get("eventID"), str)}
    issues = rules.future_issues(times, list(times), limit, ids)
    if issues:
        raise TraceError(issues, file=file)


def clock_skew() -> timedelta:
    """How far past the capture time an eventTime may be (``LODELINE_TRACE_CLOCK_SKEW_SECONDS``, default 300)."""
    from lodeline.config import get_settings

    return timedelta(seconds=get_settings().trace_clock_skew_seconds)


def capture(
    engine: Engine,
    data: bytes,
    *,
    participant: str,
    signature: str,
    file: str | None = None,
    at: datetime | None = None,
    max_skew: timedelta | None = None,
) -> CaptureReport:
    """Capture one signed document atomically; raise TraceError (nothing written) on any problem."""
    prepared = prepare(data, file=file)
    return commit_prepared(
        engine, prepared, data, participant=participant, signature=signature, at=at, max_skew=max_skew
    )


def commit_prepared(
    engine: Engine,
    prepared: PreparedDocument,
    data: bytes,
    *,
    participant: str,
    signature: str,
    at: datetime | None = None,
    max_skew: timedelta | None = None,
) -> CaptureReport:
    """The store half of capture, in ONE transaction: signature, replay and duplicate checks, the capture rules,
    mass balance, the event rows and their log leaves. ``data`` are the signed bytes ``prepared`` was computed
    from; ``at`` is the capture time (default now) and ``max_skew`` how far past it an eventTime may be."""
    file, hashes, sha = prepared.file, prepared.hashes, prepared.sha256
    at = at or datetime.now(UTC)
    limit = normalise_time((at + (clock_skew() if max_skew is None else max_skew)).isoformat())
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
        judgement = core.judge(StoreState(conn), prepared, fresh, participant, limit=limit)
        if judgement.issues:
            raise TraceError(judgement.issues, file=file)
        report.accepted = [hashes[i] for i in fresh]
        # The log leaf of an event is the UTF-8 bytes of its hash ID, appended in this same transaction.
        report.leaf_indices = append_leaves(conn, [h.encode("utf-8") for h in report.accepted])
        rows = core.derived_rows(
            prepared,
            fresh,
            judgement,
            document_sha256=sha,
            participant=participant,
            leaves=report.leaf_indices,
        )
        _write(conn, rows, report, signature, at)
        db.insert_document_bytes(conn, sha, data)  # the signed bytes, for the audit (trace_0005)
    return report


class StoreState:
    """Capture's :class:`~lodeline.trace.capture_core.StateSource`: the store, read in the capture's transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def facilities(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        return db.facilities_by_id(self.conn, ids)

    def lots(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        return db.lots_by_id(self.conn, ids)

    def balances(self, lot_ids: set[str]) -> tuple[dict[Key, float], dict[Key, str]]:
        return db.balances_and_times(self.conn, lot_ids)

    def credits(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[float]]:
        return db.credits_for(self.conn, keys)

    def prefixes_of(self, participant: str) -> list[str]:
        return db.prefixes_of(self.conn, participant)

    def prefix_owner(self, keys: list[str]) -> dict[str, str]:
        return db.prefix_owner(self.conn, keys)

    def event_ids_used(self, participant: str, event_ids: list[str]) -> dict[str, str]:
        return db.event_ids_used(self.conn, participant, event_ids)


def _write(
    conn: Connection, rows: core.DerivedRows, report: CaptureReport, signature: str, at: datetime
) -> None:
    db.insert_rows(conn, db.events, rows.events)
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
                "events": len(rows.events),
                "duplicates": len(report.duplicates),
            }
        ],
    )
    db.upsert_lots(conn, rows.lots, rows.existing_lots)
    db.insert_rows(conn, db.lot_sources, rows.sources)
    db.insert_rows(conn, db.claims, rows.claims)
    db.insert_rows(conn, db.lot_movements, rows.movements)
    db.insert_rows(conn, db.event_epcs, rows.epcs)
    db.write_balances(conn, rows.balance_lots, rows.balances)
    db.write_credits(conn, rows.credits)


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
    (its EPCIS hash ID recomputed from the stored JSON, with the algorithm in force when the leaf was appended:
    :func:`lodeline.trace.rehash.leaf_hash_id`), so an edited event row is detected even when its leaf was left
    alone."""
    first_current = rehash.boundary(conn)
    for leaf_index, body in db.iter_event_bodies(conn):
        if leaf_index is None:
            continue
        try:
            event = json.loads(body)
            yield leaf_index, rehash.leaf_hash_id(event, leaf_index, first_current).encode("utf-8")
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            # a body edited into something capture never accepts: no hash ID, so it matches no leaf (named)
            yield leaf_index, f"<stored event body unreadable: {type(exc).__name__}>".encode()
