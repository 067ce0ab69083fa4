"""The release plan's pure parts: the pooled stocks a rule set may draw on, the trigger month, the monthly release
gate of the lead times, and the per-member plan rows. No I/O and no solver: the months are run by the stress-test
engine (``lodeline.sim``, its allocation LP included) from :mod:`lodeline.services.release`.

Method: docs/methods/release-plan.md.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lodeline.domain.countries import resolve_country
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, LodelineError
from lodeline.stockpiles.release_rules import ALERT_LEVELS, HOLDER_TYPES, ReleaseRules, Trigger

Array = NDArray[np.float64]
#: The stress-test engine's allocation keys for each rule-set allocation (``lodeline.sim.engine``).
ENGINE_RULE = {
    "optimised": "optimised",
    "pro_rata_consumption": "pool_consumption",
    "pro_rata_shortfall": "pool_shortfall",
}
STOCK_COLUMNS = ("member", "mineral", "tonnes")
#: The most stock rows one plan reads (a full submission round is a few thousand).
MAX_STOCK_ROWS = 100_000


@dataclass(frozen=True)
class AlertStanding:
    """The recorded alert of a mineral that is not closed (open, acknowledged or escalated), as the alert
    lifecycle holds it: ``level`` is its current level (the latest scan's), ``peak_level`` the highest it was
    raised to. At most one per mineral."""

    mineral: str
    alert_id: int
    state: str
    level: str
    peak_level: str
    as_of: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "mineral": self.mineral,
            "alert_id": self.alert_id,
            "state": self.state,
            "level": self.level,
            "peak_level": self.peak_level,
            "as_of": self.as_of,
        }


def alert_rank(level: str) -> int:
    """0 (normal) … 3 (alert); an unknown level ranks as normal (it cannot fire a trigger)."""
    return ALERT_LEVELS.index(level) if level in ALERT_LEVELS else 0


def alert_trigger(level: str, mineral: str, standing: AlertStanding | None) -> tuple[bool, str]:
    """Whether an ``alert_level`` trigger at ``level`` fires on the mineral's recorded alert, and why."""
    if standing is None:
        return False, f"{mineral}: no alert that is not closed (closed alerts do not count) < rule's {level}"
    peak = "" if standing.peak_level == standing.level else f", raised to {standing.peak_level} earlier"
    what = f"{mineral}: {standing.state} alert #{standing.alert_id} at {standing.level} (as of {standing.as_of}{peak})"
    if alert_rank(standing.level) >= alert_rank(level):
        return True, f"{what} ≥ rule's {level}: the release starts in month 1"
    return False, f"{what} < rule's {level}"


@dataclass(frozen=True)
class StockRow:
    member: str
    mineral: str
    tonnes: float
    holder_type: str | None


def parse_stock_rows(rows: Sequence[Mapping[str, Any]], where: str, first_row: int = 2) -> list[StockRow]:
    """Validate ``member, mineral, tonnes[, holder_type]`` rows; an error names the row (``first_row`` is the
    number of the first one: 2 for a CSV file under its header, 1 for a JSON list) and the column."""
    if len(rows) > MAX_STOCK_ROWS:
        raise DataFormatError(where, f"{len(rows):,} stock rows; at most {MAX_STOCK_ROWS:,} are read")
    out: list[StockRow] = []
    for i, raw in enumerate(rows):
        row = first_row + i
        for col in STOCK_COLUMNS:
            value = raw.get(col)
            if value is None or (isinstance(value, str) and not value.strip()):
                raise DataFormatError(where, "missing value", row=row, column=col)
        try:
            member = resolve_country(str(raw["member"]))
        except LodelineError as exc:
            raise DataFormatError(where, exc.message, row=row, column="member") from None
        try:
            mineral = resolve_mineral(str(raw["mineral"]))
        except LodelineError as exc:
            raise DataFormatError(where, exc.message, row=row, column="mineral") from None
        value = raw["tonnes"]
        try:
            if isinstance(value, bool):
                raise ValueError
            tonnes = float(value)
        except (TypeError, ValueError):
            raise DataFormatError(
                where, f"not a number: {str(value)[:40]!r}", row=row, column="tonnes"
            ) from None
        if not math.isfinite(tonnes) or tonnes < 0:
            raise DataFormatError(
                where, f"tonnes must be finite and >= 0 (got {value})", row=row, column="tonnes"
            )
        holder = raw.get("holder_type")
        holder = (
            None
            if holder is None or (isinstance(holder, str) and not holder.strip())
            else str(holder).strip()
        )
        if holder is not None and holder not in HOLDER_TYPES:
            raise DataFormatError(
                where,
                f"unknown holder type {holder[:40]!r}; known: {', '.join(HOLDER_TYPES)}",
                row=row,
                column="holder_type",
            )
        out.append(StockRow(member, mineral, tonnes, holder))
    return out


@dataclass(frozen=True)
class PoolStocks:
    """Per member (in the order given): all its stock of the mineral, the part in the pool, the most it may release
    (cap applied), the monthly draw rate and the lead time in months."""

    members: tuple[str, ...]
    stock: Array
    pooled: Array
    drawable: Array
    rate: Array
    lead_months: NDArray[np.int64]
    notes: tuple[str, ...]


def pool_stocks(
    rows: Sequence[StockRow],
    mineral: str,
    members: Sequence[str],
    rules: ReleaseRules,
    where: str,
    first_row: int = 2,
) -> PoolStocks:
    """The stocks of ``mineral`` each member holds and may release under ``rules``.

    A row of another mineral is skipped; a row of a country that is no consuming alliance member of the scenario is
    an error naming the row. With ``pool.holder_types`` set, every row of the mineral must state its holder type."""
    index = {m: j for j, m in enumerate(members)}
    stock = np.zeros(len(members))
    pooled = np.zeros(len(members))
    seen = 0
    for i, r in enumerate(rows):
        if r.mineral != mineral:
            continue
        seen += 1
        if r.member not in index:
            raise DataFormatError(
                where,
                f"{r.member} is not an alliance member consuming {mineral} in this scenario "
                f"(members: {', '.join(members)})",
                row=first_row + i,
                column="member",
            )
        types = rules.pool.holder_types
        if types is not None and r.holder_type is None:
            raise DataFormatError(
                where,
                f"the rule set pools only {', '.join(types)}: give each row's holder_type",
                row=first_row + i,
                column="holder_type",
            )
        j = index[r.member]
        stock[j] += r.tonnes
        if types is None or r.holder_type in types:
            pooled[j] += r.tonnes
    if seen == 0:
        raise DataFormatError(where, f"no stock rows for {mineral}, the scenario's mineral")
    in_pool = np.array([rules.pool.members is None or m in rules.pool.members for m in members], dtype=bool)
    pooled = np.where(in_pool, pooled, 0.0)
    drawable = np.array([rules.caps.for_member(m).limit(float(pooled[j])) for j, m in enumerate(members)])
    rate = pooled / rules.release_months
    lead = np.array([rules.lead_time.for_member(m) for m in members], dtype=np.int64)
    notes = [
        f"release rules {rules.name!r}: {int(in_pool.sum())} of {len(members)} members in the pool, "
        f"{float(pooled.sum()):,.1f} t pooled, {float(drawable.sum()):,.1f} t releasable after caps"
    ]
    outside = [m for m in (rules.pool.members or []) if m not in index]
    if outside:
        notes.append(f"pool members not consuming {mineral} in this scenario (ignored): {', '.join(outside)}")
    return PoolStocks(tuple(members), stock, pooled, drawable, rate, lead, tuple(notes))


def trigger_month(
    trigger: Trigger,
    member_shortfall_share: Sequence[float],
    price_multiple: Sequence[float],
    mineral: str = "",
    alert: AlertStanding | None = None,
) -> tuple[int | None, str]:
    """The first month (0-based) the trigger fires on the run WITHOUT release, or None; and why. An
    ``alert_level`` trigger reads ``alert``, the mineral's recorded alert that is not closed (None: there is none)."""
    if trigger.kind == "exercise":
        return 0, "exercise: the release starts in month 1"
    if trigger.kind == "alert_level":
        assert trigger.level is not None
        fired, reason = alert_trigger(trigger.level, mineral, alert)
        return (0 if fired else None), reason
    if trigger.kind == "shortfall_share":
        assert trigger.share is not None
        for t, share in enumerate(member_shortfall_share):
            if share >= trigger.share - 1e-12:
                return t, (
                    f"month {t + 1}: alliance shortfall without release {100 * share:.2f} % of consumption "
                    f"≥ {100 * trigger.share:.2f} %"
                )
        peak = max(member_shortfall_share, default=0.0)
        return (
            None,
            f"alliance shortfall without release peaks at {100 * peak:.2f} % < {100 * trigger.share:.2f} %",
        )
    assert trigger.rise is not None
    for t, p in enumerate(price_multiple):
        if p >= 1.0 + trigger.rise - 1e-12:
            return t, f"month {t + 1}: modelled price ×{p:.3f} ≥ ×{1.0 + trigger.rise:.3f}"
    peak = max(price_multiple, default=1.0)
    return None, f"modelled price peaks at ×{peak:.3f} < ×{1.0 + trigger.rise:.3f}"


def first_release_month(start: int | None, lead_months: NDArray[np.int64], horizon: int) -> NDArray[np.int64]:
    """Per member, the first month (0-based) its released stock arrives: trigger month + lead time (``horizon``,
    i.e. never, when the trigger does not fire)."""
    if start is None:
        return np.full(lead_months.shape, horizon, dtype=np.int64)
    return np.minimum(start + lead_months, horizon)


def release_gate(first: NDArray[np.int64]) -> Callable[[int, Array], Array]:
    """The engine's ``release_at(month, stock_limit)``: a member draws nothing before its first release month."""

    def release_at(t: int, limit: Array) -> Array:
        return np.where(t >= first, limit, 0.0)

    return release_at


def plan_rows(
    pool: PoolStocks,
    first: NDArray[np.int64],
    horizon: int,
    monthly_demand: Array,
    days_per_month: float,
    release: Array,
    shortfall_without: Array,
    shortfall_with: Array,
    shortfall_optimised: Array,
) -> list[dict[str, Any]]:
    """One row per member: stock, pooled, releasable, first month, release, shortfall with/without and avoided,
    days of cover before and after (all the member's stock, released part taken off, at baseline consumption)."""
    rows = []
    for j, member in enumerate(pool.members):
        daily = monthly_demand[j] / days_per_month
        left = pool.stock[j] - release[j]
        rows.append(
            {
                "member": member,
                "stock_t": float(pool.stock[j]),
                "pooled_t": float(pool.pooled[j]),
                "releasable_t": float(pool.drawable[j]),
                "first_release_month": int(first[j]) + 1 if first[j] < horizon else None,
                "release_t": float(release[j]),
                "shortfall_without_release_t": float(shortfall_without[j]),
                "shortfall_with_release_t": float(shortfall_with[j]),
                "shortfall_avoided_t": float(shortfall_without[j] - shortfall_with[j]),
                "shortfall_optimised_t": float(shortfall_optimised[j]),
                "days_of_cover_start": float(pool.stock[j] / daily) if daily > 0 else None,
                "days_of_cover_left": float(left / daily) if daily > 0 else None,
            }
        )
    return rows
