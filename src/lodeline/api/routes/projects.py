"""The project register (docs/projects.md): thin routes over :mod:`lodeline.services.projects`.

Reads are published (``READ_PUBLISHED``); a member's confidential project fields are shown only to its owner and
the secretariat (``access.project_viewer``), emptied for everyone else with the reason in ``gaps``. Members and
companies add or update their own projects (``SUBMIT_PROJECT``); the owner is the caller's organisation.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from lodeline.api.access import Action, project_owner, project_viewer
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope, ErrorBody, render_page, respond, wants_csv
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import Bounds, InputRejected, parse_json
from lodeline.projects import fx
from lodeline.services import project_links
from lodeline.services import projects as service
from lodeline.services.results import MarketResult
from lodeline.store import projects as projects_db
from lodeline.store.accounts import Principal

router = APIRouter(prefix="/api/v1/projects", tags=["projects"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 422, 429)
}
BODY_BOUNDS = Bounds(max_bytes=1 << 20, max_depth=8, max_nodes=100_000)
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "One project document or a list of them (fields in docs/projects.md).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

ReaderDep = Annotated[Principal, Depends(Allowed(Action.READ_PUBLISHED))]
SubmitterDep = Annotated[Principal, Depends(Allowed(Action.SUBMIT_PROJECT))]
ProjectId = Annotated[str, Path(min_length=1, max_length=120)]


def _viewer(principal: Principal) -> service.Viewer:
    org, all_orgs = project_viewer(principal)
    return service.Viewer(org=org, all_orgs=all_orgs)


def _page(
    request: Request, engine: Any, result: MarketResult, name: str, limit: int, cursor: str | None, fmt: Any
) -> Response:
    rendered = render_page(
        request,
        result.frame,
        result.provenance,
        data_version=f"projects-{projects_db.count_versions(engine)}",
        limit=limit,
        cursor=cursor,
        csv=wants_csv(request, fmt),
        name=name,
    )
    return respond(request, rendered)


@router.post("", status_code=status.HTTP_201_CREATED, responses=ERRORS, summary="Add or update projects",
             openapi_extra=_BODY_DOC)  # fmt: skip
async def add(request: Request, engine: EngineDep, principal: SubmitterDep) -> list[dict[str, Any]]:
    """Validate every document (one bad document refuses them all, naming its position and field) and store them
    as new versions of the caller's organisation's projects, in one transaction."""
    owner = project_owner(principal)
    body = await request.body()
    try:
        value = await run_in_threadpool(parse_json, body, BODY_BOUNDS)
    except InputRejected as exc:
        raise InvalidArgumentError(f"request body: {exc.reason}") from None
    return await run_in_threadpool(
        service.add_projects, engine, value, owner_org=owner, by=principal.name, where="request body"
    )


@router.get("", response_model=Envelope, responses=READ_RESPONSES, summary="The project register")
def list_projects(
    request: Request,
    engine: EngineDep,
    principal: ReaderDep,
    limit: LimitDep,
    mineral: Annotated[str | None, Query(max_length=60)] = None,
    stage: Annotated[str | None, Query(max_length=30)] = None,
    country: Annotated[str | None, Query(pattern="^[A-Za-z]{2}$")] = None,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Every project (bundled designations and financed projects, plus member records), de-duplicated; empty
    figures are null with the reason in ``gaps``."""
    projects = service.load_projects(engine, viewer=_viewer(principal))
    chosen = service.select(projects, mineral=mineral, stage=stage, country=country)
    result = MarketResult(service.projects_frame(chosen), service.provenance())
    return _page(request, engine, result, "projects", limit, cursor, fmt)


