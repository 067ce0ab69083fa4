"""Audit the registry's derived tables: replay the logged events and compare what they imply with what is stored.

The Merkle log proves which events were accepted, in which order (:mod:`lodeline.trace.audit`). Everything else
the registry answers with — lots, origin edges, balances, claims, credits, the custody journal, the EPC index,
the event columns read by the API, and who signed each document — is *derived* from those events at capture.
This audit recomputes it: the stored events are replayed in log (leaf) order, one captured document at a time,
through the very code capture runs (:mod:`lodeline.trace.capture_core`: the state a document reads, the capture
rules, mass balance in eventTime order, the rows written), over an in-memory state
(:class:`lodeline.trace.audit_replay.Replay`) instead of the store, and every derived row is compared with the
stored one. Each difference names the table, the row's key, the column, the stored and the recomputed value.
Documents captured before the capture rules of ``trace_0004`` (log leaves before the one that migration
recorded in ``trace_capture_rules``) are replayed as they were accepted then (``legacy``).

The directory the replay reads — facilities, company prefixes, participants' keys — is the one the log recorded
before each document (:mod:`lodeline.trace.audit_directory`), and the directory tables are compared with the
directory the whole log records, each difference named; an edited directory table changes nothing the replay
concludes.

Documents are checked from their signed bytes (``trace_document_bytes``, kept by capture since migration
``trace_0005``): SHA-256 of the bytes = the document id, the signature verifies as the named participant's with
a key valid at capture time among its keys as logged then (capture's own
:func:`~lodeline.trace.capture.check_signature`), and — by
re-running :func:`~lodeline.trace.capture.prepare` on the bytes — the document's events hash to the stored
events' hash IDs and bodies. The re-preparation costs about as much as capture's own validation, so by default
it runs on a random sample of documents; ``full=True`` (``lodeline trace audit --full``) runs it on every
document. Everything else is exhaustive in both modes.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select

from lodeline.store import driver, tracelog
from lodeline.store import trace as db
from lodeline.trace.audit_directory import Timeline, check_tables, read_entries
from lodeline.trace.audit_replay import EVENT_COLUMNS, TABLES, DerivedFinding, Keyed, Replay, StoredDocument
from lodeline.trace.capture import check_signature, prepare
from lodeline.trace.capture_core import derived_rows, describe_event
from lodeline.trace.errors import TraceError

DEFAULT_SAMPLE_DOCUMENTS = 32
MAX_FINDINGS_PER_KIND = 1000
READ_CHUNK = 2000
#: The migration whose capture rules the replay applies from the log leaf it recorded (trace_capture_rules).
RULES_REVISION = "trace_0004"


@dataclass
class DerivedReport:
    mode: str  # "sampled" | "full"
    seed: int | None = None  # of the document sample (sampled mode), to repeat it
    events_replayed: int = 0
    documents: int = 0
    documents_verified: int = 0  # SHA-256 and signature checked from the stored bytes
    documents_reprepared: int = 0  # the signed bytes re-prepared and matched with the stored events
    rules_first_leaf: int | None = None  # first leaf captured under trace_0004's rules (None: not recorded)
    legacy_events: int = 0  # events before it, replayed as accepted under the older rules
    directory_leaves: int = 0  # directory changes read from the log (lodeline.trace.directory)
    snapshot_events: int = 0  # events replayed against a later directory snapshot (trace_0006)
    rows_compared: dict[str, int] = field(default_factory=dict)
    findings: list[DerivedFinding] = field(default_factory=list)
    warnings: list[DerivedFinding] = field(default_factory=list)
    truncated: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.findings and not self.truncated

    def add(self, finding: DerivedFinding) -> None:
        if sum(1 for f in self.findings if f.kind == finding.kind) >= MAX_FINDINGS_PER_KIND:
            self.truncated[finding.kind] = self.truncated.get(finding.kind, 0) + 1
        else:
            self.findings.append(finding)

    def to_dict(self) -> dict[str, Any]:
        def plain(f: DerivedFinding) -> dict[str, Any]:
            return {k: v for k, v in asdict(f).items() if v is not None}

        return {
            "ok": self.ok,
            "mode": self.mode,
            "seed": self.seed,
            "events_replayed": self.events_replayed,
            "documents": self.documents,
            "documents_verified": self.documents_verified,
            "documents_reprepared": self.documents_reprepared,
            "rules_first_leaf": self.rules_first_leaf,
            "legacy_events": self.legacy_events,
            "directory_leaves": self.directory_leaves,
            "snapshot_events": self.snapshot_events,
            "rows_compared": self.rows_compared,
            "findings": [plain(f) for f in self.findings],
            "warnings": [plain(f) for f in self.warnings],
            "findings_not_listed": self.truncated,
            "seconds": round(self.seconds, 3),
        }


def _key_text(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items())


_EVENT_SQL = (
    "SELECT seq, hash_id, document_sha256, event_index, event_type, event_time, biz_step, facility_id, "
    "participant_id, event_id, leaf_index, body FROM trace_events WHERE seq IN"
)
_EVENT_FIELDS = (
    "seq", "hash_id", "document_sha256", "event_index", "event_type", "event_time", "biz_step", "facility_id",
    "participant_id", "event_id", "leaf_index", "body",
)  # fmt: skip


def _events_in_log_order(conn: Connection) -> Iterator[dict[str, Any]]:
    """Every stored event, in leaf order (events without a leaf last), read in chunks by primary key."""
    order = sorted(
        conn.execute(select(db.events.c.seq, db.events.c.leaf_index)).all(),
        key=lambda r: (r[1] is None, r[1] if r[1] is not None else 0, r[0]),
    )
    seqs = [r[0] for r in order]
    for i in range(0, len(seqs), READ_CHUNK):
        chunk = seqs[i : i + READ_CHUNK]
        rows = {
            r[0]: dict(zip(_EVENT_FIELDS, r, strict=True)) for r in driver.rows_in(conn, _EVENT_SQL, chunk)
        }
        for seq in chunk:
            yield rows[seq]


def _documents_in_log_order(events: Iterable[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Consecutive events of one document: one capture, applied together as capture applied them."""
    sha: str | None = None
    group: list[dict[str, Any]] = []
    for ev in events:
        if ev["document_sha256"] != sha and group:
            yield str(sha), group
            group = []
        sha = ev["document_sha256"]
        group.append(ev)
    if group:
        yield str(sha), group


