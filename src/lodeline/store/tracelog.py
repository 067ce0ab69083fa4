"""Tables and queries of the registry's append-only Merkle log (SQLAlchemy Core, both backends).

Layout (see docs/methods/merkle-log.md):

- ``tracelog_head``: one row (``id = 1``) holding the tree size. Every append updates it first, which is the
  serialisation point: on PostgreSQL the UPDATE takes the row lock until commit, so concurrent appenders queue;
  on SQLite the caller opens the transaction with ``BEGIN IMMEDIATE``
  (:func:`lodeline.store.engine.write_transaction`) and the UPDATE needs the database write lock anyway.
- ``tracelog_leaves``: one row per leaf: index, RFC 9162 leaf hash and the leaf data it was computed from
  (leaf hashes are not indexed; an event's leaf is found through ``trace_events.hash_id``).
- ``tracelog_nodes``: the hash of every complete (perfect) subtree of level >= 1; ``(level, node_index)``
  covers leaves ``[node_index * 2**level, (node_index + 1) * 2**level)``. Perfect subtrees never change once
  complete, so any tree size's root and proofs are folds of O(log n) stored hashes.
- ``tracelog_checkpoints``: every signed checkpoint issued, with its note text, so audit can re-check them.
- ``tracelog_identity``: one row (``id = 1``): the log's random ID, generated with the log, from which the default
  origin ``lodeline.local/registry/<log id>`` is made (so a new database is a new log, never a fork of another),
  and the origin the log is pinned to, if any (stores whose checkpoints predate the log ID keep their origin).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    Column,
    CompoundSelect,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    Select,
    SmallInteger,
    String,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)

from lodeline.errors import LodelineError
from lodeline.store import driver
from lodeline.store.schema import metadata
from lodeline.tlog import merkle

# INTEGER PRIMARY KEY on SQLite is the rowid itself (no second index); BIGINT on PostgreSQL.
_INDEX = BigInteger().with_variant(Integer(), "sqlite")

tracelog_head = Table(
    "tracelog_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
)

tracelog_leaves = Table(
    "tracelog_leaves",
    metadata,
    Column("leaf_index", _INDEX, primary_key=True, autoincrement=False),
    # No index on leaf_hash: random 32-byte keys cost a page write per append once the log is large, and the
    # registry finds an event's leaf through trace_events.hash_id (see lodeline.trace.log.locate_leaf).
    Column("leaf_hash", LargeBinary(32), nullable=False),
    # what was hashed; for registry events the UTF-8 EPCIS event hash ID (ni:///sha-256;…?ver=CBV2.0)
    Column("leaf_data", LargeBinary, nullable=False),
)

tracelog_nodes = Table(
    "tracelog_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("node_index", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    sqlite_with_rowid=False,
)

tracelog_checkpoints = Table(
    "tracelog_checkpoints",
    metadata,
    Column("checkpoint_id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("origin", String(255), nullable=False),
    Column("key_name", String(255), nullable=False),
    Column("key_id", String(8), nullable=False),
    # the whole signed note exactly as issued (text, blank line, signature lines)
    Column("note", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
)

TRACELOG_TABLES = (tracelog_head, tracelog_leaves, tracelog_nodes, tracelog_checkpoints)

# Created by migration tracelog_0003 (not by tracelog_0001, which creates TRACELOG_TABLES).
tracelog_identity = Table(
    "tracelog_identity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("log_id", String(64), nullable=False),
    # NULL: the origin is the default made from log_id (or LODELINE_REGISTRY_ORIGIN when set)
    Column("origin", String(255)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: pg_advisory_xact_lock key that serialises checkpoint issuing (b"lodeline" as a big-endian int64).
CHECKPOINT_LOCK_KEY = int.from_bytes(b"lodeline", "big")


class TraceLogError(LodelineError):
    """The stored log is missing or inconsistent (audit reports detail; this is for hard failures)."""

    code = "trace-log"
    http_status = 500


class TreeSizeError(LodelineError):
    """A size or index outside the current tree was asked for."""

    code = "trace-log-size"
    http_status = 404


# --- writing ------------------------------------------------------------------------------------------------


def _reserve(conn: Connection, count: int) -> int:
    """Grow the head by ``count`` and return the old size. The UPDATE is the append lock (see module doc)."""
    new_size = conn.execute(
        update(tracelog_head)
        .where(tracelog_head.c.id == 1)
        .values(tree_size=tracelog_head.c.tree_size + count)
        .returning(tracelog_head.c.tree_size)
    ).scalar_one_or_none()
    if new_size is None:
        raise TraceLogError("the log head row (tracelog_head id=1) is missing; the store was not migrated")
    return int(new_size) - count


def _frontier(size: int) -> list[merkle.Subtree]:
    """The perfect subtrees that make up a tree of ``size`` leaves (one per set bit), largest first."""
    return merkle.range_subtrees(0, size)


def append_hashes(conn: Connection, leaf_data: Sequence[bytes], leaf_hashes: Sequence[bytes]) -> int:
    """Append leaves (data and precomputed leaf hashes) inside the caller's transaction; return the first index."""
    count = len(leaf_hashes)
    old = _reserve(conn, count)
    new = old + count
    known = fetch_subtrees(conn, _frontier(old))

    node_rows: list[tuple[int, int, bytes]] = []
    cur: Sequence[bytes] = leaf_hashes
    cur_start = old  # node index of cur[0] at the current level
    level = 0
    while True:
        first, last = old >> (level + 1), (new >> (level + 1)) - 1
        if first > last:
            break
        nxt: list[bytes] = []
        for i in range(first, last + 1):
            left_index = 2 * i
            left = cur[left_index - cur_start] if left_index >= cur_start else known[(level, left_index)]
            nxt.append(merkle.node_hash(left, cur[left_index + 1 - cur_start]))
        level += 1
        node_rows.extend((level, first + j, h) for j, h in enumerate(nxt))
        cur, cur_start = nxt, first

    # ints and bytes: straight to the driver (SQLAlchemy's per-row bind processing doubled the append cost)
    driver.insert_tuples(
        conn,
        tracelog_leaves.name,
        ("leaf_index", "leaf_hash", "leaf_data"),
        [(old + j, h, d) for j, (d, h) in enumerate(zip(leaf_data, leaf_hashes, strict=True))],
    )
    if node_rows:
        driver.insert_tuples(conn, tracelog_nodes.name, ("level", "node_index", "hash"), node_rows)
    return old


