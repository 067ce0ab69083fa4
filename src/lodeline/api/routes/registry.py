"""The traceability registry over HTTP: EPCIS 2.0 capture, lots, origin shares, events, checkpoints and proofs.

Capture follows the EPCIS 2.0 REST binding's capture interface: ``POST /epcis/capture`` with the EPCIS document
as the body answers ``202 Accepted`` with a ``Location`` of the capture job, ``GET /epcis/capture/{captureID}``.
Lodeline captures synchronously and atomically (``captureErrorBehaviour`` is always ``rollback``), so the job
is finished by the time the 202 is sent. The detached signature over the body's exact bytes travels in the
``Lodeline-Signature`` header (base64 Ed25519 or a detached EdDSA JWS, as ``lodeline trace sign`` writes).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from lodeline.api.access import (
    Action,
    capturing_participant,
    check_lot_visible,
    check_row_visible_to_participant,
    registry_scope,
)
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store.accounts import Principal
from lodeline.trace import registry_service as svc
from lodeline.trace.capture import capture
from lodeline.trace.errors import TraceError

router = APIRouter(tags=["registry"])

SIGNATURE_HEADER = "Lodeline-Signature"
EPCIS_VERSION = "2.0.0"  # the REST binding's GS1-EPCIS-Version response header
ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 409, 413, 422, 429)
}
# The log's routes also answer 503 `registry-signer-refused` when the store does not extend what the signer signed.
LOG_ERRORS: dict[int | str, dict[str, Any]] = {**ERRORS, 503: {"model": ErrorBody}}
CAPTURE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "An EPCIS 2.0 document (JSON / JSON-LD), signed as sent",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}

Capturer = Annotated[Principal, Depends(Allowed(Action.CAPTURE_EPCIS))]
Reader = Annotated[Principal, Depends(Allowed(Action.READ_REGISTRY))]
Public = Depends(Allowed(Action.READ_REGISTRY_LOG))


def _job(record: dict[str, Any], report: dict[str, Any] | None = None) -> dict[str, Any]:
    """A capture job in the shape of the EPCIS 2.0 REST binding (captureID, running, success, errors)."""
    at = record["captured_at"].isoformat()
    job: dict[str, Any] = {
        "captureID": record["sha256"],
        "createdAt": at,
        "finishedAt": at,
        "running": False,
        "success": True,
        "captureErrorBehaviour": "rollback",
        "errors": [],
        "participant": record["participant_id"],
        "key_id": record["key_id"],
        "events": record["events"],
        "duplicates": record["duplicates"],
    }
    return job | ({"report": report} if report is not None else {})


@router.post(
    "/epcis/capture",
    status_code=202,
    responses={202: {"description": "Captured; Location names the capture job"}, **ERRORS},
    openapi_extra=CAPTURE_BODY,
    summary="Capture a signed EPCIS 2.0 document",
)
async def capture_document(
    request: Request,
    engine: EngineDep,
    principal: Capturer,
    signature: Annotated[
        str, Header(alias=SIGNATURE_HEADER, max_length=4096, description="Detached signature of the body")
    ] = "",
) -> Response:
    """Validate, verify the signature as the caller's company, enforce mass balance, store and log, atomically.

    Rejections answer 422 (409 for a replay of the same bytes) with the trace error ``code`` of the first
    problem and ``issues``: every problem with its event index, eventID and field.
    """
    participant = capturing_participant(principal)
    if not signature.isascii():  # base64 or a JWS; anything else is not a signature (and not a 500)
        raise InvalidArgumentError(f"the {SIGNATURE_HEADER} header must be ASCII", header=SIGNATURE_HEADER)
    body = await request.body()
    try:
        report = await run_in_threadpool(capture, engine, body, participant=participant, signature=signature)
    except TraceError as exc:
        if exc.code == "replayed-document":
            exc.http_status = 409
        raise
    record = await run_in_threadpool(svc.capture_record, engine, report.document_sha256)
    if record is None:  # committed a moment ago; absent only if the store lost it
        raise NotFoundError(f"capture {report.document_sha256} vanished after commit")
    out = report.to_dict() | {"accepted_hash_ids": report.accepted}
    return JSONResponse(
        _job(record, out),
        status_code=202,
        headers={"location": f"/epcis/capture/{report.document_sha256}", "gs1-epcis-version": EPCIS_VERSION},
    )


@router.get("/epcis/capture/{capture_id}", responses=ERRORS, summary="A capture job")
def capture_job(
    engine: EngineDep,
    principal: Reader,
    capture_id: Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")],
) -> dict[str, Any]:
    """The capture job (document SHA-256) — the capturing participant's own, or any for auditors."""
    record = svc.capture_record(engine, capture_id)
    owner = None if record is None else str(record["participant_id"])
    check_row_visible_to_participant(principal, owner, f"capture {capture_id}")
    assert record is not None
    return _job(record)


