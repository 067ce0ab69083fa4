"""FROZEN: stored event hash IDs moved to algorithm version 2 (:mod:`lodeline.trace.event_hash_v2`), the upgrade and
downgrade of migration ``trace_0007``. Do not change: its sha256 is pinned in ``tests/unit/test_import_cycles.py``
(``FROZEN``), so the migration does tomorrow what it did the day it was written (docs/ARCHITECTURE.md, Migrations).

:func:`rehash_events` gives every stored event the hash ID of version 2, everywhere it is referenced
(``trace_events.hash_id``, ``event_hash`` of the lot, custody, EPC and claim tables), and keeps the hash ID its log
leaf holds in ``trace_events.leaf_hash_id`` (only where the two differ; NULL means the leaf holds ``hash_id``). It
records in ``trace_capture_rules`` the first log leaf after the change. :func:`restore_hashes` undoes it. Two
stored events that version 2 finds identical cannot both keep a unique hash ID: the upgrade stops with
:class:`RehashError` naming them, and changes nothing. :mod:`lodeline.trace.rehash` holds what the application
reads of this change (the boundary, the hash a leaf holds).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from lodeline.trace import event_hash_v2

# The columns read and written, as they were when trace_0007 was written (lodeline.store.trace and
# lodeline.store.tracelog on that day).
_events = sa.table(
    "trace_events",
    sa.column("seq", sa.Integer),
    sa.column("hash_id", sa.String),
    sa.column("leaf_hash_id", sa.String),
    sa.column("body", sa.Text),
)
#: Tables that refer to an event by its hash ID (column ``event_hash``).
_REFERRING = tuple(
    sa.table(name, sa.column("event_hash", sa.String))
    for name in ("trace_lot_sources", "trace_lot_movements", "trace_event_epcs", "trace_claims")
)
_capture_rules = sa.table(
    "trace_capture_rules",
    sa.column("revision", sa.String),
    sa.column("first_leaf", sa.Integer),
    sa.column("applied_at", sa.DateTime(timezone=True)),
)
_tracelog_head = sa.table("tracelog_head", sa.column("id", sa.Integer), sa.column("tree_size", sa.Integer))


class RehashError(Exception):
    """The stored events cannot all be given their version-2 hash ID (raised by the upgrade of ``trace_0007``).

    A plain exception, as a frozen module imports only frozen code: ``code`` and ``message`` are those a Lodeline
    error carries."""

    code = "rehash-conflict"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _hash_id_v2(event: dict[str, Any]) -> str:
    return event_hash_v2.event_hash_id(event, event_hash_v2.context_namespaces(event.get("@context")))


def _recorded(conn: Any, revision: str) -> bool:
    q = sa.select(_capture_rules.c.first_leaf).where(_capture_rules.c.revision == revision)
    return conn.execute(q).first() is not None


def _stored(conn: Any, chunk: int = 2000) -> Iterator[tuple[int, str, str | None, str]]:
    """(seq, hash_id, leaf_hash_id, body) of every stored event, in capture order."""
    e = _events.c
    last = 0
    while True:
        q = (
            sa.select(e.seq, e.hash_id, e.leaf_hash_id, e.body)
            .where(e.seq > last)
            .order_by(e.seq)
            .limit(chunk)
        )
        rows = conn.execute(q).all()
        if not rows:
            return
        for seq, hash_id, leaf, body in rows:
            last = seq
            yield int(seq), str(hash_id), leaf, str(body)


def _apply(conn: Any, changes: list[tuple[int, str, str]], *, keep_leaf: bool) -> None:
    """Move each (seq, old, new) event from hash ID ``old`` to ``new`` in every table, in two steps through a
    placeholder, so a new hash ID equal to another event's old one never meets it."""
    e = _events
    for seq, old, _ in changes:
        values: dict[str, Any] = {"hash_id": f"rehash:{seq}"}
        if keep_leaf:
            values["leaf_hash_id"] = old
        conn.execute(sa.update(e).where(e.c.seq == seq).values(**values))
        for table in _REFERRING:
            conn.execute(sa.update(table).where(table.c.event_hash == old).values(event_hash=f"rehash:{seq}"))
    for seq, _, new in changes:
        values = {"hash_id": new} if keep_leaf else {"hash_id": new, "leaf_hash_id": None}
        conn.execute(sa.update(e).where(e.c.seq == seq).values(**values))
        for table in _REFERRING:
            conn.execute(sa.update(table).where(table.c.event_hash == f"rehash:{seq}").values(event_hash=new))


def rehash_events(conn: Any, revision: str) -> int:
    """Give every stored event the hash ID of algorithm version 2 everywhere it is referenced, keeping the one its
    leaf holds in ``leaf_hash_id`` where they differ, in the caller's transaction; record the boundary
    (row ``revision`` of trace_capture_rules: the log size now).
    Idempotent: a second run finds nothing to change. Returns the events re-keyed."""
    changes: list[tuple[int, str, str]] = []
    owner: dict[str, int] = {}  # new hash ID -> seq
    for seq, old, _, body in _stored(conn):
        try:
            new = _hash_id_v2(json.loads(body))
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
    if not _recorded(conn, revision):
        # every leaf appended so far (events and directory records) came before the change
        size = conn.execute(
            sa.select(_tracelog_head.c.tree_size).where(_tracelog_head.c.id == 1)
        ).scalar_one()
        conn.execute(
            _capture_rules.insert().values(
                revision=revision, first_leaf=int(size), applied_at=datetime.now(UTC)
            )
        )
    return len(changes)


def restore_hashes(conn: Any, revision: str) -> int:
    """Undo :func:`rehash_events`: every event takes back the hash ID its leaf holds; the boundary goes."""
    changes = [(seq, cur, leaf) for seq, cur, leaf, _ in _stored(conn) if leaf is not None and leaf != cur]
    _apply(conn, changes, keep_leaf=False)
    conn.execute(_capture_rules.delete().where(_capture_rules.c.revision == revision))
    return len(changes)
