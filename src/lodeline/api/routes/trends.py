"""``GET /api/v1/minerals/{mineral}/trend``: concentration and alliance dependency over the longest span the
bundled data allow, one row per year with its source; same envelope, provenance, paging and CSV as the market
reads (:mod:`lodeline.api.routes.market`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from lodeline.api.deps import EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer
from lodeline.api.routes.market import (
    Alliance,
    AllianceQuery,
    MineralPath,
)
from lodeline.domain.groups import get_group
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.services import trends

router = APIRouter(prefix="/api/v1", tags=["market"], responses=READ_RESPONSES)

TrendStageQuery = Annotated[
    str, Query(min_length=1, max_length=32, description="mining, refining, component or recycling")
]


@router.get(
    "/minerals/{mineral}/trend",
    response_model=Envelope,
    dependencies=[Alliance],
    summary="Concentration and dependency over time, stitched across sources",
)
def trend(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    stage: TrendStageQuery,
    limit: LimitDep,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Per year: the source used (and the runner-up kept for the overlap comparison), top supplier and share,
    top-3 share, HHI and the alliance's single-supplier dependency (production basis); ``break`` marks the first
    year of a new source. Years no source covers have no row. Unknown mineral, stage or alliance: 404/400."""
    mineral_id, stage_id, group = resolve_mineral(mineral), resolve_stage(stage).value, get_group(alliance)
    return answer(
        request,
        f"{mineral_id}-{stage_id}-trend",
        ("trend", mineral_id, stage_id, group.id, group.members),
        lambda: trends.trend(engine, mineral_id, stage_id, group.id),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )
