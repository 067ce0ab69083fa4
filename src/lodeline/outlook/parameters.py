"""The outlook's delay and failure parameters by study stage, kept as data (``outlook/data/lead_times.yaml``).

Reading the bundled file is reference data like ``domain/data``; a caller may also pass its own mapping (tests,
sensitivity runs) through :func:`parse_parameters`, which checks every field and names the one it rejects.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

import yaml

from lodeline.errors import InvalidArgumentError

#: Study stages (CRIRSCO-style, in order of maturity) and the label used when a project states none.
STUDY_STAGES = (
    "scoping",
    "pre-feasibility",
    "feasibility",
    "financing",
    "construction",
    "commissioning",
    "operating",
)
NOT_STATED = "not-stated"
OPERATING = "operating"
BUNDLED_FILE = "outlook/data/lead_times.yaml"


@dataclass(frozen=True, slots=True)
class StageParameters:
    delay_mean_years: float
    failure_probability: float
    basis: str


@dataclass(frozen=True, slots=True)
class Parameters:
    """Delay (gamma, mean by stage, one shape) and failure probability by study stage, and the ramp-up."""

    stages: dict[str, StageParameters]
    gamma_shape: float
    ramp_up: tuple[float, ...]
    source_ids: tuple[str, ...] = ()

    def stage(self, name: str | None) -> StageParameters:
        return self.stages[name if name in self.stages else NOT_STATED]

    def scaled(self, *, delay: float = 1.0, failure: float = 1.0) -> Parameters:
        """The same parameters with every mean delay times ``delay`` and failure probability times ``failure``
        (capped at 1): the sensitivity runs and the monotonicity test use this."""
        if delay < 0 or failure < 0:
            raise InvalidArgumentError("delay and failure scales must be >= 0")
        return replace(
            self,
            stages={
                k: StageParameters(
                    v.delay_mean_years * delay, min(1.0, v.failure_probability * failure), v.basis
                )
                for k, v in self.stages.items()
            },
        )


def _number(value: Any, where: str, low: float, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{where}: expected a number, got {value!r}")
    number = float(value)
    if number != number or number < low or (high is not None and number > high):
        bound = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise InvalidArgumentError(f"{where}: {value!r} is outside {bound}")
    return number


def parse_parameters(data: Mapping[str, Any], *, file: str = BUNDLED_FILE) -> Parameters:
    """Check and build :class:`Parameters` from a mapping shaped like the bundled YAML."""
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(f"{file}: expected a mapping at the top level")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, Mapping):
        raise InvalidArgumentError(f"{file}: 'stages' must be a mapping of study stage to parameters")
    stages: dict[str, StageParameters] = {}
    for name in (*STUDY_STAGES, NOT_STATED):
        entry = raw_stages.get(name)
        if not isinstance(entry, Mapping):
            raise InvalidArgumentError(f"{file}: stages.{name} is missing")
        stages[name] = StageParameters(
            _number(entry.get("delay_mean_years"), f"{file}: stages.{name}.delay_mean_years", 0.0, 100.0),
            _number(entry.get("failure_probability"), f"{file}: stages.{name}.failure_probability", 0.0, 1.0),
            str(entry.get("basis") or ""),
        )
    unknown = sorted(set(raw_stages) - set(stages))
    if unknown:
        raise InvalidArgumentError(f"{file}: unknown study stage(s) {unknown}; expected {list(stages)}")
    shape = _number(data.get("gamma_shape"), f"{file}: gamma_shape", 1e-6)
    if shape <= 0:
        raise InvalidArgumentError(f"{file}: gamma_shape must be > 0")
    ramp_raw = data.get("ramp_up", [])
    if not isinstance(ramp_raw, list):
        raise InvalidArgumentError(f"{file}: ramp_up must be a list of fractions")
    ramp = tuple(_number(v, f"{file}: ramp_up[{i}]", 0.0, 1.0) for i, v in enumerate(ramp_raw))
    if any(b < a for a, b in pairwise(ramp)):
        raise InvalidArgumentError(f"{file}: ramp_up must be non-decreasing, got {list(ramp)}")
    return Parameters(stages, shape, ramp, tuple(str(s) for s in data.get("source_ids") or ()))


@lru_cache(maxsize=1)
def bundled_parameters() -> Parameters:
    """The bundled, cited parameters."""
    text = resources.files("lodeline.outlook").joinpath("data", "lead_times.yaml").read_text(encoding="utf-8")
    return parse_parameters(yaml.safe_load(text))
