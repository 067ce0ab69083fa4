"""Risk read endpoints: the same figures as ``lodeline risk …``, with provenance, CSV and paging.

Every computation is bounded whatever the input: the sensitivity takes at most :data:`MAX_DRAWS` draws and
:data:`MAX_MATERIALS` materials, the supply window at most :data:`MAX_YEARS` years (over the caps: 400
invalid-argument naming the cap). Results are cached per data build like the market reads.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from lodeline.api.access import Action
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer, result_cache
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError
from lodeline.services import risk

router = APIRouter(prefix="/api/v1/risk", tags=["risk"], responses=READ_RESPONSES)

Published = Depends(Allowed(Action.READ_PUBLISHED))
Alliance = Depends(Allowed(Action.READ_ALLIANCE))

#: Caps that keep every request's work bounded (the sensitivity is linear in draws × materials).
MAX_DRAWS = 2000
MAX_MATERIALS = 20
MAX_YEARS = 10
MAX_SEED = 2**31 - 1


class Stage(StrEnum):
    all = "all"
    extraction = "extraction"
    processing = "processing"


YearsQuery = Annotated[
    int, Query(description=f"Most recent supply years averaged (1–{MAX_YEARS}; the EC averages five)")
]
MaterialQuery = Annotated[
    list[str] | None,
    Query(
        max_length=MAX_MATERIALS,
        description=f"Only these EU materials (repeatable, at most {MAX_MATERIALS}), e.g. Cobalt",
    ),
]


def _bounded(name: str, value: int, low: int, high: int) -> int:
    """Out-of-range values are 400 invalid-argument naming the parameter and the cap."""
    if not low <= value <= high:
        raise InvalidArgumentError(
            f"{name} must be between {low} and {high} (the cap of this API), got {value}"
        )
    return value


def _criticality(request: Request, engine: Any, stage: Stage, years: int) -> risk.RiskResult:
    stage_id = None if stage is Stage.all else stage.value
    result: risk.RiskResult = result_cache(request).get(
        ("risk-criticality", stage_id, years),
        lambda: risk.criticality(engine, stage=stage_id, years=years),
    )
    return result


@router.get("/criticality", response_model=Envelope, dependencies=[Published], summary="EU criticality")
def criticality(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    stage: Annotated[
        Stage, Query(description="all (EU bottleneck stage), extraction or processing")
    ] = Stage.all,
    years: YearsQuery = 5,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Supply risk (computed by Lodeline), economic importance (EC 2023, published) and the critical verdict
    (SR >= 1 and EI >= 2.8) of every EU-assessed material, highest SR first; the same rows as
    ``lodeline risk criticality -f json``."""
    _bounded("years", years, 1, MAX_YEARS)
    return answer(
        request,
        "risk-criticality",
        ("risk-criticality-page", stage.value, years),
        lambda: _criticality(request, engine, stage, years),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/criticality/official-list",
    response_model=Envelope,
    dependencies=[Published],
    summary="Against the official EU 2023 list",
)
def official_list(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Each material's verdict here (bottleneck stage, 5 years) against Annex II of Regulation (EU) 2024/1252."""
    return answer(
        request,
        "risk-official-list",
        ("risk-official-list",),
        lambda: risk.official_list_comparison(_criticality(request, engine, Stage.all, 5)),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/criticality/deviations",
    response_model=Envelope,
    dependencies=[Published],
    summary="Deviations from the EU method",
)
def deviations(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Each deviation from the EC 2023 method that applies to the bundled assessment, with the materials it
    affects (computed from the assessment's inputs, flags and reasons)."""
    return answer(
        request,
        "risk-deviations",
        ("risk-deviations",),
        lambda: risk.deviations(_criticality(request, engine, Stage.all, 5)),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


def _sensitivity(
    request: Request, engine: Any, draws: int, seed: int, materials: tuple[str, ...], years: int
) -> risk.SensitivityResult:
    result: risk.SensitivityResult = result_cache(request).get(
        ("risk-sensitivity", draws, seed, materials, years),
        lambda: risk.sensitivity(engine, draws=draws, seed=seed, materials=materials, years=years),
    )
    return result


@router.get("/sensitivity", response_model=Envelope, dependencies=[Published], summary="SR sensitivity")
def sensitivity(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    draws: Annotated[int, Query(description=f"Monte Carlo draws (1–{MAX_DRAWS})")] = 1000,
    seed: Annotated[int, Query(description=f"Random seed (0–{MAX_SEED}); same seed, same figures")] = 0,
    material: MaterialQuery = None,
    years: YearsQuery = 5,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Per material: base SR, mean and 5/50/95th percentiles over the draws, P(SR >= 1) and P(critical); the
    same rows as ``lodeline risk sensitivity -f json``."""
    _bounded("draws", draws, 1, MAX_DRAWS)
    _bounded("seed", seed, 0, MAX_SEED)
    _bounded("years", years, 1, MAX_YEARS)
    materials = tuple(material or ())
    return answer(
        request,
        "risk-sensitivity",
        ("risk-sensitivity-page", draws, seed, materials, years),
        lambda: _sensitivity(request, engine, draws, seed, materials, years).summary,
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get("/tornado", response_model=Envelope, dependencies=[Published], summary="SR tornado")
def tornado(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    material: MaterialQuery = None,
    years: YearsQuery = 5,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Per material and factor (share year, WGI dimensions, t_c, EoL-RIR): the lowest and highest SR that factor
    alone produces, with the others at base."""
    _bounded("years", years, 1, MAX_YEARS)
    materials = tuple(material or ())
    return answer(
        request,
        "risk-tornado",
        ("risk-tornado-page", materials, years),
        # The tornado does not depend on the draws: one draw keeps the shared computation minimal.
        lambda: _sensitivity(request, engine, 1, 0, materials, years).tornado,
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )


@router.get(
    "/geopolitical",
    response_model=Envelope,
    dependencies=[Alliance],
    summary="Governance-weighted import risk",
)
def geopolitical(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    importer: Annotated[
        str,
        Query(
            min_length=1,
            max_length=200,
            description="Country group (G7+, EU27 …), one country, or a comma-separated ISO3 list",
        ),
    ] = "G7+",
    mineral: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this mineral")
    ] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100, description="Only this trade year")] = None,
    wgi: Annotated[
        str,
        Query(
            min_length=1,
            max_length=40,
            description="WGI dimensions for g_j, comma-separated (va pv ge rq rl cc)",
        ),
    ] = "pv",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """GeoPolRisk-style import risk (HHI × governance-weighted import share) of an importer or alliance per
    mineral, stage and year; the same rows as ``lodeline risk geopol -f json``. No trade rows: 404."""
    mineral_id = resolve_mineral(mineral) if mineral is not None else None
    dims = risk.wgi_dimensions(wgi)
    group = risk.resolve_importer(importer)
    return answer(
        request,
        "risk-geopolitical",
        ("risk-geopolitical", group.id, group.members, mineral_id, year, dims),
        lambda: risk.geopolitical(engine, importer, mineral=mineral_id, year=year, dimensions=",".join(dims)),
        limit=limit,
        cursor=cursor,
        fmt=fmt,
    )
