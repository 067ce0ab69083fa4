"""The registry's append-only Merkle log: append leaves, read roots and proofs for any tree size.

Thin layer over :mod:`lodeline.store.tracelog` (storage) and :mod:`lodeline.tlog.merkle` (RFC 9162 maths).

**What a leaf is.** For every accepted EPCIS event the registry appends one leaf whose data is the UTF-8
bytes of the event's EPCIS Event Hash ID (CBV 2.0 §8.9), e.g.
``b"ni:///sha-256;6ad8e8c1…?ver=CBV2.0"``; the leaf hash is ``SHA-256(0x00 || those bytes)``
(:func:`event_leaf_data`). Anyone holding the event can recompute its hash ID, hence its leaf: with the current
algorithm for leaves appended since migration trace_0007, with the frozen previous one
(:mod:`lodeline.trace.event_hash_v1`) for leaves before it, whose events now have a different hash ID
(``trace_events.hash_id``) than their leaf holds (``trace_events.leaf_hash_id``; :mod:`lodeline.trace.rehash`).
A proof asked for by either hash ID is the proof of the leaf as it is. Every change to
the directory (participants, keys, company prefixes, facilities, certifications) is a leaf too: the RFC 8785
canonical JSON of the change (:mod:`lodeline.trace.directory`), which starts with ``{``.

**Transactions and locking.** :func:`append_leaves` runs inside the CALLER's transaction, so an event row
and its leaf commit or roll back together. Appends serialise on the backend's own lock: the first statement
updates the log-head row, which on PostgreSQL holds the row lock until commit; on SQLite open the
transaction with :func:`lodeline.store.engine.write_transaction` (``BEGIN IMMEDIATE``) so concurrent writers
queue on the busy timeout instead of failing on lock upgrade.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import trace as registry_db
from lodeline.store import tracelog as store
from lodeline.store.tracelog import TreeSizeError
from lodeline.tlog import merkle
from lodeline.trace import checkpoint, directory
from lodeline.trace.proof_verify import CONSISTENCY_FORMAT, PROOF_FORMAT
from lodeline.trace.registry_key import RegistryKey

__all__ = [
    "StoredCheckpoint",
    "TreeSizeError",
    "append_leaves",
    "checkpoint_at_size",
    "consistency_proof",
    "event_leaf_data",
    "inclusion_proof",
    "latest_checkpoint",
    "leaf_index",
    "locate_leaf",
    "proof_document",
    "prove_consistency",
    "prove_directory_record",
    "prove_event",
    "root_at",
    "store_signed_checkpoint",
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


def root_at(conn: Connection, size: int) -> bytes:
    """RFC 9162 root hash of the first ``size`` leaves (SHA-256() for 0)."""
    if size < 0:
        raise TreeSizeError(f"tree size {size} is negative", size=size)
    if size == 0:
        return merkle.EMPTY_ROOT
    return store.resolve_ranges(conn, [(0, size)], size)[0]


def inclusion_proof(conn: Connection, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]) from stored subtree hashes (one statement)."""
    if not 0 <= index < size:
        raise TreeSizeError(f"leaf index {index} is outside a tree of size {size}", index=index, size=size)
    return store.resolve_ranges(conn, merkle.inclusion_proof_ranges(index, size), size)


