"""FROZEN: the directory snapshot of migration ``trace_0006``. Do not change.

``trace_0006`` appends to the registry's Merkle log, for a store that already holds directory records, a snapshot
of them (a header leaf and one ``lodeline-directory/v1`` leaf per row, in a fixed order), unless the directory the
log already records is the one the tables hold. This module is what it needs, copied as it was when issue 12 froze
the revision from :mod:`lodeline.trace.parties` (``log_directory_snapshot``), :mod:`lodeline.trace.directory`
(the leaf encoding: RFC 8785 JSON Canonicalization; decoding; the state leaves rebuild),
:mod:`lodeline.store.trace_parties` (the directory rows), :mod:`lodeline.store.tracelog` and
:mod:`lodeline.tlog.merkle` (appending RFC 9162 leaves and nodes). Its sha256 is pinned in
``tests/unit/test_import_cycles.py`` (``FROZEN``): a migration does tomorrow what it did the day it was written
(docs/ARCHITECTURE.md, Migrations); the application's directory code may change, and a new leaf format is a
``lodeline-directory/v2``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

LEAF_TYPE = "lodeline-directory/v1"
SNAPSHOT = "snapshot"

#: table -> its columns with their types, key column first (the record of a leaf holds exactly these)
_TABLES: dict[str, tuple[tuple[str, Any], ...]] = {
    "trace_participants": (
        ("id", sa.String),
        ("name", sa.String),
        ("role", sa.String),
        ("created_at", sa.DateTime(timezone=True)),
    ),
    "trace_participant_keys": (
        ("key_id", sa.String),
        ("participant_id", sa.String),
        ("public_key", sa.String),
        ("valid_from", sa.DateTime(timezone=True)),
        ("revoked_at", sa.DateTime(timezone=True)),
        ("revocation_reason", sa.String),
    ),
    "trace_company_prefixes": (
        ("prefix", sa.String),
        ("participant_id", sa.String),
        ("added_at", sa.DateTime(timezone=True)),
    ),
    "trace_facilities": (
        ("id", sa.String),
        ("name", sa.String),
        ("facility_type", sa.String),
        ("country", sa.String),
        ("latitude", sa.Float),
        ("longitude", sa.Float),
        ("operator_id", sa.String),
        ("custody_model", sa.String),
    ),
    "trace_certifications": (
        ("id", sa.Integer),
        ("facility_id", sa.String),
        ("scheme", sa.String),
        ("certificate", sa.String),
        ("valid_from", sa.Date),
        ("valid_to", sa.Date),
    ),
}
COLUMNS: dict[str, tuple[str, ...]] = {t: tuple(name for name, _ in cols) for t, cols in _TABLES.items()}
#: op -> the table whose row it sets
OPS: dict[str, str] = {
    "participant-registered": "trace_participants",
    "key-added": "trace_participant_keys",
    "key-revoked": "trace_participant_keys",
    "prefix-bound": "trace_company_prefixes",
    "facility-registered": "trace_facilities",
    "certification-added": "trace_certifications",
}
#: the op a snapshot records each table's rows under
SNAPSHOT_OPS: dict[str, str] = {
    "trace_participants": "participant-registered",
    "trace_participant_keys": "key-added",
    "trace_company_prefixes": "prefix-bound",
    "trace_facilities": "facility-registered",
    "trace_certifications": "certification-added",
}

_head = sa.table("tracelog_head", sa.column("id", sa.Integer), sa.column("tree_size", sa.BigInteger))
_leaves = sa.table(
    "tracelog_leaves",
    sa.column("leaf_index", sa.BigInteger),
    sa.column("leaf_hash", sa.LargeBinary),
    sa.column("leaf_data", sa.LargeBinary),
)
_nodes = sa.table(
    "tracelog_nodes",
    sa.column("level", sa.SmallInteger),
    sa.column("node_index", sa.BigInteger),
    sa.column("hash", sa.LargeBinary),
)


class SnapshotError(Exception):
    """A directory row or the log cannot be written as a snapshot (named)."""


# --- RFC 8785 (JCS) ---------------------------------------------------------------------------------------------


def _number(x: float) -> str:
    """ECMAScript Number::toString of a finite double (RFC 8785 §3.2.2.3), from Python's shortest repr."""
    if not math.isfinite(x):
        raise SnapshotError(f"JSON canonicalization: {x} is not a finite number")
    if x == 0:
        return "0"
    sign, text = ("-" if x < 0 else ""), repr(abs(x))
    mantissa, _, exp = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    e = int(exp) if exp else 0
    digits = (whole + frac).lstrip("0").rstrip("0")
    n = len(whole) + e if whole.strip("0") else e - (len(frac) - len(frac.lstrip("0")))
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    power = n - 1
    head = digits if k == 1 else digits[0] + "." + digits[1:]
    return f"{sign}{head}e{'+' if power > 0 else '-'}{abs(power)}"


