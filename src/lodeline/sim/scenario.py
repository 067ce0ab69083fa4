"""Scenario specifications (YAML), validated with pydantic; every rejection names the field.

A scenario names a mineral, disruptions (who, which stage, export or production, cut fraction, start,
duration, optional destinations), demand shocks, the alliance's response (release rule, rerouting,
substitution, recycling ramp-up, fairness, priorities), the price model and the Monte Carlo settings.
A small network can be given inline (``network:``) for exercises and worked examples; otherwise it is
built from the store.
"""

from __future__ import annotations

from importlib import resources
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from lodeline.domain.countries import OTHER_COUNTRIES, resolve_country
from lodeline.domain.groups import country_groups, resolve_alliance
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.inputs import first_validation_error

StageName = Literal["mining", "refining", "component"]


class ScenarioError(LodelineError):
    """A scenario file is invalid. ``field`` is the dotted path (``disruptions.0.cut``)."""

    code = "sim-scenario"

    def __init__(self, where: str, field: str, reason: str) -> None:
        super().__init__(f"{where}: field {field!r}: {reason}", file=where, field=field, reason=reason)
        self.field = field


def _country(value: str) -> str:
    if value.strip().upper() == OTHER_COUNTRIES:
        return OTHER_COUNTRIES
    try:
        return resolve_country(value)
    except LodelineError as exc:
        raise ValueError(exc.message) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Disruption(_Strict):
    country: str
    stage: StageName = "refining"
    kind: Literal["export", "production"] = "export"
    cut: float = Field(ge=0.0, le=1.0)
    start_month: int = Field(default=1, ge=1)
    duration_months: int = Field(ge=1)
    to: list[str] | None = None
    label: str = ""

    @field_validator("country")
    @classmethod
    def _resolve_country(cls, v: str) -> str:
        return _country(v)

    @field_validator("to")
    @classmethod
    def _destinations(cls, v: list[str] | None) -> list[str] | None:
        return None if v is None else [_country(c) for c in v]


class DemandShock(_Strict):
    country: str | None = None
    change: float = Field(gt=-1.0)
    start_month: int = Field(default=1, ge=1)
    duration_months: int = Field(ge=1)

    @field_validator("country")
    @classmethod
    def _c(cls, v: str | None) -> str | None:
        return None if v is None else _country(v)


class Response(_Strict):
    release: Literal["optimised", "proportional", "none"] = "optimised"
    reroute_fraction: float = Field(default=0.5, ge=0.0, le=1.0)
    substitution: float = Field(default=0.0, ge=0.0, le=1.0)
    recycling_rampup: float = Field(default=0.0, ge=0.0)
    fairness_kappa: float | None = Field(default=2.0, ge=1.0)
    logistics_t_per_month: float | None = Field(default=None, gt=0.0)
    priority: dict[str, float] = Field(default_factory=dict)

    @field_validator("priority")
    @classmethod
    def _p(cls, v: dict[str, float]) -> dict[str, float]:
        out = {}
        for country, weight in v.items():
            if weight <= 0:
                raise ValueError(f"priority weight for {country} must be > 0")
            out[_country(country)] = weight
        return out


class PriceModel(_Strict):
    elasticity: float = Field(default=-0.3, lt=0.0)
    max_multiple: float = Field(default=10.0, gt=1.0)


class MonteCarloSpec(_Strict):
    stage: StageName = "refining"
    kind: Literal["export", "production"] = "export"
    cut: float = Field(default=0.5, ge=0.0, le=1.0)
    duration_months: int = Field(default=6, ge=1)
    correlation: float = Field(default=0.3, ge=0.0, lt=1.0)
    p_min: float = Field(default=0.01, ge=0.0, le=1.0)
    p_max: float = Field(default=0.15, ge=0.0, le=1.0)
    probabilities: dict[str, float] = Field(default_factory=dict)
    target_shortfall_pct: float = Field(default=10.0, ge=0.0, le=100.0)

    @field_validator("probabilities")
    @classmethod
    def _probs(cls, v: dict[str, float]) -> dict[str, float]:
        out = {}
        for country, p in v.items():
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"probability for {country} must be in [0, 1]")
            out[_country(country)] = p
        return out


class NodeSpec(_Strict):
    country: str
    output: float = Field(ge=0.0)
    capacity: float | None = Field(default=None, ge=0.0)

    @field_validator("country")
    @classmethod
    def _resolve_country(cls, v: str) -> str:
        return _country(v)


class StageSpec(_Strict):
    name: StageName
    nodes: list[NodeSpec] = Field(min_length=1)


