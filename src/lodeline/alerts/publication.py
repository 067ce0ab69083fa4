"""When each observation became public, and the as-of slicer that serves only what was published by a date.

The table of publication rules is data (``data/publication.yaml``, each rule with its source). A scan at ``as_of``
may read an observation only if its publication date is on or before ``as_of``; :class:`AsOfSlicer` enforces that
and records every row it serves, so a test can check that no indicator ever read the future.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.errors import InvalidArgumentError
from lodeline.inputs import read_yaml

PUBLICATION_FILE = Path(__file__).parent / "data" / "publication.yaml"
PUBLISHED = "published"


@dataclass(frozen=True)
class Rule:
    dataset: str
    kind: str
    source: str
    business_day: int = 2
    extra_months: int = 0
    years_after: int = 1
    month: int = 1
    day: int = 31
    editions: dict[str, dt.date] = field(default_factory=dict)


@lru_cache(maxsize=1)
def rules() -> dict[str, Rule]:
    raw = read_yaml(PUBLICATION_FILE, "publication table")
    out: dict[str, Rule] = {}
    for name, spec in raw["datasets"].items():
        annual = spec.get("annual") or {}
        out[name] = Rule(
            dataset=name,
            kind=spec["rule"],
            source=spec["source"],
            business_day=int(spec.get("business_day", 2)),
            extra_months=int(spec.get("extra_months", 0)),
            years_after=int(annual.get("years_after", 1)),
            month=int(annual.get("month", 1)),
            day=int(annual.get("day", 31)),
            editions={k: dt.date.fromisoformat(v) for k, v in (spec.get("editions") or {}).items()},
        )
    return out


def rule(dataset: str) -> Rule:
    try:
        return rules()[dataset]
    except KeyError:
        raise InvalidArgumentError(
            f"no publication rule for dataset {dataset!r} in alerts/data/publication.yaml"
        ) from None


def nth_business_day(year: int, month: int, n: int) -> dt.date:
    """The ``n``-th Monday-to-Friday day of a month (public holidays are not modelled)."""
    day = dt.date(year, month, 1)
    seen = 0
    while True:
        if day.weekday() < 5:
            seen += 1
            if seen == n:
                return day
        day += dt.timedelta(days=1)


def published_month(dataset: str, period: dt.date) -> dt.date:
    r = rule(dataset)
    months = period.year * 12 + period.month - 1 + 1 + r.extra_months
    return nth_business_day(months // 12, months % 12 + 1, r.business_day)


def published_year(dataset: str, year: int, edition: str | None = None) -> dt.date:
    r = rule(dataset)
    if edition is not None and edition in r.editions:
        return r.editions[edition]
    return dt.date(year + r.years_after, r.month, r.day)


def with_published_monthly(frame: pl.DataFrame, dataset: str, period: str = "period") -> pl.DataFrame:
    """Add ``published`` to a monthly frame (one date per distinct period: a few hundred at most)."""
    periods = frame[period].unique().to_list()
    lookup = pl.DataFrame(
        {period: periods, PUBLISHED: [published_month(dataset, p) for p in periods]},
        schema={period: pl.Date, PUBLISHED: pl.Date},
    )
    return frame.join(lookup, on=period, how="left")


def with_published_annual(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``published`` to a frame with ``source``, ``edition`` and ``year`` (each row its own dataset's rule)."""
    keys = frame.select("source", "edition", "year").unique()
    dates = [
        published_year(s, y, e) for s, e, y in zip(keys["source"], keys["edition"], keys["year"], strict=True)
    ]
    lookup = keys.with_columns(pl.Series(PUBLISHED, dates, dtype=pl.Date))
    return frame.join(lookup, on=["source", "edition", "year"], how="left")


@dataclass
class AsOfSlicer:
    """Serves only rows published on or before ``as_of``; remembers the latest publication date it served per
    dataset (``served``), so a test can assert ``max(served) <= as_of``."""

    as_of: dt.date
    served: dict[str, dt.date] = field(default_factory=dict)
    rows_served: int = 0

    def slice(self, frame: pl.DataFrame, name: str) -> pl.DataFrame:
        if PUBLISHED not in frame.columns:
            raise InvalidArgumentError(
                f"{name}: frame has no '{PUBLISHED}' column; cannot slice as of a date"
            )
        out = frame.filter(pl.col(PUBLISHED).is_not_null() & (pl.col(PUBLISHED) <= self.as_of))
        self.record(name, out)
        return out

    def record(self, name: str, frame: pl.DataFrame) -> None:
        if frame.height:
            latest = frame[PUBLISHED].max()
            assert isinstance(latest, dt.date)
            self.served[name] = max(self.served.get(name, latest), latest)
            self.rows_served += frame.height


def describe() -> list[dict[str, Any]]:
    """The table as rows (for the docs and the API)."""
    return [{"dataset": r.dataset, "rule": r.kind, "source": r.source} for r in rules().values()]
