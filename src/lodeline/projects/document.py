"""A member's project document (JSON/YAML through the API or CLI) ↔ the project record.

The input model forbids unknown fields and names the offending field in every error; the stored document is
the input as validated (so a record round-trips exactly). Pure: the store keeps the JSON text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, UnknownMineralError
from lodeline.projects.conversion import convert
from lodeline.projects.schema import (
    CONFIDENTIAL_FIELDS,
    Capacity,
    Designation,
    Money,
    Project,
    ProjectStage,
    SocialDividend,
    SourceRef,
    StatusEvent,
    StudyStage,
)

MEMBER_LIST = "member"
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{2,79}$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoneyIn(_Strict):
    value: float = Field(ge=0)
    currency: str
    value_high: float | None = Field(default=None, ge=0)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if not _CURRENCY.match(v):
            raise ValueError("an ISO 4217 code such as EUR or USD")
        return v


class CapacityIn(_Strict):
    value: float = Field(gt=0, description="tonnes per year of the product")
    product: str = Field(min_length=1, max_length=120)
    unit: Literal["t/yr"] = "t/yr"


class StatusIn(_Strict):
    status: str = Field(min_length=1, max_length=60)
    date: str | None = None

    @field_validator("date")
    @classmethod
    def _date(cls, v: str | None) -> str | None:
        if v is not None and not _DATE.match(v):
            raise ValueError("an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
        return v


class SocialIn(_Strict):
    local_jobs: int | None = Field(default=None, ge=0)
    local_processing_share: float | None = Field(default=None, ge=0, le=1)
    community_benefit_agreement: bool | None = None
    fpic_status: str | None = Field(default=None, max_length=120)
    local_value_added_per_year: float | None = Field(default=None, ge=0)
    local_wages_per_year: float | None = Field(default=None, ge=0)
    community_payments_per_year: float | None = Field(default=None, ge=0)
    currency: str | None = None
    evidence: str | None = Field(default=None, max_length=500)


class ProjectIn(_Strict):
    project_id: str
    name: str = Field(min_length=1, max_length=200)
    promoters: list[str] = Field(default_factory=list, max_length=20)
    countries: list[str] = Field(default_factory=list, max_length=20)
    location: str | None = Field(default=None, max_length=200)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    minerals: list[str] = Field(default_factory=list, max_length=20)
    stages: list[ProjectStage] = Field(default_factory=list)
    product: str | None = Field(default=None, max_length=120)
    grade: str | None = Field(default=None, max_length=120)
    capacity: CapacityIn | None = None
    capex: MoneyIn | None = None
    opex_per_year: MoneyIn | None = None
    study_stage: StudyStage | None = None
    status_history: list[StatusIn] = Field(default_factory=list, max_length=50)
    expected_start_year: int | None = Field(default=None, ge=1990, le=2100)
    designations: list[str] = Field(default_factory=list, max_length=20)
    offtakes: list[str] = Field(default_factory=list, max_length=50)
    social: SocialIn | None = None
    permit_applied: str | None = None
    permit_granted: str | None = None
    production_start: str | None = None
    source_url: str | None = Field(default=None, max_length=500)
    confidential: list[str] = Field(default_factory=list)

    @field_validator("project_id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("3-80 characters: lower-case letters, digits, '.', '_' or '-'")
        return v

    @field_validator("countries")
    @classmethod
    def _countries(cls, v: list[str]) -> list[str]:
        bad = [c for c in v if not re.match(r"^[A-Z]{2}$", c)]
        if bad:
            raise ValueError(f"not ISO 3166 alpha-2 codes: {bad}")
        return v

    @field_validator("permit_applied", "permit_granted", "production_start")
    @classmethod
    def _dates(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^\d{4}-\d{2}-\d{2}$", v):
            raise ValueError("an ISO date YYYY-MM-DD")
        return v

    @field_validator("confidential")
    @classmethod
    def _confidential(cls, v: list[str]) -> list[str]:
        bad = sorted(set(v) - CONFIDENTIAL_FIELDS)
        if bad:
            raise ValueError(f"{bad} cannot be confidential; choose from {sorted(CONFIDENTIAL_FIELDS)}")
        return sorted(set(v))


def validate_document(doc: Any, *, where: str = "project") -> ProjectIn:
    """The member's document as a checked model; InvalidArgumentError naming the first bad field."""
    if not isinstance(doc, Mapping):
        raise InvalidArgumentError(
            f"{where}: expected an object with project fields, got {type(doc).__name__}"
        )
    try:
        model = ProjectIn.model_validate(dict(doc))
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(document)"
        raise InvalidArgumentError(f"{where}: field {loc!r}: {err['msg']}", field=loc) from None
    minerals = []
    for name in model.minerals:
        try:
            minerals.append(resolve_mineral(name))
        except UnknownMineralError as exc:
            raise InvalidArgumentError(
                f"{where}: field 'minerals': {exc.message}", field="minerals"
            ) from None
    return model.model_copy(update={"minerals": list(dict.fromkeys(minerals))})


def _money(m: MoneyIn | None) -> Money | None:
    return None if m is None else Money(m.value, m.currency, m.value_high)


def to_project(model: ProjectIn, *, owner_org: str) -> Project:
    """The record of a member's document (its capacity converted with the documented factors)."""
    capacity = None
    if model.capacity is not None:
        capacity = convert(
            Capacity(
                model.capacity.value,
                "t/yr",
                model.capacity.product,
                f"{model.capacity.value:g} t/yr {model.capacity.product}",
            )
        )
    social = SocialDividend(**model.social.model_dump()) if model.social else None
    return Project(
        project_id=model.project_id,
        name=model.name,
        promoters=tuple(model.promoters),
        countries=tuple(model.countries),
        location=model.location,
        latitude=model.latitude,
        longitude=model.longitude,
        minerals=tuple(model.minerals),
        stages=tuple(dict.fromkeys(model.stages)),
        product=model.product or (capacity.product if capacity else None),
        grade=model.grade,
        capacity=capacity,
        capex=_money(model.capex),
        opex_per_year=_money(model.opex_per_year),
        study_stage=model.study_stage,
        status_history=tuple(StatusEvent(s.status, s.date, MEMBER_LIST) for s in model.status_history),
        expected_start_year=model.expected_start_year,
        expected_start=str(model.expected_start_year) if model.expected_start_year else None,
        designations=tuple(Designation(d, None, None) for d in model.designations),
        offtakes=tuple(model.offtakes),
        social=social,
        permit_applied=model.permit_applied,
        permit_granted=model.permit_granted,
        production_start=model.production_start,
        sources=(
            SourceRef(MEMBER_LIST, model.project_id, model.source_url, "member", f"submitted by {owner_org}"),
        ),
        owner_org=owner_org,
        confidential=frozenset(model.confidential),
    ).with_gaps()