@router.get("/compare", response_model=Envelope, responses=READ_RESPONSES, summary="Compare projects")
def compare(
    request: Request,
    engine: EngineDep,
    principal: ReaderDep,
    limit: LimitDep,
    ids: Annotated[list[str] | None, Query(max_length=50, description="Project ids; none: all")] = None,
    alliance: Annotated[str, Query(max_length=200)] = "G7+",
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:
    """Capital intensity, time to production, permitting against the CRMA caps and diversification."""
    result = service.compare(ids or [], engine, viewer=_viewer(principal), alliance=alliance)
    return _page(request, engine, result, "projects-compare", limit, cursor, fmt)


@router.get("/commitments", response_model=Envelope, responses=READ_RESPONSES, summary="The financing ledger")
def commitments(
    request: Request, engine: EngineDep, _caller: ReaderDep, limit: LimitDep,
    cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Every financing row with its stage, amount in its stated currency and whether the tally counts it (never parent + parts)."""
    return _page(request, engine, service.commitments(), "commitments", limit, cursor, fmt)


@router.get("/commitments/summary", responses=ERRORS, summary="G7 headline beside the bottom-up tally")
def commitments_summary(_caller: ReaderDep) -> dict[str, Any]:
    return service.commitments_summary()


class StatedRate(BaseModel):
    """One user-stated rate: units of ``currency`` per 1 EUR on ``date``, from ``source`` (citation or URL)."""

    model_config = ConfigDict(extra="forbid")
    currency: str = Field(max_length=8)
    per_eur: float
    date: str = Field(max_length=10)
    source: str = Field(max_length=fx.MAX_SOURCE)


class ConvertRequest(BaseModel):
    """The rates you state (no exchange rate is bundled), the target currency and whether to return the summary."""

    model_config = ConfigDict(extra="forbid")
    rates: list[StatedRate] = Field(max_length=fx.MAX_RATES)
    to: str = Field("EUR", max_length=8)
    summary: bool = False


@router.post("/commitments/convert", responses=ERRORS, summary="The ledger or its summary at rates you state")
def commitments_convert(body: ConvertRequest, _caller: ReaderDep) -> dict[str, Any]:
    """The financing ledger with each amount converted at the stated rates (rate, date and source per row) — or,
    with ``summary``, the G7 comparison on the converted total. A currency without a rate stays unconverted and is
    named as left out; errors name ``rates`` row (1-based) and field."""
    rows = ((i, r.model_dump(mode="json")) for i, r in enumerate(body.rates, start=1))
    table = fx.table(rows, "rates", body.to)
    if body.summary:
        return service.commitments_summary(rates=table)
    result = service.commitments(rates=table)
    return {"data": result.frame.to_dicts(), "provenance": result.provenance.to_dict()}


@router.get("/recycling", response_model=Envelope, responses=READ_RESPONSES, summary="Recycling monitor")
def recycling(
    request: Request, engine: EngineDep, principal: ReaderDep, limit: LimitDep,
    cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """EoL recycling rates, recycled content, pipeline recycling capacity vs 25 % of EU consumption, and the
    Battery Regulation minimums, per mineral."""
    result = service.recycling(engine, viewer=_viewer(principal))
    return _page(request, engine, result, "recycling", limit, cursor, fmt)


@router.get("/{project_id}", responses=ERRORS, summary="One project")
def show(engine: EngineDep, principal: ReaderDep, project_id: ProjectId) -> dict[str, Any]:
    """Every field, gaps with their reasons, sources, designations, the merge note and ``links``: the financing
    commitments and agreements that name or cover the project, each with the rule that matched and why."""
    return project_links.project_detail(
        service.get_project(project_id, engine, viewer=_viewer(principal)), engine
    )


@router.get(
    "/{project_id}/returns", responses=ERRORS, summary="NPV, IRR and the social-dividend-adjusted return"
)
def project_returns(
    engine: EngineDep,
    principal: ReaderDep,
    project_id: ProjectId,
    price: Annotated[
        float,
        Query(gt=0, le=1e9, description="per tonne of contained metal, in the project's capex currency"),
    ],
    opex: Annotated[
        float | None, Query(ge=0, le=1e12, description="per year at full capacity, capex currency")
    ] = None,
    rate: Annotated[float, Query(gt=-0.99, le=1)] = service.FINANCIAL_RATE,
    social_rate: Annotated[float, Query(gt=-0.99, le=1)] = service.SOCIAL_RATE,
) -> dict[str, Any]:
    return service.project_returns(
        project_id, price_per_t=price, opex_per_year=opex, rate=rate, social_rate=social_rate,
        engine=engine, viewer=_viewer(principal),
    )  # fmt: skip
