"""The registry's derived state rebuilt in memory from the logged events, one captured document at a time, through
capture's own core (:mod:`lodeline.trace.capture_core`). Pure: :mod:`lodeline.trace.audit_derived` reads the
stored events and feeds them in, each with the directory (facilities, company prefixes) the log held before it
(:mod:`lodeline.trace.audit_directory`); :meth:`Replay.finish` returns every derived table by key.

:class:`Replay` is the audit's :class:`~lodeline.trace.capture_core.StateSource`: capture reads the state a
document touches from the store, the replay from what the documents before it produced. The facilities and company
prefixes a document is judged against are those the log recorded before it, as capture saw them (from a snapshot,
prefixes count from their ``added_at`` at capture time).

Events accepted before ``trace_0004`` (``legacy``) are replayed as capture then ran them. When the replay leaves
them for the first document captured under the rules, it dates every balance as ``trace_0004``'s backfill did
(:func:`lodeline.trace.mass_balance.journal_dates`), and lots originated where material cannot originate carry the
backfill's opening-stock reason (``MassBalance(legacy=True)``), so the state the later documents are judged on is
the state the upgraded store held.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from operator import itemgetter
from typing import Any

from lodeline.domain.company_prefixes import owners_by_prefix
from lodeline.trace.capture_core import DerivedRows, Judgement, judge
from lodeline.trace.directory import Directory
from lodeline.trace.errors import EventIssue
from lodeline.trace.ledger import EventFacts, LedgerOp
from lodeline.trace.mass_balance import Key, journal_dates


@dataclass(frozen=True)
class DerivedFinding:
    """One difference the audit of the derived tables (and of the directory) names."""

    kind: str
    message: str
    table: str | None = None
    key: dict[str, Any] | None = None
    column: str | None = None
    stored: Any = None
    recomputed: Any = None
    leaf_index: int | None = None
    document: str | None = None


#: table -> (key columns, compared columns) of the derived tables compared row by row
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trace_lots": (
        ("id",),
        (
            "material",
            "mineral",
            "metal_fraction",
            "recycled",
            "certified_fraction",
            "produced_metal_kg",
            "facility_id",
            "opening_stock",
        ),
    ),
    "trace_lot_sources": (("lot_id", "event_hash", "source_lot"), ("facility_id", "metal_kg", "event_time")),
    "trace_claims": (
        ("lot_id", "event_hash"),
        ("facility_id", "custody_model", "period", "metal_kg", "certified_metal_kg"),
    ),
    "trace_lot_movements": (
        ("lot_id", "event_hash", "movement"),
        ("event_time", "facility_id", "counterpart_id", "quantity_kg"),
    ),
    "trace_event_epcs": (("epc", "event_hash"), ()),
    "trace_balances": (("facility_id", "lot_id", "state"), ("quantity_kg", "added_at")),
    "trace_credits": (("facility_id", "period"), ("credited_kg", "claimed_kg")),
}
#: The columns of trace_events that capture derives from the event and its document (compared per event).
EVENT_COLUMNS = ("event_type", "event_time", "biz_step", "facility_id", "participant_id", "event_id")

#: rows of one table by key: key values -> [compared values of each row with that key]
Keyed = dict[tuple[Any, ...], list[tuple[Any, ...]]]


def _getter(columns: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A function from a row dict to the tuple of ``columns`` (itemgetter, which returns a bare value for one)."""
    if not columns:
        return lambda _row: ()
    if len(columns) == 1:
        one = columns[0]
        return lambda row: (row[one],)
    return itemgetter(*columns)


_GETTERS = {table: (_getter(keys), _getter(columns)) for table, (keys, columns) in TABLES.items()}


@dataclass
class StoredDocument:
    """The stored events of one document, by event index, as :mod:`lodeline.trace.capture_core` reads a
    document (:class:`~lodeline.trace.capture_core.DocumentEvents`)."""

    hashes: dict[int, str] = field(default_factory=dict)
    issues: dict[int, list[EventIssue]] = field(default_factory=dict)
    ops: dict[int, LedgerOp] = field(default_factory=dict)
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    epcs: dict[int, list[str]] = field(default_factory=dict)
    facts: dict[int, EventFacts] = field(default_factory=dict)
    event_ids: dict[int, str] = field(default_factory=dict)


