"""The registry's append-only Merkle log: append leaves, read roots and proofs for any tree size.

Thin layer over :mod:`lodeline.store.tracelog` (storage) and :mod:`lodeline.trace.merkle` (RFC 9162 maths).

**What a leaf is.** For every accepted EPCIS event the registry appends one leaf whose data is the UTF-8
bytes of the event's EPCIS Event Hash ID (CBV 2.0 §8.9), e.g.
``b"ni:///sha-256;6ad8e8c1…?ver=CBV2.0"``; the leaf hash is ``SHA-256(0x00 || those bytes)``
(:func:`event_leaf_data`). Anyone holding the event can recompute its hash ID, hence its leaf.

**Transactions and locking.** :func:`append_leaves` runs inside the CALLER's transaction, so an event row
and its leaf commit or roll back together. Appends serialise on the backend's own lock: the first statement
updates the log-head row, which on PostgreSQL holds the row lock until commit; on SQLite open the
transaction with :func:`lodeline.store.engine.write_transaction` (``BEGIN IMMEDIATE``) so concurrent writers
queue on the busy timeout instead of failing on lock upgrade.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from lodeline.errors import InvalidArgumentError
from lodeline.store import tracelog as store
from lodeline.store.tracelog import TreeSizeError
from lodeline.trace import merkle

__all__ = [
    "TreeSizeError",
    "append_leaves",
    "consistency_proof",
    "event_leaf_data",
    "inclusion_proof",
    "leaf_index",
    "root_at",
    "tree_size",
]


def event_leaf_data(event_hash_id: str) -> bytes:
    """The leaf data for an event: the UTF-8 bytes of its EPCIS event hash ID (``ni:///sha-256;…``)."""
    if not event_hash_id.startswith("ni:///sha-256;"):
        raise InvalidArgumentError(
            f"not an EPCIS event hash ID (expected ni:///sha-256;…): {event_hash_id!r}", value=event_hash_id
        )
    return event_hash_id.encode("utf-8")


def append_leaves(conn: Connection, leaf_data: Sequence[bytes]) -> list[int]:
    """Append one leaf per item of ``leaf_data`` (in order) in the caller's transaction; return their indices."""
    if not leaf_data:
        return []
    for position, item in enumerate(leaf_data):
        if not isinstance(item, bytes | bytearray):
            raise InvalidArgumentError(
                f"leaf data item {position} is {type(item).__name__}, expected bytes", position=position
            )
    hashes = [merkle.leaf_hash(bytes(d)) for d in leaf_data]
    first = store.append_hashes(conn, [bytes(d) for d in leaf_data], hashes)
    return list(range(first, first + len(hashes)))


def tree_size(conn: Connection) -> int:
    """Number of leaves committed (as seen by this connection's transaction)."""
    return store.tree_size(conn)


def _check_size(conn: Connection, size: int) -> None:
    current = store.tree_size(conn)
    if not 0 <= size <= current:
        raise TreeSizeError(f"tree size {size} is outside the log (current size {current})", size=size)


def root_at(conn: Connection, size: int) -> bytes:
    """RFC 9162 root hash of the first ``size`` leaves (SHA-256() for 0)."""
    _check_size(conn, size)
    if size == 0:
        return merkle.EMPTY_ROOT
    return store.resolve_ranges(conn, [(0, size)])[0]


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) from stored subtree hashes."""
    _check_size(conn, size)
    if not 0 <= index < size:
        raise TreeSizeError(f"leaf index {index} is outside a tree of size {size}", index=index, size=size)
    return store.resolve_ranges(conn, merkle.inclusion_proof_ranges(index, size))


def consistency_proof(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored subtree hashes (empty if old_size is 0 or equal)."""
    _check_size(conn, new_size)
    if not 0 <= old_size <= new_size:
        raise TreeSizeError(
            f"no consistency proof from size {old_size} to size {new_size}",
            old_size=old_size,
            new_size=new_size,
        )
    return store.resolve_ranges(conn, merkle.consistency_proof_ranges(old_size, new_size))


def leaf_index(conn: Connection, leaf_hash: bytes) -> int | None:
    """Index of the (first) leaf with this RFC 9162 leaf hash, or None if it is not in the log."""
    return store.leaf_index(conn, leaf_hash)
