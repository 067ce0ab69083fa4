"""Member stockpile submissions (docs/stocks.md): thin routes over :mod:`lodeline.services.stocks`.

Who sees what is :mod:`lodeline.api.access` (``stocks_scope``, ``stocks_member``): a member submits for its own
delegation and reads its own submissions; the secretariat reads every member's, and each of its reads of a
member's submission (and each list of them) is written to the audit log here (event ``stocks:secretariat-read``,
with the submission and member); anyone else is refused, and another member's submission is "not found" (404), never "forbidden".
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException

from lodeline.api.access import Action, stocks_member, stocks_scope
from lodeline.api.deps import Allowed, EngineDep, client_address
from lodeline.api.envelope import READ_RESPONSES, Envelope, ErrorBody, render_page, respond, wants_csv
from lodeline.api.reads import CursorQuery, FormatQuery, LimitDep
from lodeline.errors import InvalidArgumentError
from lodeline.export import XLSX_MEDIA_TYPE
from lodeline.inputs import InputRejected, parse_json
from lodeline.services import stock_aggregates, stock_cover
from lodeline.services import stocks as service
from lodeline.stockpiles import readers
from lodeline.store import stocks as stocks_db
from lodeline.store.accounts import Principal, record_audit

router = APIRouter(prefix="/api/v1/stocks", tags=["stockpile submissions"])

_MULTIPART = "multipart/form-data"
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 415, 422, 429, 503)
}
_MEDIA = {"application/json": "json", "text/csv": "csv", XLSX_MEDIA_TYPE: "xlsx", _MULTIPART: "multipart"}
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "description": "The submission: JSON ({rows: [...], period}), the file itself (text/csv or xlsx) "
        "with ?period=, or a form upload (multipart/form-data: a `file` part named *.csv, *.xlsx or *.json and "
        "a `period` field; the dashboard's upload form sends this). Columns as in GET /api/v1/stocks/template.",
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "text/csv": {"schema": {"type": "string"}},
            XLSX_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            _MULTIPART: {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "period": {"type": "string", "example": "2026-Q3"},
                    },
                }
            },
        },
    }
}

SubmitterDep = Annotated[Principal, Depends(Allowed(Action.SUBMIT_STOCKS))]
ReaderDep = Annotated[Principal, Depends(Allowed(Action.READ_STOCKS))]
SubmissionId = Annotated[int, Path(ge=1, le=2**62)]


def _audit_read(request: Request, engine: Any, principal: Principal, submission_id: int, what: str) -> None:
    """A secretariat read of a member's row goes to the audit log before the row is returned."""
    if stocks_scope(principal) is None:
        owner = service.owner_of(engine, submission_id, None)
        record_audit(
            engine,
            "stocks:secretariat-read",
            principal=principal,
            method=request.method,
            path=request.url.path,
            status=200,
            client=client_address(request),
            detail=f"{what} of stock submission {submission_id} (member {owner})",
        )