def _mismatch(
    report: DerivedReport, table: str, key: dict[str, Any], column: str, stored: Any, new: Any
) -> None:
    report.add(
        DerivedFinding(
            "derived-mismatch",
            f"{table} ({_key_text(key)}): {column} stored {stored!r}, recomputed from the log {new!r}",
            table=table,
            key=key,
            column=column,
            stored=stored,
            recomputed=new,
        )
    )


def _unreadable(report: DerivedReport, ev: dict[str, Any], why: str) -> None:
    report.add(
        DerivedFinding(
            "event-body-unreadable",
            f"event {ev['hash_id']} (leaf {ev['leaf_index']}): stored body is not an event: {why}",
            table="trace_events",
            key={"hash_id": ev["hash_id"]},
            leaf_index=ev["leaf_index"],
        )
    )


#: What a stored body that capture could never have accepted (edited in the database) raises when described.
_NOT_AN_EVENT = (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError)


def _body(report: DerivedReport, ev: dict[str, Any]) -> dict[str, Any] | None:
    """The stored event JSON, or None (named) when it is not an event."""
    try:
        body = json.loads(ev["body"])
        if not isinstance(body, dict):
            raise ValueError("not a JSON object")
    except _NOT_AN_EVENT as exc:
        _unreadable(report, ev, repr(exc)[:200])
        return None
    return body