def _jcs(value: Any, out: list[str]) -> None:
    if value is None or isinstance(value, bool):
        out.append("null" if value is None else ("true" if value else "false"))
    elif isinstance(value, int):
        if abs(value) > 2**53:
            raise SnapshotError(f"JSON canonicalization: integer {value} is beyond IEEE 754 precision")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, Mapping):
        out.append("{")
        for i, key in enumerate(sorted(value, key=lambda k: str(k).encode("utf-16-be"))):
            if not isinstance(key, str):
                raise SnapshotError(f"JSON canonicalization: object key {key!r} is not a string")
            out.append(("," if i else "") + json.dumps(key, ensure_ascii=False) + ":")
            _jcs(value[key], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _jcs(item, out)
        out.append("]")
    else:
        raise SnapshotError(f"JSON canonicalization: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """The RFC 8785 JSON Canonicalization Scheme (JCS) bytes of ``value``."""
    out: list[str] = []
    _jcs(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: not a Unicode string
        raise SnapshotError(f"JSON canonicalization: {exc.reason}") from exc


# --- records and leaves -----------------------------------------------------------------------------------------


def iso_time(moment: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z`` (a naive time, as SQLite returns it, is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_of(table: str, row: Mapping[str, Any]) -> dict[str, Any]:
    """A table row as a leaf records it: exactly the table's columns, times and dates as text."""
    return {column: _plain(row.get(column)) for column in COLUMNS[table]}


def leaf_data(op: str, record: Mapping[str, Any], at: datetime, *, snapshot: str | None = None) -> bytes:
    """The directory leaf for ``op`` setting ``record`` (a snapshot header: ``records`` and ``revision``)."""
    body = dict(record) if op == SNAPSHOT else record_of(OPS[op], record)
    doc: dict[str, Any] = {"at": iso_time(at), "op": op, "record": body, "type": LEAF_TYPE}
    if snapshot is not None:
        doc["snapshot"] = snapshot
    return canonical_json(doc)


def _entry(data: bytes) -> tuple[str, dict[str, Any]] | None:
    """(op, record) of a valid directory leaf, None for anything else (the audit names those)."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(doc, dict) or doc.get("type") != LEAF_TYPE:
        return None
    if set(doc) - {"at", "op", "record", "type", "snapshot"}:
        return None
    op, record, at, snap = doc.get("op"), doc.get("record"), doc.get("at"), doc.get("snapshot")
    if not isinstance(record, dict) or not isinstance(at, str) or not isinstance(snap, str | None):
        return None
    if op == SNAPSHOT:
        if set(record) != {"records", "revision"} or not isinstance(record["records"], int):
            return None
    elif op in OPS:
        columns = COLUMNS[OPS[op]]
        if set(record) != set(columns) or record[columns[0]] in (None, ""):
            return None
    else:
        return None
    try:
        if canonical_json(doc) != data:
            return None
    except SnapshotError:
        return None
    return str(op), record


Rows = dict[str, dict[Any, dict[str, Any]]]


def _empty() -> Rows:
    return {table: {} for table in COLUMNS}


def logged_rows(leaves: Sequence[bytes]) -> Rows:
    """Every directory table's rows by key, as the directory leaves (in log order) set them; a snapshot header
    starts again from nothing."""
    rows = _empty()
    for data in leaves:
        entry = _entry(data)
        if entry is None:
            continue
        op, record = entry
        if op == SNAPSHOT:
            rows = _empty()
            continue
        table = OPS[op]
        rows[table][record[COLUMNS[table][0]]] = dict(record)
    return rows


def table_rows(tables: Mapping[str, Sequence[Mapping[str, Any]]]) -> Rows:
    """Every directory table's rows by key, as leaves record them."""
    rows = _empty()
    for table in COLUMNS:
        for row in tables.get(table, []):
            record = record_of(table, row)
            rows[table][record[COLUMNS[table][0]]] = record
    return rows


def snapshot_leaves(rows: Rows, at: datetime, revision: str) -> list[bytes]:
    """A snapshot of ``rows`` as leaves, in a fixed order: the header, then each table (participants, keys,
    prefixes, facilities, certifications) by key."""
    out: list[bytes] = []
    for table in COLUMNS:
        op = SNAPSHOT_OPS[table]
        for key in sorted(rows[table], key=lambda k: (str(type(k)), k)):
            out.append(leaf_data(op, rows[table][key], at, snapshot=revision))
    return [leaf_data(SNAPSHOT, {"records": len(out), "revision": revision}, at), *out]


# --- the store --------------------------------------------------------------------------------------------------


def _leaf_hash(data: bytes) -> bytes:
    """RFC 9162 leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def _node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _lock_registry(conn: Any) -> None:
    """Serialise registry writers: PostgreSQL's transaction-scoped advisory lock of the registry (SQLite already
    holds its write lock)."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7301001)")


