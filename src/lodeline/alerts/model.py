"""The records the alert mechanism hands to the rest of the platform.

A scan (``lodeline alerts scan --as-of D``) yields one :class:`Alert` per mineral whose fused level is above
``normal`` (and, on request, every mineral). Each alert carries the indicators that drove it, each with its
provenance, so an alert can be explained and reproduced. The lifecycle (open → acknowledged → escalated → closed),
subscriptions and delivery store and move these records; they never recompute them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Level(StrEnum):
    NORMAL = "normal"
    WATCH = "watch"
    WARNING = "warning"
    ALERT = "alert"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.NORMAL: 0, Level.WATCH: 1, Level.WARNING: 2, Level.ALERT: 3}


@dataclass(frozen=True)
class IndicatorReading:
    """One indicator's value for one mineral on the scan date, and the level it points to on its own."""

    indicator: str  # e.g. "price-zscore", "export-control", "dependency", "trade-break", "stock-cover"
    mineral: str
    value: float | None  # None: no data (a gap, never 0)
    level: Level
    explanation: str  # plain language: what moved, by how much, against which threshold
    source: str  # dataset id(s)
    edition: str
    observed: dt.date | None  # the period the value describes
    published: dt.date | None  # when the data behind it was published (no look-ahead: published <= as_of)
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Alert:
    """The fused level of one mineral on one day, with the readings that drove it (strongest first)."""

    mineral: str
    level: Level
    as_of: dt.date
    explanation: str
    readings: tuple[IndicatorReading, ...]

    @property
    def key(self) -> str:
        """De-duplication key: one open alert per mineral; a scan that finds the same mineral again updates it."""
        return self.mineral

    def to_dict(self) -> dict[str, Any]:
        return {
            "mineral": self.mineral,
            "level": self.level.value,
            "as_of": self.as_of.isoformat(),
            "explanation": self.explanation,
            "readings": [
                {
                    "indicator": r.indicator,
                    "mineral": r.mineral,
                    "value": r.value,
                    "level": r.level.value,
                    "explanation": r.explanation,
                    "source": r.source,
                    "edition": r.edition,
                    "observed": None if r.observed is None else r.observed.isoformat(),
                    "published": None if r.published is None else r.published.isoformat(),
                    "detail": r.detail,
                }
                for r in self.readings
            ],
        }