@router.get(
    "/api/v1/registry/checkpoint",
    dependencies=[Public],
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}, **LOG_ERRORS},
    summary="The latest signed checkpoint",
)
def checkpoint(
    request: Request, engine: EngineDep, format: Literal["text", "json"] | None = None
) -> Response:
    """The C2SP signed note with its witness cosignature lines (text/plain), or JSON with ``?format=json`` /
    ``Accept: application/json`` (which lists the cosignatures).

    Signs a new checkpoint first if the log has grown since the last one; answers 503
    ``registry-signer-refused`` when the store does not extend the checkpoints the signer signed.
    """
    doc = svc.checkpoint_document(engine)
    wants_json = format == "json" or (
        format is None and "application/json" in request.headers.get("accept", "")
    )
    if not wants_json:
        return PlainTextResponse(doc["note"], headers={"cache-control": "no-cache"})
    return JSONResponse(doc, headers={"cache-control": "no-cache"})


@router.get(
    "/api/v1/registry/proofs/inclusion",
    dependencies=[Public],
    responses=LOG_ERRORS,
    summary="Inclusion proof",
)
def inclusion_proof(
    engine: EngineDep,
    event_hash: Annotated[
        str, Query(min_length=14, max_length=100, description="ni:///sha-256;…?ver=CBV2.0")
    ],
    size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """``lodeline-inclusion-proof/1`` of the event against the latest checkpoint (or the one issued at ``size``);
    the checkpoint note is embedded under ``checkpoint``. Verify offline with ``lodeline trace verify``."""
    return svc.inclusion(engine, event_hash, size)


@router.get(
    "/api/v1/registry/proofs/consistency",
    dependencies=[Public],
    responses=LOG_ERRORS,
    summary="Consistency proof",
)
def consistency_proof(
    engine: EngineDep,
    old: Annotated[int, Query(ge=0, le=2**62)],
    new: Annotated[int | None, Query(ge=0, le=2**62)] = None,
) -> dict[str, Any]:
    """``lodeline-consistency-proof/1`` from the checkpoint of size ``old`` to that of ``new`` (default latest)."""
    return svc.consistency(engine, old, new)


@router.get("/api/v1/registry/lots/{lot:path}/origin", responses=ERRORS, summary="Origin shares of a lot")
def lot_origin(
    engine: EngineDep,
    principal: Reader,
    lot: Annotated[str, Path(min_length=1, max_length=240)],
    by: Literal["country", "facility", "certification", "recycled"] = "country",
) -> dict[str, Any]:
    """Shares of the lot's contained metal by origin country, facility, certification or recycled status, and
    the upstream composition edges. Participants: lots they held; other parties' facilities and lots are named
    only as far as their own records already name them (docs/trace.md, *Who sees what*)."""
    lot_id, holders = svc.find_lot(engine, lot, registry_scope(principal))
    viewer = check_lot_visible(principal, holders, lot_id)
    return svc.lot_origin(engine, lot_id, by, viewer)


@router.get("/api/v1/registry/events", responses=ERRORS, summary="Events of an EPC or a lot")
def registry_events(
    engine: EngineDep,
    principal: Reader,
    epc: Annotated[str | None, Query(min_length=1, max_length=240)] = None,
    lot: Annotated[str | None, Query(min_length=1, max_length=240)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Exactly one of ``epc`` / ``lot``. Participants see their own events in full and, on lots they held,
    other parties' movements as custody facts (``visibility: custody``: no event body, no document)."""
    if (epc is None) == (lot is None):
        raise InvalidArgumentError("give exactly one of ?epc= or ?lot=")
    viewer = registry_scope(principal)
    if lot is not None:
        lot_id, holders = svc.find_lot(engine, lot, viewer)
        check_lot_visible(principal, holders, lot_id)
        return {"lot": lot_id, "events": svc.lot_events(engine, lot_id, limit, viewer)}
    assert epc is not None
    return {"epc": epc, "events": svc.epc_events(engine, epc, viewer, limit)}
