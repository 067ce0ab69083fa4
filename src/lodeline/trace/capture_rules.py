"""The rules capture applies to every new event besides mass balance: who may record what, when, under which
identifiers. Pure functions over what :mod:`lodeline.trace.capture` loads from the store in its transaction.

- **Time.** An event's eventTime (UTC) may be at most the clock-skew tolerance past the capture time
  (``event-in-future``).
- **Identity.** An eventID is unique per participant: a different event (another hash ID) reusing one of the
  participant's eventIDs, in the store or earlier in the same document, is rejected (``duplicate-event-id``);
  the same event sent again is a duplicate, recorded once.
- **Facilities.** Every location an event names must be a registered facility (``unknown-facility``), and every
  one on the submitter's side — bizLocation, readPoint, the source of a shipment, the destination of a receipt —
  must be operated by the submitter (``facility-not-operated``), whether or not the event moves material.
- **Company prefixes.** Every lot or EPC an event creates (commissioning, a transformation's outputs) must be a
  GS1 key under a company prefix bound to the submitter (``foreign-company-prefix``); an identifier that is not
  a GS1 key cannot be created at all (``identifier-not-gs1``).
- **Lot owners.** An event that names a lot without moving material (inspecting, destroying, a disposition
  change) must come from one of the lot's owners (``lot-not-owned``): see :func:`lot_owners`. A lot not in the
  ledger yet belongs to the participant holding its company prefix, if any.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lodeline.trace.errors import EventIssue
from lodeline.trace.identifiers import company_key
from lodeline.trace.ledger import EventFacts
from lodeline.trace.mass_balance import Key, lot_owners

__all__ = [
    "event_id_issues",
    "future_issues",
    "location_issues",
    "lot_owner_issues",
    "prefix_issues",
]


def _issue(code: str, reason: str, index: int, event_ids: Mapping[int, str], field: str) -> EventIssue:
    return EventIssue(code=code, reason=reason, index=index, event_id=event_ids.get(index), field=field)


def future_issues(
    times: dict[int, str], fresh: list[int], limit: str, event_ids: Mapping[int, str]
) -> list[EventIssue]:
    """Events (by index -> UTC eventTime) later than ``limit`` (capture time + tolerance, same format)."""
    return [
        _issue(
            "event-in-future",
            f"eventTime {times[i]} is after the capture time plus the clock-skew tolerance ({limit})",
            i,
            event_ids,
            "eventTime",
        )
        for i in fresh
        if times[i] > limit
    ]


def event_id_issues(
    hashes: Sequence[str] | Mapping[int, str],
    fresh: list[int],
    event_ids: Mapping[int, str],
    used: dict[str, str],
    participant: str,
) -> list[EventIssue]:
    """New events reusing an eventID of the participant for a different event (``used``: stored eventID -> hash
    ID; earlier events of the document count too)."""
    seen = dict(used)
    fresh_set = set(fresh)
    out: list[EventIssue] = []
    for i in sorted(event_ids):
        eid, h = event_ids[i], hashes[i]
        before = seen.get(eid)
        if before is None:
            seen[eid] = h
        elif before != h and i in fresh_set:
            out.append(
                _issue(
                    "duplicate-event-id",
                    f"eventID {eid} already names another event of participant {participant!r} ({before}); "
                    "an eventID identifies one event",
                    i,
                    event_ids,
                    "eventID",
                )
            )
    return out


def location_issues(
    facts: Mapping[int, EventFacts],
    fresh: list[int],
    facilities: dict[str, dict[str, Any]],
    participant: str,
    event_ids: Mapping[int, str],
) -> list[EventIssue]:
    # Documents name a handful of facilities many times: judge each (facility, side) once, and walk the events
    # for field names only when one fails.
    named = {(fid, own) for i in fresh if (fact := facts.get(i)) is not None for _, fid, own in fact[0]}
    if all(
        (f := facilities.get(fid)) is not None and (not own or f["operator_id"] == participant)
        for fid, own in named
    ):
        return []
    out: list[EventIssue] = []
    for i in fresh:
        fact = facts.get(i)
        if fact is None:
            continue
        for field, fid, own in fact[0]:
            fac = facilities.get(fid)
            if fac is None:
                out.append(
                    _issue("unknown-facility", f"facility {fid} is not registered", i, event_ids, field)
                )
            elif own and fac["operator_id"] != participant:
                out.append(
                    _issue(
                        "facility-not-operated",
                        f"participant {participant!r} does not operate facility {fid}; only a facility's "
                        "operator records events there",
                        i,
                        event_ids,
                        field,
                    )
                )
    return out


def prefix_issues(
    facts: Mapping[int, EventFacts],
    fresh: list[int],
    prefixes: list[str],
    participant: str,
    event_ids: Mapping[int, str],
) -> list[EventIssue]:
    """Created identifiers outside the submitter's GS1 company prefixes."""
    created = {ident for i in fresh if (fact := facts.get(i)) is not None for _, ident in fact[1]}
    bound = tuple(prefixes)
    if all((key := company_key(ident)) is not None and key.startswith(bound) for ident in created):
        return []
    out: list[EventIssue] = []
    for i in fresh:
        fact = facts.get(i)
        if fact is None:
            continue
        for field, ident in fact[1]:
            key = company_key(ident)
            if key is None:
                out.append(
                    _issue(
                        "identifier-not-gs1",
                        f"{ident} is not a GS1 key, so no company prefix ties it to a participant; the registry "
                        "only creates lots and EPCs under GS1 company prefixes",
                        i,
                        event_ids,
                        field,
                    )
                )
            elif not any(key.startswith(p) for p in prefixes):
                mine = ", ".join(prefixes) or "none"
                out.append(
                    _issue(
                        "foreign-company-prefix",
                        f"{ident} is not under a GS1 company prefix of participant {participant!r} (its prefixes: "
                        f"{mine}); a participant creates lots and EPCs under its own prefixes only",
                        i,
                        event_ids,
                        field,
                    )
                )
    return out


def lot_owner_issues(
    facts: Mapping[int, EventFacts],
    fresh: list[int],
    participant: str,
    lots: dict[str, dict[str, Any]],
    balances: dict[Key, float],
    facilities: dict[str, dict[str, Any]],
    prefix_owners: dict[str, str],
    event_ids: Mapping[int, str],
) -> list[EventIssue]:
    """Lots named by non-material events of someone who does not own them (``prefix_owners``: company key ->
    participant, for lots not in the ledger)."""
    out: list[EventIssue] = []
    for i in fresh:
        fact = facts.get(i)
        if fact is None:
            continue
        for field, lot in fact[2]:
            if lot in lots:
                if participant in lot_owners(lot, lots, balances, facilities):
                    continue
                reason = (
                    f"participant {participant!r} neither holds lot {lot} nor produced it; only a lot's owners "
                    "record events about it"
                )
            else:
                key = company_key(lot)
                owner = prefix_owners.get(key) if key else None
                if owner is None or owner == participant:
                    continue
                reason = f"lot {lot} is under a GS1 company prefix of another participant"
            out.append(_issue("lot-not-owned", reason, i, event_ids, field))
    return out