def _stored_document(report: DerivedReport, group: list[dict[str, Any]]) -> tuple[StoredDocument, list[int]]:
    """One document's stored events described as capture's ``prepare`` described them (by event index), and
    the indices of those that could be read, in document order (capture's new events)."""
    doc = StoredDocument()
    for ev in group:
        if ev["leaf_index"] is None:
            report.add(
                DerivedFinding(
                    "event-unlogged",
                    f"event {ev['hash_id']} has no log leaf",
                    table="trace_events",
                    key={"hash_id": ev["hash_id"]},
                )
            )
        body = _body(report, ev)
        i = int(ev["event_index"] or 0)
        if body is None:
            continue
        if i in doc.hashes:
            _mismatch(report, "trace_events", {"hash_id": ev["hash_id"]}, "event_index", i, None)
            continue
        try:
            described = describe_event(i, body, ev["hash_id"])
        except _NOT_AN_EVENT as exc:  # a body edited into something capture's validation never lets through
            _unreadable(report, ev, repr(exc)[:200])
            continue
        doc.hashes[i] = ev["hash_id"]
        doc.rows[i] = described.row
        doc.epcs[i] = described.epcs
        if described.op is not None:
            doc.ops[i] = described.op
        if described.issues:
            doc.issues[i] = described.issues
        if described.facts is not None:
            doc.facts[i] = described.facts
        if described.event_id is not None:
            doc.event_ids[i] = described.event_id
    return doc, sorted(doc.hashes)


#: (whether the signer is registered, its keys) in the directory a document was captured under
Signer = tuple[bool, list[dict[str, Any]]]


def _replay(
    conn: Connection, report: DerivedReport, documents: dict[str, dict[str, Any]], timeline: Timeline
) -> tuple[dict[str, Keyed], dict[str, list[dict[str, Any]]], dict[str, Signer]]:
    """Replay every stored event in log order, each document against the directory the log held before it;
    returns every recomputed table by key, each document's stored events (hash ID, index, leaf: for the document
    checks) and its signer as that directory knew it."""
    since = db.capture_rules_since(conn, RULES_REVISION)
    # Not recorded (the row was removed): every document is judged under the rules, so none passes unjudged.
    first_rules_leaf, rules_at = (0, None) if since is None else (since[0], _aware(since[1]))
    report.rules_first_leaf = None if since is None else first_rules_leaf
    replay = Replay()
    by_document: dict[str, list[dict[str, Any]]] = defaultdict(list)
    signers: dict[str, Signer] = {}
    for sha, group in _documents_in_log_order(_events_in_log_order(conn)):
        report.events_replayed += len(group)
        by_document[sha] = [{k: ev[k] for k in ("hash_id", "event_index", "leaf_index")} for ev in group]
        stored, fresh = _stored_document(report, group)
        doc = documents.get(sha)
        # a document with no record is a finding of its own (_check_documents); its events keep their submitter
        participant = str(doc["participant_id"] if doc else group[0]["participant_id"] or "")
        captured = _aware(doc["captured_at"]) if doc else None
        leaves = {ev["event_index"]: ev["leaf_index"] for ev in group}
        first_leaf = min((leaf for leaf in leaves.values() if leaf is not None), default=None)
        legacy = first_leaf is not None and first_leaf < first_rules_leaf
        if legacy:
            report.legacy_events += len(group)
            if captured is not None and rules_at is not None and captured > rules_at:
                report.add(
                    DerivedFinding(
                        "capture-rules-boundary",
                        f"document {sha} (first leaf {first_leaf}) is replayed under the rules before "
                        f"{RULES_REVISION} (leaves before {first_rules_leaf}), but was captured at {captured}, "
                        f"after they came in ({rules_at}): trace_capture_rules edited?",
                        table="trace_capture_rules",
                        key={"revision": RULES_REVISION},
                        document=sha,
                        leaf_index=first_leaf,
                    )
                )
        if first_leaf is None:  # no leaf of its own (named as event-unlogged): placed by its capture time
            position = timeline.position_at(captured) if captured is not None else 0
        else:
            position = first_leaf
        directory, from_snapshot = timeline.view(position)
        if from_snapshot:
            report.snapshot_events += len(group)
        signers[sha] = (directory.has_participant(participant), directory.keys_of(participant))
        judgement = replay.judge(
            stored, fresh, participant, captured, legacy=legacy, directory=directory, by_time=from_snapshot
        )
        rows = derived_rows(
            stored,
            fresh,
            judgement,
            document_sha256=sha,
            participant=participant,
            leaves=[leaves.get(i) for i in fresh],
        )
        replay.record(rows)
        derived = {row["hash_id"]: row for row in rows.events}
        at = {ev["event_index"]: ev for ev in group}
        for ev in group:
            want = derived.get(ev["hash_id"])
            if want is None:
                continue
            for column in EVENT_COLUMNS:
                if ev[column] != want[column]:
                    _mismatch(
                        report, "trace_events", {"hash_id": ev["hash_id"]}, column, ev[column], want[column]
                    )
        for issue in judgement.issues:
            ev = at.get(issue.index, group[0])
            report.add(
                DerivedFinding(
                    "replay-rejected",
                    f"event {ev['hash_id']} (leaf {ev['leaf_index']}, document {sha}): capture's rules reject it "
                    f"when the log is replayed: {issue}",
                    leaf_index=ev["leaf_index"],
                    document=sha,
                )
            )
    return replay.finish(), by_document, signers


