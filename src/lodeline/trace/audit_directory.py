"""The directory as the log records it, for the audit: read the directory leaves, rebuild the directory at any log
position, and compare the directory tables with what the log says they hold.

The directory leaves (:mod:`lodeline.trace.directory`) are read from the log, decoded and applied in log order
(:class:`Timeline`). The audit of the derived tables (:mod:`lodeline.trace.audit_derived`) replays each document
against the directory *as of its first leaf* — the facilities, company prefixes and keys logged before it — so an
edited table cannot change what the replay concludes; and it compares the directory the whole log rebuilds with
the directory tables (:func:`check_tables`), naming each difference ("facility X country: table 'CHN', log 'AUS'").

**Snapshots.** A store upgraded from before directory leaves has none for the records it already held; migration
``trace_0006`` appended a snapshot of the tables as they were then (:func:`lodeline.trace.directory.snapshot_leaves`).
Events logged before a snapshot are replayed against the first snapshot after them — the only record the log
has of the directory they were captured under — with company prefixes counted from their ``added_at`` at capture
time, as the audit did before. A snapshot that follows earlier directory leaves (the migration run again after a
downgrade) replaces what they said: each row it changes is named as a warning (``directory-snapshot-rebased``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from lodeline.errors import InvalidArgumentError
from lodeline.store import trace_parties
from lodeline.store import tracelog as store
from lodeline.trace.audit_replay import DerivedFinding
from lodeline.trace.directory import (
    NOUNS,
    SNAPSHOT,
    Difference,
    Directory,
    Entry,
    differences,
    iso_time,
    parse_leaf,
    state_of,
)


def read_entries(conn: Connection, size: int) -> tuple[list[Entry], list[DerivedFinding]]:
    """Every directory leaf below ``size``, decoded, and a finding for each that does not decode."""
    entries: list[Entry] = []
    problems: list[DerivedFinding] = []
    for index, data in store.leaves_starting_with(conn, b"{", size):
        try:
            entries.append(parse_leaf(index, data))
        except InvalidArgumentError as exc:
            problems.append(
                DerivedFinding(
                    "directory-leaf-invalid",
                    f"{exc.message}: the leaf is neither an event nor a directory change",
                    table="tracelog_leaves",
                    leaf_index=index,
                )
            )
    return entries, problems


class Timeline:
    """The directory at any log position, rebuilt from the directory leaves (see the module doc)."""

    def __init__(self, entries: list[Entry]) -> None:
        self.entries = entries
        self.findings: list[DerivedFinding] = []
        self.warnings: list[DerivedFinding] = []
        #: (header leaf index, the directory the snapshot records)
        self.snapshots: list[tuple[int, Directory]] = []
        self._check_snapshots()
        self._live = Directory()
        self._next = 0  # entries applied to _live
        self._position = 0

    def _check_snapshots(self) -> None:
        before = Directory()
        i = 0
        while i < len(self.entries):
            entry = self.entries[i]
            if entry.op != SNAPSHOT:
                if entry.snapshot is not None:
                    self._broken(entry, "carries a snapshot mark but follows no snapshot header")
                before.apply(entry)
                i += 1
                continue
            count = int(entry.record["records"])
            run = self.entries[i + 1 : i + 1 + count]
            expected = list(range(entry.index + 1, entry.index + 1 + count))
            if [e.index for e in run] != expected or any(
                e.snapshot != entry.record["revision"] or e.op == SNAPSHOT for e in run
            ):
                self._broken(entry, f"announces {count} snapshot records, which do not follow it")
            state = Directory()
            for e in run:
                if e.op != SNAPSHOT:
                    state.apply(e)
            if any(before.rows.values()):
                self._rebased(entry, differences(state, before))
            self.snapshots.append((entry.index, state))
            before = Directory()
            for e in run:
                before.apply(e)
            i += 1 + len(run)

    def _rebased(self, header: Entry, changes: list[Difference]) -> None:
        """Warn of each row a snapshot changes from what the directory leaves before it recorded."""
        for d in changes:
            noun = NOUNS[d.table]
            if d.kind == "directory-missing":
                what = f"drops {noun} {d.key}, which earlier directory leaves recorded"
            elif d.kind == "directory-extra":
                what = f"adds {noun} {d.key}, which no earlier directory leaf recorded"
            else:
                what = f"changes {noun} {d.key} {d.column} from {d.log_value!r} to {d.table_value!r}"
            self.warnings.append(
                DerivedFinding(
                    "directory-snapshot-rebased",
                    f"directory snapshot at leaf {header.index} ({header.record['revision']}) {what}",
                    table=d.table,
                    key={"key": d.key},
                    column=d.column,
                    stored=d.table_value,
                    recomputed=d.log_value,
                    leaf_index=header.index,
                )
            )

    def _broken(self, entry: Entry, why: str) -> None:
        self.findings.append(
            DerivedFinding(
                "directory-snapshot-broken",
                f"directory leaf {entry.index} ({entry.op}) {why}",
                table="tracelog_leaves",
                leaf_index=entry.index,
            )
        )

    def view(self, position: int) -> tuple[Directory, bool]:
        """(the directory a document whose first leaf is ``position`` was captured under, whether it comes from a
        later snapshot). The live directory returned is updated by the next call: use it before asking again."""
        for header, state in self.snapshots:
            if header >= position:
                return state, True
        if position < self._position:  # asked out of order: rebuild
            self._live, self._next = Directory(), 0
        self._position = position
        while self._next < len(self.entries) and self.entries[self._next].index < position:
            self._live.apply(self.entries[self._next])
            self._next += 1
        return self._live, False

    def position_at(self, moment: datetime) -> int:
        """For a document with no leaf of its own: the log position of the first directory change after its
        capture time (``moment``), or past the last one."""
        when = iso_time(moment)
        return next(
            (e.index for e in self.entries if e.at > when), self.entries[-1].index + 1 if self.entries else 0
        )

    def final(self) -> Directory:
        """The directory the whole log rebuilds (every leaf applied in order; a snapshot header resets it)."""
        state = Directory()
        for e in self.entries:
            state.apply(e)
        return state


def check_tables(conn: Connection, final: Directory) -> tuple[list[DerivedFinding], dict[str, int]]:
    """Compare the directory tables with the directory the log rebuilds: a finding per difference, and the rows
    compared per table."""
    tables = trace_parties.directory_rows(conn)
    held = state_of(tables)
    found = [
        DerivedFinding(
            d.kind,
            d.message,
            table=d.table,
            key={"key": d.key},
            column=d.column,
            stored=d.table_value,
            recomputed=d.log_value,
        )
        for d in differences(held, final)
    ]
    return found, {table: len(rows) for table, rows in tables.items()}


def signer_keys(state: Directory, participant: str) -> tuple[bool, list[dict[str, object]]]:
    """(whether the participant is registered, its keys) in a rebuilt directory, for the signature check."""
    return state.has_participant(participant), state.keys_of(participant)