# --- reading ------------------------------------------------------------------------------------------------


def tree_size(conn: Connection) -> int:
    size = conn.execute(select(tracelog_head.c.tree_size).where(tracelog_head.c.id == 1)).scalar_one_or_none()
    if size is None:
        raise TraceLogError("the log head row (tracelog_head id=1) is missing; the store was not migrated")
    return int(size)


@lru_cache(maxsize=256)
def _subtree_query(leaf_count: int, node_count: int) -> CompoundSelect[Any]:
    """One round trip: the tree size, ``leaf_count`` leaf hashes and ``node_count`` node hashes.

    Rows are ``(level, index, hash)``; the head comes back as level -1 with the tree size as its index.
    Nodes are OR-ed primary-key equalities because SQLite does not use the index for a row-value IN list.
    One statement per shape, so the compiled SQL is cached.
    """
    head, leaves, nodes = tracelog_head.c, tracelog_leaves.c, tracelog_nodes.c
    parts: list[Select[Any]] = [
        select(
            literal(-1, Integer).label("level"), head.tree_size.label("idx"), cast(null(), LargeBinary)
        ).where(head.id == 1)
    ]
    if leaf_count:
        keys: list[BindParameter[Any]] = [bindparam(f"x{j}") for j in range(leaf_count)]
        parts.append(
            select(literal(0, Integer), leaves.leaf_index, leaves.leaf_hash).where(
                leaves.leaf_index.in_(keys)
            )
        )
    if node_count:
        terms = [
            and_(nodes.level == bindparam(f"l{j}"), nodes.node_index == bindparam(f"i{j}"))
            for j in range(node_count)
        ]
        parts.append(select(nodes.level, nodes.node_index, nodes.hash).where(or_(*terms)))
    return union_all(*parts)