class Replay:
    """The derived state after the documents replayed so far; a StateSource for the next one."""

    def __init__(self) -> None:
        self._directory = Directory()  # the directory the document being replayed was captured under
        self._by_time = False  # count company prefixes from their added_at (a directory from a snapshot)
        self._lots: dict[str, dict[str, Any]] = {}
        self._balances: dict[str, dict[Key, float]] = {}  # by lot
        self._added_at: dict[str, dict[Key, str | None]] = {}  # by lot
        self._credits: dict[tuple[str, str], list[float]] = {}
        self._event_ids: dict[str, dict[str, str]] = defaultdict(dict)  # participant -> eventID -> hash ID
        self._at: datetime | None = None  # capture time of the document being replayed
        self._legacy_seen = False
        self._dated = False
        # the rows of the append-only tables, by key as they are produced (tuples: a fraction of dicts' memory)
        self.rows: dict[str, Keyed] = {t: defaultdict(list) for t in TABLES}

    # --- StateSource ----------------------------------------------------------------------------------------
    def facilities(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        known = self._directory.facilities
        return {f: known[f] for f in ids if f in known}

    def lots(self, ids: set[str]) -> dict[str, dict[str, Any]]:
        return {lot: dict(self._lots[lot]) for lot in ids if lot in self._lots}

    def balances(self, lot_ids: set[str]) -> tuple[dict[Key, float], dict[Key, str]]:
        kg: dict[Key, float] = {}
        times: dict[Key, str] = {}
        for lot in lot_ids:
            kg.update(self._balances.get(lot, {}))
            times.update((k, t) for k, t in self._added_at.get(lot, {}).items() if t is not None)
        return kg, times

    def credits(self, keys: set[tuple[str, str]]) -> dict[tuple[str, str], list[float]]:
        return {k: list(self._credits[k]) for k in keys if k in self._credits}

    def _bound(self) -> list[tuple[str, str]]:
        at = self._at if self._by_time else None
        return [(p, pid) for p, pid, added in self._directory.prefixes() if at is None or added <= at]

    def prefixes_of(self, participant: str) -> list[str]:
        return sorted(p for p, pid in self._bound() if pid == participant)

    def prefix_owner(self, keys: list[str]) -> dict[str, str]:
        return owners_by_prefix(self._bound(), keys)

    def event_ids_used(self, participant: str, event_ids: list[str]) -> dict[str, str]:
        used = self._event_ids.get(participant, {})
        return {eid: used[eid] for eid in event_ids if eid in used}

    # --- replay ---------------------------------------------------------------------------------------------
    def judge(
        self,
        doc: StoredDocument,
        fresh: list[int],
        participant: str,
        at: datetime | None,
        *,
        legacy: bool,
        directory: Directory,
        by_time: bool = False,
    ) -> Judgement:
        """Judge one document as capture did at ``at`` (its capture time) under ``directory`` (the one logged
        before it, :mod:`lodeline.trace.audit_directory`), applying it even when a rule now rejects it (the
        rejection is the finding; the replay goes on). ``by_time``: the directory is a later snapshot, whose
        company prefixes count from their ``added_at`` (None ``at``: every prefix counts)."""
        self._directory, self._by_time = directory, by_time
        if legacy:
            self._legacy_seen = True
        elif self._legacy_seen and not self._dated:
            self._date_as_upgraded()
        self._at = at
        return judge(self, doc, fresh, participant, limit=None, legacy=legacy, partial=True)

    def record(self, rows: DerivedRows) -> None:
        """Keep what one document produced (as capture writes it back)."""
        for table, produced in (
            ("trace_lot_sources", rows.sources),
            ("trace_claims", rows.claims),
            ("trace_lot_movements", rows.movements),
            ("trace_event_epcs", rows.epcs),
        ):
            self.add(table, produced)
        for lot in rows.lots:
            self._lots[lot["id"]] = lot
        for lot_id in rows.balance_lots:
            self._balances[lot_id] = {}
            self._added_at[lot_id] = {}
        for b in rows.balances:
            key = (b["facility_id"], b["lot_id"], b["state"])
            self._balances[b["lot_id"]][key] = b["quantity_kg"]
            self._added_at[b["lot_id"]][key] = b["added_at"]
        self._credits.update(rows.credits)
        for ev in rows.events:
            if ev["event_id"] is not None:
                self._event_ids[ev["participant_id"]].setdefault(ev["event_id"], ev["hash_id"])

    def _date_as_upgraded(self) -> None:
        """Every balance dated as trace_0004's backfill dated it: the latest journal movement into it."""
        # compared columns of the journal: (event_time, facility_id, counterpart_id, quantity_kg)
        moves = (
            (lot, movement, values[1], values[2], values[0])
            for (lot, _hash, movement), rows in self.rows["trace_lot_movements"].items()
            for values in rows
        )
        dates = journal_dates(moves)
        for lot, rows in self._balances.items():
            self._added_at[lot] = {key: dates.get(key) for key in rows}
        self._dated = True

    def add(self, table: str, rows: Iterable[dict[str, Any]]) -> None:
        key_of, values_of = _GETTERS[table]
        into = self.rows[table]
        for r in rows:
            into[key_of(r)].append(values_of(r))

    def finish(self) -> dict[str, Keyed]:
        """Every recomputed table by key, the end state of lots, balances and credits included."""
        if self._legacy_seen and not self._dated:
            self._date_as_upgraded()
        self.add("trace_lots", self._lots.values())
        self.add(
            "trace_balances",
            (
                {
                    "facility_id": f,
                    "lot_id": lot,
                    "state": s,
                    "quantity_kg": kg,
                    "added_at": times.get((f, lot, s)),
                }
                for lot, rows in self._balances.items()
                for times in (self._added_at.get(lot, {}),)
                for (f, _lot, s), kg in rows.items()
            ),
        )
        self.add(
            "trace_credits",
            (
                {"facility_id": f, "period": p, "credited_kg": v[0], "claimed_kg": v[1]}
                for (f, p), v in self._credits.items()
            ),
        )
        return self.rows