def _same(a: Any, b: Any) -> bool:
    if a == b:
        return True
    return isinstance(a, float) and isinstance(b, float) and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _order(values: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, "" if v is None else v) for v in values)


def _compare(report: DerivedReport, table: str, have: Keyed, want: Keyed) -> None:
    """Match rows by key (several rows may share one: compared in value order) and name every difference.
    ``have``: the stored rows by key (:func:`_stored`), ``want``: the recomputed ones."""
    keys, columns = TABLES[table]
    report.rows_compared[table] = sum(len(v) for v in have.values())
    for key in [*have, *(k for k in want if k not in have)]:
        old, new = have.get(key, []), want.get(key, [])
        if len(old) == len(new) == 1 and old[0] == new[0]:
            continue  # the common case, decided without sorting
        named = dict(zip(keys, key, strict=True))
        old, new = sorted(old, key=_order), sorted(new, key=_order)
        for a, b in zip(old, new, strict=False):
            for column, x, y in zip(columns, a, b, strict=True):
                if not _same(x, y):
                    _mismatch(report, table, named, column, x, y)
        for extra in old[len(new) :]:
            report.add(
                DerivedFinding(
                    "derived-extra",
                    f"{table} ({_key_text(named)}): stored row {extra!r} follows from no logged event",
                    table=table,
                    key=named,
                    stored=list(extra),
                )
            )
        for missing in new[len(old) :]:
            report.add(
                DerivedFinding(
                    "derived-missing",
                    f"{table} ({_key_text(named)}): the log implies a row {missing!r} that is not stored",
                    table=table,
                    key=named,
                    recomputed=list(missing),
                )
            )


