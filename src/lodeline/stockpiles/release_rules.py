"""Coordinated release rules as data (YAML), validated with pydantic; every rejection names the field.

A rule set says *when* the alliance releases (``trigger``), *whose* stock it draws on (``pool``: members and/or
holder types), *how* the release is shared (``allocation``: pro rata to consumption, pro rata to shortfall, or
optimised = the stress-test engine's allocation LP), how much each member may give up (``caps``: tonnes and/or a
share of its own stock) and how long released stock takes to arrive (``lead_time``, months after the trigger).
The method is written up in docs/methods/release-plan.md. Files and uploads are decoded by the one bounded reader
(:mod:`lodeline.inputs`); bundled rule sets live in ``stockpiles/rules/*.yaml``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lodeline.domain.countries import resolve_country
from lodeline.errors import LodelineError, NotFoundError
from lodeline.inputs import Bounds, InputRejected, first_validation_error, parse_yaml

HolderType = Literal["public_strategic", "obligated_industry", "voluntary_industry"]
#: The alert lifecycle's levels, lowest first (``lodeline.alerts.model.Level``); a trigger names one above normal.
ALERT_LEVELS: tuple[str, ...] = ("normal", "watch", "warning", "alert")
AlertLevel = Literal["watch", "warning", "alert"]
HOLDER_TYPES: tuple[str, ...] = ("public_strategic", "obligated_industry", "voluntary_industry")
Allocation = Literal["pro_rata_consumption", "pro_rata_shortfall", "optimised"]
#: Uploaded rule sets are small (a bundled one is under 2 kB).
RULES_BOUNDS = Bounds(max_bytes=64 * 1024, max_depth=16, max_nodes=10_000)


class ReleaseRulesError(LodelineError):
    """A release rule set is invalid. ``field`` is the dotted path (``caps.members.JPN.share_of_stock``)."""

    code = "stocks-release-rules"

    def __init__(self, where: str, field: str, reason: str) -> None:
        super().__init__(f"{where}: field {field!r}: {reason}", file=where, field=field, reason=reason)
        self.field = field


def _iso3(value: str) -> str:
    try:
        return resolve_country(value)
    except LodelineError as exc:
        raise ValueError(exc.message) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Trigger(_Strict):
    """When the release starts. ``alert_level``: the mineral's recorded alert (one not closed, from the alert
    lifecycle) stands at ``level`` (watch, warning, alert) or above;
    ``shortfall_share``: the alliance's monthly shortfall without release reaches ``share`` of its baseline
    consumption; ``price_rise``: the modelled price rises by ``rise`` (0.5 = +50 %); ``exercise``: month 1."""

    kind: Literal["alert_level", "shortfall_share", "price_rise", "exercise"]
    level: AlertLevel | None = None
    share: float | None = Field(default=None, gt=0.0, le=1.0)
    rise: float | None = Field(default=None, gt=0.0)

    @model_validator(mode="after")
    def _parameter(self) -> Trigger:
        needs = {"alert_level": "level", "shortfall_share": "share", "price_rise": "rise"}.get(self.kind)
        for name in ("level", "share", "rise"):
            given = getattr(self, name) is not None
            if name == needs and not given:
                raise ValueError(f"a {self.kind} trigger needs '{name}'")
            if name != needs and given:
                raise ValueError(f"'{name}' does not apply to a {self.kind} trigger")
        return self


class Pool(_Strict):
    """Whose stock is drawn: ``members`` (ISO3; none = every member with stock) and ``holder_types``."""

    members: list[str] | None = None
    holder_types: list[HolderType] | None = None

    @field_validator("members")
    @classmethod
    def _members(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and not v:
            raise ValueError("the pool's member list is empty (leave it out to pool every member)")
        return None if v is None else [_iso3(c) for c in v]


class Cap(_Strict):
    """The most a member releases over the horizon: tonnes and/or a share of its own pooled stock (both: the
    smaller)."""

    tonnes: float | None = Field(default=None, ge=0.0, allow_inf_nan=False)
    share_of_stock: float | None = Field(default=None, ge=0.0, le=1.0)

    def limit(self, stock: float) -> float:
        out = stock
        if self.tonnes is not None:
            out = min(out, self.tonnes)
        if self.share_of_stock is not None:
            out = min(out, self.share_of_stock * stock)
        return out


class Caps(_Strict):
    default: Cap = Field(default_factory=Cap)
    members: dict[str, Cap] = Field(default_factory=dict)

    @field_validator("members")
    @classmethod
    def _keys(cls, v: dict[str, Cap]) -> dict[str, Cap]:
        return {_iso3(k): cap for k, cap in v.items()}

    def for_member(self, member: str) -> Cap:
        return self.members.get(member, self.default)


class LeadTime(_Strict):
    """Months between the trigger and the first month a member's released stock arrives (0 = same month)."""

    default_months: int = Field(default=0, ge=0, le=24)
    members: dict[str, int] = Field(default_factory=dict)

    @field_validator("members")
    @classmethod
    def _keys(cls, v: dict[str, int]) -> dict[str, int]:
        out = {}
        for k, months in v.items():
            if not 0 <= months <= 24:
                raise ValueError(f"lead time for {k} must be between 0 and 24 months")
            out[_iso3(k)] = months
        return out

    def for_member(self, member: str) -> int:
        return self.members.get(member, self.default_months)


class ReleaseRules(_Strict):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    trigger: Trigger
    pool: Pool = Field(default_factory=Pool)
    allocation: Allocation = "optimised"
    caps: Caps = Field(default_factory=Caps)
    lead_time: LeadTime = Field(default_factory=LeadTime)
    release_months: float = Field(
        default=3.0, gt=0.0, le=120.0, description="A member's full stock can be drawn over this many months"
    )


def parse_rules(data: Any, where: str = "<rules>") -> ReleaseRules:
    """Validate a decoded YAML mapping; raise :class:`ReleaseRulesError` naming the first bad field."""
    if not isinstance(data, dict):
        raise ReleaseRulesError(where, "(root)", "a release rule set must be a YAML mapping")
    try:
        return ReleaseRules.model_validate(data)
    except ValidationError as exc:
        raise ReleaseRulesError(where, *first_validation_error(exc)) from None


def rules_from_text(text: str | bytes, where: str = "<rules>") -> ReleaseRules:
    """Rule-set YAML text (an upload, a bundled file) decoded within :data:`RULES_BOUNDS` and validated."""
    try:
        data = parse_yaml(text, RULES_BOUNDS)
    except InputRejected as exc:
        raise ReleaseRulesError(where, "(root)", exc.reason) from None
    return parse_rules(data, where)


def bundled_rules() -> dict[str, str]:
    """The shipped example rule sets: name (file stem) → YAML text."""
    folder = resources.files("lodeline.stockpiles").joinpath("rules")
    return {
        p.name.removesuffix(".yaml"): p.read_text(encoding="utf-8")
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    }


def bundled(name: str) -> ReleaseRules:
    """A shipped rule set by name, or a 404 naming the ones there are."""
    text = bundled_rules().get(name)
    if text is None:
        known = ", ".join(bundled_rules())
        raise NotFoundError(f"no bundled release rule set {name!r}; known: {known}", name=name)
    return rules_from_text(text, f"rules:{name}")
