"""Market read endpoints: the same indicators as ``lodeline market …``, with provenance, CSV and paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from lodeline.api.access import Action
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer
from lodeline.domain.groups import MAX_ALLIANCE_LENGTH, resolve_alliance
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.services import market

router = APIRouter(prefix="/api/v1", tags=["market"], responses=READ_RESPONSES)

Published = Depends(Allowed(Action.READ_PUBLISHED))
Alliance = Depends(Allowed(Action.READ_ALLIANCE))

MineralPath = Annotated[
    str, Path(min_length=1, max_length=64, description="Mineral id or alias, e.g. rare-earths, REE, lithium")
]
YearQuery = Annotated[int | None, Query(ge=1900, le=2100, description="Year (default: the latest with data)")]
StageQuery = Annotated[
    str | None, Query(max_length=32, description="mining, refining, component or recycling")
]
AllianceQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_ALLIANCE_LENGTH,
        description="Country group id (G7+, G7, EU27, MSP …) or a comma-separated list of ISO 3166 alpha-3 "
        "codes (USA,JPN,DEU); an unknown group or code is a 400 naming it",
    ),
]


def _stage(stage: str | None) -> str | None:
    return resolve_stage(stage).value if stage is not None else None


@router.get("/minerals", response_model=Envelope, dependencies=[Published], summary="Minerals overview")
def minerals_overview(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """One row per mineral: stages, latest year, HHI, top supplier and share, alliance dependency, trend."""
    members = resolve_alliance(alliance).members
    return answer(
        request,
        "minerals",
        ("overview", members),
        lambda: market.minerals_overview(engine, alliance=alliance),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/minerals/{mineral}/shares", response_model=Envelope, dependencies=[Published], summary="Country shares"
)
def shares(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    stage: Annotated[
        str, Query(max_length=32, description="mining, refining, component or recycling")
    ] = "mining",
    year: YearQuery = None,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Each country's share of world production of a mineral at a stage in one year."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    return answer(
        request,
        f"{mineral_id}-{stage_id}-shares",
        ("shares", mineral_id, stage_id, year),
        lambda: market.shares(engine, mineral_id, stage_id, year),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/minerals/{mineral}/concentration",
    response_model=Envelope,
    dependencies=[Published],
    summary="Concentration over time",
)
def concentration(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    stage: StageQuery = None,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """HHI, top-1 and top-3 shares and the top supplier per stage and year."""
    mineral_id, stage_id = resolve_mineral(mineral), _stage(stage)
    return answer(
        request,
        f"{mineral_id}-concentration",
        ("concentration", mineral_id, stage_id),
        lambda: market.concentration(engine, mineral_id, stage_id),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/minerals/{mineral}/dependency",
    response_model=Envelope,
    dependencies=[Alliance],
    summary="Alliance dependency and targets",
)
def dependency(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """The alliance's largest supplier outside it, per stage and year, against the targets, with the gap."""
    mineral_id = resolve_mineral(mineral)
    members = resolve_alliance(alliance).members
    return answer(
        request,
        f"{mineral_id}-dependency",
        ("dependency", mineral_id, members),
        lambda: market.dependency(engine, mineral_id, alliance=alliance),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/minerals/{mineral}/trade-flows",
    response_model=Envelope,
    dependencies=[Alliance],
    summary="Imports into the alliance by origin",
)
def trade_flows(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    year: YearQuery = None,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Bilateral flows from outside the alliance into its members (largest first)."""
    mineral_id = resolve_mineral(mineral)
    members = resolve_alliance(alliance).members
    return answer(
        request,
        f"{mineral_id}-trade-flows",
        ("trade", mineral_id, year, members),
        lambda: market.trade_flows(engine, mineral_id, year=year, alliance=alliance),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


ImporterQuery = Annotated[
    str,
    Query(
        min_length=1,
        max_length=MAX_ALLIANCE_LENGTH,
        description="Country group id (G7+, EU27, MSP …; looked up first), one country (ISO3 code or name) or a "
        "comma-separated list of ISO3 codes (USA,JPN,DEU)",
    ),
]


@router.get(
    "/minerals/{mineral}/imports",
    response_model=Envelope,
    dependencies=[Published],
    summary="Import shares by origin",
)
def imports(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    importer: ImporterQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Each origin's share of a country's or a group's imports (intra-group trade excluded), per stage and year.
    An importer that is neither a group nor a country is a 400 (invalid-argument), not an empty page."""
    mineral_id = resolve_mineral(mineral)
    group = market.resolve_importer(importer)
    return answer(
        request,
        f"{mineral_id}-imports",
        ("imports", mineral_id, group.id, group.members),
        lambda: market.imports_by_origin(engine, mineral_id, importer),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get("/minerals/{mineral}/prices", response_model=Envelope, dependencies=[Published], summary="Prices")
def prices(
    request: Request,
    engine: EngineDep,
    mineral: MineralPath,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Price series with year-on-year change and 12-month volatility."""
    mineral_id = resolve_mineral(mineral)
    return answer(
        request,
        f"{mineral_id}-prices",
        ("prices", mineral_id),
        lambda: market.prices(engine, mineral_id),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/targets", response_model=Envelope, dependencies=[Alliance], summary="Dependency against targets"
)
def targets(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """For every mineral, stage and basis: the alliance's latest single-supplier dependency against the G7 60 % test
    and 50 % ambition (a G7 target for rare earths and magnets, the same yardstick as a comparison elsewhere) and,
    for the EU27, the CRMA 65 % benchmark, with gaps in percentage points (positive = misses by that much) and the
    first year of the current run of misses. Method: docs/methods/targets.md."""
    members = resolve_alliance(alliance).members
    return answer(
        request,
        "targets",
        ("targets", members),
        lambda: market.targets(engine, alliance),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get("/sources", response_model=Envelope, dependencies=[Published], summary="Dataset catalog")
def sources(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Every bundled dataset with publisher, edition, licence, rows and sha256."""
    return answer(
        request,
        "sources",
        ("sources",),
        lambda: market.sources(engine),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )
