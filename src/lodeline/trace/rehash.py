"""Stored event hash IDs across the change of the event hash algorithm (migration ``trace_0007``).

Issue 11 brought :mod:`lodeline.trace.event_hash` in line with the reference implementation of CBV 2.0 §8.9, so
some events captured before it have a different hash ID now. The registry keys events on their hash ID
(``trace_events.hash_id``, ``event_hash`` of the lot, custody, EPC and claim tables), and its Merkle log holds, per
event, one leaf whose data is the hash ID computed at capture. The log is append-only and signed: leaves never
change. So:

- The upgrade (the frozen :mod:`lodeline.trace.rehash_v2`, which the migration imports) gives every stored event
  the hash ID of the current algorithm, everywhere it is referenced, and keeps the hash ID its leaf holds in
  ``trace_events.leaf_hash_id`` (only where the two differ; NULL means the leaf holds ``hash_id``). It records in
  ``trace_capture_rules`` (revision ``trace_0007``) the first log leaf after the change: event leaves before it
  were hashed with the frozen previous algorithm (:mod:`lodeline.trace.event_hash_v1`), leaves from it on with the
  current one.
- :func:`leaf_hash_id` is what an event's leaf must hold, recomputed from the event alone (the audit's check):
  the previous algorithm before the boundary, the current one after. Anyone holding the event can still recompute
  its leaf; anyone holding an old receipt (the old hash ID) still finds the event and its proof.
- The downgrade (:func:`lodeline.trace.rehash_v2.restore_hashes`) puts the leaf's hash IDs back as the events'
  identity.

Two stored events that the current algorithm finds identical (for example eventTimes a fraction of a millisecond
apart that now round alike) cannot both keep a unique hash ID: the upgrade stops with an error naming them, and
changes nothing (:class:`RehashError`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from lodeline.store import trace as db
from lodeline.trace import event_hash, event_hash_v1
from lodeline.trace.rehash_v2 import RehashError as RehashError

REVISION = "trace_0007"
#: Tables that refer to an event by its hash ID (column ``event_hash``).
REFERRING = (db.lot_sources, db.lot_movements, db.event_epcs, db.claims)


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
