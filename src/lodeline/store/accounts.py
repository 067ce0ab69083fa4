"""Accounts, API tokens, browser sessions, the audit log and member submissions (SQLAlchemy Core).

Secrets never reach the database in clear: tokens and session ids are random 256-bit values, stored as
their SHA-256 (a fast hash is the right tool for high-entropy secrets; passwords are not used). Every
function that writes runs in one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata

ROLES = ("public", "member", "participant", "auditor", "admin", "secretariat")
TOKEN_PREFIX = "ll"

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    # the organisation the account acts for: a country delegation (ISO3) or a company id
    Column("org", String(120)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("label", String(120), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True)),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("token_id", String(16), ForeignKey("api_tokens.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    # e.g. login.failed, login.ok, write, token.create, token.revoke
    Column("event", String(32), nullable=False),
    Column("account_id", Integer),
    Column("token_id", String(16)),
    Column("method", String(8)),
    Column("path", String(400)),
    Column("status", Integer),
    Column("client", String(64)),
    Column("detail", Text),
    # An aggregated row (failed sign-ins) stands for ``count`` events from ``at`` to ``last_at`` on ``subject``,
    # the throttled key (lodeline.store.throttle); every other row is one event (count 1, no last_at).
    Column("count", Integer, nullable=False, server_default="1"),
    Column("last_at", DateTime(timezone=True)),
    Column("subject", String(80)),
)

member_submissions = Table(
    "member_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # the owning organisation; only it (and auditors/admins) may read the row
    Column("org", String(120), nullable=False),
    Column("account_id", Integer, ForeignKey("accounts.id"), nullable=False),
    Column("mineral", String(48), nullable=False),
    Column("year", Integer, nullable=False),
    Column("metric", String(48), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(48), nullable=False),
    Column("note", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Secrets the service generates for itself and shares between its workers and hosts through the store
#: (e.g. the key that binds a login form's CSRF token to its pre-session cookie). Created on first use.
service_secrets = Table(
    "service_secrets",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("secret_hex", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

ACCOUNT_TABLES: tuple[Table, ...] = (accounts, api_tokens, web_sessions, audit_log, member_submissions)


@dataclass(frozen=True)
class Principal:
    """Who is asking. The anonymous caller is ``Principal.anonymous()`` with role ``public``."""

    role: str
    account_id: int | None = None
    name: str | None = None
    org: str | None = None
    token_id: str | None = None

    @staticmethod
    def anonymous() -> Principal:
        return Principal(role="public")

    @property
    def authenticated(self) -> bool:
        return self.account_id is not None


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _new_id(result: Any) -> int:
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# ---------------------------------------------------------------------------------------------- tokens
#: Names that stay readable in logs, tables and terminals: no control characters, no spaces, bounded length.
#: (An organisation is an ISO3 code or a trace participant id, which has no stricter syntax.)
_NAME = re.compile(r"^[^\s\x00-\x1f\x7f]{1,120}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN_ID = re.compile(r"^[0-9a-f]{12}$")


def _check_name(what: str, value: str) -> None:
    if not _NAME.match(value):
        shown = f"{value[:40]!r}{'…' if len(value) > 40 else ''}"
        raise InvalidArgumentError(f"{what} {shown}: 1–120 characters, no spaces or control characters")


def create_token(
    engine: Engine, account: str, role: str, org: str | None = None, label: str = ""
) -> tuple[str, str]:
    """Create (or reuse) ``account`` and issue a token for it. Returns (token id, the full token, shown once)."""
    if role not in ROLES or role == "public":
        raise InvalidArgumentError(f"role {role!r} cannot hold a token; choose one of {', '.join(ROLES[1:])}")
    if role in ("member", "participant") and not org:
        raise InvalidArgumentError(f"a {role} acts for an organisation: pass --org (ISO3 or company id)")
    _check_name("account", account)
    if org is not None:
        _check_name("org", org)
    if len(label) > 120 or _CONTROL.search(label):
        raise InvalidArgumentError("label: at most 120 characters, no control characters")
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    with write_transaction(engine) as conn:
        row = conn.execute(select(accounts).where(accounts.c.name == account)).mappings().first()
        if row is None:
            account_id = _new_id(
                conn.execute(insert(accounts).values(name=account, role=role, org=org, created_at=_now()))
            )
        else:
            if row["role"] != role or (row["org"] or None) != (org or None):
                raise InvalidArgumentError(
                    f"account {account!r} exists with role {row['role']!r} and org {row['org']!r}; "
                    "a token carries its account's role"
                )
            account_id = row["id"]
        conn.execute(
            insert(api_tokens).values(
                id=token_id,
                account_id=account_id,
                secret_sha256=sha256_hex(secret),
                label=label,
                created_at=_now(),
            )
        )
        conn.execute(
            insert(audit_log).values(
                at=_now(), event="token.create", account_id=account_id, token_id=token_id, detail=label
            )
        )
    return token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}"


def revoke_token(engine: Engine, token_id: str) -> None:
    if not _TOKEN_ID.match(token_id):
        raise InvalidArgumentError(
            f"{token_id[:40]!r} is not a token id (12 hex digits, see `lodeline admin token list`)"
        )
    with write_transaction(engine) as conn:
        found = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        ).rowcount
        if not found:
            raise NotFoundError(f"no active token {token_id!r} (see `lodeline admin token list`)")
        conn.execute(web_sessions.delete().where(web_sessions.c.token_id == token_id))
        conn.execute(insert(audit_log).values(at=_now(), event="token.revoke", token_id=token_id))


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    query = (
        select(
            api_tokens.c.id,
            accounts.c.name.label("account"),
            accounts.c.role,
            accounts.c.org,
            api_tokens.c.label,
            api_tokens.c.created_at,
            api_tokens.c.revoked_at,
        )
        .join(accounts, accounts.c.id == api_tokens.c.account_id)
        .order_by(api_tokens.c.created_at, api_tokens.c.id)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def token_id_of(token: str) -> str | None:
    """The public id part of a presented token ``ll_<id>_<secret>`` (None when it does not have that shape)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or len(parts[1]) > 16:
        return None
    return parts[1]


