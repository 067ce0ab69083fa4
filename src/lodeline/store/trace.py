"""Tables and queries of the traceability registry's write path (SQLAlchemy Core).

Participants hold Ed25519 keys; facilities hold certifications; every accepted event is stored with its hash ID
and the ledger rows it produced (lots, composition edges, balances, claims). Mass balance reads and writes these
tables inside the capture transaction.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    BindParameter,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    text,
    update,
)

from lodeline.domain.company_prefixes import owners_by_prefix
from lodeline.store import driver
from lodeline.store.schema import metadata

participants = Table(
    "trace_participants",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(240), nullable=False),
    # miner | refiner | trader | manufacturer | recycler | auditor
    Column("role", String(24), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

participant_keys = Table(
    "trace_participant_keys",
    metadata,
    # first 32 hex digits of SHA-256 over the raw 32-byte public key
    Column("key_id", String(32), primary_key=True),
    Column("participant_id", String(200), ForeignKey("trace_participants.id"), nullable=False, index=True),
    Column("public_key", String(64), nullable=False),  # base64 of the raw 32 bytes
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
    Column("revocation_reason", String(240)),
)

facilities = Table(
    "trace_facilities",
    metadata,
    Column("id", String(200), primary_key=True),  # canonical GLN Digital Link URI or another URI
    Column("name", String(240), nullable=False),
    # mine | concentrator | refinery | smelter | precursor_plant | cathode_plant | magnet_plant | recycler | warehouse
    Column("facility_type", String(24), nullable=False),
    Column("country", String(3), nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("operator_id", String(200), ForeignKey("trace_participants.id"), nullable=False),
    # ISO 22095 chain-of-custody model: segregated | mass_balance
    Column("custody_model", String(16), nullable=False),
)

company_prefixes = Table(
    "trace_company_prefixes",
    metadata,
    # A GS1 company prefix (6–12 digits) and the one participant it is bound to: lots and EPCs a participant
    # creates must carry one of its prefixes. No two prefixes nest (one is never a prefix of another).
    Column("prefix", String(12), primary_key=True),
    Column("participant_id", String(200), ForeignKey("trace_participants.id"), nullable=False, index=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

certifications = Table(
    "trace_certifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility_id", String(200), ForeignKey("trace_facilities.id"), nullable=False, index=True),
    Column("scheme", String(64), nullable=False),  # RMAP | IRMA | ISO 14001 | …
    Column("certificate", String(120)),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
)

documents = Table(
    "trace_documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("participant_id", String(200), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Column("events", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),
)

events = Table(
    "trace_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("hash_id", String(100), nullable=False, unique=True),
    Column("document_sha256", String(64), nullable=False, index=True),
    Column("event_index", Integer, nullable=False),
    Column("event_type", String(24), nullable=False),
    Column("event_time", String(32), nullable=False),  # UTC, millisecond ISO 8601 (sorts as text)
    Column("biz_step", String(120)),
    Column("facility_id", String(200)),
    Column("leaf_index", Integer),  # position in the Merkle log
    Column("body", Text, nullable=False),  # the event JSON as submitted
    Column("participant_id", String(200)),  # who submitted it (its document's participant)
    Column("event_id", String(240)),  # its EPCIS eventID, if any: unique per participant (checked at capture)
    # The hash ID its log leaf holds when that is not hash_id: events captured before trace_0007 whose CBV 2.0
    # §8.9 hash changed when the algorithm was brought in line with the reference (the leaf, append-only, keeps the
    # hash of the algorithm then in force: lodeline.trace.event_hash_v1). NULL: the leaf holds hash_id.
    Column("leaf_hash_id", String(100)),
    # Partial: most events carry no eventID, and an index entry per event would cost every capture a B-tree insert.
    Index(
        "ix_trace_events_participant_event",
        "participant_id",
        "event_id",
        sqlite_where=text("event_id IS NOT NULL"),
        postgresql_where=text("event_id IS NOT NULL"),
    ),
    Index(
        "ix_trace_events_leaf_hash_id",
        "leaf_hash_id",
        sqlite_where=text("leaf_hash_id IS NOT NULL"),
        postgresql_where=text("leaf_hash_id IS NOT NULL"),
    ),
)

lots = Table(
    "trace_lots",
    metadata,
    Column("id", String(240), primary_key=True),  # canonical epcClass (lgtin / DL URI with AI 10)
    Column("material", String(64), nullable=False),
    Column("mineral", String(48), nullable=False),  # contained-metal basis
    Column("metal_fraction", Float, nullable=False),
    Column("recycled", String(16)),  # pre-consumer | post-consumer | NULL (primary)
    Column("certified_fraction", Float, nullable=False),  # of contained metal, per the claim's custody model
    Column("produced_metal_kg", Float, nullable=False),  # contained metal produced into this lot so far
    Column("facility_id", String(200), nullable=False),  # where the lot was produced
    # Declared opening stock (ILMD lodeline:openingStock): the reason given; NULL for material that entered at a
    # facility that can originate it (a mine, a recycler of declared recycled feed).
    Column("opening_stock", String(240)),
)

lot_sources = Table(
    "trace_lot_sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lot_id", String(240), nullable=False),
    Column("event_hash", String(100), nullable=False),
    Column("facility_id", String(200), nullable=False),
    Column("source_lot", String(240)),  # NULL: extracted or collected here (an origin)
    Column("metal_kg", Float, nullable=False),
    Column("event_time", String(32), nullable=False),
    Index("ix_trace_lot_sources_lot", "lot_id"),
)

lot_movements = Table(
    "trace_lot_movements",
    metadata,
    # The custody journal: every quantity of a lot an event moves (one row per lot per event), so a lot's whole
    # trail — produced, shipped, received, consumed — is one indexed lookup.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lot_id", String(240), nullable=False),
    Column("event_hash", String(100), nullable=False),
    Column("event_time", String(32), nullable=False),
    Column("movement", String(8), nullable=False),  # produce | consume | ship | receive
    Column(
        "facility_id", String(200), nullable=False
    ),  # where it happened (ship: origin; receive: destination)
    Column("counterpart_id", String(200)),  # ship: destination; receive: origin
    Column("quantity_kg", Float, nullable=False),  # gross mass of the lot moved, kg
    Index("ix_trace_lot_movements_lot", "lot_id"),
)

event_epcs = Table(
    "trace_event_epcs",
    metadata,
    # Which events name an EPC (canonical Digital Link): instance EPCs of every event, quantity classes of events
    # that move no material. With trace_lot_movements it answers events?epc= without scanning event bodies.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("epc", String(240), nullable=False),
    Column("event_hash", String(100), nullable=False),
    Index("ix_trace_event_epcs_epc", "epc"),
)

balances = Table(
    "trace_balances",
    metadata,
    Column("facility_id", String(200), nullable=False),
    Column("lot_id", String(240), nullable=False),
    Column("state", String(8), nullable=False),  # stock | transit (shipped to facility_id, not yet received)
    Column("quantity_kg", Float, nullable=False),
    # eventTime (UTC ms) of the latest event that added to this balance: an event may draw from it only at or
    # after that time. NULL: unknown (rows older than trace_0004 that the journal could not date).
    Column("added_at", String(32)),
    # lot first: capture reads and rewrites balances by lot (SQLite will not use an index for row-value IN)
    UniqueConstraint("lot_id", "facility_id", "state", name="uq_trace_balances"),
)

claims = Table(
    "trace_claims",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("lot_id", String(240), nullable=False, index=True),
    Column("event_hash", String(100), nullable=False),
    Column("facility_id", String(200), nullable=False),
    Column("custody_model", String(16), nullable=False),
    Column("period", String(8), nullable=False),  # e.g. 2025-Q3 (credit period for mass balance)
    Column("metal_kg", Float, nullable=False),
    Column("certified_metal_kg", Float, nullable=False),
)

credits = Table(
    "trace_credits",
    metadata,
    Column("facility_id", String(200), nullable=False),
    Column("period", String(8), nullable=False),
    Column("credited_kg", Float, nullable=False),  # certified contained metal received into processes
    Column("claimed_kg", Float, nullable=False),  # certified contained metal claimed on outputs
    UniqueConstraint("facility_id", "period", name="uq_trace_credits"),
)

document_bytes = Table(
    # The exact bytes of every captured document, as signed (zlib), written in the capture transaction, so the
    # audit can check the document's SHA-256, its signature and which events it holds (migration trace_0005;
    # created there, not by trace_0001, so it is not in TRACE_TABLES).
    "trace_document_bytes",
    metadata,
    Column("sha256", String(64), primary_key=True),  # = trace_documents.sha256
    Column("codec", String(8), nullable=False),  # zlib
    Column("body", LargeBinary, nullable=False),
)

capture_rules = Table(
    # Since which log leaf capture has applied the rules of a migration: events at leaves >= first_leaf were
    # captured under them, earlier ones under the older rules (the audit replays those as they were accepted).
    # Written once by the migration that brought the rules in (trace_0004); created there, not by trace_0001.
    "trace_capture_rules",
    metadata,
    Column("revision", String(32), primary_key=True),
    Column("first_leaf", Integer, nullable=False),
    Column("applied_at", DateTime(timezone=True), nullable=False),
)

TRACE_TABLES: tuple[Table, ...] = (
    participants,
    participant_keys,
    company_prefixes,
    facilities,
    certifications,
    documents,
    events,
    lots,
    lot_sources,
    lot_movements,
    event_epcs,
    balances,
    claims,
    credits,
)

_CHUNK = driver.CHUNK


# Small lookups keep SQLAlchemy statements (with an expanding IN parameter, built once). The capture's
# per-event lookups — hash IDs, lots, balances, thousands of values per document — go straight to the driver
# (:mod:`lodeline.store.driver`): SQLAlchemy's per-value parameter processing cost more than running the queries.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_FACILITIES_IN = select(facilities).where(facilities.c.id.in_(_IDS))
_CERTIFICATIONS_IN = select(certifications).where(certifications.c.facility_id.in_(_IDS))
_CREDITS_IN = select(credits).where(credits.c.facility_id.in_(_IDS))
_LOT_COLUMNS = [c.name for c in lots.c]


def _chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def lock_registry(conn: Connection) -> None:
    """Serialise registry writers. SQLite already holds its write lock (BEGIN IMMEDIATE); PostgreSQL takes a
    transaction-scoped advisory lock so two captures never read the same balance concurrently."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7301001)")
    elif conn.dialect.name == "sqlite":
        # Capture touches random pages of the hash-ID and log indexes; SQLite's default 2 MB page cache makes
        # every document re-read them from the OS once the store passes ~100k events.
        conn.exec_driver_sql("PRAGMA cache_size=-65536")