def fetch_subtrees_and_size(
    conn: Connection, subtrees: Iterable[merkle.Subtree]
) -> tuple[dict[merkle.Subtree, bytes], int]:
    """Hashes of the perfect subtrees that exist among ``subtrees`` (level 0 = leaf hashes) and the current
    tree size, in one statement."""
    wanted = set(subtrees)
    leaves = sorted(i for lvl, i in wanted if lvl == 0)
    nodes = sorted((lvl, i) for lvl, i in wanted if lvl > 0)
    params: dict[str, int] = {f"x{j}": i for j, i in enumerate(leaves)}
    for j, (lvl, i) in enumerate(nodes):
        params[f"l{j}"], params[f"i{j}"] = lvl, i
    found: dict[merkle.Subtree, bytes] = {}
    size: int | None = None
    for level, index, value in conn.execute(_subtree_query(len(leaves), len(nodes)), params):
        if level == -1:
            size = int(index)
        else:
            found[(int(level), int(index))] = bytes(value)
    if size is None:
        raise TraceLogError("the log head row (tracelog_head id=1) is missing; the store was not migrated")
    return found, size


def _require(wanted: Iterable[merkle.Subtree], found: dict[merkle.Subtree, bytes]) -> None:
    missing = set(wanted) - found.keys()
    if missing:
        level, index = min(missing)
        raise TraceLogError(
            f"the log is missing the hash of subtree level {level}, index {index}; run `lodeline trace audit`",
            level=level,
            node_index=index,
        )


def fetch_subtrees(conn: Connection, subtrees: Iterable[merkle.Subtree]) -> dict[merkle.Subtree, bytes]:
    """Hashes of the given perfect subtrees; every one must exist."""
    wanted = list(subtrees)
    found, _ = fetch_subtrees_and_size(conn, wanted)
    _require(wanted, found)
    return found


def resolve_ranges(conn: Connection, ranges: Sequence[tuple[int, int]], size: int) -> list[bytes]:
    """MTH of each leaf range of the tree of ``size`` leaves, from stored perfect-subtree hashes, in one
    statement that also reads the current size (TreeSizeError if ``size`` is beyond it)."""
    needed = [s for lo, hi in ranges for s in merkle.range_subtrees(lo, hi)]
    found, current = fetch_subtrees_and_size(conn, needed)
    if not 0 <= size <= current:
        raise TreeSizeError(f"tree size {size} is outside the log (current size {current})", size=size)
    _require(needed, found)
    return merkle.resolve_ranges(ranges, found.__getitem__)


def leaf_index(conn: Connection, leaf_hash: bytes) -> int | None:
    """Index of the first leaf with this leaf hash, or None. A scan (leaf hashes are not indexed): use it for
    leaves that are not registry events; events are located through their hash ID."""
    value = conn.execute(
        select(func.min(tracelog_leaves.c.leaf_index)).where(tracelog_leaves.c.leaf_hash == leaf_hash)
    ).scalar_one_or_none()
    return None if value is None else int(value)


def leaf_row(conn: Connection, index: int) -> tuple[bytes, bytes] | None:
    """(leaf_hash, leaf_data) of a leaf, or None."""
    row = conn.execute(
        select(tracelog_leaves.c.leaf_hash, tracelog_leaves.c.leaf_data).where(
            tracelog_leaves.c.leaf_index == index
        )
    ).first()
    return None if row is None else (bytes(row[0]), bytes(row[1]))


def iter_leaves(
    conn: Connection, start: int, stop: int, chunk: int = 16384
) -> Iterator[tuple[int, bytes, bytes]]:
    """(leaf_index, leaf_hash, leaf_data) for indices in ``[start, stop)``, in order, read in chunks."""
    pos = start
    while pos < stop:
        end = min(stop, pos + chunk)
        rows = conn.execute(
            select(tracelog_leaves.c.leaf_index, tracelog_leaves.c.leaf_hash, tracelog_leaves.c.leaf_data)
            .where(tracelog_leaves.c.leaf_index >= pos, tracelog_leaves.c.leaf_index < end)
            .order_by(tracelog_leaves.c.leaf_index)
        ).all()
        for row in rows:
            yield int(row[0]), bytes(row[1]), bytes(row[2])
        pos = end


def leaves_starting_with(conn: Connection, first_byte: bytes, stop: int) -> list[tuple[int, bytes]]:
    """(leaf_index, leaf_data) of the leaves below ``stop`` whose data starts with ``first_byte``, in order (a scan
    in the database: the registry's directory leaves start with ``{``, event leaves with ``n``)."""
    leaves = tracelog_leaves.c
    q = (
        select(leaves.leaf_index, leaves.leaf_data)
        .where(func.substr(leaves.leaf_data, 1, 1) == bindparam("first", first_byte, type_=LargeBinary))
        .where(leaves.leaf_index < stop)
        .order_by(leaves.leaf_index)
    )
    return [(int(i), bytes(d)) for i, d in conn.execute(q)]


