"""Traceability registry write path: participants, keys, facilities, events, custody ledger.

Revision ID: trace_0001
Revises:
Branch: trace (depends on foundation_0001).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

revision = "trace_0001"
down_revision = None
branch_labels = ("trace",)
depends_on = "foundation_0001"


# The tables as this revision creates them, copied from lodeline.store.trace on the day the migration was frozen
# (issue 12; later revisions that add a column check for it first): a migration imports no application code that
# can change (docs/ARCHITECTURE.md, Migrations).
_metadata = MetaData()

participants = Table(
    "trace_participants",
    _metadata,
    Column("id", String(200), primary_key=True),
    Column("name", String(240), nullable=False),
    # miner | refiner | trader | manufacturer | recycler | auditor
    Column("role", String(24), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

participant_keys = Table(
    "trace_participant_keys",
    _metadata,
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
    _metadata,
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
    _metadata,
    # A GS1 company prefix (6–12 digits) and the one participant it is bound to: lots and EPCs a participant
    # creates must carry one of its prefixes. No two prefixes nest (one is never a prefix of another).
    Column("prefix", String(12), primary_key=True),
    Column("participant_id", String(200), ForeignKey("trace_participants.id"), nullable=False, index=True),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

certifications = Table(
    "trace_certifications",
    _metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("facility_id", String(200), ForeignKey("trace_facilities.id"), nullable=False, index=True),
    Column("scheme", String(64), nullable=False),  # RMAP | IRMA | ISO 14001 | …
    Column("certificate", String(120)),
    Column("valid_from", Date, nullable=False),
    Column("valid_to", Date, nullable=False),
)

documents = Table(
    "trace_documents",
    _metadata,
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
    _metadata,
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
    _metadata,
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
    _metadata,
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
    _metadata,
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
    _metadata,
    # Which events name an EPC (canonical Digital Link): instance EPCs of every event, quantity classes of events
    # that move no material. With trace_lot_movements it answers events?epc= without scanning event bodies.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("epc", String(240), nullable=False),
    Column("event_hash", String(100), nullable=False),
    Index("ix_trace_event_epcs_epc", "epc"),
)

balances = Table(
    "trace_balances",
    _metadata,
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
    _metadata,
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
    _metadata,
    Column("facility_id", String(200), nullable=False),
    Column("period", String(8), nullable=False),
    Column("credited_kg", Float, nullable=False),  # certified contained metal received into processes
    Column("claimed_kg", Float, nullable=False),  # certified contained metal claimed on outputs
    UniqueConstraint("facility_id", "period", name="uq_trace_credits"),
)

_TRACE_TABLES: tuple[Table, ...] = (
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


def upgrade() -> None:
    bind = op.get_bind()
    for table in _TRACE_TABLES:
        table.create(bind, checkfirst=True)


def downgrade() -> None:
    bind = op.get_bind()
    for table in reversed(_TRACE_TABLES):
        table.drop(bind, checkfirst=True)
