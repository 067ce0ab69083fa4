"""``GET /api/v1/outlook``: the 2030 outlook of the alliance's single-supplier dependency (issue 15) as the
summary (probabilities), the trajectory (deterministic, no-pipeline, median and 10–90 % band per year) or the
project table; same envelope, provenance, paging and CSV as the market reads. Method: docs/methods/outlook-2030.md."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from lodeline.api.deps import EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope, render_page, respond, wants_csv
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, result_cache
from lodeline.api.routes.market import Alliance, AllianceQuery
from lodeline.domain.groups import resolve_alliance
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.services import outlook

router = APIRouter(prefix="/api/v1", tags=["outlook"], responses=READ_RESPONSES)
#: draws an API read may ask for (the CLI allows more): 20,000 for all twelve outlooks stays within a second
MAX_API_DRAWS = 20_000


@router.get(
    "/outlook",
    response_model=Envelope,
    dependencies=[Alliance],
    summary="2030 outlook: will the pipeline bring single-supplier dependency below 60 %?",
)
def get_outlook(
    request: Request,
    engine: EngineDep,
    limit: LimitDep,
    mineral: Annotated[
        str,
        Query(
            min_length=1, max_length=64, description="copper, cobalt, lithium, nickel, rare-earths, graphite"
        ),
    ],
    stage: Annotated[str, Query(min_length=1, max_length=32, description="mining or refining")] = "refining",
    year: Annotated[int, Query(ge=2025, le=2050, description="Target year of the probabilities")] = 2030,
    draws: Annotated[int, Query(ge=1, le=MAX_API_DRAWS, description="Monte Carlo draws")] = 10_000,
    seed: Annotated[int, Query(ge=0, le=2**62, description="Random seed")] = 0,
    scenario: Annotated[Literal["STEPS", "APS", "NZE"], Query(description="IEA demand scenario")] = "STEPS",
    view: Annotated[
        Literal["summary", "trajectory", "projects"],
        Query(
            description="summary (probabilities), trajectory (per year) or projects (most influential first)"
        ),
    ] = "summary",
    alliance: AllianceQuery = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """P(dependency below 60 %) and P(below 50 %) in ``year``, the trajectory with the pipeline on time, without
    it and as a Monte Carlo band (delays and failures by study stage), and the projects whose delay moves the
    probability most; projects without a stated capacity are listed and counted, never zero-filled."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    group = resolve_alliance(alliance)
    # Not reads.answer: its cache of rendered pages lasts a data build, and member projects change without one.
    # The result is cached under a key that includes a digest of the register's figures instead.
    pipeline = outlook.pipeline_version(engine)
    key = ("outlook", mineral_id, stage_id, year, draws, seed, scenario, group.members, pipeline, view)
    cache = result_cache(request)
    result = cache.get(
        key,
        lambda: outlook.view(
            outlook.outlook(
                engine,
                mineral_id,
                stage_id,
                year=year,
                draws=draws,
                seed=seed,
                alliance=alliance,
                scenario=scenario,
            ),
            view,
        ),
    )
    page = render_page(
        request,
        result.frame,
        result.provenance,
        data_version=cache.version(),
        limit=limit,
        cursor=cursor,
        csv=wants_csv(request, fmt),
        name=f"outlook-{mineral_id}-{stage_id}-{view}",
    )
    return respond(request, page)