def max_leaf_index(conn: Connection) -> int | None:
    value = conn.execute(select(func.max(tracelog_leaves.c.leaf_index))).scalar_one_or_none()
    return None if value is None else int(value)


def nodes_in_range(conn: Connection, level: int, first: int, stop: int) -> dict[int, bytes]:
    """Stored node hashes at ``level`` with ``first <= node_index < stop``."""
    rows = conn.execute(
        select(tracelog_nodes.c.node_index, tracelog_nodes.c.hash).where(
            tracelog_nodes.c.level == level,
            tracelog_nodes.c.node_index >= first,
            tracelog_nodes.c.node_index < stop,
        )
    )
    return {int(i): bytes(h) for i, h in rows}


def node_counts(conn: Connection) -> dict[int, tuple[int, int]]:
    """Per level: (row count, max node_index) of stored nodes."""
    rows = conn.execute(
        select(tracelog_nodes.c.level, func.count(), func.max(tracelog_nodes.c.node_index)).group_by(
            tracelog_nodes.c.level
        )
    )
    return {int(lvl): (int(n), int(mx)) for lvl, n, mx in rows}


# --- identity -----------------------------------------------------------------------------------------------


def new_log_id() -> str:
    """A random log ID (64 bits, hex): unique per store, so default origins never collide."""
    return secrets.token_hex(8)


def create_identity(conn: Connection, *, pinned_origin: str | None = None) -> None:
    """Give the log its identity row if it has none (migration tracelog_0003)."""
    exists = conn.execute(select(tracelog_identity.c.id).where(tracelog_identity.c.id == 1)).first()
    if exists is None:
        conn.execute(
            insert(tracelog_identity).values(
                id=1, log_id=new_log_id(), origin=pinned_origin, created_at=datetime.now(UTC)
            )
        )


def log_identity(conn: Connection) -> tuple[str, str | None]:
    """(log ID, pinned origin or None)."""
    row = conn.execute(
        select(tracelog_identity.c.log_id, tracelog_identity.c.origin).where(tracelog_identity.c.id == 1)
    ).first()
    if row is None:
        raise TraceLogError(
            "the log identity row (tracelog_identity id=1) is missing; the store was not migrated"
        )
    return str(row[0]), None if row[1] is None else str(row[1])


# --- checkpoints --------------------------------------------------------------------------------------------


def lock_checkpoint_issue(conn: Connection) -> None:
    """Serialise checkpoint issuing until the end of the caller's transaction.

    PostgreSQL: a transaction-scoped advisory lock (appends are not blocked, only other issuers); SQLite: the
    caller's ``BEGIN IMMEDIATE`` already holds the database write lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(CHECKPOINT_LOCK_KEY)))


def checkpoint_origins(conn: Connection) -> list[str]:
    """Every origin a stored checkpoint was issued under."""
    rows = conn.execute(select(tracelog_checkpoints.c.origin).distinct())
    return sorted(str(r[0]) for r in rows)


def insert_checkpoint(
    conn: Connection,
    *,
    tree_size: int,
    root_hash: bytes,
    origin: str,
    key_name: str,
    key_id: str,
    note: str,
    issued_at: datetime,
) -> int:
    result = conn.execute(
        insert(tracelog_checkpoints).values(
            tree_size=tree_size,
            root_hash=root_hash,
            origin=origin,
            key_name=key_name,
            key_id=key_id,
            note=note,
            issued_at=issued_at,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def checkpoints(conn: Connection) -> list[dict[str, Any]]:
    """Every checkpoint issued, oldest first."""
    rows = conn.execute(
        select(tracelog_checkpoints).order_by(tracelog_checkpoints.c.checkpoint_id)
    ).mappings()
    return [dict(r) for r in rows]


def latest_checkpoint(conn: Connection) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(tracelog_checkpoints).order_by(tracelog_checkpoints.c.checkpoint_id.desc()).limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)


def checkpoint_of_size(conn: Connection, size: int) -> dict[str, Any] | None:
    """The latest checkpoint issued at exactly ``size`` leaves."""
    row = (
        conn.execute(
            select(tracelog_checkpoints)
            .where(tracelog_checkpoints.c.tree_size == size)
            .order_by(tracelog_checkpoints.c.checkpoint_id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else dict(row)
