"""Failed sign-in counters shared by every worker and host, and their aggregated audit rows.

A *key* is what is throttled: a client address (``client:203.0.113.7``, IPv6 by /64) or an account (``token:<id>``,
the public id of an existing API token). A key's window opens at its first failure and lasts ``window`` seconds
(so a burst is never split by a clock boundary); its row holds the window's start, its failures in it, until when
it is blocked, and the audit row that aggregates those failures. Only failures write; checking whether a key is blocked is one indexed read.

Both backends serialise updates of one key: SQLite takes the store's write lock at BEGIN, PostgreSQL's
``INSERT … ON CONFLICT DO UPDATE`` locks the key's row until commit. Keys are taken in sorted order so two
transactions never wait on each other in a cycle.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Index,
    Integer,
    String,
    Table,
    case,
    delete,
    insert,
    select,
    update,
)

from lodeline.store.accounts import audit_log, upsert_for
from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata

FAILED_SIGN_IN = "login.failed"

auth_throttle = Table(
    "auth_throttle",
    metadata,
    Column("key", String(80), primary_key=True),
    Column(
        "window_start", BigInteger, nullable=False
    ),  # Unix seconds: the key's first failure in this window
    Column("failures", Integer, nullable=False),
    Column("blocked_until", BigInteger, nullable=False),  # Unix seconds; 0 = not blocked
    Column("audit_id", Integer),  # the audit_log row aggregating this window's failures
    Index("ix_auth_throttle_window", "window_start"),
)


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as the audit log records it."""

    method: str | None
    path: str | None
    status: int
    client: str | None
    token_id: str | None
    detail: str


@dataclass(frozen=True)
class Recorded:
    over_limit: bool  # this attempt was beyond a key's limit (it raced past the check): refuse it with 429
    blocked: dict[str, int]  # the keys now blocked, and until when (Unix seconds)


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def blocked(engine: Engine, keys: Sequence[str], now: float) -> dict[str, int]:
    """Which of ``keys`` are blocked, and until when (Unix seconds)."""
    if not keys:
        return {}
    query = select(auth_throttle.c.key, auth_throttle.c.blocked_until).where(
        auth_throttle.c.key.in_(list(keys)), auth_throttle.c.blocked_until > int(now)
    )
    with engine.connect() as conn:
        return {str(key): int(until) for key, until in conn.execute(query)}


def record_failure(
    engine: Engine, limits: Sequence[tuple[str, int]], failure: Failure, *, window: int, now: float
) -> Recorded:
    """Count ``failure`` against each (key, limit) in one transaction and aggregate it into the keys' audit rows.

    The key whose failures reach its limit is blocked until the end of its window.
    """
    second = int(now)
    at = _utc(now)
    over, now_blocked, new_window = False, {}, False
    with write_transaction(engine) as conn:
        for key, limit in sorted(set(limits)):
            same = auth_throttle.c.window_start > second - window  # the key's window is still open
            row = conn.execute(
                upsert_for(conn, auth_throttle)
                .values(key=key, window_start=second, failures=1, blocked_until=0, audit_id=None)
                .on_conflict_do_update(
                    index_elements=["key"],
                    set_={
                        "failures": case((same, auth_throttle.c.failures + 1), else_=1),
                        "blocked_until": case((same, auth_throttle.c.blocked_until), else_=0),
                        "audit_id": case((same, auth_throttle.c.audit_id), else_=None),
                        "window_start": case((same, auth_throttle.c.window_start), else_=second),
                    },
                )
                .returning(
                    auth_throttle.c.failures,
                    auth_throttle.c.blocked_until,
                    auth_throttle.c.audit_id,
                    auth_throttle.c.window_start,
                )
            ).one()
            failures, blocked, audit_id, window_start = int(row[0]), int(row[1]), row[2], int(row[3])
            new_window = new_window or failures == 1
            newly_blocked = failures >= limit and not blocked
            if newly_blocked:
                blocked = window_start + window
            # every update rewrites the row's detail with the latest attempt's; a block stays visible
            detail = failure.detail + (
                f"; throttled until {_utc(blocked).isoformat(timespec='seconds')}" if blocked else ""
            )
            values: dict[str, Any] = {
                "last_at": at,
                "method": failure.method,
                "path": (failure.path or "")[:400] or None,
                "status": failure.status,
                "client": failure.client,
                "token_id": failure.token_id,
                "detail": detail[:2000],
            }
            if audit_id is None:
                audit_id = conn.execute(
                    insert(audit_log).values(at=at, event=FAILED_SIGN_IN, count=1, subject=key, **values)
                ).inserted_primary_key[0]  # type: ignore[index]
            else:
                conn.execute(
                    update(audit_log)
                    .where(audit_log.c.id == audit_id)
                    .values(count=audit_log.c.count + 1, **values)
                )
            conn.execute(
                update(auth_throttle)
                .where(auth_throttle.c.key == key)
                .values(audit_id=audit_id, blocked_until=blocked)
            )
            over = over or failures > limit
            if blocked:
                now_blocked[key] = blocked
    if new_window:
        # Forget what earlier windows left behind, at most once per key and window. In its own transaction:
        # inside the one above it could wait for a row another failure's transaction holds while that one
        # waits for ours.
        with write_transaction(engine) as conn:
            conn.execute(
                delete(auth_throttle).where(
                    auth_throttle.c.window_start <= second - window, auth_throttle.c.blocked_until <= second
                )
            )
    return Recorded(over, now_blocked)


def list_keys(engine: Engine, now: float, window: int) -> list[dict[str, Any]]:
    """Every key whose window (``window`` seconds from its first failure) is still open, or that is blocked."""
    second = int(now)
    query = (
        select(auth_throttle)
        .where((auth_throttle.c.window_start > second - window) | (auth_throttle.c.blocked_until > second))
        .order_by(auth_throttle.c.blocked_until.desc(), auth_throttle.c.key)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query).mappings()]
    return [
        {
            "key": r["key"],
            "window_start": _utc(r["window_start"]),
            "failures": r["failures"],
            "blocked_until": _utc(r["blocked_until"]) if r["blocked_until"] > second else None,
        }
        for r in rows
    ]


def reset(engine: Engine, key: str | None) -> int:
    """Forget ``key``'s failures (every key when None). Returns how many keys were reset; audits a reset."""
    with write_transaction(engine) as conn:
        query = delete(auth_throttle)
        if key is not None:
            query = query.where(auth_throttle.c.key == key)
        count = conn.execute(query).rowcount or 0
        if not count:
            return 0
        conn.execute(
            insert(audit_log).values(
                at=_utc(time.time()),
                event="throttle.reset",
                subject=key[:80] if key else None,
                detail=f"{count} key(s) reset" + ("" if key else " (all)"),
            )
        )
    return count