@dataclass(frozen=True)
class TokenCheck:
    """The outcome of checking a presented token: the principal, or why not (and whether its id exists)."""

    principal: Principal | None
    token_id: str | None  # the id of an existing token the presented one named (even when it failed)
    reason: str  # ok, malformed, unknown, revoked, wrong-secret


def check_token(engine: Engine, token: str) -> TokenCheck:
    token_id = token_id_of(token)
    if token_id is None:
        return TokenCheck(None, None, "malformed")
    secret = token.split("_", 2)[2]
    query = (
        select(api_tokens.c.secret_sha256, api_tokens.c.revoked_at, accounts)
        .join(accounts, accounts.c.id == api_tokens.c.account_id)
        .where(api_tokens.c.id == token_id)
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None:
        return TokenCheck(None, None, "unknown")
    if row["revoked_at"] is not None:
        return TokenCheck(None, token_id, "revoked")
    if not hmac.compare_digest(row["secret_sha256"], sha256_hex(secret)):
        return TokenCheck(None, token_id, "wrong-secret")
    principal = Principal(
        role=row["role"], account_id=row["id"], name=row["name"], org=row["org"], token_id=token_id
    )
    return TokenCheck(principal, token_id, "ok")


def authenticate_token(engine: Engine, token: str) -> Principal | None:
    """The principal for a presented token, or None when it is malformed, unknown or revoked."""
    return check_token(engine, token).principal


# -------------------------------------------------------------------------------------------- sessions
def create_session(engine: Engine, principal: Principal, lifetime: dt.timedelta) -> tuple[str, str]:
    """Open a browser session for an authenticated principal. Returns (cookie value, CSRF token)."""
    assert principal.account_id is not None and principal.token_id is not None
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = _now()
    with write_transaction(engine) as conn:
        conn.execute(
            insert(web_sessions).values(
                id_sha256=sha256_hex(session_id),
                account_id=principal.account_id,
                token_id=principal.token_id,
                csrf_token=csrf,
                created_at=now,
                expires_at=now + lifetime,
            )
        )
    return session_id, csrf


def session_principal(engine: Engine, session_id: str) -> tuple[Principal, str] | None:
    """(principal, CSRF token) of a live session, or None."""
    query = (
        select(web_sessions.c.csrf_token, web_sessions.c.expires_at, web_sessions.c.token_id, accounts)
        .join(accounts, accounts.c.id == web_sessions.c.account_id)
        .join(api_tokens, api_tokens.c.id == web_sessions.c.token_id)
        .where(web_sessions.c.id_sha256 == sha256_hex(session_id), api_tokens.c.revoked_at.is_(None))
    )
    with engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    if row is None or _as_utc(row["expires_at"]) <= _now():
        return None
    principal = Principal(
        role=row["role"], account_id=row["id"], name=row["name"], org=row["org"], token_id=row["token_id"]
    )
    return principal, row["csrf_token"]


def end_session(engine: Engine, session_id: str) -> None:
    with write_transaction(engine) as conn:
        conn.execute(web_sessions.delete().where(web_sessions.c.id_sha256 == sha256_hex(session_id)))


# ------------------------------------------------------------------------------------------------ audit
def record_audit(
    engine: Engine,
    event: str,
    *,
    principal: Principal | None = None,
    method: str | None = None,
    path: str | None = None,
    status: int | None = None,
    client: str | None = None,
    detail: str | None = None,
) -> None:
    with write_transaction(engine) as conn:
        conn.execute(
            insert(audit_log).values(
                at=_now(),
                event=event,
                account_id=principal.account_id if principal else None,
                token_id=principal.token_id if principal else None,
                method=method,
                path=(path or "")[:400] or None,
                status=status,
                client=client,
                detail=detail,
            )
        )


def upsert_for(conn: Connection, table: Table) -> Any:
    """``INSERT`` with the backend's ``ON CONFLICT`` clauses (SQLite and PostgreSQL spell them the same)."""
    if conn.dialect.name == "postgresql":
        return pg_insert(table)
    return sqlite_insert(table)


def service_secret(engine: Engine, name: str) -> bytes:
    """The service's 256-bit secret ``name``, created at first use; every worker and host reads the same one."""
    query = select(service_secrets.c.secret_hex).where(service_secrets.c.name == name)
    with engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found is None:
        with write_transaction(engine) as conn:
            conn.execute(
                upsert_for(conn, service_secrets)
                .values(name=name, secret_hex=secrets.token_hex(32), created_at=_now())
                .on_conflict_do_nothing(index_elements=["name"])
            )
            found = conn.execute(query).scalar_one()  # ours, or the one another worker created first
    return bytes.fromhex(found)


def read_audit(engine: Engine, limit: int = 100, event: str | None = None) -> list[dict[str, Any]]:
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if event:
        query = query.where(audit_log.c.event == event)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


# ---------------------------------------------------------------------------------- member submissions
def insert_submission(engine: Engine, principal: Principal, values: dict[str, Any]) -> dict[str, Any]:
    assert principal.account_id is not None and principal.org
    row = {**values, "org": principal.org, "account_id": principal.account_id, "created_at": _now()}
    with write_transaction(engine) as conn:
        new_id = _new_id(conn.execute(insert(member_submissions).values(**row)))
    return {"id": new_id, **row}


def select_submissions(
    engine: Engine, org: str | None, submission_id: int | None = None
) -> list[dict[str, Any]]:
    """Submissions of ``org`` (None = every organisation: only the access layer decides to pass None)."""
    query = select(member_submissions).order_by(member_submissions.c.id)
    if org is not None:
        query = query.where(member_submissions.c.org == org)
    if submission_id is not None:
        query = query.where(member_submissions.c.id == submission_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def submission_owner(engine: Engine, submission_id: int) -> str | None:
    with engine.connect() as conn:
        return conn.execute(
            select(member_submissions.c.org).where(member_submissions.c.id == submission_id)
        ).scalar()


def data_version(engine: Engine) -> str:
    """A short marker of the canonical data build (changes on every rebuild); '' on an empty store."""
    from lodeline.store.schema import build_runs

    with engine.connect() as conn:
        row = conn.execute(
            select(build_runs.c.id, build_runs.c.inputs_sha256).order_by(build_runs.c.id.desc()).limit(1)
        ).first()
    return f"{row[0]}-{row[1][:12]}" if row else ""


def count_accounts(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(accounts)).scalar() or 0)


__all__ = [
    "ACCOUNT_TABLES",
    "ROLES",
    "Principal",
    "TokenCheck",
    "authenticate_token",
    "check_token",
    "create_session",
    "create_token",
    "data_version",
    "end_session",
    "insert_submission",
    "list_tokens",
    "read_audit",
    "record_audit",
    "revoke_token",
    "select_submissions",
    "service_secret",
    "session_principal",
    "submission_owner",
    "token_id_of",
]