def existing_hashes(conn: Connection, hash_ids: Sequence[str]) -> set[str]:
    return {
        row[0]
        for row in driver.rows_in(conn, "SELECT hash_id FROM trace_events WHERE hash_id IN", list(hash_ids))
    }


def event_leaf(conn: Connection, hash_id: str) -> tuple[int | None, str] | None:
    """(leaf index, the hash ID that leaf holds) of the event known by ``hash_id`` — its current hash ID, or the
    hash ID its leaf holds (``leaf_hash_id``, an event whose hash changed in trace_0007); None if no such event."""
    c = events.c
    q = select(c.leaf_index, func.coalesce(c.leaf_hash_id, c.hash_id))
    row = conn.execute(q.where(c.hash_id == hash_id)).first()
    if row is None:
        row = conn.execute(q.where(c.leaf_hash_id == hash_id)).first()
    return None if row is None else (row[0], str(row[1]))


def event_leaf_index(conn: Connection, hash_id: str) -> int | None:
    """The log leaf of a stored event (by hash ID), or None."""
    return conn.execute(select(events.c.leaf_index).where(events.c.hash_id == hash_id)).scalar_one_or_none()


def document_exists(conn: Connection, sha256: str) -> bool:
    return conn.execute(select(documents.c.sha256).where(documents.c.sha256 == sha256)).first() is not None


