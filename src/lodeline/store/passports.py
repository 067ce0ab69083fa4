"""Issued digital product passports (issue 16) and the registry reads a passport is built from.

Each passport is stored with its signed credential (``document``, the JSON as issued) and is a leaf of the
registry's Merkle log: ``lodeline-passport/v1:`` + SHA-256 hex of the document, appended in the transaction that
writes the row (so an issued passport can be proven later and never silently changed; the audit accounts for the
leaves through ``store/leaf_kinds``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Index,
    String,
    Table,
    Text,
    bindparam,
    insert,
    select,
    text,
)

from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata
from lodeline.tlog import merkle

PASSPORT_LEAF_PREFIX = b"lodeline-passport/v1:"

passports = Table(
    "passports",
    metadata,
    Column("id", String(400), primary_key=True),  # the credential id (urn:uuid:…)
    Column("lot_id", String(240), nullable=False),  # canonical lot identifier
    Column("gtin", String(14)),  # GS1 AI 01 and 10 of the lot, for the Digital Link resolver
    Column("batch", String(40)),
    Column("profile", String(24), nullable=False),  # untp-dpp | battery-pass
    Column("issuer", String(200), nullable=False),  # participant id
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("document", Text, nullable=False),  # the signed credential, JSON as issued
    Column("leaf_index", BigInteger, nullable=False),
    Index("ix_passports_lot", "lot_id"),
    Index("ix_passports_gtin_batch", "gtin", "batch"),
)
PASSPORT_TABLES = (passports,)


def leaf_of(document: str) -> bytes:
    return PASSPORT_LEAF_PREFIX + hashlib.sha256(document.encode("utf-8")).hexdigest().encode("ascii")


def insert_passport(engine: Engine, row: dict[str, Any]) -> int:
    """Store a passport and append its log leaf, all or nothing; return the leaf index."""
    data = leaf_of(row["document"])
    with write_transaction(engine) as conn:
        index = tracelog.append_hashes(conn, [data], [merkle.leaf_hash(data)])
        conn.execute(insert(passports).values(**row, leaf_index=index))
    return index


def passport_leaves(conn: Any) -> dict[int, bytes]:
    """Leaf index -> the leaf data each stored passport's document yields now (the audit's recomputation)."""
    return {int(i): leaf_of(d) for i, d in conn.execute(select(passports.c.leaf_index, passports.c.document))}


def _rows(engine: Engine, where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        q = select(passports).where(where).order_by(passports.c.issued_at.desc(), passports.c.id)
        return [dict(r._mapping) for r in conn.execute(q)]


def passport_by_id(engine: Engine, passport_id: str) -> dict[str, Any] | None:
    rows = _rows(engine, passports.c.id == passport_id)
    return rows[0] if rows else None


def passports_of_lot(engine: Engine, lot_id: str) -> list[dict[str, Any]]:
    return _rows(engine, passports.c.lot_id == lot_id)


def passports_by_gtin(engine: Engine, gtin: str, batch: str) -> list[dict[str, Any]]:
    return _rows(engine, (passports.c.gtin == gtin) & (passports.c.batch == batch))


# --- registry reads a passport is built from ------------------------------------------------------------------

_UPSTREAM_SQL = text(
    """
    WITH RECURSIVE up(lot) AS (
        SELECT CAST(:lot AS VARCHAR(240))
        UNION
        SELECT s.source_lot FROM trace_lot_sources s JOIN up ON s.lot_id = up.lot WHERE s.source_lot IS NOT NULL
    )
    SELECT s.lot_id, s.facility_id, s.source_lot, s.metal_kg, s.event_hash, e.leaf_index,
           COALESCE(e.leaf_hash_id, e.hash_id), l.recycled, l.opening_stock
    FROM trace_lot_sources s
    JOIN up ON s.lot_id = up.lot
    LEFT JOIN trace_events e ON e.hash_id = s.event_hash
    LEFT JOIN trace_lots l ON s.source_lot IS NULL AND l.id = s.lot_id
    ORDER BY s.id
    """
)


def upstream_edges_with_events(conn: Any, lot_id: str) -> list[dict[str, Any]]:
    """Every composition edge upstream of a lot with the event that recorded it: its hash ID, its log leaf and
    the data that leaf holds; and for an origin lot its recycled status and opening-stock reason."""
    keys = ("lot", "facility", "source", "metal_kg", "event", "leaf", "leaf_data", "recycled", "opening")
    return [dict(zip(keys, r, strict=True)) for r in conn.execute(_UPSTREAM_SQL, {"lot": lot_id})]


def leaf_data_at(conn: Any, indices: Sequence[int]) -> dict[int, bytes]:
    """Leaf index -> leaf data, for the given indices."""
    out: dict[int, bytes] = {}
    for index in indices:
        row = tracelog.leaf_row(conn, index)
        if row is not None:
            out[index] = row[1]
    return out


def events_of_lots(conn: Any, lot_ids: Sequence[str]) -> list[tuple[str, int | None, str]]:
    """(hash ID, leaf index, body) of every event that moved one of the lots (custody journal), in event-time
    order, each once."""
    q = text(
        """
        SELECT DISTINCT e.hash_id, e.leaf_index, e.body, e.event_time FROM trace_events e
        JOIN trace_lot_movements m ON m.event_hash = e.hash_id
        WHERE m.lot_id IN :lots
        """
    ).bindparams(bindparam("lots", expanding=True))
    found: dict[str, tuple[str, int | None, str, str]] = {}
    ids = sorted(set(lot_ids))
    for start in range(0, len(ids), 500):
        for r in conn.execute(q, {"lots": ids[start : start + 500]}):
            found[r[0]] = (r[0], r[1], r[2], r[3])
    return [(h, leaf, body) for h, leaf, body, _ in sorted(found.values(), key=lambda r: (r[3], r[0]))]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