def _tree_size(conn: Any) -> int:
    size = conn.execute(sa.select(_head.c.tree_size).where(_head.c.id == 1)).scalar_one_or_none()
    if size is None:
        raise SnapshotError("the log head row (tracelog_head id=1) is missing; the store was not migrated")
    return int(size)


def _subtree(conn: Any, level: int, index: int) -> bytes:
    """The stored hash of the perfect subtree (level, index): a leaf hash at level 0, a node above."""
    if level == 0:
        q = sa.select(_leaves.c.leaf_hash).where(_leaves.c.leaf_index == index)
    else:
        q = sa.select(_nodes.c.hash).where(_nodes.c.level == level, _nodes.c.node_index == index)
    found = conn.execute(q).scalar_one_or_none()
    if found is None:
        raise SnapshotError(f"the log is missing the hash of subtree level {level}, index {index}")
    return bytes(found)


def append_leaves(conn: Any, leaf_data: Sequence[bytes]) -> int:
    """Append one leaf per item (in order) and the interior nodes they complete, in the caller's transaction;
    return the leaves appended."""
    if not leaf_data:
        return 0
    hashes = [_leaf_hash(d) for d in leaf_data]
    # the UPDATE is the log's append lock; it returns the new size
    grown = conn.execute(
        sa.update(_head)
        .where(_head.c.id == 1)
        .values(tree_size=_head.c.tree_size + len(hashes))
        .returning(_head.c.tree_size)
    ).scalar_one_or_none()
    if grown is None:
        raise SnapshotError("the log head row (tracelog_head id=1) is missing; the store was not migrated")
    new = int(grown)
    old = new - len(hashes)
    node_rows: list[dict[str, Any]] = []
    cur: Sequence[bytes] = hashes
    cur_start = old  # node index of cur[0] at the current level
    level = 0
    while True:
        first, last = old >> (level + 1), (new >> (level + 1)) - 1
        if first > last:
            break
        nxt: list[bytes] = []
        for i in range(first, last + 1):
            left_index = 2 * i
            left = (
                cur[left_index - cur_start] if left_index >= cur_start else _subtree(conn, level, left_index)
            )
            nxt.append(_node_hash(left, cur[left_index + 1 - cur_start]))
        level += 1
        node_rows.extend({"level": level, "node_index": first + j, "hash": h} for j, h in enumerate(nxt))
        cur, cur_start = nxt, first
    conn.execute(
        sa.insert(_leaves),
        [
            {"leaf_index": old + j, "leaf_hash": h, "leaf_data": d}
            for j, (d, h) in enumerate(zip(leaf_data, hashes, strict=True))
        ],
    )
    if node_rows:
        conn.execute(sa.insert(_nodes), node_rows)
    return len(hashes)


def _directory_leaves(conn: Any, stop: int) -> list[bytes]:
    """The data of the leaves below ``stop`` that start with ``{`` (directory leaves; event leaves start with
    ``n``), in log order."""
    q = (
        sa.select(_leaves.c.leaf_data)
        .where(sa.func.substr(_leaves.c.leaf_data, 1, 1) == sa.bindparam("first", b"{", type_=sa.LargeBinary))
        .where(_leaves.c.leaf_index < stop)
        .order_by(_leaves.c.leaf_index)
    )
    return [bytes(d) for d in conn.execute(q).scalars()]


def _directory_tables(conn: Any) -> dict[str, list[dict[str, Any]]]:
    out = {}
    for name, columns in _TABLES.items():
        table = sa.table(name, *(sa.column(c, kind) for c, kind in columns))
        out[name] = [dict(r) for r in conn.execute(sa.select(table)).mappings()]
    return out


def log_directory_snapshot(conn: Any, revision: str) -> int:
    """Append a snapshot of the directory tables to the log (migration ``revision``), unless the directory the log
    already records is the one the tables hold; returns the leaves appended. In the caller's transaction."""
    _lock_registry(conn)
    logged = logged_rows(_directory_leaves(conn, _tree_size(conn)))
    held = table_rows(_directory_tables(conn))
    if held == logged:
        return 0
    return append_leaves(conn, snapshot_leaves(held, datetime.now(UTC), revision))
