"""Stored event hash IDs across the change of the event hash algorithm (migration ``trace_0007``).

Issue 11 brought :mod:`lodeline.trace.event_hash` in line with the reference implementation of CBV 2.0 §8.9, so
some events captured before it have a different hash ID now. The registry keys events on their hash ID
(``trace_events.hash_id``, ``event_hash`` of the lot, custody, EPC and claim tables), and its Merkle log holds, per
event, one leaf whose data is the hash ID computed at capture. The log is append-only and signed: leaves never
change. So:

- :func:`rehash_events` (the upgrade) gives every stored event the hash ID of the current algorithm, everywhere it
  is referenced, and keeps the hash ID its leaf holds in ``trace_events.leaf_hash_id`` (only where the two differ;
  NULL means the leaf holds ``hash_id``). It records in ``trace_capture_rules`` (revision ``trace_0007``) the
  first log leaf after the change: event leaves before it were hashed with the frozen previous algorithm
  (:mod:`lodeline.trace.event_hash_v1`), leaves from it on with the current one.
- :func:`leaf_hash_id` is what an event's leaf must hold, recomputed from the event alone (the audit's check):
  the previous algorithm before the boundary, the current one after. Anyone holding the event can still recompute
  its leaf; anyone holding an old receipt (the old hash ID) still finds the event and its proof.
- :func:`restore_hashes` (the downgrade) puts the leaf's hash IDs back as the events' identity.

Two stored events that the current algorithm finds identical (for example eventTimes a fraction of a millisecond
apart that now round alike) cannot both keep a unique hash ID: the upgrade stops with an error naming them, and
changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, update

from lodeline.errors import LodelineError
from lodeline.store import trace as db
from lodeline.store import tracelog
from lodeline.trace import event_hash, event_hash_v1

REVISION = "trace_0007"
#: Tables that refer to an event by its hash ID (column ``event_hash``).
REFERRING = (db.lot_sources, db.lot_movements, db.event_epcs, db.claims)


class RehashError(LodelineError):
    """The stored events cannot all be given their current hash ID."""


def current_hash_id(event: dict[str, Any]) -> str:
    return event_hash.event_hash_id(event, event_hash.context_namespaces(event.get("@context")))


def legacy_hash_id(event: dict[str, Any]) -> str:
    return event_hash_v1.event_hash_id(event, event_hash_v1.context_namespaces(event.get("@context")))


def boundary(conn: Connection) -> int:
    """The first log leaf hashed with the current algorithm (0: every leaf, e.g. on a store created after it)."""
    since = db.capture_rules_since(conn, REVISION)
    return 0 if since is None else since[0]


def leaf_hash_id(event: dict[str, Any], leaf_index: int, first_current: int) -> str:
    """The hash ID the log leaf ``leaf_index`` of ``event`` holds: the algorithm in force when it was appended."""
    return legacy_hash_id(event) if leaf_index < first_current else current_hash_id(event)


def _stored(conn: Connection, chunk: int = 2000) -> Iterator[tuple[int, str, str | None, str]]:
    """(seq, hash_id, leaf_hash_id, body) of every stored event, in capture order."""
    e = db.events.c
    last = 0
    while True:
        q = select(e.seq, e.hash_id, e.leaf_hash_id, e.body).where(e.seq > last).order_by(e.seq).limit(chunk)
        rows = conn.execute(q).all()
        if not rows:
            return
        for seq, hash_id, leaf, body in rows:
            last = seq
            yield int(seq), str(hash_id), leaf, str(body)


def _apply(conn: Connection, changes: list[tuple[int, str, str]], *, keep_leaf: bool) -> None:
    """Move each (seq, old, new) event from hash ID ``old`` to ``new`` in every table, in two steps through a
    placeholder, so a new hash ID equal to another event's old one never meets it."""
    e = db.events
    for seq, old, _ in changes:
        values: dict[str, Any] = {"hash_id": f"rehash:{seq}"}
        if keep_leaf:
            values["leaf_hash_id"] = old
        conn.execute(update(e).where(e.c.seq == seq).values(**values))
        for table in REFERRING:
            conn.execute(update(table).where(table.c.event_hash == old).values(event_hash=f"rehash:{seq}"))
    for seq, _, new in changes:
        values = {"hash_id": new} if keep_leaf else {"hash_id": new, "leaf_hash_id": None}
        conn.execute(update(e).where(e.c.seq == seq).values(**values))
        for table in REFERRING:
            conn.execute(update(table).where(table.c.event_hash == f"rehash:{seq}").values(event_hash=new))


def rehash_events(conn: Connection) -> int:
    """Give every stored event its current hash ID (see the module docstring), in the caller's transaction;
    record the boundary. Idempotent: a second run finds nothing to change. Returns the events re-keyed."""
    changes: list[tuple[int, str, str]] = []
    owner: dict[str, int] = {}  # new hash ID -> seq
    for seq, old, _, body in _stored(conn):
        try:
            new = current_hash_id(json.loads(body))
        except (TypeError, ValueError, AttributeError, KeyError, IndexError, RecursionError) as exc:
            raise RehashError(
                f"stored event seq {seq} ({old}): body unreadable ({type(exc).__name__})"
            ) from None
        if new in owner:
            raise RehashError(
                f"stored events seq {owner[new]} and seq {seq} have the same hash ID {new} under CBV 2.0 §8.9 as "
                "the reference implementation computes it: the registry cannot keep both; nothing was changed"
            )
        owner[new] = seq
        if new != old:
            changes.append((seq, old, new))
    _apply(conn, changes, keep_leaf=True)
    if db.capture_rules_since(conn, REVISION) is None:
        # every leaf appended so far (events and directory records) came before the change
        first = tracelog.tree_size(conn)
        conn.execute(
            db.capture_rules.insert().values(revision=REVISION, first_leaf=int(first), applied_at=_now())
        )
    return len(changes)


def restore_hashes(conn: Connection) -> int:
    """Undo :func:`rehash_events`: every event takes back the hash ID its leaf holds; the boundary goes."""
    changes = [(seq, cur, leaf) for seq, cur, leaf, _ in _stored(conn) if leaf is not None and leaf != cur]
    _apply(conn, changes, keep_leaf=False)
    conn.execute(db.capture_rules.delete().where(db.capture_rules.c.revision == REVISION))
    return len(changes)


def _now() -> datetime:
    return datetime.now(UTC)
