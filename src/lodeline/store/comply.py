"""Compliance verdicts: table and queries (SQLAlchemy Core, both backends). Created by ``comply_0001``.

``comply_verdicts``: one row per verdict issued (a check of a lot against a rule set version writes one row per rule
in scope), with the canonical verdict document whose sha256 is a leaf of the registry's Merkle log
(``lodeline-verdict/v1:<sha256 hex>``). Rows are never changed or deleted: a new check is new rows and new leaves.

:func:`insert_verdicts` writes a check's rows and appends their leaves in ONE write transaction (the log append
first, as ``stocks.insert_version`` does): the check is whole or absent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Engine, Integer, String, Table, Text, insert, select

from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata
from lodeline.tlog import merkle

#: Leaf data prefix of a verdict (the same as lodeline.comply.rules.VERDICT_LEAF_PREFIX).
VERDICT_LEAF_PREFIX = b"lodeline-verdict/v1:"

comply_verdicts = Table(
    "comply_verdicts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lot", String(240), nullable=False, index=True),
    Column("ruleset_id", String(120), nullable=False),
    Column("ruleset_version", String(40), nullable=False),
    Column("rule_id", String(120), nullable=False),
    Column("verdict", String(20), nullable=False),  # pass | fail | insufficient-data
    Column("checked_at", DateTime(timezone=True), nullable=False),
    Column("checked_by", String(200)),
    Column("document", Text, nullable=False),  # canonical verdict document (its sha256 is the leaf)
    Column("leaf_index", BigInteger, nullable=False, unique=True),
)

COMPLY_TABLES = (comply_verdicts,)


def leaf_of(document: str) -> bytes:
    return VERDICT_LEAF_PREFIX + hashlib.sha256(document.encode("utf-8")).hexdigest().encode("ascii")


def insert_verdicts(
    engine: Engine,
    rows: Sequence[dict[str, Any]],
    *,
    checked_at: dt.datetime,
    checked_by: str | None,
) -> list[int]:
    """Store verdict rows (lot, ruleset_id, ruleset_version, rule_id, verdict, document) and append their
    leaves, all or nothing; return each row's leaf index (in order)."""
    if not rows:
        return []
    data = [leaf_of(r["document"]) for r in rows]
    with write_transaction(engine) as conn:
        first = tracelog.append_hashes(conn, data, [merkle.leaf_hash(d) for d in data])
        conn.execute(
            insert(comply_verdicts),
            [
                {**r, "checked_at": checked_at, "checked_by": checked_by, "leaf_index": first + i}
                for i, r in enumerate(rows)
            ],
        )
    return [first + i for i in range(len(rows))]


def verdict_leaves(conn: Any) -> dict[int, bytes]:
    """Leaf index -> the leaf data its stored document yields now (the audit's check that every verdict leaf is
    accounted for by a stored verdict whose document still hashes to it)."""
    rows = conn.execute(select(comply_verdicts.c.leaf_index, comply_verdicts.c.document))
    return {int(index): leaf_of(document) for index, document in rows}


def verdicts_of(engine: Engine, lot: str, limit: int = 200) -> list[dict[str, Any]]:
    """The latest verdicts issued for ``lot``, newest first."""
    query = (
        select(comply_verdicts)
        .where(comply_verdicts.c.lot == lot)
        .order_by(comply_verdicts.c.leaf_index.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
