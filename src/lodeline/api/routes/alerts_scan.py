"""``GET /api/v1/alerts/scan`` and ``GET /api/v1/alerts/backtest``: the alert levels as of a date (from the data
published by then) and the replay against known episodes (docs/alerts.md). Read-only, computed from public data
for the alliance's analysts (the same access as the dependency analyses)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from lodeline.api.deps import EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer
from lodeline.api.routes.market import Alliance, AllianceQuery
from lodeline.domain.groups import get_group
from lodeline.domain.minerals import resolve_mineral
from lodeline.services import alerts

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
