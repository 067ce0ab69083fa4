"""The monthly time-step engine, vectorised over samples (one deterministic run = one sample).

Each month: propagate the month's cuts down the network; work out each consumer's gap after
contracted deliveries, recycling and the demand-side response; split the market's reroutable spare
capacity between the alliance and everyone else in proportion to their gaps; allocate the alliance's
share plus stock releases among members with the release rule (optimised = the LP of
:mod:`lodeline.sim.allocation`, proportional = IEA-style shares of consumption, none); draw stocks down;
price the month with the elasticity model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lodeline.sim.allocation import Allocation, allocate_greedy, fairness_caps, solve_lp
from lodeline.sim.network import Array, Mask, Shock, SupplyNetwork, flow_shares, propagate

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class Policy:
    """The compiled response: which rule, how much spare can be rerouted, and the allocation parameters."""

    rule: str  # optimised | proportional | none | manual (exercise decisions) | pool_consumption | pool_shortfall
    reroute_fraction: float
    substitution: float
    recycling_rampup: float
    kappa: float  # fairness factor (inf = off)
    logistics: float  # t/month (inf = off)
    weights: Array  # per member
    elasticity: float
    max_price_multiple: float


#: A per-sample solver of the monthly allocation LP, ``(gap, pool, stock_limit, caps, policy) -> Allocation``:
#: the benchmark baselines plug theirs in (``simulate(per_sample_lp=True, lp_allocator=…)``).
LPAllocator = Callable[[Array, Array, Array, Array, Policy], Allocation]


@dataclass
class Totals:
    """Per-sample sums over the horizon (S, C) plus the month-by-month path when kept (S, T, C)."""

    demand: Array
    unmet: Array
    stock_draw: Array
    price_multiple_max: Array  # (S,)
    path: dict[str, Array] | None = None


def price_multiple(unmet: Array, demand: Array, elasticity: float, cap: float) -> Array:
    """Constant-elasticity inverse demand: p/p0 = (Q/Q0)^(1/ε), Q/Q0 = 1 − world shortfall fraction."""
    total_demand = demand.sum(axis=-1)
    frac = np.divide(
        unmet.sum(axis=-1), total_demand, out=np.zeros_like(total_demand), where=total_demand > 0
    )
    served = np.clip(1.0 - frac, 1e-12, 1.0)
    return np.minimum(served ** (1.0 / elasticity), cap)


def _allocate_members(
    rule: str,
    gap: Array,
    pool: Array,
    stock_limit: Array,
    demand_share: Array,
    policy: Policy,
    per_sample_lp: bool = False,
    lp_allocator: LPAllocator | None = None,
) -> Allocation:
    if rule == "optimised":
        caps = fairness_caps(pool + stock_limit.sum(axis=1), demand_share, policy.kappa)
        if per_sample_lp:
            return (lp_allocator or _allocate_by_lp)(gap, pool, stock_limit, caps, policy)
        return allocate_greedy(gap, pool, stock_limit, policy.weights, caps, policy.logistics)
    total_gap = gap.sum(axis=1)
    if rule == "manual":
        # Exercises: participants' decided releases (already capped by stock and rate) go into the pool;
        # releases beyond what the gaps need are scaled back (stock is not thrown away).
        needed = np.maximum(total_gap - pool, 0.0)
        offered = stock_limit.sum(axis=1)
        with np.errstate(over="ignore"):  # capped at 1 below; a vanishing denominator means "all of it"
            scale = np.divide(needed, offered, out=np.zeros_like(offered), where=offered > 0)
        stock_draw = stock_limit * np.minimum(scale, 1.0)[:, None]
    elif rule == "proportional":
        # IEA-style collective action: the release needed is shared in proportion to consumption.
        needed = np.minimum(np.maximum(total_gap - pool, 0.0), stock_limit.sum(axis=1))
        stock_draw = np.minimum(stock_limit, needed[:, None] * demand_share)
    elif rule in ("pool_consumption", "pool_shortfall"):
        # Release rules (lodeline.stockpiles): the release needed is shared among the members that can draw
        # this month (pool members whose stock has arrived), pro rata to consumption or to their own gap.
        basis = np.broadcast_to(demand_share, gap.shape) if rule == "pool_consumption" else gap
        key = np.where(stock_limit > 0, basis, 0.0)
        total_key = key.sum(axis=1, keepdims=True)
        key = np.divide(key, total_key, out=np.zeros_like(key), where=total_key > 0)
        needed = np.minimum(np.maximum(total_gap - pool, 0.0), stock_limit.sum(axis=1))
        stock_draw = np.minimum(stock_limit, needed[:, None] * key)
    else:
        stock_draw = np.zeros_like(stock_limit)
    supply = np.minimum(pool + stock_draw.sum(axis=1), policy.logistics)
    with np.errstate(over="ignore"):  # capped at 1 below; a vanishing gap next to real supply is filled
        fill = np.divide(supply, total_gap, out=np.zeros_like(total_gap), where=total_gap > 0)
    received = gap * np.minimum(fill, 1.0)[:, None]
    handed_out = received.sum(axis=1)
    pool_used = np.minimum(handed_out, pool)
    return Allocation(received, stock_draw, pool_used, gap - received)


def _allocate_by_lp(gap: Array, pool: Array, stock_limit: Array, caps: Array, policy: Policy) -> Allocation:
    """The benchmark baseline: one HiGHS LP per sample (same optimum as the greedy, far slower)."""
    names = tuple(str(j) for j in range(gap.shape[1]))
    parts = [
        solve_lp(
            gap[s], float(pool[s]), stock_limit[s], policy.weights, caps[s], names, policy.logistics
        ).allocation
        for s in range(gap.shape[0])
    ]
    return Allocation(
        np.concatenate([p.received for p in parts]),
        np.concatenate([p.stock_draw for p in parts]),
        np.concatenate([p.pool_used for p in parts]),
        np.concatenate([p.unmet for p in parts]),
    )


def simulate(
    network: SupplyNetwork,
    shock_at: Callable[[int], Shock],
    months: int,
    samples: int,
    members: Mask,
    policy: Policy,
    *,
    keep_path: bool = False,
    release_at: Callable[[int, Array], Array] | None = None,
    per_sample_lp: bool = False,
    reroute_at: Callable[[int], float] | None = None,
    lp_allocator: LPAllocator | None = None,
) -> Totals:
    """Run ``months`` steps for ``samples`` samples at once. ``members`` is a boolean mask over consumers.

    ``release_at(month, stock_limit)`` (exercises) overrides the stock draw per member with a decision.
    """
    base_demand = network.demand
    member_idx = np.flatnonzero(members)
    other_idx = np.flatnonzero(~members)
    member_demand = base_demand[member_idx]
    demand_share = member_demand / member_demand.sum() if member_demand.sum() > 0 else member_demand
    stocks = np.broadcast_to(network.stocks[member_idx], (samples, len(member_idx))).copy()
    rate = network.release_rate[member_idx]
    c = len(network.consumers)
    tot_demand = np.zeros((samples, c))
    tot_unmet = np.zeros((samples, c))
    tot_draw = np.zeros((samples, c))
    price_max = np.ones(samples)
    path: dict[str, list[Array]] = {
        k: []
        for k in (
            "demand",
            "delivered",
            "response",
            "received",
            "unmet",
            "stock_draw",
            "stock_end",
            "price_multiple",
            "pool",
        )
    }
    shares = flow_shares(network)
    for t in range(months):
        shock = shock_at(t)
        prop = propagate(network, shock, shares)
        demand = np.broadcast_to(base_demand * (1.0 + shock.demand_change), (samples, c))
        raw_gap = np.maximum(demand - prop.delivered - network.recycling, 0.0)
        # Demand restraint (substitution) and recycling ramp-up only fill a gap; they never create surplus.
        response = np.minimum(
            raw_gap, policy.substitution * demand + policy.recycling_rampup * network.recycling
        )
        gap = raw_gap - response
        reroute = policy.reroute_fraction if reroute_at is None else reroute_at(t)
        pool = np.broadcast_to(prop.spare_available * reroute, (samples,))
        member_gap = gap[:, member_idx]
        g_members = member_gap.sum(axis=1)
        g_total = gap.sum(axis=1)
        # The open market clears pro rata to unmet need: no alliance priority on spare supply.
        member_pool = np.divide(pool * g_members, g_total, out=np.zeros_like(pool), where=g_total > 0)
        other_pool = pool - member_pool
        stock_limit = np.minimum(stocks, rate)
        if release_at is not None:
            stock_limit = np.minimum(release_at(t, stock_limit), stock_limit)
        alloc = _allocate_members(
            policy.rule,
            member_gap,
            member_pool,
            stock_limit,
            demand_share,
            policy,
            per_sample_lp,
            lp_allocator,
        )
        stocks = stocks - alloc.stock_draw
        received = np.zeros_like(gap)
        received[:, member_idx] = alloc.received
        other_gap = gap[:, other_idx]
        g_other = other_gap.sum(axis=1)
        # A vanishing gap (e.g. 1e-310 t) next to a finite pool overflows the ratio; the fill is capped at 1 below,
        # so an infinite ratio is the right answer and the overflow is not an error.
        with np.errstate(over="ignore"):
            fill = np.divide(other_pool, g_other, out=np.zeros_like(g_other), where=g_other > 0)
        received[:, other_idx] = other_gap * np.minimum(fill, 1.0)[:, None]
        unmet = gap - received
        draw = np.zeros_like(gap)
        draw[:, member_idx] = alloc.stock_draw
        tot_demand += demand
        tot_unmet += unmet
        tot_draw += draw
        price = price_multiple(unmet, demand, policy.elasticity, policy.max_price_multiple)
        price_max = np.maximum(price_max, price)
        if keep_path:
            stock_end = np.zeros_like(gap)
            stock_end[:, member_idx] = stocks
            for key, value in (
                ("demand", demand),
                ("delivered", prop.delivered),
                ("response", response),
                ("received", received),
                ("unmet", unmet),
                ("stock_draw", draw),
                ("stock_end", stock_end),
                ("price_multiple", price),
                ("pool", pool),
            ):
                path[key].append(value)
    kept = {k: np.stack(v, axis=1) for k, v in path.items()} if keep_path else None
    return Totals(tot_demand, tot_unmet, tot_draw, price_max, kept)


def days_of_cover(stock: Array, monthly_demand: Array) -> Array:
    """Days the stock lasts at the given monthly consumption (inf when demand is zero)."""
    daily = monthly_demand / DAYS_PER_MONTH
    return np.divide(stock, daily, out=np.full_like(stock, np.inf), where=daily > 0)
