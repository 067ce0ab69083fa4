"""The deals register (docs/deals.md): thin routes over :mod:`lodeline.services.deals`. Reads are public (the
register is compiled from public facts); adding and amending rows is for members and the secretariat
(``Action.AMEND_DEALS``), each change a new version with its author, reason and source."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from lodeline.api.access import Action
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import READ_RESPONSES, Envelope, ErrorBody, provenance_dict
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep, answer
from lodeline.api.routes.market import AllianceQuery
from lodeline.services import deals as service
from lodeline.store.accounts import Principal

router = APIRouter(prefix="/api/v1/deals", tags=["deals"], responses=READ_RESPONSES)

Public = Depends(Allowed(Action.READ_PUBLISHED))
AmenderDep = Annotated[Principal, Depends(Allowed(Action.AMEND_DEALS))]
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 422)
}
RegisterPath = Annotated[
    str, Path(pattern="^(agreements|measures|disputes)$", description="agreements, measures or disputes")
]
EntryPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=80,
        description="agreement_id, measure_id, case_id or a financing commitment id",
    ),
]
MineralQuery = Annotated[str | None, Query(min_length=1, max_length=64, description="Mineral id or alias")]
StageQuery = Annotated[
    str | None, Query(min_length=1, max_length=32, description="mining, refining, component or recycling")
]
OnQuery = Annotated[dt.date | None, Query(description="Status on this date (default: today)")]


class DealRow(BaseModel):
    """A row to add, or the changed columns of an amendment (with its own source_url and source_type)."""

    cells: dict[str, str | int | float | None] = Field(max_length=40)
    reason: str = Field(min_length=1, max_length=500)


def _key(request: Request, *parts: Any) -> tuple[Any, ...]:
    return ("deals", service.revision(request.app.state.engine), *parts)


@router.get(
    "/registers/{register}", response_model=Envelope, dependencies=[Public], summary="A register's rows"
)
def list_entries(
    request: Request, engine: EngineDep, register: RegisterPath, limit: LimitDep, mineral: MineralQuery = None,
    on: OnQuery = None, cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Agreements (with their status on ``on``), export measures or disputes; ``mineral`` keeps the rows naming it
    (agreements on critical minerals in general included, ``general`` true)."""
    return answer(
        request, f"deals-{register}", _key(request, register, mineral, on),
        lambda: service.list_entries(engine, register, mineral=mineral, on=on), limit=limit, cursor=cursor, fmt=fmt,
    )  # fmt: skip


@router.get("/entries/{entry_id}", dependencies=[Public], summary="One entry as it stands")
def show(engine: EngineDep, entry_id: EntryPath) -> dict[str, Any]:
    """An agreement also lists the projects it names or covers (``projects``: rule and why); a financing
    commitment id (``fin-…``) gives the commitment and the projects it finances."""
    return service.show(engine, entry_id)