def _stored(conn: Connection, table: str) -> Keyed:
    """The stored rows of a derived table by key (plain tuples: the tables are read whole)."""
    t = db.metadata.tables[table]
    keys, columns = TABLES[table]
    width = len(keys)
    out: Keyed = defaultdict(list)
    for row in conn.execute(select(*(t.c[c] for c in keys + columns))):
        out[tuple(row[:width])].append(tuple(row[width:]))
    return out


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_prepared(
    conn: Connection,
    report: DerivedReport,
    doc: dict[str, Any],
    data: bytes,
    stored: list[dict[str, Any]],
) -> None:
    """Re-prepare the signed bytes and match them with the events stored under the document."""
    sha = doc["sha256"]
    report.documents_reprepared += 1
    try:
        prepared = prepare(data)
    except TraceError as exc:
        report.add(
            DerivedFinding(
                "replay-rejected",
                f"document {sha}: capture's validation rejects its signed bytes on replay: {exc.message}",
                document=sha,
            )
        )
        return
    # the bodies are read again here, for the documents re-prepared only (keeping them all costs ~1 GB at 1M)
    q = select(db.events.c.hash_id, db.events.c.event_index, db.events.c.body)
    bodies = {r.hash_id: r.body for r in conn.execute(q.where(db.events.c.document_sha256 == sha))}
    at = {ev["event_index"]: ev | {"body": bodies.get(ev["hash_id"])} for ev in stored}
    for i, hash_id in enumerate(prepared.hashes):
        ev = at.pop(i, None)
        if ev is None:
            if not db.existing_hashes(conn, [hash_id]):
                report.add(
                    DerivedFinding(
                        "document-event-missing",
                        f"document {sha}: its event {i} ({hash_id}) is neither stored under it nor elsewhere",
                        document=sha,
                    )
                )
            continue
        key = {"hash_id": ev["hash_id"]}
        if ev["hash_id"] != hash_id:
            _mismatch(report, "trace_events", key, "hash_id", ev["hash_id"], hash_id)
        elif ev["body"] != prepared.rows[i]["body"]:
            _mismatch(
                report, "trace_events", key, "body", str(ev["body"])[:200], prepared.rows[i]["body"][:200]
            )
    for ev in at.values():
        _mismatch(report, "trace_events", {"hash_id": ev["hash_id"]}, "event_index", ev["event_index"], None)
    duplicates = len(prepared.hashes) - len(stored)
    if doc["duplicates"] != duplicates:
        _mismatch(report, "trace_documents", {"sha256": sha}, "duplicates", doc["duplicates"], duplicates)


def _check_documents(
    conn: Connection,
    report: DerivedReport,
    documents: dict[str, dict[str, Any]],
    by_document: dict[str, list[dict[str, Any]]],
    signers: dict[str, Signer],
    timeline: Timeline,
    *,
    full: bool,
    sample: int,
) -> None:
    """Every document: its event count, and from its signed bytes its SHA-256 and signature; the bytes of every
    document (``full``) or of a sample are re-prepared and matched with the stored events."""
    for sha in sorted(by_document.keys() - documents.keys()):
        report.add(
            DerivedFinding(
                "derived-missing",
                f"trace_documents (sha256={sha}): {len(by_document[sha])} stored event(s) name a document with no "
                "record",
                table="trace_documents",
                key={"sha256": sha},
            )
        )
    first_leaf = {
        sha: min((ev["leaf_index"] for ev in evs if ev["leaf_index"] is not None), default=None)
        for sha, evs in by_document.items()
    }
    kept = set(conn.execute(select(db.document_bytes.c.sha256)).scalars())
    with_bytes = [first_leaf.get(sha) for sha in documents if sha in kept]
    # Documents captured before trace_0005 come first in the log: those before the first document with bytes.
    since = min((leaf for leaf in with_bytes if leaf is not None), default=None)
    earliest = min(
        (documents[sha]["captured_at"] for sha in kept if sha in documents), default=None, key=_aware
    )
    ordered = sorted(documents, key=lambda s: (first_leaf.get(s) is None, first_leaf.get(s) or 0, s))
    rng = random.Random(report.seed)
    chosen = set(ordered) if full else set(rng.sample(ordered, min(sample, len(ordered))))
    if ordered and not full:
        chosen.add(ordered[-1])  # the newest capture is always re-prepared
    for i in range(0, len(ordered), 16):  # bytes in batches: ~20 kB each compressed, ~500 kB decompressed
        batch = ordered[i : i + 16]
        blobs = db.stored_document_bytes(conn, batch)
        for sha in batch:
            doc = documents[sha]
            count = len(by_document.get(sha, []))
            if doc["events"] != count:
                _mismatch(report, "trace_documents", {"sha256": sha}, "events", doc["events"], count)
            data = blobs.get(sha)
            if data is None:
                leaf = first_leaf.get(sha)
                legacy = since is None or (leaf is not None and leaf < since)
                if leaf is None and earliest is not None:
                    legacy = _aware(doc["captured_at"]) < _aware(earliest)
                where = f"first leaf {leaf}" if leaf is not None else "no new events"
                finding = DerivedFinding(
                    "document-bytes-legacy" if legacy else "document-bytes-missing",
                    f"document {sha} ({doc['participant_id']}, {where}): no signed bytes stored"
                    + (
                        " — captured before trace_0005: participant and signature cannot be checked"
                        if legacy
                        else " although documents captured before it have them: deleted?"
                    ),
                    table="trace_document_bytes",
                    key={"sha256": sha},
                    document=sha,
                    leaf_index=leaf,
                )
                if legacy:
                    report.warnings.append(finding)
                else:
                    report.add(finding)
                continue
            report.documents_verified += 1
            digest = hashlib.sha256(data).hexdigest()
            if digest != sha:
                report.add(
                    DerivedFinding(
                        "document-bytes-mismatch",
                        f"document {sha}: the stored signed bytes hash to {digest}",
                        table="trace_document_bytes",
                        key={"sha256": sha},
                        document=sha,
                    )
                )
                continue
            signer = signers.get(sha)
            if signer is None:  # a document whose events were all duplicates: placed by its capture time
                state, _ = timeline.view(timeline.position_at(_aware(doc["captured_at"])))
                signer = (state.has_participant(doc["participant_id"]), state.keys_of(doc["participant_id"]))
            _check_signature(report, doc, data, signer)
            if sha in chosen:
                _check_prepared(conn, report, doc, data, by_document.get(sha, []))


