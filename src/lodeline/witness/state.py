"""A witness's own state database: its name, the logs it follows and the latest checkpoint it cosigned for each.

It is separate from any registry store (the witness is run by a member, not by the registry): SQLite at
``<witness dir>/witness.sqlite`` by default, or any SQLAlchemy URL (PostgreSQL). Its three tables have their own
metadata, created on first open and versioned by ``witness_meta.schema_version``:

- ``witness_meta``: key/value (``name``: the cosigner's key name, fixed when the witness is created).
- ``witness_logs``: per origin, the log's verifier key and the latest cosigned (size, root, checkpoint text).
- ``witness_evidence``: requests the witness refused although the log's signature verified (a conflicting root
  or a proof that does not verify): signed evidence of a fork or rollback, kept for the members to see.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
    update,
)

from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.store.engine import make_engine, write_transaction

SCHEMA_VERSION = "1"
DEFAULT_NAME_PREFIX = "lodeline.local/witness"
EVIDENCE_PER_ORIGIN = 100

metadata = MetaData()

witness_meta = Table(
    "witness_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

witness_logs = Table(
    "witness_logs",
    metadata,
    Column("origin", String(255), primary_key=True),
    Column("vkey", Text, nullable=False),
    Column("tree_size", BigInteger, nullable=False),  # 0 until the first cosignature
    Column("root_hash", LargeBinary(32)),  # NULL until the first cosignature
    Column("checkpoint", Text),  # the note text last cosigned
    Column("added_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
)

witness_evidence = Table(
    "witness_evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("origin", String(255), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("status", Integer, nullable=False),
    Column("reason", Text, nullable=False),
    Column("request", Text, nullable=False),
)


class WitnessStateError(LodelineError):
    code = "witness-state"
    http_status = 500


def open_store(url: str) -> Engine:
    """The witness database at ``url``, created on first use."""
    engine = make_engine(url)
    metadata.create_all(engine, checkfirst=True)
    with write_transaction(engine) as conn:
        version = conn.execute(
            select(witness_meta.c.value).where(witness_meta.c.key == "schema_version")
        ).scalar_one_or_none()
        if version is None:
            conn.execute(insert(witness_meta).values(key="schema_version", value=SCHEMA_VERSION))
        elif version != SCHEMA_VERSION:
            raise WitnessStateError(
                f"{url}: witness schema version {version}, this Lodeline reads {SCHEMA_VERSION}"
            )
    return engine


def witness_name(engine: Engine, requested: str | None = None) -> str:
    """The witness's key name, fixed at creation (``requested``, else ``lodeline.local/witness/<random>``)."""
    if requested is not None and (not requested or "+" in requested or any(c.isspace() for c in requested)):
        raise InvalidArgumentError(f"witness name {requested!r} must be non-empty without spaces or '+'")
    with write_transaction(engine) as conn:
        name = conn.execute(
            select(witness_meta.c.value).where(witness_meta.c.key == "name")
        ).scalar_one_or_none()
        if name is None:
            name = requested or f"{DEFAULT_NAME_PREFIX}/{secrets.token_hex(8)}"
            conn.execute(insert(witness_meta).values(key="name", value=name))
        elif requested is not None and requested != name:
            raise InvalidArgumentError(
                f"this witness is named {name!r}; its name cannot change (it is part of its key ID)"
            )
    return str(name)


def add_log(engine: Engine, origin: str, vkey: str) -> bool:
    """Follow a log (True), or replace the verifier key of one already followed (False); its state is kept."""
    now = datetime.now(UTC)
    with write_transaction(engine) as conn:
        exists = conn.execute(select(witness_logs.c.origin).where(witness_logs.c.origin == origin)).first()
        if exists is None:
            conn.execute(insert(witness_logs).values(origin=origin, vkey=vkey, tree_size=0, added_at=now))
            return True
        conn.execute(update(witness_logs).where(witness_logs.c.origin == origin).values(vkey=vkey))
        return False


def logs(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(witness_logs).order_by(witness_logs.c.origin)).mappings()
        return [dict(r) for r in rows]


def log_vkey(conn: Connection, origin: str) -> str | None:
    value = conn.execute(
        select(witness_logs.c.vkey).where(witness_logs.c.origin == origin)
    ).scalar_one_or_none()
    return None if value is None else str(value)


def locked_head(conn: Connection, origin: str) -> tuple[int, bytes | None]:
    """(size, root) last cosigned for ``origin``, with the row locked until the end of the transaction
    (PostgreSQL ``FOR UPDATE``; SQLite: the caller's ``BEGIN IMMEDIATE``)."""
    query = select(witness_logs.c.tree_size, witness_logs.c.root_hash).where(witness_logs.c.origin == origin)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = conn.execute(query).first()
    if row is None:
        raise WitnessStateError(f"origin {origin!r} vanished from the witness state")
    return int(row[0]), None if row[1] is None else bytes(row[1])


def set_head(conn: Connection, origin: str, size: int, root: bytes, text: str) -> None:
    conn.execute(
        update(witness_logs)
        .where(witness_logs.c.origin == origin)
        .values(tree_size=size, root_hash=root, checkpoint=text, updated_at=datetime.now(UTC))
    )


def record_evidence(conn: Connection, origin: str, status: int, reason: str, request: str) -> None:
    """Keep a refused, validly log-signed request (the newest EVIDENCE_PER_ORIGIN per origin)."""
    conn.execute(
        insert(witness_evidence).values(
            origin=origin, received_at=datetime.now(UTC), status=status, reason=reason, request=request
        )
    )
    e = witness_evidence.c
    count = conn.execute(select(func.count()).where(e.origin == origin)).scalar_one()
    if count > EVIDENCE_PER_ORIGIN:
        oldest = select(e.id).where(e.origin == origin).order_by(e.id).limit(count - EVIDENCE_PER_ORIGIN)
        conn.execute(delete(witness_evidence).where(e.id.in_(oldest.scalar_subquery())))


def evidence(engine: Engine, origin: str | None = None) -> list[dict[str, Any]]:
    query = select(witness_evidence).order_by(witness_evidence.c.id)
    if origin is not None:
        query = query.where(witness_evidence.c.origin == origin)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
