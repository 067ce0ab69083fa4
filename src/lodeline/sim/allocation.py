"""Coordinated stockpile release: the monthly allocation LP and its exact vectorised solution.

For one month the alliance has, per member ``j``, an unmet need ``g_j`` (t) after contracted deliveries
and recycling; a share ``P`` of the world market's spare supply; and stocks that holder ``h`` can
draw up to ``s_h`` (t) this month. The linear programme (solved with HiGHS) is

    minimise    Σ_j w_j u_j + Σ_h ε_h z_h
    subject to  Σ_j y_j − q − Σ_h z_h ≤ 0        (balance: what is handed out must come from somewhere)
                q ≤ P                            (market pool)
                z_h ≤ s_h                        (stock draw: level and release rate)
                y_j ≤ c_j                        (fairness: at most κ × consumption share of what is available)
                Σ_j y_j ≤ L                      (logistics: monthly handling limit, optional)
                y_j + u_j = g_j,   y, u, z, q ≥ 0

Because every ``w_j`` exceeds every ``ε_h`` (delivering always beats keeping a tonne in stock), and
supply is fungible across members, the optimum is: deliver as much as the supply and the caps allow,
to members in descending ``w`` order, drawing the market pool first and stocks in ascending ``ε``
order. :func:`allocate_greedy` computes exactly that with cumulative sums, vectorised over samples;
:func:`solve_lp` solves the same LP with ``scipy.optimize.linprog(method="highs")`` and reports duals.
Strictly distinct weights make the optimum unique, so both give the same numbers (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

from lodeline.errors import LodelineError
from lodeline.sim.network import Array, Index

#: Cost of drawing one tonne of stock, relative to a weight of 1 for a tonne of unmet demand.
STOCK_COST = 1e-3
#: Relative premium used to break ties between equal weights (list order), so the optimum is unique.
TIE_BREAK = 1e-4


class AllocationError(LodelineError):
    code = "sim-allocation"


def effective_weights(weights: Array) -> Array:
    """Make weights strictly distinct: among EQUAL weights, earlier members get a tiny premium.

    Distinct weights are left exactly as given, so hand-worked examples keep their round numbers.
    """
    m = len(weights)
    out = weights.astype(float).copy()
    for j in range(m):
        later_equal = int(np.sum(weights[j + 1 :] == weights[j]))
        out[j] *= 1.0 + TIE_BREAK * later_equal / max(m, 1)
    return out


def stock_costs(m: int) -> Array:
    """Distinct per-holder stock costs ε_h (earlier holders draw first); all far below any weight."""
    return STOCK_COST * (1.0 + 0.01 * np.arange(m) / max(m, 1))


def fairness_caps(available: Array, demand_share: Array, kappa: float) -> Array:
    """c_j = κ × (member's share of alliance consumption) × total available; κ = inf disables the cap."""
    if not np.isfinite(kappa):
        return np.full(available.shape + demand_share.shape, np.inf)
    return kappa * available[..., None] * demand_share


@dataclass(frozen=True)
class Allocation:
    received: Array  # y (S, M)
    stock_draw: Array  # z (S, M)
    pool_used: Array  # q (S,)
    unmet: Array  # u (S, M)


def _fill_in_order(budget: Array, upper: Array, order: Index) -> Array:
    """Fill ``upper`` (S, M) in ``order`` until ``budget`` (S,) is spent: exact greedy via cumulative sums."""
    ub = upper[:, order]
    before = np.cumsum(ub, axis=1) - ub
    filled = np.clip(budget[:, None] - before, 0.0, ub)
    out = np.empty_like(filled)
    out[:, order] = filled
    return out


def allocate_greedy(
    gap: Array,
    pool: Array,
    stock_limit: Array,
    weights: Array,
    caps: Array,
    logistics: float = np.inf,
) -> Allocation:
    """Exact optimum of the monthly LP for S samples at once (shapes: gap (S,M), pool (S,), caps (S,M))."""
    weights_eff = effective_weights(weights)
    by_weight = np.argsort(-weights_eff, kind="stable")
    by_cost = np.arange(gap.shape[1])  # ε_h increases with position
    available = pool + stock_limit.sum(axis=1)
    budget = np.minimum(available, logistics)
    upper = np.minimum(np.maximum(gap, 0.0), caps)
    received = _fill_in_order(budget, upper, by_weight)
    handed_out = received.sum(axis=1)
    pool_used = np.minimum(handed_out, pool)
    stock_draw = _fill_in_order(handed_out - pool_used, stock_limit, by_cost)
    return Allocation(received, stock_draw, pool_used, np.maximum(gap, 0.0) - received)


@dataclass(frozen=True)
class Dual:
    constraint: str
    member: str | None
    value_per_tonne: float  # reduction in the objective from one more tonne of right-hand side
    binding: bool


@dataclass(frozen=True)
class LPResult:
    allocation: Allocation
    objective: float
    duals: tuple[Dual, ...]


def solve_lp(
    gap: Array,
    pool: float,
    stock_limit: Array,
    weights: Array,
    caps: Array,
    members: tuple[str, ...],
    logistics: float = np.inf,
) -> LPResult:
    """Solve one month's allocation LP with HiGHS; report the duals of every constraint."""
    m = len(gap)
    g = np.maximum(gap, 0.0)
    w = effective_weights(weights)
    eps = stock_costs(m)
    # variable layout: y (m) | z (m) | q (1) | u (m)
    n = 3 * m + 1
    iy, iz, iq, iu = 0, m, 2 * m, 2 * m + 1
    cost = np.zeros(n)
    cost[iz : iz + m] = eps
    cost[iu : iu + m] = w
    rows: list[Array] = []
    rhs: list[float] = []
    names: list[tuple[str, str | None]] = []

    def row() -> Array:
        return np.zeros(n)

    r = row()
    r[iy : iy + m] = 1.0
    r[iz : iz + m] = -1.0
    r[iq] = -1.0
    rows.append(r)
    rhs.append(0.0)
    names.append(("balance", None))
    r = row()
    r[iq] = 1.0
    rows.append(r)
    rhs.append(float(pool))
    names.append(("market_pool", None))
    for j in range(m):
        r = row()
        r[iz + j] = 1.0
        rows.append(r)
        rhs.append(float(stock_limit[j]))
        names.append(("stock", members[j]))
    for j in range(m):
        if np.isfinite(caps[j]):
            r = row()
            r[iy + j] = 1.0
            rows.append(r)
            rhs.append(float(caps[j]))
            names.append(("fairness", members[j]))
    if np.isfinite(logistics):
        r = row()
        r[iy : iy + m] = 1.0
        rows.append(r)
        rhs.append(float(logistics))
        names.append(("logistics", None))
    a_eq = np.zeros((m, n))
    for j in range(m):
        a_eq[j, iy + j] = 1.0
        a_eq[j, iu + j] = 1.0
    res = linprog(
        cost, A_ub=np.array(rows), b_ub=np.array(rhs), A_eq=a_eq, b_eq=g, bounds=(0, None), method="highs"
    )
    if res.status != 0:
        raise AllocationError(f"allocation LP failed: {res.message}")
    x = res.x
    slack = np.array(rhs) - np.array(rows) @ x
    duals = tuple(
        Dual(
            constraint=kind,
            member=who,
            value_per_tonne=float(-mu) if abs(mu) > 1e-12 else 0.0,
            binding=bool(abs(mu) > 1e-9 or s <= 1e-9),
        )
        for (kind, who), mu, s in zip(names, res.ineqlin.marginals, slack, strict=True)
    )
    alloc = Allocation(
        received=x[iy : iy + m][None, :],
        stock_draw=x[iz : iz + m][None, :],
        pool_used=np.array([x[iq]]),
        unmet=x[iu : iu + m][None, :],
    )
    return LPResult(alloc, float(res.fun), duals)