def facilities_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in conn.execute(_FACILITIES_IN, {"ids": list(chunk)}).mappings():
            out[row["id"]] = {**row, "certifications": []}
    if out:
        for chunk in _chunks(sorted(out)):
            for row in conn.execute(_CERTIFICATIONS_IN, {"ids": list(chunk)}).mappings():
                out[row["facility_id"]]["certifications"].append(dict(row))
    return out


def lots_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    sql = f"SELECT {', '.join(_LOT_COLUMNS)} FROM trace_lots WHERE id IN"
    return {
        row[0]: dict(zip(_LOT_COLUMNS, row, strict=True))
        for row in driver.rows_in(conn, sql, sorted(set(ids)))
    }


def balances_for(conn: Connection, lot_ids: Iterable[str]) -> dict[tuple[str, str, str], float]:
    """Every balance row (facility, lot, state) -> kg of the given lots."""
    return balances_and_times(conn, lot_ids)[0]


def balances_and_times(
    conn: Connection, lot_ids: Iterable[str]
) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str, str], str]]:
    """Every balance row of the given lots: (facility, lot, state) -> kg, and -> eventTime of its latest addition."""
    sql = "SELECT facility_id, lot_id, state, quantity_kg, added_at FROM trace_balances WHERE lot_id IN"
    kg: dict[tuple[str, str, str], float] = {}
    times: dict[tuple[str, str, str], str] = {}
    for f, lot, state, q, added in driver.rows_in(conn, sql, sorted(set(lot_ids))):
        kg[(f, lot, state)] = q
        if added is not None:
            times[(f, lot, state)] = added
    return kg, times


