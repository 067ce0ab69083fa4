"""``GET /api/v1/alerts/scan`` and ``GET /api/v1/alerts/backtest``: the alert levels as of a date (from the data
published by then) and the replay against known episodes (docs/alerts.md). Read-only, computed from public data
for the alliance's analysts (the same access as the dependency analyses). ``POST /api/v1/alerts/scan/record``
records today's scan in the alert lifecycle (the secretariat and admins)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lodeline.api.access import Action
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer
from lodeline.api.routes.market import Alliance, AllianceQuery
from lodeline.domain.groups import get_group, resolve_alliance
from lodeline.domain.minerals import resolve_mineral
from lodeline.services import alerts
from lodeline.store.accounts import Principal

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], responses=READ_RESPONSES)

AsOfQuery = Annotated[
    dt.date | None, Query(alias="as_of", description="Scan date YYYY-MM-DD (default: today); no look-ahead")
]
MineralsQuery = Annotated[
    list[str] | None, Query(alias="mineral", max_length=64, description="Mineral id or alias; repeatable")
]


@router.get("/scan", response_model=Envelope, dependencies=[Alliance], summary="Alert levels as of a date")
def scan(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    as_of: AsOfQuery = None,
    mineral: MineralsQuery = None,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """One row per indicator reading of every mineral, with the mineral's fused level (normal, watch, warning,
    alert), the reading's value, level, explanation, source, edition, observation and publication dates. Only
    data published on or before ``as_of`` is read. Unknown mineral or alliance: 404/400."""
    day = as_of or dt.date.today()
    minerals = sorted({resolve_mineral(m) for m in mineral}) if mineral else None
    group = get_group(alliance)
    return answer(
        request,
        f"alerts-scan-{day}",
        ("alerts-scan", day, tuple(minerals or ()), group.id, group.members),
        lambda: alerts.scan_result(engine, day, minerals, group.id),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/backtest", response_model=Envelope, dependencies=[Alliance], summary="Backtest against episodes"
)
def backtest(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    start: Annotated[dt.date, Query(description="First month of the replay")] = alerts.BACKTEST_START,
    end: Annotated[dt.date | None, Query(description="Last day (default: latest data)")] = None,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """One row per episode (alerts/data/episodes.yaml): first warning, lead (negative) or lag in days, tuning or
    held-out set; precision, recall and false alarms per mineral-decade in the provenance notes."""
    group = get_group(alliance)
    return answer(
        request,
        "alerts-backtest",
        ("alerts-backtest", start, end, group.id, group.members),
        lambda: alerts.backtest_result(engine, start, end, group.id),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


class RecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mineral: list[str] | None = Field(
        default=None, max_length=64, description="Only these minerals (ids or aliases)"
    )
    alliance: str = Field(
        default="G7+", min_length=1, max_length=400, description="Alliance group or ISO3 list"
    )
    stock_period: str | None = Field(
        default=None,
        pattern=r"^\d{4}-Q[1-4]$",
        description="Add the stock-cover indicator from this period's published pooled stocks (YYYY-Qn)",
    )


@router.post("/scan/record", summary="Record today's scan in the alert lifecycle")
async def record_scan(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(Allowed(Action.RECORD_ALERTS))],
    body: RecordIn | None = None,
) -> dict[str, Any]:
    """Scan today and record it (``services.alert_lifecycle.record``): an open alert per mineral above normal,
    escalations when a level rises, the subscribers' outbox messages and the log leaf of every warning or above,
    in one transaction. The caller is recorded as the actor."""
    request = body or RecordIn()
    minerals = [resolve_mineral(m) for m in request.mineral] if request.mineral else None
    group = resolve_alliance(request.alliance).id
    actor = f"{principal.name or f'token {principal.token_id}'} ({principal.role})"[:120]
    found, recorded = await run_in_threadpool(
        alerts.record_scan, engine, actor, minerals, alliance=group, stock_period=request.stock_period
    )
    return {
        "as_of": dt.date.today().isoformat(),
        "alerts": [a.to_dict() for a in found],
        "recorded": [
            {
                "mineral": r.mineral,
                "level": r.level,
                "outcome": r.outcome,
                "alert_id": r.alert_id,
                "leaf_index": r.leaf_index,
                "messages": r.messages,
            }
            for r in recorded
        ],
    }
