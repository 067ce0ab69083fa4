"""Export-control measures (policy_facts) as an indicator: a watch (or warning, for a dominant supplier) at the
announcement, a higher level at the effective date, a standing watch after ``in_force_months``, weighted by the
affected supplier's share of world supply of the mineral (largest over stages, from the latest year published by
the event's date). Pure: the measures CSV text and a shares frame in, timeline rows out.

The parser is deliberately minimal (this package needs the dates, the jurisdiction, the direction and the
minerals only); ``policy_facts/export_controls_measures.csv`` stays the source of record."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

import polars as pl

from lodeline.alerts import timeline
from lodeline.alerts.model import Level
from lodeline.alerts.thresholds import config
from lodeline.domain.countries import iso2_to_iso3, resolve_country
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, LodelineError

MEASURES_FILE = "policy_facts/export_controls_measures.csv"
SOURCE = "policy_facts_measures"
#: Measures that restrict the supplier's exports (import-side and investment measures of the alliance are not
#: supply shocks to it).
RESTRICTIVE_DIRECTIONS = frozenset({"export", "re_export"})
NOT_A_RESTRICTION = frozenset({"decontrol", "suspension"})
#: Materials named more narrowly than a Lodeline mineral.
MATERIAL_ALIASES = {
    "dysprosium": "rare-earths",
    "terbium": "rare-earths",
    "neodymium": "rare-earths",
    "praseodymium": "rare-earths",
    "ndfeb-magnets": "rare-earths",
}
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class Measure:
    measure_id: str
    supplier: str  # ISO3 of the jurisdiction
    measure_type: str
    minerals: tuple[str, ...]
    announced: dt.date | None
    effective: dt.date | None
    suspended_from: dt.date | None
    suspended_until: dt.date | None


def _date(text: str, row: int, column: str) -> dt.date | None:
    if not text.strip():
        return None
    m = _DATE.match(text)  # "2025-12-01 (scheduled)" reads as its date
    if m is None:
        raise DataFormatError(MEASURES_FILE, f"{column}: not an ISO date: {text!r}", row=row)
    return dt.date.fromisoformat(m.group(1))


def _mineral(token: str) -> str | None:
    token = token.strip().lower()
    if not token:
        return None
    try:
        return MATERIAL_ALIASES.get(token) or resolve_mineral(token)
    except LodelineError:
        return None  # a material Lodeline has no series for: not an indicator here


def parse_measures(text: str) -> list[Measure]:
    """The restrictive export measures, one per row, with the Lodeline minerals they name."""
    reader = csv.DictReader(io.StringIO(text))
    needed = {
        "measure_id",
        "jurisdiction",
        "measure_type",
        "direction",
        "materials_tracked",
        "announced_date",
    }
    missing = needed - set(reader.fieldnames or [])
    if missing:
        raise DataFormatError(MEASURES_FILE, f"missing columns: {sorted(missing)}", row=1)
    out = []
    for i, rec in enumerate(reader, start=2):
        if rec["direction"] not in RESTRICTIVE_DIRECTIONS or rec["measure_type"] in NOT_A_RESTRICTION:
            continue
        minerals = tuple(sorted({m for t in rec["materials_tracked"].split(";") if (m := _mineral(t))}))
        if not minerals:
            continue
        try:
            code = rec["jurisdiction"].strip()
            supplier = iso2_to_iso3(code) if len(code) == 2 else resolve_country(code)
        except LodelineError:
            raise DataFormatError(
                MEASURES_FILE, f"jurisdiction: unknown country {rec['jurisdiction']!r}", row=i
            ) from None
        out.append(
            Measure(
                measure_id=rec["measure_id"],
                supplier=supplier,
                measure_type=rec["measure_type"],
                minerals=minerals,
                announced=_date(rec["announced_date"], i, "announced_date"),
                effective=_date(rec.get("effective_date") or "", i, "effective_date"),
                suspended_from=_date(rec.get("suspended_from") or "", i, "suspended_from"),
                suspended_until=_date(rec.get("suspended_until") or "", i, "suspended_until"),
            )
        )
    return out


def supplier_share(
    shares: pl.DataFrame, mineral: str, supplier: str, on: dt.date
) -> tuple[float | None, str]:
    """The supplier's largest stage share of world supply, latest year published by ``on``; and which."""
    rows = shares.filter(
        (pl.col("mineral") == mineral) & (pl.col("published") <= on) & pl.col("share").is_not_null()
    )
    if rows.is_empty():
        return None, "no share data published by then"
    latest_years = rows.group_by("stage").agg(pl.col("year").max().alias("_y"))
    ours = (
        rows.join(latest_years, on="stage")
        .filter((pl.col("year") == pl.col("_y")) & (pl.col("country") == supplier))
        .sort(["published"])
        .group_by("stage")
        .last()
        .sort("share", descending=True)
    )
    if ours.is_empty():
        return 0.0, f"{supplier} not among the listed producers"
    top = ours.row(0, named=True)
    return float(top["share"]), f"{top['stage']} {top['year']} ({top['source']})"


