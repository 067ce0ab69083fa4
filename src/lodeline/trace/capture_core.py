"""The pure core of capture's store half, shared by capture and the audit of the derived tables.

For one document's new events it decides, with no I/O of its own:

1. what to read (:func:`load_state`): the facilities, lots, balances (with their ``added_at`` times), credits,
   company prefixes and eventIDs the document touches, asked of a :class:`StateSource`;
2. whether the document is accepted (:func:`judge`): the ledger problems found while parsing, the capture rules
   of :mod:`lodeline.trace.capture_rules`, mass balance in eventTime order (:class:`MassBalance`) and the lot
   owners — or, for events accepted before ``trace_0004`` (``legacy``), mass balance as it was then;
3. the rows that follow from it (:func:`derived_rows`): the event rows, lots, origin edges, claims, the custody
   journal, the EPC index, balances and credits.

Capture's source is the store, read in its write transaction (:mod:`lodeline.trace.capture`); the audit's is its
in-memory replay of the logged events (:mod:`lodeline.trace.audit_derived`). Both run this code, so what the audit
recomputes is what capture wrote, by construction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lodeline.trace import capture_rules as rules
from lodeline.trace.errors import EventIssue
from lodeline.trace.event_hash import normalise_time
from lodeline.trace.identifiers import company_key
from lodeline.trace.ledger import (
    EventFacts,
    LedgerOp,
    event_facts,
    movements,
    named_epcs,
    parse_event,
    quarter,
)
from lodeline.trace.mass_balance import Key, MassBalance, in_time_order, keys_needed

#: Balance rows at or below this many kg are dropped (a stock drawn to zero, up to float noise).
ZERO_KG = 1e-9


class StateSource(Protocol):
    """Where :func:`load_state` reads the registry's state from: the store (capture) or the audit's replay."""

    def facilities(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """Facility rows (with their ``certifications``) of those ``ids`` that are registered."""
        ...

    def lots(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        """Lot rows of those ``ids`` that exist (fresh dicts: mass balance updates them)."""
        ...

    def balances(self, lot_ids: set[str]) -> tuple[dict[Key, float], dict[Key, str]]:
        """Every balance row of the lots: (facility, lot, state) -> kg, and -> ``added_at`` where known."""
        ...

    def credits(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[float]]:
        """[credited, claimed] kg of those (facility, period) keys that exist (fresh lists)."""
        ...

    def prefixes_of(self, participant: str) -> list[str]:
        """The GS1 company prefixes bound to the participant."""
        ...

    def prefix_owner(self, keys: list[str]) -> dict[str, str]:
        """Company key -> the participant whose prefix it starts with, for keys under a bound prefix."""
        ...

    def event_ids_used(self, participant: str, event_ids: list[str]) -> dict[str, str]:
        """eventID -> hash ID of the participant's stored events that carry one of ``event_ids``."""
        ...


class DocumentEvents(Protocol):
    """What the core reads of a document, by event index (a :class:`~lodeline.trace.capture.PreparedDocument`;
    in the audit, the stored events of one document, described by :func:`describe_event`)."""

    @property
    def hashes(self) -> Sequence[str] | Mapping[int, str]: ...
    @property
    def issues(self) -> Mapping[int, list[EventIssue]]: ...
    @property
    def ops(self) -> Mapping[int, LedgerOp]: ...
    @property
    def rows(self) -> Sequence[dict[str, Any]] | Mapping[int, dict[str, Any]]: ...
    @property
    def epcs(self) -> Mapping[int, list[str]]: ...
    @property
    def facts(self) -> Mapping[int, EventFacts]: ...
    @property
    def event_ids(self) -> Mapping[int, str]: ...


@dataclass(slots=True)
class DescribedEvent:
    """What one event contributes, read from its JSON alone (:func:`describe_event`)."""

    op: LedgerOp | None  # what it does to lots and stocks; None when it moves no material
    issues: list[EventIssue]  # ledger problems found while parsing it
    epcs: list[str]  # identifiers it is indexed under (events?epc=)
    facts: EventFacts | None  # what the capture rules check
    event_id: str | None
    row: dict[str, Any]  # its stored columns that depend on the event alone (no body)