@router.get(
    "/entries/{entry_id}/history",
    response_model=Envelope,
    dependencies=[Public],
    summary="An entry's versions",
)
def history(
    request: Request, engine: EngineDep, entry_id: EntryPath, limit: LimitDep, cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    return answer(request, f"deals-history-{entry_id}", _key(request, "history", entry_id),
                  lambda: service.history(engine, entry_id), limit=limit, cursor=cursor, fmt=fmt)  # fmt: skip


@router.get(
    "/coverage",
    response_model=Envelope,
    dependencies=[Public],
    summary="Agreements covering the alliance's gap",
)
def coverage(
    request: Request, engine: EngineDep, limit: LimitDep, mineral: MineralQuery = None, stage: StageQuery = None,
    alliance: AllianceQuery = "G7+", cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Per mineral × stage: partner countries with a covering agreement, their share of world supply and the share
    of the alliance's single-supplier dependency they could in principle replace (docs/methods/deals-coverage.md)."""
    return answer(request, "deals-coverage", _key(request, "coverage", mineral, stage, alliance),
                  lambda: service.coverage(engine, mineral, stage, alliance), limit=limit, cursor=cursor, fmt=fmt)  # fmt: skip


@router.get("/restrictions", response_model=Envelope, dependencies=[Public], summary="Restrictions in force")
def restrictions(
    request: Request, engine: EngineDep, limit: LimitDep, mineral: MineralQuery = None, on: OnQuery = None,
    alliance: AllianceQuery = "G7+", include_inactive: bool = False, cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Restrictive measures in force on ``on``, by supplier, with the affected share of the alliance's imports."""
    return answer(
        request, "deals-restrictions", _key(request, "restrictions", mineral, on, alliance, include_inactive),
        lambda: service.restrictions(engine, mineral, on=on, alliance=alliance, include_inactive=include_inactive),
        limit=limit, cursor=cursor, fmt=fmt,
    )  # fmt: skip


@router.get(
    "/timeline", response_model=Envelope, dependencies=[Public], summary="Agreements and restrictions by date"
)
def timeline(
    request: Request, engine: EngineDep, limit: LimitDep, mineral: MineralQuery = None, on: OnQuery = None,
    cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Agreements and restrictive measures as dated events on one time axis; undated entries have no ``date``."""
    return answer(request, "deals-timeline", _key(request, "timeline", mineral, on),
                  lambda: service.timeline(engine, mineral, on=on), limit=limit, cursor=cursor, fmt=fmt)  # fmt: skip


@router.get("/partners", response_model=Envelope, dependencies=[Public], summary="Partner countries by type")
def partners(
    request: Request, engine: EngineDep, limit: LimitDep, mineral: MineralQuery = None,
    alliance: AllianceQuery = "G7+", cursor: CursorQuery = None, fmt: FormatQuery = None,
) -> Response:  # fmt: skip
    """Countries outside the alliance party to an agreement, coloured on the Deals page by ``shown_type``."""
    return answer(request, "deals-partners", _key(request, "partners", mineral, alliance),
                  lambda: service.partners(engine, mineral, alliance), limit=limit, cursor=cursor, fmt=fmt)  # fmt: skip


@router.get(
    "/financing", response_model=Envelope, dependencies=[Public], summary="Financing figures, never totalled"
)
def financing(request: Request, engine: EngineDep, limit: LimitDep, cursor: CursorQuery = None,
              fmt: FormatQuery = None) -> Response:  # fmt: skip
    return answer(request, "deals-financing", _key(request, "financing"), lambda: service.financing(engine),
                  limit=limit, cursor=cursor, fmt=fmt)  # fmt: skip


@router.get("/countries/{country}", dependencies=[Public], summary="The producer-country view")
def country(
    engine: EngineDep, country: Annotated[str, Path(min_length=2, max_length=64)], on: OnQuery = None
) -> dict[str, Any]:
    """Its agreements, local value created (refined ÷ mined), WGI governance, export measures and disputes."""
    view = service.country(engine, country, on=on)
    return {
        "country": view["country"], "name": view["name"], "on": view["on"],
        "parts": {
            name: {"data": r.frame.to_dicts(), "provenance": provenance_dict(r.provenance)}
            for name, r in view["parts"].items()
        },
    }  # fmt: skip


@router.post("/registers/{register}", status_code=status.HTTP_201_CREATED, responses=WRITE_ERRORS,
             summary="Add a row to a register")  # fmt: skip
async def add(
    engine: EngineDep, principal: AmenderDep, register: RegisterPath, body: DealRow
) -> dict[str, Any]:
    """Validated like a bundled row (a bad field: 400 naming it); ``source_url`` and ``source_type`` required."""
    return await run_in_threadpool(
        service.add, engine, register, dict(body.cells), reason=body.reason, author=principal.name or "unknown",
        role=principal.role, org=principal.org,
    )  # fmt: skip


@router.post("/registers/{register}/{entry_id}/versions", status_code=status.HTTP_201_CREATED,
             responses=WRITE_ERRORS, summary="Amend a row (a new version)")  # fmt: skip
async def amend(
    engine: EngineDep, principal: AmenderDep, register: RegisterPath, entry_id: EntryPath, body: DealRow
) -> dict[str, Any]:
    """The changed columns on top of the current row, validated whole; the amendment states its own source."""
    return await run_in_threadpool(
        service.amend, engine, register, entry_id, dict(body.cells), reason=body.reason,
        author=principal.name or "unknown", role=principal.role, org=principal.org,
    )  # fmt: skip