def consistency_proof(conn: Connection, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) from stored subtree hashes (empty if old_size is 0 or equal)."""
    if not 0 <= old_size <= new_size:
        raise TreeSizeError(
            f"no consistency proof from size {old_size} to size {new_size}",
            old_size=old_size,
            new_size=new_size,
        )
    return store.resolve_ranges(conn, merkle.consistency_proof_ranges(old_size, new_size), new_size)


def leaf_index(conn: Connection, leaf_hash: bytes) -> int | None:
    """Index of the (first) leaf with this RFC 9162 leaf hash, or None if it is not in the log (a scan)."""
    return store.leaf_index(conn, leaf_hash)


def locate_leaf(conn: Connection, leaf_data: bytes, *, scan: bool = True) -> int | None:
    """Index of the leaf holding ``leaf_data``. A registry event's leaf is found through the event's hash ID
    (``trace_events.hash_id`` is indexed; log leaf hashes are not, to keep appends cheap). Other leaves are
    found by scanning the leaf hashes, unless ``scan`` is False (public endpoints: a miss must stay cheap)."""
    return _locate(conn, leaf_data, scan=scan)[0]


def _locate(conn: Connection, leaf_data: bytes, *, scan: bool) -> tuple[int | None, bytes]:
    """(index, the data the leaf holds). An event named by its current hash ID whose leaf holds the hash ID of an
    earlier algorithm (``trace_events.leaf_hash_id``, migration trace_0007) is found, with that leaf's data; so is
    one named by the hash ID its leaf holds (an old receipt)."""
    text = leaf_data.decode("utf-8", "replace")
    if text.startswith("ni:///sha-256;"):
        found = registry_db.event_leaf(conn, text)
        if found is not None and found[0] is not None:
            return found[0], found[1].encode("utf-8")
    return (leaf_index(conn, merkle.leaf_hash(leaf_data)) if scan else None), leaf_data


# --- checkpoints --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCheckpoint:
    checkpoint_id: int
    tree_size: int
    root_hash: bytes
    origin: str
    key_name: str
    key_id: str
    note: str
    issued_at: datetime

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> StoredCheckpoint:
        return cls(
            checkpoint_id=int(row["checkpoint_id"]),
            tree_size=int(row["tree_size"]),
            root_hash=bytes(row["root_hash"]),
            origin=str(row["origin"]),
            key_name=str(row["key_name"]),
            key_id=str(row["key_id"]),
            note=str(row["note"]),
            issued_at=row["issued_at"],
        )


def latest_checkpoint(conn: Connection) -> StoredCheckpoint | None:
    row = store.latest_checkpoint(conn)
    return None if row is None else StoredCheckpoint.from_row(row)


def store_signed_checkpoint(conn: Connection, key: RegistryKey, size: int, root: bytes) -> StoredCheckpoint:
    """Sign the tree head (``size``, ``root``) with ``key`` and store the checkpoint, in the caller's transaction.

    Only :mod:`lodeline.trace.signer` calls this, after it has checked the head against the signer state (which
    this function does not): signing anything else could fork the log.
    """
    note = checkpoint.sign_checkpoint(
        checkpoint.Checkpoint(origin=key.name, tree_size=size, root_hash=root), key.name, key.private_key
    )
    issued_at = datetime.now(UTC)
    checkpoint_id = store.insert_checkpoint(
        conn,
        tree_size=size,
        root_hash=root,
        origin=key.name,
        key_name=key.name,
        key_id=key.key_id_hex,
        note=note,
        issued_at=issued_at,
    )
    return StoredCheckpoint(checkpoint_id, size, root, key.name, key.name, key.key_id_hex, note, issued_at)


def prove_event(
    conn: Connection, leaf_data: bytes, at: StoredCheckpoint, *, scan: bool = True
) -> dict[str, Any]:
    """The inclusion proof (JSON-able) of the leaf with ``leaf_data`` against checkpoint ``at``
    (``scan``: see :func:`locate_leaf`)."""
    hashed = merkle.leaf_hash(leaf_data)
    index, leaf_data = _locate(conn, leaf_data, scan=scan)
    if index is None:
        raise NotFoundError(
            f"no log leaf for {leaf_data.decode('utf-8', 'replace')!r} (leaf hash {hashed.hex()})",
            leaf_hash=hashed.hex(),
        )
    if index >= at.tree_size:
        raise TreeSizeError(
            f"leaf {index} is not covered by checkpoint {at.checkpoint_id} (size {at.tree_size})",
            index=index,
            size=at.tree_size,
        )
    path = inclusion_proof(conn, index, at.tree_size)
    return proof_document(leaf_data, index, at.tree_size, path, origin=at.origin)


def prove_directory_record(conn: Connection, table: str, key: object, at: StoredCheckpoint) -> dict[str, Any]:
    """The inclusion proof (JSON-able), against checkpoint ``at``, of the last directory leaf before it that
    records row ``key`` of ``table`` (:mod:`lodeline.trace.directory`): what the directory held for that row at
    that tree size. A scan of the directory leaves (the directory is small next to the events)."""
    found: tuple[int, bytes] | None = None
    for index, data in store.leaves_starting_with(conn, b"{", at.tree_size):
        try:
            entry = directory.parse_leaf(index, data)
        except InvalidArgumentError:
            continue  # not a directory leaf: the audit names it
        if entry.table == table and entry.key == key:
            found = (index, data)
    if found is None:
        raise NotFoundError(
            f"no directory leaf records {directory.NOUNS.get(table, table)} {key!r} in the log's first "
            f"{at.tree_size} leaves (checkpoint {at.checkpoint_id})",
            key=str(key),
        )
    index, data = found
    path = inclusion_proof(conn, index, at.tree_size)
    return proof_document(data, index, at.tree_size, path, origin=at.origin)


def proof_document(
    leaf_data: bytes, index: int, size: int, path: Sequence[bytes], *, origin: str
) -> dict[str, Any]:
    """The JSON proof format documented in docs/trace-log.md."""
    doc: dict[str, Any] = {"format": PROOF_FORMAT, "origin": origin}
    try:
        doc["leaf_data"] = leaf_data.decode("utf-8")
    except UnicodeDecodeError:
        doc["leaf_data_base64"] = base64.b64encode(leaf_data).decode("ascii")
    return doc | {
        "leaf_hash": base64.b64encode(merkle.leaf_hash(leaf_data)).decode("ascii"),
        "leaf_index": index,
        "tree_size": size,
        "inclusion_path": [base64.b64encode(p).decode("ascii") for p in path],
    }


def prove_consistency(conn: Connection, old: StoredCheckpoint, new: StoredCheckpoint) -> dict[str, Any]:
    """The consistency proof (JSON-able) that checkpoint ``new`` extends checkpoint ``old``."""
    if old.origin != new.origin:
        raise InvalidArgumentError(f"checkpoints of different logs: {old.origin!r} and {new.origin!r}")
    if old.tree_size > new.tree_size:
        raise TreeSizeError(
            f"checkpoint {old.checkpoint_id} (size {old.tree_size}) is larger than checkpoint "
            f"{new.checkpoint_id} (size {new.tree_size})",
            old_size=old.tree_size,
            new_size=new.tree_size,
        )
    path = consistency_proof(conn, old.tree_size, new.tree_size)
    return {
        "format": CONSISTENCY_FORMAT,
        "origin": new.origin,
        "old_size": old.tree_size,
        "new_size": new.tree_size,
        "consistency_path": [base64.b64encode(p).decode("ascii") for p in path],
    }


def checkpoint_at_size(conn: Connection, size: int) -> StoredCheckpoint:
    """The latest stored checkpoint of exactly ``size`` leaves."""
    row = store.checkpoint_of_size(conn, size)
    if row is None:
        raise NotFoundError(f"no checkpoint was issued at tree size {size}", size=size)
    return StoredCheckpoint.from_row(row)
