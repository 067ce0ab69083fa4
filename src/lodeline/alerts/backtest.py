"""Monthly replay of the alerts against known disruption episodes (``data/episodes.yaml``).

For each month-end from ``start`` to ``end`` the scan is the slice of the full-history timelines as of that day
(no recomputation). Scored per episode: the lead (negative) or lag (positive) in days from the episode's start to
the first ``warning`` or above for that mineral within [start - 12 months, end]. A *warning episode* is an entry
into ``warning`` or above (de-duplicated: the months it stays there do not count again); one with no episode of the
same mineral starting within 12 months after (or running at) its date is a false alarm. Precision = warning
episodes that match an episode / all warning episodes; recall = episodes detected / episodes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.alerts import timeline
from lodeline.alerts.engine import Inputs, Timelines
from lodeline.alerts.fusion import fuse
from lodeline.alerts.model import Level
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import read_yaml

EPISODES_FILE = Path(__file__).parent / "data" / "episodes.yaml"
WINDOW_DAYS = 365


@dataclass(frozen=True)
class Episode:
    id: str
    mineral: str
    start: dt.date
    end: dt.date
    set: str
    what: str
    source: str


@lru_cache(maxsize=1)
def episodes() -> tuple[Episode, ...]:
    raw = read_yaml(EPISODES_FILE, "episodes")
    out = []
    for i, e in enumerate(raw["episodes"], start=1):
        try:
            out.append(
                Episode(
                    id=str(e["id"]),
                    mineral=str(e["mineral"]),
                    start=_d(e["start"]),
                    end=_d(e["end"]),
                    set=str(e["set"]),
                    what=str(e["what"]),
                    source=str(e["source"]),
                )
            )
        except (KeyError, ValueError) as exc:
            raise InvalidArgumentError(
                f"alerts/data/episodes.yaml: episode {i}: bad or missing {exc}"
            ) from None
    return tuple(out)


def _d(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    out: list[dt.date] = []
    y, m = start.year, start.month
    while True:
        nxt = dt.date(y + (m == 12), m % 12 + 1, 1)
        day = nxt - dt.timedelta(days=1)
        if day > end:
            return out
        out.append(day)
        y, m = nxt.year, nxt.month


def levels_frame(tl: Timelines, dates: list[dt.date], minerals: list[str] | None = None) -> pl.DataFrame:
    """The fused level of every mineral at every date (slicing the timelines)."""
    rows = []
    frame = tl.frame if minerals is None else tl.frame.filter(pl.col("mineral").is_in(minerals))
    names = minerals or tl.minerals
    for day in dates:
        got = {a.mineral: a for a in _scan(frame, day)}
        for m in names:
            a = got.get(m)
            rows.append(
                {
                    "date": day,
                    "mineral": m,
                    "level": a.level.value if a else "normal",
                    "rank": a.level.rank if a else 0,
                    "drivers": ",".join(r.indicator for r in a.readings if r.level == a.level) if a else "",
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "date": pl.Date,
            "mineral": pl.String,
            "level": pl.String,
            "rank": pl.Int64,
            "drivers": pl.String,
        },
    )


def _scan(frame: pl.DataFrame, day: dt.date) -> list[Any]:
    readings = timeline.readings(timeline.as_of_rows(frame, day))
    by: dict[str, list[Any]] = {}
    for r in readings:
        by.setdefault(r.mineral, []).append(r)
    return [fuse(m, day, rs) for m, rs in by.items()]


def baseline_levels(inputs: Inputs, dates: list[dt.date], minerals: list[str]) -> pl.DataFrame:
    """The baseline: recompute every indicator from the data published by each date (slow; same answer)."""
    parts = []
    for day in dates:
        tl = Timelines.compute(inputs.sliced(day))
        parts.append(levels_frame(tl, [day], minerals))
    return pl.concat(parts)


@dataclass
class Report:
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per episode
    false_alarms: list[dict[str, Any]] = field(default_factory=list)  # per mineral-decade
    summary: dict[str, Any] = field(default_factory=dict)
    levels: pl.DataFrame = field(default_factory=pl.DataFrame)


def warning_entries(levels: pl.DataFrame) -> pl.DataFrame:
    """Dates at which a mineral enters warning or above (de-duplicated)."""
    lv = levels.sort(["mineral", "date"]).with_columns(hot=pl.col("rank") >= Level.WARNING.rank)
    return lv.filter(pl.col("hot") & ~pl.col("hot").shift(1, fill_value=False).over("mineral")).select(
        "mineral", "date", "drivers"
    )


def score(
    levels: pl.DataFrame, eps: tuple[Episode, ...], first: dt.date, last: dt.date, covered: set[str]
) -> Report:
    """``covered``: the minerals with at least one indicator reading in the whole history."""
    entries = warning_entries(levels)
    rows = []
    for e in eps:
        if e.start > last or e.end < first:
            continue
        lo = e.start - dt.timedelta(days=WINDOW_DAYS)
        hits = entries.filter(
            (pl.col("mineral") == e.mineral) & (pl.col("date") >= lo) & (pl.col("date") <= e.end)
        ).sort("date")
        hot = levels.filter(
            (pl.col("mineral") == e.mineral)
            & (pl.col("date") >= e.start)
            & (pl.col("date") <= e.end)
            & (pl.col("rank") >= Level.WARNING.rank)
        )
        found = hits["date"].min() if hits.height else (hot["date"].min() if hot.height else None)
        first_hit = found if isinstance(found, dt.date) else None
        rows.append(
            {
                "episode": e.id,
                "mineral": e.mineral,
                "set": e.set,
                "start": e.start,
                "first_warning": first_hit,
                "lead_lag_days": None if first_hit is None else (first_hit - e.start).days,
                "detected": first_hit is not None,
                "data": "yes" if e.mineral in covered else "no indicator data for this mineral",
                "drivers": hits["drivers"][0] if hits.height else (hot["drivers"][0] if hot.height else ""),
            }
        )
    matched: list[dict[str, Any]] = []
    false: list[dict[str, Any]] = []
    for r in entries.iter_rows(named=True):
        ok = any(
            e.mineral == r["mineral"] and e.start - dt.timedelta(days=WINDOW_DAYS) <= r["date"] <= e.end
            for e in eps
        )
        (matched if ok else false).append(r)
    decades: dict[tuple[str, str], int] = {}
    for r in false:
        key = (r["mineral"], f"{r['date'].year // 10 * 10}s")
        decades[key] = decades.get(key, 0) + 1
    fa = [{"mineral": m, "decade": d, "false_alarms": n} for (m, d), n in sorted(decades.items())]
    summary = _summary(rows, len(matched), len(false))
    for name in ("tuning", "held-out"):
        summary[name] = _summary([r for r in rows if r["set"] == name], None, None)
    return Report(rows=rows, false_alarms=fa, summary=summary, levels=levels)


def _summary(rows: list[dict[str, Any]], matched: int | None, false: int | None) -> dict[str, Any]:
    detected = sum(r["detected"] for r in rows)
    out: dict[str, Any] = {
        "episodes": len(rows),
        "detected": detected,
        "recall": None if not rows else round(detected / len(rows), 3),
    }
    if matched is not None and false is not None:
        total = matched + false
        out.update(
            warning_episodes=total,
            matched=matched,
            false_alarms=false,
            precision=None if total == 0 else round(matched / total, 3),
        )
    return out


def run(tl: Timelines, first: dt.date, last: dt.date, eps: tuple[Episode, ...] | None = None) -> Report:
    eps = episodes() if eps is None else eps
    minerals = sorted(set(tl.minerals) | {e.mineral for e in eps})
    levels = levels_frame(tl, month_ends(first, last), minerals)
    return score(levels, eps, first, last, set(tl.minerals))