def _level(share: float | None, cuts: dict[str, float], unknown: Level) -> Level:
    if share is None:
        return unknown
    best = Level.NORMAL
    for name in ("watch", "warning", "alert"):
        t = cuts.get(name)
        if t is not None and share >= t:
            best = Level(name)
    return best


def control_timeline(measures: list[Measure], shares: pl.DataFrame) -> pl.DataFrame:
    """Timeline rows of ``export-control``: one row per measure x mineral x phase change."""
    cfg = config()["indicators"]["export-control"]
    in_force = int(cfg.get("in_force_months", 12))
    unknown = Level(cfg.get("unknown_share_level", "watch"))
    rows = []
    for m in measures:
        for mineral in m.minerals:
            events: list[tuple[dt.date, str, Level | None]] = []
            if m.announced is not None:
                events.append((m.announced, "announced", None))
            if m.effective is not None:
                events.append((m.effective, "effective", None))
                standing = _add_months(m.effective, in_force)
                events.append((standing, f"in force for {in_force} months", Level.WATCH))
            if m.suspended_from is not None:
                events.append((m.suspended_from, "suspended", Level.WATCH))
            if m.suspended_until is not None:
                events.append((m.suspended_until, "suspension ends", Level.WATCH))
            # one row per day: on a day with two events (announced and effective the same day) the later phase
            # in the list above wins, so the row a scan picks never depends on sort order
            by_day: dict[dt.date, tuple[str, Level | None]] = {}
            for day, phase, fixed in events:
                by_day[day] = (phase, fixed)
            for day, (phase, fixed) in sorted(by_day.items()):
                share, where = supplier_share(shares, mineral, m.supplier, day)
                cuts = cfg["announced"] if phase == "announced" else cfg["effective"]
                level = fixed if fixed is not None else _level(share, cuts, unknown)
                pct = "unknown" if share is None else f"{share:.0%}"
                rows.append(
                    {
                        "mineral": mineral,
                        "indicator": "export-control",
                        "key": m.measure_id,
                        "observed": day,
                        "published": day,
                        "value": share,
                        "level": level.value,
                        "explanation": f"{m.supplier} export measure {m.measure_id} {phase} on {day}; "
                        f"{m.supplier} supplies {pct} of world {mineral} ({where})",
                        "source": SOURCE,
                        "edition": "December 2026 compilation",
                    }
                )
    if not rows:
        return timeline.empty()
    return timeline.conform(pl.DataFrame(rows, schema=timeline.SCHEMA))


def _add_months(day: dt.date, months: int) -> dt.date:
    n = day.year * 12 + day.month - 1 + months
    return dt.date(n // 12, n % 12 + 1, min(day.day, 28))
