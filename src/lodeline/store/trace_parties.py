"""Participants, their keys, facilities and certifications: the registry's directory (SQLAlchemy Core)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from lodeline.store.trace import certifications, company_prefixes, facilities, participant_keys, participants

#: The directory's tables; every change to them is logged as a directory leaf (lodeline.trace.directory).
DIRECTORY_TABLES = (participants, participant_keys, company_prefixes, facilities, certifications)


def get_participant(conn: Connection, pid: str) -> dict[str, Any] | None:
    row = conn.execute(select(participants).where(participants.c.id == pid)).mappings().first()
    return dict(row) if row else None


def add_participant(conn: Connection, pid: str, name: str, role: str, created_at: datetime) -> None:
    conn.execute(insert(participants).values(id=pid, name=name, role=role, created_at=created_at))


def add_key(conn: Connection, pid: str, key_id: str, public_key: str, valid_from: datetime) -> None:
    conn.execute(
        insert(participant_keys).values(
            key_id=key_id, participant_id=pid, public_key=public_key, valid_from=valid_from
        )
    )


def key_owner(conn: Connection, key_id: str) -> str | None:
    """The participant that registered ``key_id``, or ``None`` when no participant holds it."""
    return conn.execute(
        select(participant_keys.c.participant_id).where(participant_keys.c.key_id == key_id)
    ).scalar_one_or_none()


def keys_of(conn: Connection, pid: str) -> list[dict[str, Any]]:
    q = (
        select(participant_keys)
        .where(participant_keys.c.participant_id == pid)
        .order_by(participant_keys.c.valid_from)
    )
    return [dict(r) for r in conn.execute(q).mappings()]


def revoke_key(conn: Connection, key_id: str, at: datetime, reason: str | None) -> int:
    q = (
        update(participant_keys)
        .where(participant_keys.c.key_id == key_id, participant_keys.c.revoked_at.is_(None))
        .values(revoked_at=at, revocation_reason=reason)
    )
    return conn.execute(q).rowcount


def list_participants(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(participants).order_by(participants.c.id)).mappings().all()
    keys = conn.execute(select(participant_keys)).mappings().all()
    prefixes: dict[str, list[str]] = {}
    for prefix, pid in all_prefixes(conn):
        prefixes.setdefault(pid, []).append(prefix)
    out = []
    for p in rows:
        mine = [k for k in keys if k["participant_id"] == p["id"]]
        active = [k for k in mine if k["revoked_at"] is None]
        bound = " ".join(sorted(prefixes.get(p["id"], [])))
        out.append({**p, "keys": len(mine), "active_keys": len(active), "company_prefixes": bound})
    return out


def all_prefixes(conn: Connection) -> list[tuple[str, str]]:
    """Every bound GS1 company prefix: (prefix, participant id)."""
    q = select(company_prefixes.c.prefix, company_prefixes.c.participant_id).order_by(
        company_prefixes.c.prefix
    )
    return [(r[0], r[1]) for r in conn.execute(q)]


def add_prefix(conn: Connection, prefix: str, pid: str, added_at: datetime) -> None:
    conn.execute(insert(company_prefixes).values(prefix=prefix, participant_id=pid, added_at=added_at))


def add_facility(conn: Connection, row: dict[str, Any]) -> None:
    conn.execute(insert(facilities).values(**row))


def add_certification(
    conn: Connection, facility_id: str, scheme: str, certificate: str | None, valid_from: date, valid_to: date
) -> int:
    """Insert one certification; returns its id."""
    result = conn.execute(
        insert(certifications).values(
            facility_id=facility_id,
            scheme=scheme,
            certificate=certificate,
            valid_from=valid_from,
            valid_to=valid_to,
        )
    )
    pk = result.inserted_primary_key
    assert pk is not None
    return int(pk[0])


def key_row(conn: Connection, key_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(participant_keys).where(participant_keys.c.key_id == key_id)).mappings().first()
    return dict(row) if row else None


def directory_rows(conn: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every directory table, by table name (the directory is small next to the event tables)."""
    return {
        table.name: [dict(r) for r in conn.execute(select(table)).mappings()] for table in DIRECTORY_TABLES
    }


def get_facility(conn: Connection, fid: str) -> dict[str, Any] | None:
    row = conn.execute(select(facilities).where(facilities.c.id == fid)).mappings().first()
    if row is None:
        return None
    certs = conn.execute(
        select(certifications)
        .where(certifications.c.facility_id == fid)
        .order_by(certifications.c.valid_from)
    ).mappings()
    return {**row, "certifications": [dict(c) for c in certs]}


def list_facilities(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(facilities).order_by(facilities.c.id)).mappings()]