def upsert_lots(conn: Connection, rows: list[dict[str, Any]], existing: set[str]) -> None:
    """Insert new lots; rewrite the mutable columns of lots produced again."""
    insert_rows(conn, lots, [r for r in rows if r["id"] not in existing])
    for r in rows:
        if r["id"] in existing:
            conn.execute(
                update(lots)
                .where(lots.c.id == r["id"])
                .values(certified_fraction=r["certified_fraction"], produced_metal_kg=r["produced_metal_kg"])
            )


def write_balances(conn: Connection, lot_ids: Sequence[str], rows: list[dict[str, Any]]) -> None:
    """Replace all balance rows of ``lot_ids`` with ``rows`` (every non-zero balance of those lots, with its
    ``added_at``: :func:`lodeline.trace.capture_core.derived_rows`)."""
    driver.execute_in(conn, "DELETE FROM trace_balances WHERE lot_id IN", list(lot_ids))
    insert_rows(conn, balances, rows)


def event_ids_used(conn: Connection, participant: str, event_ids: Iterable[str]) -> dict[str, str]:
    """eventID -> hash ID of the participant's stored events that carry one of ``event_ids``."""
    found: dict[str, str] = {}
    for chunk in _chunks(sorted(set(event_ids))):
        q = select(events.c.event_id, events.c.hash_id).where(
            events.c.participant_id == participant, events.c.event_id.in_(list(chunk))
        )
        found.update({eid: hid for eid, hid in conn.execute(q)})
    return found


def capture_rules_since(conn: Connection, revision: str) -> tuple[int, Any] | None:
    """(first log leaf captured under ``revision``'s capture rules, when they came in), or None if not recorded."""
    q = select(capture_rules.c.first_leaf, capture_rules.c.applied_at).where(
        capture_rules.c.revision == revision
    )
    row = conn.execute(q).first()
    return None if row is None else (int(row[0]), row[1])


