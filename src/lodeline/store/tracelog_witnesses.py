"""Tables and queries of the registry's witnesses and the cosignatures they returned (both backends).

- ``tracelog_witnesses``: the witnesses the registry asks to cosign its checkpoints (C2SP tlog-witness): the
  cosigner's key name, its submission URL prefix and verifier key, and what the registry last learnt of its state
  (the size it last cosigned for an origin, the last error).
- ``tracelog_cosignatures``: one row per (checkpoint, witness): the C2SP cosignature line exactly as returned,
  with its key ID and timestamp. The checkpoint's signed note (``tracelog_checkpoints.note``) stays the registry's
  own; the served note is that note followed by these lines.

Created by migration tracelog_0004.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from lodeline.store.schema import metadata

tracelog_witnesses = Table(
    "tracelog_witnesses",
    metadata,
    Column("name", String(255), primary_key=True),  # the cosigner's key name (from its vkey)
    Column("url", String(1000), nullable=False),  # submission prefix: POST <url>/add-checkpoint
    Column("vkey", Text, nullable=False),  # cosignature/v1 verifier key (type 0x04)
    Column("known_origin", String(255)),  # the origin known_size refers to
    Column("known_size", BigInteger, nullable=False),  # size the witness last said it cosigned (our view)
    Column("last_contact", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("added_at", DateTime(timezone=True), nullable=False),
)

tracelog_cosignatures = Table(
    "tracelog_cosignatures",
    metadata,
    Column(
        "checkpoint_id",
        Integer,
        ForeignKey("tracelog_checkpoints.checkpoint_id"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("witness_name", String(255), primary_key=True),
    Column("key_id", String(8), nullable=False),
    Column("timestamp", BigInteger, nullable=False),  # POSIX seconds, as signed
    Column("line", Text, nullable=False),  # "— <name> <base64>" without the final newline
    Column("received_at", DateTime(timezone=True), nullable=False),
)

WITNESS_TABLES = (tracelog_witnesses, tracelog_cosignatures)


def add_witness(conn: Connection, *, name: str, url: str, vkey: str, at: datetime) -> bool:
    """Add a witness; False if one with this name exists (it is then updated to the new URL and key)."""
    exists = conn.execute(select(tracelog_witnesses.c.name).where(tracelog_witnesses.c.name == name)).first()
    if exists is not None:
        conn.execute(
            update(tracelog_witnesses)
            .where(tracelog_witnesses.c.name == name)
            .values(url=url, vkey=vkey, known_origin=None, known_size=0, last_error=None)
        )
        return False
    conn.execute(insert(tracelog_witnesses).values(name=name, url=url, vkey=vkey, known_size=0, added_at=at))
    return True


def remove_witness(conn: Connection, name: str) -> bool:
    """Remove a witness (its past cosignatures stay: they were valid statements when made)."""
    return bool(conn.execute(delete(tracelog_witnesses).where(tracelog_witnesses.c.name == name)).rowcount)


def witnesses(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(tracelog_witnesses).order_by(tracelog_witnesses.c.name)).mappings()
    return [dict(r) for r in rows]


def record_contact(
    conn: Connection, name: str, *, at: datetime, origin: str, size: int | None, error: str | None
) -> None:
    """What a witness answered: the size it now holds for ``origin`` (when it said), and the error if any."""
    values: dict[str, Any] = {"last_contact": at, "last_error": error}
    if size is not None:
        values |= {"known_origin": origin, "known_size": size}
    conn.execute(update(tracelog_witnesses).where(tracelog_witnesses.c.name == name).values(**values))


def insert_cosignature(
    conn: Connection,
    *,
    checkpoint_id: int,
    witness_name: str,
    key_id: str,
    timestamp: int,
    line: str,
    at: datetime,
) -> bool:
    """Store a cosignature unless this witness already cosigned this checkpoint; True if stored."""
    c = tracelog_cosignatures.c
    exists = conn.execute(
        select(c.witness_name).where(c.checkpoint_id == checkpoint_id, c.witness_name == witness_name)
    ).first()
    if exists is not None:
        return False
    conn.execute(
        insert(tracelog_cosignatures).values(
            checkpoint_id=checkpoint_id,
            witness_name=witness_name,
            key_id=key_id,
            timestamp=timestamp,
            line=line,
            received_at=at,
        )
    )
    return True


def cosignatures(conn: Connection, checkpoint_id: int) -> list[dict[str, Any]]:
    """The cosignatures of a checkpoint, by witness name."""
    c = tracelog_cosignatures.c
    rows = conn.execute(
        select(tracelog_cosignatures).where(c.checkpoint_id == checkpoint_id).order_by(c.witness_name)
    ).mappings()
    return [dict(r) for r in rows]
