"""Confidential member submissions: each row belongs to one organisation; the access layer scopes reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, status
from pydantic import BaseModel, ConfigDict, Field

from lodeline.api.access import Action, check_row_visible, confidential_scope
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.domain.minerals import resolve_mineral
from lodeline.store.accounts import Principal, insert_submission, select_submissions, submission_owner

router = APIRouter(prefix="/api/v1/submissions", tags=["confidential submissions"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 413, 422, 429, 503)
}


class SubmissionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mineral: str = Field(min_length=1, max_length=64, description="Mineral id or alias")
    year: int = Field(ge=1900, le=2100)
    metric: str = Field(
        min_length=1, max_length=48, pattern=r"^[a-z][a-z0-9_]*$", description="e.g. stockpile_t, demand_t"
    )
    value: float = Field(allow_inf_nan=False)
    # no control characters: they would reach CSV exports, terminals and logs of the people who read the rows
    unit: str = Field(min_length=1, max_length=48, pattern=r"^[^\x00-\x1f\x7f]+$")
    note: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$")


class SubmissionOut(BaseModel):
    id: int
    org: str
    mineral: str
    year: int
    metric: str
    value: float
    unit: str
    note: str | None
    created_at: str


def _out(row: dict[str, Any]) -> SubmissionOut:
    fields = {k: row[k] for k in SubmissionOut.model_fields if k != "created_at"}
    return SubmissionOut(**fields, created_at=row["created_at"].isoformat())


@router.post(
    "", response_model=SubmissionOut, status_code=status.HTTP_201_CREATED, responses=ERRORS, summary="Submit"
)
def create_submission(
    body: SubmissionIn,
    engine: EngineDep,
    principal: Annotated[Principal, Depends(Allowed(Action.SUBMIT_CONFIDENTIAL))],
) -> SubmissionOut:
    """Store a confidential figure owned by the caller's organisation."""
    values = body.model_dump()
    values["mineral"] = resolve_mineral(body.mineral)
    return _out(insert_submission(engine, principal, values))


@router.get("", response_model=list[SubmissionOut], responses=ERRORS, summary="List visible submissions")
def list_submissions(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(Allowed(Action.READ_CONFIDENTIAL))],
) -> list[SubmissionOut]:
    """The caller's organisation's rows (auditors and admins: every organisation's)."""
    return [_out(r) for r in select_submissions(engine, confidential_scope(principal))]


@router.get("/{submission_id}", response_model=SubmissionOut, responses=ERRORS, summary="One submission")
def get_submission(
    engine: EngineDep,
    principal: Annotated[Principal, Depends(Allowed(Action.READ_CONFIDENTIAL))],
    submission_id: Annotated[int, Path(ge=1, le=2**62)],
) -> SubmissionOut:
    check_row_visible(principal, submission_owner(engine, submission_id), f"submission {submission_id}")
    return _out(select_submissions(engine, None, submission_id)[0])
