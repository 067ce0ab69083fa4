"""Health, readiness, the caller's identity and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from lodeline import __version__
from lodeline.api.access import Action
from lodeline.api.deps import Allowed, ApiSettingsDep, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.store.accounts import Principal, read_audit
from lodeline.store.canonical import is_built

router = APIRouter(tags=["system"])


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    database: bool
    data_built: bool


class Me(BaseModel):
    name: str | None
    role: str
    org: str | None
    token_id: str | None


class AuditEntry(BaseModel):
    id: int
    at: str
    event: str
    account_id: int | None
    token_id: str | None
    method: str | None
    path: str | None
    status: int | None
    client: str | None
    detail: str | None


@router.get("/health", response_model=Health, summary="Liveness")
def health() -> Health:
    """The process is up (no database access)."""
    return Health(status="ok", version=__version__)


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: store unreachable or empty"}},
    summary="Readiness",
)
def ready(engine: EngineDep, settings: ApiSettingsDep) -> Any:
    """Ready when the store answers and holds a data build; 503 otherwise (load balancers drain)."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        built = is_built(engine)
        database = True
    except Exception:  # any database failure means "not ready", never a 500
        database, built = False, False
    body = Readiness(
        status="ready" if database and built else "not-ready", database=database, data_built=built
    )
    if body.status == "ready":
        return JSONResponse(body.model_dump())
    retry = {"retry-after": str(settings.unavailable_retry_after_seconds)}
    return JSONResponse(body.model_dump(), status_code=503, headers=retry)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    422: {"model": ErrorBody},
    429: {"model": ErrorBody},
    503: {"model": ErrorBody},
}


@router.get("/api/v1/me", response_model=Me, responses=ERRORS, tags=["accounts"], summary="Who am I")
def me(principal: Annotated[Principal, Depends(Allowed(Action.READ_SELF))]) -> Me:
    return Me(name=principal.name, role=principal.role, org=principal.org, token_id=principal.token_id)


@router.get(
    "/api/v1/audit", response_model=list[AuditEntry], responses=ERRORS, tags=["accounts"], summary="Audit log"
)
def audit(
    engine: EngineDep,
    _principal: Annotated[Principal, Depends(Allowed(Action.READ_AUDIT))],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    event: Annotated[str | None, Query(max_length=32)] = None,
) -> list[AuditEntry]:
    """Newest first: failed logins, token changes and every write with its outcome."""
    return [
        AuditEntry(**{**row, "at": row["at"].isoformat()})
        for row in read_audit(engine, limit=limit, event=event)
    ]