def bound_prefixes(conn: Connection) -> list[tuple[str, str, Any]]:
    """Every bound company prefix: (prefix, participant, bound at)."""
    q = select(company_prefixes.c.prefix, company_prefixes.c.participant_id, company_prefixes.c.added_at)
    return [(p, pid, at) for p, pid, at in conn.execute(q)]


def prefixes_of(conn: Connection, participant: str) -> list[str]:
    """The GS1 company prefixes bound to a participant."""
    q = select(company_prefixes.c.prefix).where(company_prefixes.c.participant_id == participant)
    return sorted(conn.execute(q).scalars())


def prefix_owner(conn: Connection, digits: Iterable[str]) -> dict[str, str]:
    """For each key (the digits of a GS1 key after its indicator/extension digit), the participant whose company
    prefix it starts with, if any (prefixes never nest, so there is at most one)."""
    wanted = sorted(set(digits))
    if not wanted:
        return {}
    bound = conn.execute(select(company_prefixes.c.prefix, company_prefixes.c.participant_id)).all()
    return owners_by_prefix([(prefix, pid) for prefix, pid in bound], wanted)


def credits_for(conn: Connection, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[float]]:
    wanted = set(keys)
    out: dict[tuple[str, str], list[float]] = {}
    for chunk in _chunks(sorted({f for f, _ in wanted})):
        for row in conn.execute(_CREDITS_IN, {"ids": list(chunk)}).mappings():
            key = (row["facility_id"], row["period"])
            if key in wanted:
                out[key] = [row["credited_kg"], row["claimed_kg"]]
    return out


def write_credits(conn: Connection, values: dict[tuple[str, str], list[float]]) -> None:
    if not values:
        return
    for f, p in values:
        conn.execute(delete(credits).where(credits.c.facility_id == f, credits.c.period == p))
    conn.execute(
        insert(credits),
        [
            {"facility_id": f, "period": p, "credited_kg": v[0], "claimed_kg": v[1]}
            for (f, p), v in values.items()
        ],
    )


DOCUMENT_CODEC = "zlib"
_ZLIB_LEVEL = 3  # ~20× on EPCIS JSON at ~1.7 µs per event (levels 6–9 save a third more at 2–6× the time)


def insert_document_bytes(conn: Connection, sha256: str, data: bytes) -> None:
    """Keep a captured document's signed bytes (compressed), in the capture's transaction."""
    conn.execute(
        insert(document_bytes).values(
            sha256=sha256, codec=DOCUMENT_CODEC, body=zlib.compress(data, _ZLIB_LEVEL)
        )
    )


def stored_document_bytes(conn: Connection, sha256s: Sequence[str]) -> dict[str, bytes]:
    """sha256 -> the signed bytes of those documents that have them (documents captured before trace_0005 do
    not). A row whose codec is unknown or whose body does not decompress is returned as b"" (it then fails the
    SHA-256 check, by name)."""
    out: dict[str, bytes] = {}
    for chunk in _chunks(list(sha256s)):
        q = select(document_bytes).where(document_bytes.c.sha256.in_(chunk))
        for sha, codec, body in conn.execute(q):
            try:
                out[sha] = zlib.decompress(body) if codec == DOCUMENT_CODEC else b""
            except zlib.error:
                out[sha] = b""
    return out


