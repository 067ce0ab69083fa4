"""The alert thresholds (``data/thresholds.yaml``) and the hysteresis that maps a series of values to levels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lodeline.alerts.model import Level
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import read_yaml

THRESHOLDS_FILE = Path(__file__).parent / "data" / "thresholds.yaml"
LEVELS_UP = (Level.WATCH, Level.WARNING, Level.ALERT)


@dataclass(frozen=True)
class Spec:
    """Entry thresholds per level (None: not reachable), direction and hysteresis exit factor."""

    indicator: str
    what: str
    unit: str
    direction: str
    entry: dict[Level, float | None]
    exit: float

    def meets(self, value: float, threshold: float, *, exiting: bool = False) -> bool:
        if self.direction == "up":
            return value >= (threshold * self.exit if exiting else threshold)
        return value <= (threshold / self.exit if exiting else threshold)

    def raw_level(self, value: float | None) -> Level:
        """The level the value reaches on entry thresholds alone (no memory)."""
        if value is None:
            return Level.NORMAL
        best = Level.NORMAL
        for level in LEVELS_UP:
            t = self.entry.get(level)
            if t is not None and self.meets(value, t):
                best = level
        return best

    def threshold(self, level: Level) -> float | None:
        return self.entry.get(level)


def _spec(name: str, raw: dict[str, Any]) -> Spec:
    try:
        return Spec(
            indicator=name,
            what=str(raw["what"]),
            unit=str(raw["unit"]),
            direction=str(raw.get("direction", "up")),
            entry={lv: (None if raw.get(lv.value) is None else float(raw[lv.value])) for lv in LEVELS_UP},
            exit=float(raw.get("exit", 1.0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgumentError(
            f"alerts/data/thresholds.yaml: indicator {name}: bad or missing {exc}"
        ) from None


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    data = read_yaml(THRESHOLDS_FILE, "alert thresholds")
    if not isinstance(data, dict) or "indicators" not in data:
        raise InvalidArgumentError("alerts/data/thresholds.yaml: expected a mapping with 'indicators'")
    return data


def spec(indicator: str) -> Spec:
    raw = config()["indicators"].get(indicator)
    if raw is None:
        raise InvalidArgumentError(
            f"no thresholds for indicator {indicator!r} in alerts/data/thresholds.yaml"
        )
    return _spec(indicator, raw)


def max_age_days(indicator: str) -> int | None:
    value = config().get("max_age_days", {}).get(indicator)
    return None if value is None else int(value)


def hysteresis(values: Sequence[float | None], spec_: Spec) -> list[Level]:
    """Levels for a series with memory: enter a level when the value reaches its threshold, leave it only when
    the value falls past ``exit`` x threshold. A gap (None) resets to normal (no data is not a signal)."""
    out: list[Level] = []
    current = Level.NORMAL
    for value in values:
        if value is None:
            current = Level.NORMAL
        else:
            raw = spec_.raw_level(value)
            if raw.rank >= current.rank:
                current = raw
            else:
                held = raw
                for level in LEVELS_UP:
                    t = spec_.threshold(level)
                    if level.rank <= current.rank and t is not None and spec_.meets(value, t, exiting=True):
                        held = level if level.rank > held.rank else held
                current = held
        out.append(current)
    return out


def entries(levels: Sequence[Level], at_least: Level) -> int:
    """How many times a level sequence enters ``at_least`` or above (de-duplicated episodes)."""
    count, inside = 0, False
    for level in levels:
        now = level.rank >= at_least.rank
        if now and not inside:
            count += 1
        inside = now
    return count
