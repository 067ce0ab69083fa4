"""Coordinated release plans over HTTP: ``POST /api/v1/stocks/release-plan`` (signed-in callers).

The body names a library scenario or carries one as YAML, gives the pooled stocks as rows (``member, mineral,
tonnes[, holder_type]``) and a bundled rule set by name or one as YAML. Everything is bounded (text sizes, number
of rows); a bad scenario, rule set or stock row is a 4xx naming the field or row. The plan is computed by
:mod:`lodeline.services.release`, the same service as ``lodeline stocks release-plan``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from lodeline.api.access import Action, can, stocks_scope
from lodeline.api.deps import Allowed, EngineDep, client_address
from lodeline.api.envelope import ErrorBody, ProvenanceModel, provenance_dict
from lodeline.errors import InvalidArgumentError
from lodeline.services import release as service
from lodeline.services import sim as sim_service
from lodeline.services.results import Provenance
from lodeline.stockpiles.release import parse_stock_rows
from lodeline.store.accounts import Principal, record_audit


def stocks_scope_is_all(principal: Principal) -> bool:
    """The secretariat (whose stocks scope is every member, through the one access layer) pools the full
    submissions; every other caller the published aggregates."""
    return can(principal, Action.READ_STOCKS) and stocks_scope(principal) is None


router = APIRouter(prefix="/api/v1/stocks", tags=["stockpiles"])

RunSim = Annotated[Principal, Depends(Allowed(Action.RUN_SIM))]
#: The most stock rows one request may carry (one row per member, mineral and holder type).
MAX_API_STOCK_ROWS = 10_000
NAME_PATTERN = r"^[a-z0-9][a-z0-9-]*$"
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 422, 429)
}


class StockRowIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(min_length=1, max_length=80, description="ISO 3166 alpha-3 code (or a country name)")
    mineral: str = Field(min_length=1, max_length=80, description="Mineral id (see the catalog)")
    tonnes: float = Field(description="Tonnes held (>= 0)")
    holder_type: str | None = Field(
        default=None, max_length=40, description="public_strategic, obligated_industry or voluntary_industry"
    )


class ReleasePlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scenario: str | None = Field(
        default=None, min_length=1, max_length=80, pattern=NAME_PATTERN, description="A library scenario name"
    )
    scenario_yaml: str | None = Field(
        default=None,
        min_length=1,
        max_length=sim_service.MAX_UPLOAD_BYTES,
        description="A scenario as YAML text",
    )
    stocks: list[StockRowIn] | None = Field(
        default=None,
        max_length=MAX_API_STOCK_ROWS,
        description="Pooled stocks; none = the scenario's placeholder stocks (labelled as such)",
    )
    rules: str | None = Field(
        default=None, min_length=1, max_length=80, pattern=NAME_PATTERN, description="A bundled rule set name"
    )
    rules_yaml: str | None = Field(
        default=None, min_length=1, max_length=64 * 1024, description="A release rule set as YAML text"
    )
    period: str | None = Field(
        default=None,
        pattern=r"^\d{4}-Q[1-4]$",
        description="Pool the stocks of this reporting period instead of 'stocks': the secretariat gets the "
        "members' full submissions (the read is audited), every other caller the published, disclosure-"
        "controlled aggregates (suppressed cells are not pooled). The response's data.basis says which.",
    )


class ReleasePlanOut(BaseModel):
    data: dict[str, Any] = Field(
        description="Members' release, shortfall with/without release and avoided, days of cover, LP duals"
    )
    provenance: ProvenanceModel


def _one_of(body: ReleasePlanIn, a: str, b: str) -> None:
    if (getattr(body, a) is None) == (getattr(body, b) is None):
        raise InvalidArgumentError(f"give exactly one of {a!r} and {b!r}", field=a)


@router.post(
    "/release-plan",
    response_model=ReleasePlanOut,
    responses=ERRORS,
    summary="Release plan",
)
def release_plan(body: ReleasePlanIn, principal: RunSim, engine: EngineDep, request: Request) -> Response:
    """Run a stress-test scenario with the pooled stocks and a release rule set: each member's release, the
    shortfall avoided, days of cover left, and the duals of the allocation LP (which constraint binds). With
    ``period`` the stocks are pooled from what the caller may see (``data.basis``: ``published`` or, for the
    secretariat, ``submissions``)."""
    _one_of(body, "scenario", "scenario_yaml")
    _one_of(body, "rules", "rules_yaml")
    if body.scenario is not None:
        scenario, where = sim_service.library(body.scenario), f"library:{body.scenario}"
    else:
        where = "scenario_yaml"
        scenario = sim_service.scenario_from_upload(str(body.scenario_yaml), where)
    rules = (
        service.rules_named(body.rules)
        if body.rules is not None
        else service.rules_from_text(str(body.rules_yaml), "rules_yaml")
    )
    if body.period is not None:
        if body.stocks is not None:
            raise InvalidArgumentError("give 'stocks' or 'period', not both", field="period")
        basis = "submissions" if stocks_scope_is_all(principal) else "published"
        plan = service.plan_for_period(scenario, where, rules, engine, body.period, basis)
        if basis == "submissions":
            record_audit(
                engine,
                "stocks:secretariat-read",
                principal=principal,
                method=request.method,
                path=request.url.path,
                status=200,
                client=client_address(request),
                detail=f"release plan pooled every member's submission for {body.period}",
            )
        return _answer(plan)
    rows = (
        None
        if body.stocks is None
        else parse_stock_rows([r.model_dump() for r in body.stocks], "stocks", first_row=1)
    )
    plan = service.plan(
        scenario,
        where,
        rules,
        rows,
        stocks_where="stocks",
        first_row=1,
        engine=engine,
    )
    return _answer(plan)


def _answer(plan: dict[str, Any]) -> Response:
    prov = plan["provenance"]
    provenance = Provenance(
        sources=prov["sources"], method=prov["method"], unit=prov["unit"], notes=prov["notes"]
    )
    out = ReleasePlanOut(data=plan, provenance=ProvenanceModel(**provenance_dict(provenance)))
    return Response(content=out.model_dump_json(), media_type="application/json")
