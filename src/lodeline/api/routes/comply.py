"""Compliance API (issue 16): rule sets (published), checks and screening of a lot (participants: lots they held;
auditors and admins: any). Only bundled rule sets are applied over the API (a file path is never read)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from lodeline.api.access import Action, check_lot_visible, registry_scope
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.errors import NotFoundError
from lodeline.services import comply as service
from lodeline.store.accounts import Principal
from lodeline.trace import registry_service

router = APIRouter(prefix="/api/v1/comply", tags=["compliance"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody},
    401: {"model": ErrorBody},
    403: {"model": ErrorBody},
    404: {"model": ErrorBody},
}
Checker = Annotated[Principal, Depends(Allowed(Action.CHECK_COMPLIANCE))]
Public = Annotated[Principal, Depends(Allowed(Action.READ_PUBLISHED))]
LotQuery = Annotated[str, Query(min_length=1, max_length=240, description="Lot epcClass URN or lot number")]


def _bundled(ruleset: str) -> Any:
    known = {r["id"] for r in service.list_rulesets()}
    if ruleset not in known:
        raise NotFoundError(f"unknown rule set {ruleset!r}; bundled: {sorted(known)}")
    return service.get_ruleset(ruleset)


def _visible_lot(engine: Any, principal: Principal, lot: str) -> tuple[str, str | None]:
    """The lot's id and the viewer its records are scoped to (None: everything)."""
    lot_id, holders = registry_service.find_lot(engine, lot, registry_scope(principal))
    return lot_id, check_lot_visible(principal, holders, lot_id)


#: Facts that name individual facilities or parties: a participant sees how many, not which (other parties'
#: facilities stay as undisclosed as in the origin view: docs/trace.md, *Who sees what*).
_PARTY_FACTS = frozenset(
    {
        "facilities",
        "expired_certifications",
        "origin_share_by_facility",
        "xinjiang_box_facilities",
        "entity_hits",
    }
)


def _shown(record: dict[str, Any], viewer: str | None) -> dict[str, Any]:
    out = {k: v for k, v in record.items() if k != "document"}
    if viewer is not None:
        out["facts"] = {
            k: (
                {"withheld": True, "count": len(v)} if k in _PARTY_FACTS and isinstance(v, list | dict) else v
            )
            for k, v in record["facts"].items()
        }
    return out


@router.get("/rulesets", responses=ERRORS, summary="Bundled rule sets")
def rulesets(principal: Public) -> dict[str, Any]:
    return {"rulesets": service.list_rulesets()}


@router.get("/rulesets/{ruleset}", responses=ERRORS, summary="One rule set with its rules")
def ruleset_show(principal: Public, ruleset: Annotated[str, Path(max_length=120)]) -> dict[str, Any]:
    return _bundled(ruleset).describe()


@router.post("/check", responses=ERRORS, summary="Check a lot against a rule set; every verdict is logged")
def check(
    engine: EngineDep,
    principal: Checker,
    lot: LotQuery,
    rules: Annotated[str, Query(min_length=1, max_length=120, description="Bundled rule set id")],
    as_of: Annotated[dt.date | None, Query(description="Date the facts hold for (default today)")] = None,
) -> dict[str, Any]:
    """Each rule's verdict (pass, fail, insufficient-data) with the facts that decided it and the index of the
    verdict's leaf in the registry's log. Participants: lots they held; facts naming individual facilities or
    parties are shown to them as a count (auditors and admins see them, and the logged document holds them)."""
    rs = _bundled(rules)
    lot_id, viewer = _visible_lot(engine, principal, lot)
    records = service.check(engine, lot_id, rs, as_of=as_of, checked_by=principal.name)
    return {
        "lot": lot_id,
        "ruleset": {"id": rs.id, "version": rs.version, "effective": rs.effective, "sha256": rs.sha256},
        "verdicts": [_shown(r, viewer) for r in records],
    }


@router.get("/screen", responses=ERRORS, summary="TVPRA screen of a lot (bundled edition)")
def screen(engine: EngineDep, principal: Checker, lot: LotQuery) -> dict[str, Any]:
    """The lot's TVPRA hits (goods x countries on its path, with the edition). Entity lists are user-supplied
    files: screen them with `lodeline comply screen --entities FILE`."""
    lot_id, _viewer = _visible_lot(engine, principal, lot)
    return service.screen(engine, lot_id)
