"""Participants (with Ed25519 keys, rotation and revocation, and the GS1 company prefixes bound to them) and
facilities (with certifications).

These are the registry's directory. Every change is one transaction, which also appends the change to the registry's
Merkle log as a directory leaf (:mod:`lodeline.trace.directory`), so the directory at any log position can be
rebuilt from the log and an edited table is caught by ``lodeline trace audit``. Directory writes take the
registry lock, as capture does, so the log's order is the order captures saw the directory in. A revoked key stays
on record so signatures made before its revocation can still be explained. A GS1 company prefix belongs to exactly one participant, and
no bound prefix is a prefix of another (whoever holds ``952123`` would otherwise also claim every key under
``9521234``): capture only lets a participant create lots and EPCs under its own prefixes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from lodeline.domain.countries import resolve_country
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import trace_parties as db
from lodeline.store.engine import write_transaction
from lodeline.store.trace import lock_registry
from lodeline.trace import directory, keys
from lodeline.trace.identifiers import check_digit, to_digital_link
from lodeline.trace.log import append_leaves

ROLES = ("miner", "refiner", "trader", "manufacturer", "recycler", "auditor")
FACILITY_TYPES = (
    "mine",
    "concentrator",
    "refinery",
    "smelter",
    "precursor_plant",
    "cathode_plant",
    "magnet_plant",
    "cell_plant",
    "recycler",
    "warehouse",
)
CUSTODY_MODELS = ("segregated", "mass_balance")


def now() -> datetime:
    return datetime.now(UTC)


def _log(conn: Connection, at: datetime, changes: list[tuple[str, dict[str, Any]]]) -> None:
    """Append one directory leaf per (op, row) change, in the caller's transaction (the table write's)."""
    append_leaves(conn, [directory.leaf_data(op, row, at) for op, row in changes])


def facility_id(raw: str) -> str:
    """Canonical facility id: a 13-digit GLN, an SGLN URN or a GLN Digital Link become the DL URI; other URIs
    are kept as given."""
    raw = raw.strip()
    if raw.isdigit():
        if len(raw) != 13 or check_digit(raw[:12]) != raw[12]:
            raise InvalidArgumentError(f"facility id {raw!r}: not a valid 13-digit GLN (check digit)")
        return f"https://id.gs1.org/414/{raw}"
    dl = to_digital_link(raw)
    if dl:
        return dl
    if ":" not in raw:
        raise InvalidArgumentError(f"facility id {raw!r}: expected a GLN, an SGLN URN or a URI")
    return raw


def add_participant(
    engine: Engine, pid: str, name: str, role: str, public_key: str, prefixes: list[str] | None = None
) -> str:
    """Register a participant with its first public key and its GS1 company prefixes; returns the key id."""
    if role not in ROLES:
        raise InvalidArgumentError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    keys.load_public(public_key)
    kid = keys.key_id(public_key)
    wanted = [check_prefix(p) for p in prefixes or []]
    with write_transaction(engine) as conn:
        lock_registry(conn)
        if db.get_participant(conn, pid):
            raise InvalidArgumentError(f"participant {pid!r} already exists")
        _refuse_registered_key(conn, kid)
        at = now()
        db.add_participant(conn, pid, name, role, at)
        db.add_key(conn, pid, kid, public_key, at)
        changes = [
            ("participant-registered", {"id": pid, "name": name, "role": role, "created_at": at}),
            ("key-added", _key_row(pid, kid, public_key, at)),
        ]
        for prefix in wanted:
            changes.append(("prefix-bound", _bind(conn, pid, prefix, at)))
        _log(conn, at, changes)
    return kid


def _refuse_registered_key(conn: Connection, kid: str) -> None:
    """A key identifies one signer: the same public key cannot be registered twice (to anyone)."""
    owner = db.key_owner(conn, kid)
    if owner is not None:
        raise InvalidArgumentError(
            f"public key {kid} is already registered to participant {owner!r}; generate a new key "
            "(`lodeline trace keygen`)"
        )


def _key_row(pid: str, kid: str, public_key: str, at: datetime) -> dict[str, Any]:
    return {
        "key_id": kid,
        "participant_id": pid,
        "public_key": public_key,
        "valid_from": at,
        "revoked_at": None,
        "revocation_reason": None,
    }


def check_prefix(prefix: str) -> str:
    """A GS1 company prefix as given: 6 to 12 digits (GS1 General Specifications §1.4.3)."""
    prefix = prefix.strip()
    if not (prefix.isascii() and prefix.isdigit() and 6 <= len(prefix) <= 12):
        raise InvalidArgumentError(f"company prefix {prefix!r}: expected 6 to 12 digits")
    return prefix


def add_company_prefix(engine: Engine, pid: str, prefix: str) -> None:
    """Bind one more GS1 company prefix to a registered participant."""
    prefix = check_prefix(prefix)
    with write_transaction(engine) as conn:
        lock_registry(conn)  # two registrations of nesting prefixes must not both pass the check
        if not db.get_participant(conn, pid):
            raise NotFoundError(f"unknown participant {pid!r}")
        at = now()
        _log(conn, at, [("prefix-bound", _bind(conn, pid, prefix, at))])


def _bind(conn: Connection, pid: str, prefix: str, at: datetime) -> dict[str, Any]:
    for bound, owner in db.all_prefixes(conn):
        if bound == prefix and owner == pid:
            raise InvalidArgumentError(f"company prefix {prefix} is already bound to {pid!r}")
        if bound.startswith(prefix) or prefix.startswith(bound):
            whose = "another participant" if owner != pid else repr(pid)
            raise InvalidArgumentError(
                f"company prefix {prefix} overlaps prefix {bound} of {whose}: GS1 company prefixes never "
                "nest, so one of them is wrong"
            )
    db.add_prefix(conn, prefix, pid, at)
    return {"prefix": prefix, "participant_id": pid, "added_at": at}


def rotate_key(engine: Engine, pid: str, public_key: str, *, revoke_old: bool = False) -> str:
    """Add a new key; with ``revoke_old`` the participant's other active keys are revoked now."""
    keys.load_public(public_key)
    kid = keys.key_id(public_key)
    with write_transaction(engine) as conn:
        lock_registry(conn)
        if not db.get_participant(conn, pid):
            raise NotFoundError(f"unknown participant {pid!r}")
        _refuse_registered_key(conn, kid)
        at = now()
        changes: list[tuple[str, dict[str, Any]]] = []
        if revoke_old:
            for k in db.keys_of(conn, pid):
                if k["revoked_at"] is None:
                    db.revoke_key(conn, k["key_id"], at, "rotated")
                    changes.append(("key-revoked", k | {"revoked_at": at, "revocation_reason": "rotated"}))
        db.add_key(conn, pid, kid, public_key, at)
        _log(conn, at, [*changes, ("key-added", _key_row(pid, kid, public_key, at))])
    return kid


