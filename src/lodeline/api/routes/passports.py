"""Digital product passports over HTTP (docs/passports.md): draft and store (a participant, its own lots only),
fetch by id or through a GS1 Digital Link resolver route, and verify (anyone).

Issuing is two steps so the server never holds a participant's private key: ``POST /api/v1/passports/draft``
answers the unsigned credential (with its registry evidence) of a lot the caller's company produced; the participant
adds the ``eddsa-jcs-2022`` proof with its registered key and ``POST /api/v1/passports`` stores it once every
check passes. ``lodeline passport issue`` does both locally.
"""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from lodeline.api.access import Action, capturing_participant
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.services import comply as comply_service
from lodeline.services import passports as service
from lodeline.store.accounts import Principal

router = APIRouter(tags=["passports"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 422, 429)
}
Issuer = Annotated[Principal, Depends(Allowed(Action.ISSUE_PASSPORT))]
Public = Depends(Allowed(Action.READ_PASSPORT))
#: the link types the resolver answers with the passport (UNTP and GS1 spellings)
DPP_LINK_TYPES = ("untp:dpp", "gs1:dpp", "dpp")


class DraftRequest(BaseModel):
    lot: str = Field(min_length=1, max_length=240, description="The lot (Digital Link URI or lot number).")
    profile: str = Field("untp-dpp", description="untp-dpp | battery-pass")
    public_key: str = Field(
        min_length=40, max_length=64, description="Base64 of the raw 32-byte Ed25519 key that will sign."
    )
    verdicts: list[dict[str, Any]] = Field(
        default_factory=list,
        max_length=1000,
        description="Rule verdict records (rule, verdict, leaf_index, …).",
    )
    rules: list[str] = Field(
        default_factory=list,
        max_length=10,
        description="Bundled rule sets (GET /api/v1/comply/rulesets) to check the lot against now; their "
        "verdicts are logged and declared.",
    )


def _public_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII string
        raise InvalidArgumentError("public_key: not base64", field="public_key") from exc
    if len(raw) != 32:
        raise InvalidArgumentError("public_key: an Ed25519 key is 32 bytes", field="public_key")
    return raw


@router.post("/api/v1/passports/draft", responses=ERRORS, summary="Draft the passport of one's own lot")
def draft_passport(engine: EngineDep, principal: Issuer, request: DraftRequest) -> dict[str, Any]:
    """The unsigned passport (UNTP DPP as a W3C VC with the registry evidence) of a lot the caller's company
    produced, to be signed (eddsa-jcs-2022) with the registered key ``public_key`` and sent to
    ``POST /api/v1/passports``."""
    participant = capturing_participant(principal)
    bundled = {r["id"] for r in comply_service.list_rulesets()}
    unknown = [r for r in request.rules if r not in bundled]
    if unknown:  # only bundled rule sets over the API: a name is never read as a file path
        raise NotFoundError(f"unknown rule set {unknown[0]!r}; bundled: {sorted(bundled)}")
    return service.draft(
        engine,
        request.lot,
        participant=participant,
        public_key=_public_key(request.public_key),
        profile=request.profile,
        verdicts=request.verdicts,
        rulesets=request.rules,
    )


@router.post("/api/v1/passports", status_code=201, responses=ERRORS, summary="Store a signed passport")
async def store_passport(
    engine: EngineDep, principal: Issuer, passport: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Verify a passport the caller's company signed (every check must pass against this registry's key; the
    issuer must be the caller's company and the lot one it produced) and store it; its digest becomes a log
    leaf. Answers its id, leaf index and the verification report."""
    participant = capturing_participant(principal)
    return await run_in_threadpool(service.register, engine, passport, participant)


@router.get("/api/v1/passports", responses=ERRORS, summary="The passports of a lot")
def list_passports(
    engine: EngineDep,
    lot: Annotated[str, Query(min_length=1, max_length=240)],
    _: Principal = Public,
) -> dict[str, Any]:
    """The passports issued for a lot, newest first (id, profile, issuer, issued_at, leaf_index). Public, like
    the passports themselves."""
    rows = service.of_lot(engine, lot)
    return {
        "lot": rows[0]["lot_id"] if rows else lot,
        "passports": [r | {"issued_at": r["issued_at"].isoformat()} for r in rows],
    }


@router.get(
    "/api/v1/passports/{passport_id:path}/verify", responses=ERRORS, summary="Verify a stored passport"
)
def verify_stored_passport(
    engine: EngineDep,
    passport_id: Annotated[str, Path(min_length=1, max_length=400)],
    _: Principal = Public,
) -> dict[str, Any]:
    """Every check on the stored passport ``passport_id``, as ``POST /api/v1/passports/verify`` runs them on a
    posted one (which the request body limit bounds; a passport of thousands of events is verified here)."""
    return service.verify_document(service.fetch(engine, passport_id), service.verifiers(engine))


@router.get("/api/v1/passports/{passport_id:path}", responses=ERRORS, summary="A passport by its id")
def get_passport(
    engine: EngineDep,
    passport_id: Annotated[str, Path(min_length=1, max_length=400)],
    _: Principal = Public,
) -> dict[str, Any]:
    """The stored passport (the signed credential as issued). Public: a passport is meant to be read."""
    return service.fetch(engine, passport_id)


@router.get(
    "/01/{gtin}/10/{lot}",
    responses=ERRORS,
    summary="GS1 Digital Link resolver: the passport of a lot",
)
def resolve_passport(
    engine: EngineDep,
    gtin: Annotated[str, Path(pattern=r"^\d{14}$")],
    lot: Annotated[str, Path(min_length=1, max_length=20)],
    link_type: Annotated[str | None, Query(alias="linkType", max_length=64)] = None,
    _: Principal = Public,
) -> dict[str, Any]:
    """Resolve a GS1 Digital Link URI (AI 01 GTIN, AI 10 batch/lot) to the newest passport of that lot, for
    ``linkType`` ``untp:dpp`` (or ``gs1:dpp``, or none)."""
    if link_type is not None and link_type not in DPP_LINK_TYPES:
        raise NotFoundError(
            f"no {link_type!r} link for this lot; this resolver serves {', '.join(DPP_LINK_TYPES)}"
        )
    return service.fetch_by_gtin(engine, gtin, lot)


@router.post("/api/v1/passports/verify", responses=ERRORS, summary="Verify a passport")
async def verify_passport(
    engine: EngineDep, passport: Annotated[Any, Body()], _: Principal = Public
) -> dict[str, Any]:
    """Run every check on a passport against this registry's verifier key and answer each check's result
    (``valid``, ``failed``, ``skipped``, ``checks``). Anyone may verify; the same checks run offline with
    ``lodeline passport verify``."""
    return await run_in_threadpool(service.verify_document, passport, service.verifiers(engine))