async def _form_rows(request: Request) -> tuple[readers.Rows, str | None, str]:
    """The rows of a form upload (one ``file`` part, format from its name) and its ``period`` field, if any. The
    body size is bounded by the server's body limit before this; the file by ``readers.MAX_BYTES``."""
    try:
        form = await request.form(max_files=1, max_fields=4, max_part_size=1024)
    except (MultiPartException, ValueError) as exc:
        raise InvalidArgumentError(f"form upload: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidArgumentError("form upload: the 'file' part (a .csv, .xlsx or .json file) is missing")
    name = (upload.filename or "upload")[:200]
    fmt = readers.format_of(name)
    data = await upload.read(readers.MAX_BYTES + 1)
    rows = await run_in_threadpool(readers.read_rows, data, fmt, name)
    raw_period = form.get("period")
    period = raw_period.strip() if isinstance(raw_period, str) and raw_period.strip() else None
    return rows, period, name


@router.post(
    "/submissions",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Submit or amend the caller's stockpile submission",
    openapi_extra=_BODY_DOC,
)
async def submit(
    request: Request,
    engine: EngineDep,
    principal: SubmitterDep,
    period: Annotated[str | None, Query(max_length=16, description="Reporting period, e.g. 2026-Q3")] = None,
) -> dict[str, Any]:
    """Validate every row (a bad row refuses the whole submission, naming row, field and reason) and store it as a
    new version of the caller's submission for the period, with its leaf in the registry's log. A JSON row without
    ``member`` is the caller's; a row naming another member is refused."""
    member = stocks_member(principal)
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    fmt = _MEDIA.get(media)
    if fmt is None:
        raise InvalidArgumentError(f"unsupported content type {media!r}: one of {', '.join(_MEDIA)}")
    source = "request body"
    if fmt == "multipart":
        rows, form_period, source = await _form_rows(request)
        period = period if period is not None else form_period
    elif fmt == "json":
        body = await request.body()
        try:
            value = await run_in_threadpool(parse_json, body, readers.JSON_BOUNDS)
        except InputRejected as exc:
            raise InvalidArgumentError(f"request body: {exc.reason}") from None
        rows = readers.json_rows(value, "request body", {"member": member})
        if period is None and isinstance(value, dict) and isinstance(value.get("period"), str):
            period = value["period"]
    else:
        body = await request.body()
        rows = await run_in_threadpool(readers.read_rows, body, fmt, "request body")
    if period is None:
        raise InvalidArgumentError("the reporting period is missing: give ?period=2026-Q3 or a JSON 'period'")
    accepted = await run_in_threadpool(
        service.submit_rows,
        engine,
        rows,
        member=member,
        period=period,
        submitted_by=principal.name,
        source=source,
    )
    return accepted.to_dict()


@router.get("/submissions", responses=ERRORS, summary="Stock submissions visible to the caller")
def list_submissions(request: Request, engine: EngineDep, principal: ReaderDep) -> list[dict[str, Any]]:
    """A member: its own submissions; the secretariat: every member's (a list without figures; the read is
    audited, naming the members listed)."""
    scope = stocks_scope(principal)
    listed = service.list_submissions(engine, scope)
    if scope is None and listed:
        members = ", ".join(sorted({s["member"] for s in listed}))
        record_audit(
            engine,
            "stocks:secretariat-read",
            principal=principal,
            method=request.method,
            path=request.url.path,
            status=200,
            client=client_address(request),
            detail=f"list of {len(listed)} stock submission(s) (members {members})"[:2000],
        )
    return listed


@router.get("/submissions/{submission_id}", responses=ERRORS, summary="One stock submission in full")
def show_submission(
    request: Request,
    engine: EngineDep,
    principal: ReaderDep,
    submission_id: SubmissionId,
    version: Annotated[
        int | None, Query(ge=1, le=2**31, description="A version (default: the latest)")
    ] = None,
) -> dict[str, Any]:
    scope = stocks_scope(principal)
    shown = service.show(engine, submission_id, scope, version)
    _audit_read(request, engine, principal, submission_id, f"version {shown['version']}")
    return shown


@router.get(
    "/submissions/{submission_id}/history", responses=ERRORS, summary="Versions of a stock submission"
)
def submission_history(
    request: Request, engine: EngineDep, principal: ReaderDep, submission_id: SubmissionId
) -> dict[str, Any]:
    found = service.history(engine, submission_id, stocks_scope(principal))
    _audit_read(request, engine, principal, submission_id, "history")
    return found


@router.get(
    "/template",
    responses={**ERRORS, 200: {"content": {"text/csv": {}, XLSX_MEDIA_TYPE: {}}}},
    summary="The submission template (CSV or xlsx)",
)
def template(
    _caller: Annotated[Principal, Depends(Allowed(Action.READ_PUBLISHED))],
    fmt: Annotated[str, Query(alias="format", pattern="^(csv|xlsx)$")] = "csv",
) -> Response:
    """The columns and one illustrative example row (not a real holding)."""
    media = "text/csv; charset=utf-8" if fmt == "csv" else XLSX_MEDIA_TYPE
    return Response(
        service.template(fmt),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="stocks-template.{fmt}"'},
    )


PeriodQuery = Annotated[str, Query(pattern=r"^\d{4}-Q[1-4]$", description="Reporting period, e.g. 2026-Q3")]
MeasureQuery = Annotated[
    str,
    Query(pattern="^(gross|contained)$", description="gross (tonnes as held) or contained (metal content)"),
]
ByQuery = Annotated[
    str,
    Query(
        pattern="^(holder-type|member-group)$",
        description="The group dimension: holder type (default) or member group (stockpiles/groups/member-groups.yaml)",
    ),
]


def _render(
    request: Request, engine: Any, result: Any, name: str, limit: int, cursor: Any, fmt: Any
) -> Response:
    rendered = render_page(
        request,
        result.frame,
        result.provenance,
        data_version=f"stocks-{stocks_db.count_versions(engine)}",
        limit=limit,
        cursor=cursor,
        csv=wants_csv(request, fmt),
        name=name,
    )
    return respond(request, rendered)


@router.get(
    "/aggregates",
    response_model=Envelope,
    responses=READ_RESPONSES,
    summary="Published stockpile aggregates of a period (disclosure-controlled, ':c' = confidential)",
)
def aggregates(
    request: Request,
    engine: EngineDep,
    _caller: Annotated[Principal, Depends(Allowed(Action.READ_PUBLISHED))],
    period: PeriodQuery,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
    measure: MeasureQuery = "gross",
    by: ByQuery = "holder-type",
) -> Response:
    """Tonnes gross (or contained) by mineral, holder type (or member group) and form with margins ('ALL'); a
    suppressed cell is null and flagged ``:c``. Built from the members' latest submissions, protected and audited
    before it is shown (a failed audit is a 503 and nothing is published). Everyone sees the same table; no
    member's figure is in it."""
    result = stock_aggregates.published(engine, period, measure=measure, by=by)
    return _render(request, engine, result, f"stock-aggregates-{measure}-{by}-{period}", limit, cursor, fmt)


@router.get(
    "/own-vs-aggregate",
    response_model=Envelope,
    responses=READ_RESPONSES,
    summary="The published aggregates with the calling member's own figure beside each cell",
)
def own_vs_aggregate(
    request: Request,
    engine: EngineDep,
    principal: SubmitterDep,
    period: PeriodQuery,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
    measure: MeasureQuery = "gross",
    by: ByQuery = "holder-type",
) -> Response:
    """Members only: the published table (as ``/aggregates``) plus ``own_tonnes``, the caller's own tonnes in each
    cell (margins included; null where it holds nothing there). Never another member's figure."""
    member = stocks_member(principal)
    result = stock_aggregates.own_vs_aggregate(engine, period, member, measure=measure, by=by)
    return _render(request, engine, result, f"stock-own-vs-aggregate-{period}", limit, cursor, fmt)


@router.get(
    "/cover",
    response_model=Envelope,
    responses=READ_RESPONSES,
    summary="Days of cover of the pooled (published) contained stocks against the alliance's consumption",
)
def cover(
    request: Request,
    engine: EngineDep,
    _caller: Annotated[Principal, Depends(Allowed(Action.READ_PUBLISHED))],
    period: PeriodQuery,
    limit: LimitDep,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
    alliance: Annotated[
        str, Query(max_length=1200, description="Alliance: G7+, G7, EU27 … or ISO3 codes")
    ] = "G7+",
) -> Response:
    """Per mineral: pooled contained tonnes as published (or ``:c``), the alliance's annual apparent consumption
    (refined metal, latest year, with its source) and days of cover = contained / consumption × 365; a gap is null
    with its reason (docs/methods/stock-days-of-cover.md)."""
    result = stock_cover.cover(engine, period, alliance)
    return _render(request, engine, result, f"stock-cover-{period}", limit, cursor, fmt)