def revoke_key(
    engine: Engine, pid: str, kid: str, *, at: datetime | None = None, reason: str | None = None
) -> None:
    """Revoke a key from ``at`` (default now): nothing it signs is accepted after that time."""
    # stored in UTC: SQLite keeps no offset, so a local time would be read back as that wall time in UTC
    when = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC) if at is not None else None
    with write_transaction(engine) as conn:
        lock_registry(conn)
        owned = {k["key_id"]: k for k in db.keys_of(conn, pid)}
        if kid not in owned:
            raise NotFoundError(f"participant {pid!r} has no key {kid!r}")
        logged = now()
        when = when or logged
        if db.revoke_key(conn, kid, when, reason) == 0:
            raise InvalidArgumentError(f"key {kid!r} is already revoked")
        row = owned[kid] | {"revoked_at": when, "revocation_reason": reason}
        _log(conn, logged, [("key-revoked", row)])


def list_participants(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return db.list_participants(conn)


def participant_keys(engine: Engine, pid: str) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return db.keys_of(conn, pid)


def parse_certification(text: str) -> tuple[str, str | None, date, date]:
    """``SCHEME:FROM:TO`` or ``SCHEME:CERTIFICATE:FROM:TO`` (ISO dates), e.g. ``RMAP:2024-01-01:2026-12-31``."""
    parts = text.split(":")
    try:
        if len(parts) == 3:
            return parts[0], None, date.fromisoformat(parts[1]), date.fromisoformat(parts[2])
        if len(parts) == 4:
            return parts[0], parts[1], date.fromisoformat(parts[2]), date.fromisoformat(parts[3])
    except ValueError as exc:
        raise InvalidArgumentError(f"certification {text!r}: {exc}") from exc
    raise InvalidArgumentError(f"certification {text!r}: expected SCHEME[:CERTIFICATE]:FROM:TO")


def add_facility(
    engine: Engine,
    raw_id: str,
    *,
    name: str,
    facility_type: str,
    country: str,
    operator: str,
    latitude: float | None = None,
    longitude: float | None = None,
    custody_model: str = "segregated",
    certs: list[str] | None = None,
) -> str:
    if facility_type not in FACILITY_TYPES:
        raise InvalidArgumentError(
            f"facility type {facility_type!r}: expected one of {', '.join(FACILITY_TYPES)}"
        )
    if custody_model not in CUSTODY_MODELS:
        raise InvalidArgumentError(
            f"custody model {custody_model!r}: expected one of {', '.join(CUSTODY_MODELS)}"
        )
    if latitude is not None and not -90 <= latitude <= 90:
        raise InvalidArgumentError(f"latitude {latitude} out of range")
    if longitude is not None and not -180 <= longitude <= 180:
        raise InvalidArgumentError(f"longitude {longitude} out of range")
    fid = facility_id(raw_id)
    iso3 = resolve_country(country)
    parsed = [parse_certification(c) for c in certs or []]
    for scheme, _c, start, end in parsed:
        if end < start:
            raise InvalidArgumentError(f"certification {scheme}: valid_to {end} is before valid_from {start}")
    row = {
        "id": fid,
        "name": name,
        "facility_type": facility_type,
        "country": iso3,
        "latitude": latitude,
        "longitude": longitude,
        "operator_id": operator,
        "custody_model": custody_model,
    }
    with write_transaction(engine) as conn:
        lock_registry(conn)
        if not db.get_participant(conn, operator):
            raise NotFoundError(f"unknown operator participant {operator!r}")
        if db.get_facility(conn, fid):
            raise InvalidArgumentError(f"facility {fid!r} already exists")
        db.add_facility(conn, row)
        changes: list[tuple[str, dict[str, Any]]] = [("facility-registered", row)]
        for scheme, cert, start, end in parsed:
            cid = db.add_certification(conn, fid, scheme, cert, start, end)
            changes.append(
                (
                    "certification-added",
                    {
                        "id": cid,
                        "facility_id": fid,
                        "scheme": scheme,
                        "certificate": cert,
                        "valid_from": start,
                        "valid_to": end,
                    },
                )
            )
        _log(conn, now(), changes)
    return fid


def list_facilities(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return db.list_facilities(conn)


def show_facility(engine: Engine, raw_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        row = db.get_facility(conn, facility_id(raw_id))
    if row is None:
        raise NotFoundError(f"unknown facility {raw_id!r}")
    return row