def describe_event(index: int, ev: dict[str, Any], hash_id: str) -> DescribedEvent:
    """The ledger operation, EPC index entries, rule facts, eventID and stored columns of one event (capture's
    ``prepare`` for a new event; the audit for a stored one)."""
    found: list[EventIssue] = []
    op = parse_event(index, ev, hash_id, found)
    fact = event_facts(ev, op)
    raw = ev.get("eventID")
    eid = raw if isinstance(raw, str) else None
    row = {
        "event_type": ev.get("type"),
        "event_time": op.event_time if op else normalise_time(str(ev.get("eventTime", ""))),
        "biz_step": ev.get("bizStep"),
        # where it happened: a material event's facility, else the first location on the submitter's side
        "facility_id": op.facility if op else _own_location(fact),
        "event_id": eid,
    }
    return DescribedEvent(op, found, named_epcs(ev, op is not None), fact, eid, row)


def _own_location(fact: EventFacts | None) -> str | None:
    return next((fid for _, fid, own in fact[0] if own), None) if fact is not None else None


@dataclass
class DocumentState:
    """What the capture rules and the ledger read of the registry for one document."""

    facilities: dict[str, dict[str, Any]]
    lots: dict[str, dict[str, Any]]
    balances: dict[Key, float]
    added_at: dict[Key, str]
    credits: dict[tuple[str, str], list[float]]
    prefixes: list[str]
    prefix_owners: dict[str, str]
    event_ids_used: dict[str, str]


def load_state(
    source: StateSource, doc: DocumentEvents, fresh: list[int], ops: list[LedgerOp], participant: str
) -> DocumentState:
    """Read what the document's new events (``fresh``, with ledger operations ``ops``) touch."""
    facs, lot_ids, _ = keys_needed(ops)
    named_lots: set[str] = set()
    creates = False
    for i in fresh:
        fact = doc.facts.get(i)
        if fact is not None:
            locations, created, named = fact
            facs.update(fid for _, fid, _own in locations)
            named_lots.update(lot for _, lot in named)
            creates = creates or bool(created)
    lots = source.lots(lot_ids | named_lots)
    balances, added_at = source.balances(lot_ids | named_lots)
    # lot owners: the operators of the facilities that hold or produced a named lot
    facs.update(row["facility_id"] for lot, row in lots.items() if lot in named_lots)
    facs.update(f for f, lot, _state in balances if lot in named_lots)
    facilities = source.facilities(facs)
    mb_facilities = [f for f, row in facilities.items() if row["custody_model"] == "mass_balance"]
    credit_keys = {(f, quarter(o.event_time)) for o in ops for f in mb_facilities if o.facility == f}
    unknown_lots = [key for lot in named_lots - set(lots) if (key := company_key(lot)) is not None]
    fresh_ids = [doc.event_ids[i] for i in fresh if i in doc.event_ids]
    return DocumentState(
        facilities=facilities,
        lots=lots,
        balances=balances,
        added_at=added_at,
        credits=source.credits(credit_keys),
        prefixes=source.prefixes_of(participant) if creates else [],
        prefix_owners=source.prefix_owner(unknown_lots) if unknown_lots else {},
        event_ids_used=source.event_ids_used(participant, fresh_ids) if fresh_ids else {},
    )


@dataclass
class Judgement:
    """The outcome of :func:`judge`: the problems (empty: accepted), the operations in the order applied, and the
    mass balance that applied them (None when the document was rejected before)."""

    issues: list[EventIssue]
    ops: list[LedgerOp]
    mb: MassBalance | None = None
    state: DocumentState | None = None


def judge(
    source: StateSource,
    doc: DocumentEvents,
    fresh: list[int],
    participant: str,
    *,
    limit: str | None,
    legacy: bool = False,
    partial: bool = False,
) -> Judgement:
    """Apply the document's new events (``fresh``, by index) as capture does. ``limit``: the latest eventTime
    accepted (capture time plus the clock-skew tolerance, normalised), None to skip that rule. ``legacy``: events
    accepted before ``trace_0004`` — replayed as capture then ran them: operations in document order, mass
    balance without the time-order, origination and lot-consistency rules, and none of the other capture rules.
    ``partial`` (the audit): collect every problem and apply mass balance all the same, instead of stopping at
    the first failing step as capture does."""
    issues = [issue for i in fresh for issue in doc.issues.get(i, ())]
    ops = [doc.ops[i] for i in fresh if i in doc.ops]
    if issues and not partial:
        return Judgement(issues, ops)
    if not legacy:
        ops = in_time_order(ops)
    state = load_state(source, doc, fresh, ops, participant)
    if not legacy:
        found = rule_issues(doc, fresh, participant, limit, state)
        if found and not partial:
            return Judgement(sorted(found, key=_by_place), ops, None, state)
        issues += sorted(found, key=_by_place)
    mb = MassBalance(
        state.facilities,
        state.lots,
        state.balances,
        state.credits,
        submitter=participant,
        added_at=state.added_at,
        legacy=legacy,
    )
    for op in ops:
        mb.apply(op)
    issues += mb.issues
    if not legacy:
        issues += rules.lot_owner_issues(
            doc.facts,
            fresh,
            participant,
            mb.lots,
            mb.balances,
            state.facilities,
            state.prefix_owners,
            doc.event_ids,
        )
    return Judgement(issues, ops, mb, state)