def _plain(table: Table, columns: Sequence[str]) -> bool:
    """Whether every column is a string, integer or float, which both drivers bind as they are."""
    return all(isinstance(table.c[c].type, String | Integer | Float) for c in columns)


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys). Rows of plain columns go to the driver's executemany as
    tuples: SQLAlchemy's per-row parameter processing cost more than SQLite's own insert work at capture's
    thousands of rows per document."""
    if not rows:
        return
    columns = list(rows[0])
    if not _plain(table, columns):
        conn.execute(insert(table), rows)
        return
    row_of = itemgetter(*columns)
    tuples = [row_of(r) for r in rows] if len(columns) > 1 else [(row_of(r),) for r in rows]
    driver.insert_tuples(conn, table.name, columns, tuples)


def sources_of(conn: Connection, lot_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Composition edges of the given lots (one level up the graph)."""
    out: list[dict[str, Any]] = []
    for chunk in _chunks(list(lot_ids)):
        q = select(
            lot_sources.c.lot_id,
            lot_sources.c.facility_id,
            lot_sources.c.source_lot,
            lot_sources.c.metal_kg,
            lot_sources.c.event_time,
        ).where(lot_sources.c.lot_id.in_(chunk))
        out.extend(dict(r) for r in conn.execute(q).mappings())
    return out


def facilities_all(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every facility with its certifications (the directory is small next to the event tables)."""
    out = {r["id"]: {**r, "certifications": []} for r in conn.execute(select(facilities)).mappings()}
    for row in conn.execute(select(certifications)).mappings():
        out[row["facility_id"]]["certifications"].append(dict(row))
    return out


def lot_ids_like(conn: Connection, text: str) -> list[str]:
    """Up to five lots whose id ends with ``text`` (users type the lot number, not the whole epcClass), taken
    literally: ``%`` and ``_`` are escaped (``LIKE … ESCAPE '/'``), not wildcards. Unscoped: for the operator's
    CLI; the API matches among the caller's lots (:func:`lodeline.store.registry_reads.lots_ending_with`)."""
    q = select(lots.c.id).where(lots.c.id.endswith(text, autoescape=True)).order_by(lots.c.id).limit(5)
    return list(conn.execute(q).scalars())


def iter_event_hashes_and_bodies(conn: Connection, chunk: int = 5000) -> Iterator[tuple[str, str]]:
    """(hash ID, stored body) of every stored event, in capture order, read in chunks."""
    last = 0
    while True:
        q = (
            select(events.c.seq, events.c.hash_id, events.c.body)
            .where(events.c.seq > last)
            .order_by(events.c.seq)
        )
        rows = conn.execute(q.limit(chunk)).all()
        if not rows:
            return
        for seq, hash_id, body in rows:
            last = seq
            yield hash_id, body


def iter_event_bodies(conn: Connection, chunk: int = 5000) -> Iterator[tuple[int | None, str]]:
    """(leaf_index, stored body) of every stored event, in capture order, read in chunks."""
    last = 0
    while True:
        q = (
            select(events.c.seq, events.c.leaf_index, events.c.body)
            .where(events.c.seq > last)
            .order_by(events.c.seq)
            .limit(chunk)
        )
        rows = conn.execute(q).all()
        if not rows:
            return
        for seq, leaf, body in rows:
            last = seq
            yield leaf, body


_UPSTREAM_SQL = text(
    """
    WITH RECURSIVE up(lot) AS (
        SELECT CAST(:lot AS VARCHAR(240))
        UNION
        SELECT s.source_lot FROM trace_lot_sources s JOIN up ON s.lot_id = up.lot WHERE s.source_lot IS NOT NULL
    )
    SELECT s.lot_id, s.facility_id, s.source_lot, s.metal_kg, l.recycled, l.certified_fraction, l.opening_stock
    FROM trace_lot_sources s
    JOIN up ON s.lot_id = up.lot
    LEFT JOIN trace_lots l ON s.source_lot IS NULL AND l.id = s.lot_id
    """
)


def upstream_edges(
    conn: Connection, lot_id: str
) -> list[tuple[str, str, str | None, float, str | None, float | None, str | None]]:
    """Every composition edge upstream of a lot in one recursive query: (lot, facility, source lot or None for
    an origin, contained metal kg, and for an origin lot its recycled status, certified fraction and declared
    opening-stock reason)."""
    return [(r[0], r[1], r[2], r[3], r[4], r[5], r[6]) for r in conn.execute(_UPSTREAM_SQL, {"lot": lot_id})]