def _check_signature(report: DerivedReport, doc: dict[str, Any], data: bytes, signer: Signer) -> None:
    """The document's signature, checked against the signer's keys in the directory the log held at capture."""
    sha, participant = doc["sha256"], doc["participant_id"]
    known, candidates = signer
    try:
        key_id = check_signature(
            participant, known, candidates, doc["signature"], data, _aware(doc["captured_at"])
        )
    except TraceError as exc:
        report.add(
            DerivedFinding(
                "document-signature",
                f"document {sha}: not signed by {participant!r} with a key valid at capture "
                f"({doc['captured_at']}): {exc.issues[0].code}: {exc.issues[0].reason}",
                table="trace_documents",
                key={"sha256": sha},
                column="participant_id",
                stored=participant,
                document=sha,
            )
        )
        return
    if key_id != doc["key_id"]:
        _mismatch(report, "trace_documents", {"sha256": sha}, "key_id", doc["key_id"], key_id)


def audit_derived(
    conn: Connection, *, full: bool = False, sample: int = DEFAULT_SAMPLE_DOCUMENTS, seed: int | None = None
) -> DerivedReport:
    """Recompute every derived table from the logged events and compare (run in one snapshot, like
    :func:`lodeline.trace.audit.run_audit`). ``full``: re-prepare every document's signed bytes, not a sample
    of ``sample`` documents (chosen with ``seed``, random when None)."""
    start = time.perf_counter()
    if seed is None and not full:
        seed = random.SystemRandom().randrange(2**32)
    report = DerivedReport(mode="full" if full else "sampled", seed=None if full else seed)
    documents = {r["sha256"]: dict(r) for r in conn.execute(select(db.documents)).mappings()}
    report.documents = len(documents)
    entries, invalid = read_entries(conn, tracelog.tree_size(conn))
    report.directory_leaves = len(entries)
    timeline = Timeline(entries)
    for finding in invalid + timeline.findings:
        report.add(finding)
    report.warnings.extend(timeline.warnings)
    directory_findings, directory_rows = check_tables(conn, timeline.final())
    for finding in directory_findings:
        report.add(finding)
    report.rows_compared.update(directory_rows)
    recomputed, by_document, signers = _replay(conn, report, documents, timeline)
    for table in TABLES:
        _compare(report, table, _stored(conn, table), recomputed.pop(table))
    _check_documents(conn, report, documents, by_document, signers, timeline, full=full, sample=sample)
    report.seconds = time.perf_counter() - start
    return report
