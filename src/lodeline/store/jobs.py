"""Background jobs (stress tests) in the store, so every ``serve`` worker process answers for every job.

A row is written when a job is accepted (``queued``), moved to ``running`` by the process that runs it, and
finished as ``done`` (with its result JSON) or ``failed`` (with the reason). The running process refreshes
``heartbeat_at``; a reader that finds a queued or running job whose heartbeat is older than the stale limit
marks it failed (its worker died), so no job stays "running" for ever. Table created by migration sim_0001.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    select,
    update,
)

from lodeline.store.schema import metadata

ACTIVE = ("queued", "running")

sim_jobs = Table(
    "sim_jobs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # run | montecarlo | exercise
    Column("status", String(16), nullable=False),  # queued | running | done | failed
    Column("progress", Float, nullable=False),  # 0..1
    Column("message", String(300), nullable=False),
    Column("title", String(200), nullable=False),  # the scenario's name, for lists and the page
    Column("owner_account", Integer),  # accounts.id of the caller who started it
    Column("owner_name", String(120)),
    Column("worker", String(120), nullable=False),  # host:pid:nonce of the process that runs it
    Column("params", Text, nullable=False),  # JSON: what was asked (scenario name or text, samples, seed …)
    Column("result", Text),  # JSON, size-bounded by the service
    Column("error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Index("ix_sim_jobs_status_heartbeat", "status", "heartbeat_at"),
)


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes for timezone-aware columns; they were written in UTC
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def insert_job(
    engine: Engine,
    job_id: str,
    kind: str,
    title: str,
    params: dict[str, Any],
    owner_account: int | None,
    owner_name: str | None,
    worker: str,
) -> None:
    at = now()
    with engine.begin() as conn:
        conn.execute(
            sim_jobs.insert().values(
                id=job_id,
                kind=kind,
                status="queued",
                progress=0.0,
                message="queued",
                title=title[:200],
                owner_account=owner_account,
                owner_name=owner_name,
                worker=worker,
                params=json.dumps(params),
                created_at=at,
                heartbeat_at=at,
            )
        )


def set_running(engine: Engine, job_id: str) -> bool:
    """queued → running; False when the job is no longer queued (e.g. marked failed as stale meanwhile)."""
    at = now()
    with engine.begin() as conn:
        done = conn.execute(
            update(sim_jobs)
            .where(sim_jobs.c.id == job_id, sim_jobs.c.status == "queued")
            .values(status="running", started_at=at, heartbeat_at=at, message="started")
        )
    return done.rowcount == 1


def set_progress(engine: Engine, job_id: str, progress: float, message: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(sim_jobs)
            .where(sim_jobs.c.id == job_id, sim_jobs.c.status == "running")
            .values(progress=min(max(progress, 0.0), 1.0), message=message[:300], heartbeat_at=now())
        )


def heartbeat(engine: Engine, worker: str) -> int:
    """Refresh the heartbeat of every active job of ``worker``; the number of jobs refreshed."""
    with engine.begin() as conn:
        done = conn.execute(
            update(sim_jobs)
            .where(sim_jobs.c.worker == worker, sim_jobs.c.status.in_(ACTIVE))
            .values(heartbeat_at=now())
        )
    return done.rowcount


def finish(engine: Engine, job_id: str, *, result: str | None = None, error: str | None = None) -> None:
    """running → done (with ``result``) or → failed (with ``error``)."""
    status = "failed" if error is not None else "done"
    message = error[:300] if error is not None else "done"
    with engine.begin() as conn:
        conn.execute(
            update(sim_jobs)
            .where(sim_jobs.c.id == job_id, sim_jobs.c.status.in_(ACTIVE))
            .values(
                status=status,
                progress=1.0 if error is None else sim_jobs.c.progress,
                message=message,
                result=result,
                error=error,
                finished_at=now(),
                heartbeat_at=now(),
            )
        )


def fail_stale(engine: Engine, stale_after: timedelta, job_id: str | None = None) -> int:
    """Mark active jobs whose heartbeat is older than ``stale_after`` as failed (their worker died)."""
    limit = now() - stale_after
    reason = (
        f"the worker running this job stopped (no heartbeat for more than {stale_after.total_seconds():g} s); "
        "start it again"
    )
    condition: list[ColumnElement[bool]] = [sim_jobs.c.status.in_(ACTIVE), sim_jobs.c.heartbeat_at < limit]
    if job_id is not None:
        condition.append(sim_jobs.c.id == job_id)
    with engine.begin() as conn:
        done = conn.execute(
            update(sim_jobs)
            .where(*condition)
            .values(status="failed", message=reason, error=reason, finished_at=now())
        )
    return done.rowcount


def get_job(engine: Engine, job_id: str, *, with_result: bool = False) -> dict[str, Any] | None:
    columns = [c for c in sim_jobs.c if with_result or c.name != "result"]
    with engine.connect() as conn:
        row = conn.execute(select(*columns).where(sim_jobs.c.id == job_id)).mappings().first()
    if row is None:
        return None
    out = dict(row)
    for key in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        out[key] = _aware(out[key])
    return out


def count_active(engine: Engine, worker: str | None = None) -> int:
    condition: list[ColumnElement[bool]] = [sim_jobs.c.status.in_(ACTIVE)]
    if worker is not None:
        condition.append(sim_jobs.c.worker == worker)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(sim_jobs).where(*condition)).scalar_one())