def rule_issues(
    doc: DocumentEvents, fresh: list[int], participant: str, limit: str | None, state: DocumentState
) -> list[EventIssue]:
    """The capture rules judged before mass balance: time, eventIDs, facilities, company prefixes."""
    ids = doc.event_ids
    future: list[EventIssue] = []
    if limit is not None:
        future = rules.future_issues({i: doc.rows[i]["event_time"] for i in fresh}, fresh, limit, ids)
    return [
        *future,
        *rules.event_id_issues(doc.hashes, fresh, ids, state.event_ids_used, participant),
        *rules.location_issues(doc.facts, fresh, state.facilities, participant, ids),
        *rules.prefix_issues(doc.facts, fresh, state.prefixes, participant, ids),
    ]


def _by_place(issue: EventIssue) -> tuple[int, str]:
    return (-1 if issue.index is None else issue.index, issue.field or "")


@dataclass
class DerivedRows:
    """Every row an accepted document adds or replaces, as capture writes them."""

    events: list[dict[str, Any]]  # trace_events
    lots: list[dict[str, Any]]  # trace_lots touched, new or produced again (by id)
    existing_lots: set[str]  # of those, the lots that existed before (only their totals are rewritten)
    sources: list[dict[str, Any]]  # trace_lot_sources
    claims: list[dict[str, Any]]  # trace_claims
    movements: list[dict[str, Any]]  # trace_lot_movements
    epcs: list[dict[str, Any]]  # trace_event_epcs
    balance_lots: list[str]  # lots whose balance rows are all replaced by ``balances``
    balances: list[dict[str, Any]]  # trace_balances of those lots (rows at or below ZERO_KG dropped)
    credits: dict[tuple[str, str], list[float]]  # trace_credits rewritten


def derived_rows(
    doc: DocumentEvents,
    fresh: list[int],
    judgement: Judgement,
    *,
    document_sha256: str,
    participant: str,
    leaves: Sequence[int | None],
) -> DerivedRows:
    """The rows that follow from an accepted document (``judgement`` without issues); ``leaves``: the log leaf of
    each new event, in ``fresh`` order."""
    mb, ops = judgement.mb, judgement.ops
    assert mb is not None, "rows follow from a document mass balance applied"
    hashes, rows = doc.hashes, doc.rows
    events = [
        {
            "hash_id": hashes[i],
            "document_sha256": document_sha256,
            "event_index": i,
            **rows[i],
            "participant_id": participant,
            "leaf_index": leaves[n],
        }
        for n, i in enumerate(fresh)
    ]
    moved = sorted({it.lot for op in ops for it in op.inputs + op.outputs})
    wanted = set(moved)
    added_at = mb.added_at
    balances = [
        {"facility_id": f, "lot_id": lot, "state": s, "quantity_kg": q, "added_at": added_at.get((f, lot, s))}
        for (f, lot, s), q in mb.balances.items()
        if lot in wanted and abs(q) > ZERO_KG
    ]
    epcs = doc.epcs
    return DerivedRows(
        events=events,
        lots=[mb.lots[lot] for lot in sorted(mb.touched_lots)],
        existing_lots=mb.existing_lots,
        sources=mb.sources,
        claims=mb.claims,
        movements=[row for op in ops for row in movements(op)],
        epcs=[{"epc": epc, "event_hash": hashes[i]} for i in fresh for epc in epcs.get(i, ())],
        balance_lots=moved,
        balances=balances,
        credits={k: mb.credits[k] for k in mb.touched_credits},
    )