class ConsumerSpec(_Strict):
    country: str
    recycling: float = Field(default=0.0, ge=0.0)
    stock: float = Field(default=0.0, ge=0.0)
    release_rate: float | None = Field(default=None, ge=0.0)

    @field_validator("country")
    @classmethod
    def _resolve_country(cls, v: str) -> str:
        return _country(v)


class FlowSpec(_Strict):
    source: str  # "stage:COUNTRY"
    target: str  # "stage:COUNTRY" or "consumer:COUNTRY"
    tonnes: float = Field(ge=0.0)


class NetworkSpec(_Strict):
    """An inline network in t/month (for worked examples and exercises)."""

    year: int = 2024
    stages: list[StageSpec] = Field(min_length=1)
    consumers: list[ConsumerSpec] = Field(min_length=1)
    flows: list[FlowSpec]


class Scenario(_Strict):
    name: str = Field(min_length=1)
    mineral: str
    description: str = ""
    source: str = ""
    year: int | None = None
    alliance: str | list[str] = "G7"
    horizon_months: int = Field(default=12, ge=1, le=120)
    disruptions: list[Disruption] = Field(default_factory=list)
    demand_shocks: list[DemandShock] = Field(default_factory=list)
    response: Response = Field(default_factory=Response)
    price: PriceModel = Field(default_factory=PriceModel)
    montecarlo: MonteCarloSpec = Field(default_factory=MonteCarloSpec)
    network: NetworkSpec | None = None

    @field_validator("mineral")
    @classmethod
    def _mineral(cls, v: str) -> str:
        try:
            return resolve_mineral(v)
        except LodelineError as exc:
            raise ValueError(exc.message) from None

    @field_validator("alliance")
    @classmethod
    def _alliance(cls, v: str | list[str]) -> str | list[str]:
        """What :func:`~lodeline.domain.groups.resolve_alliance` accepts (as CLI, API and Python facade do): a
        group id (G7+, G7, EU27, MSP …) or ISO3 codes, as text (``USA,JPN,DEU``) or a YAML list."""
        text = ",".join(v) if isinstance(v, list) else v
        if isinstance(v, list) and not v:
            raise ValueError("the alliance list is empty: give ISO 3166 alpha-3 codes or a country group")
        try:
            resolve_alliance(text)
        except InvalidArgumentError as exc:
            if isinstance(v, str) and "," not in v and v.strip():  # a name that is no group and no country
                raise ValueError(
                    f"unknown country group {v!r}; known: {', '.join(sorted(country_groups()))} "
                    "(or give ISO 3166 alpha-3 codes: USA,JPN,DEU)"
                ) from None
            raise ValueError(exc.message) from None
        return [c.strip().upper() for c in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _within_horizon(self) -> Scenario:
        for i, d in enumerate(self.disruptions):
            if d.start_month > self.horizon_months:
                raise ValueError(f"disruptions.{i}.start_month {d.start_month} is after the horizon")
        return self

    def alliance_members(self) -> frozenset[str]:
        """The alliance's member countries (:func:`~lodeline.domain.groups.resolve_alliance`)."""
        text = ",".join(self.alliance) if isinstance(self.alliance, list) else self.alliance
        return resolve_alliance(text).members


def parse_scenario(data: Any, where: str = "<scenario>") -> Scenario:
    """Validate a decoded YAML mapping; raise :class:`ScenarioError` naming the first bad field."""
    if not isinstance(data, dict):
        raise ScenarioError(where, "(root)", "a scenario must be a YAML mapping")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        return _raise(where, *first_validation_error(exc))


def _raise(where: str, field: str, reason: str) -> Scenario:
    raise ScenarioError(where, field, reason)


def scenario_from_text(text: str, where: str = "<scenario>") -> Scenario:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ScenarioError(where, "(root)", f"not valid YAML: {exc}") from None
    return parse_scenario(data, where)


def library_scenario(name: str) -> Scenario | None:
    """The shipped scenario of that name (``lodeline sim scenarios``), or None. Files are read by the caller
    (``lodeline.cli.sim`` and the Python facade read them through ``lodeline.inputs``, with its size and nesting
    bounds)."""
    text = library_scenarios().get(name)
    return None if text is None else scenario_from_text(text, f"library:{name}")


def library_scenarios() -> dict[str, str]:
    """The shipped scenario library: name (file stem) → YAML text."""
    folder = resources.files("lodeline.sim").joinpath("scenarios")
    return {
        p.name.removesuffix(".yaml"): p.read_text(encoding="utf-8")
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".yaml")
    }
