"""Per-sample solvers of the stress test's monthly allocation LP (:mod:`lodeline.sim.allocation`) for the baselines.

Each is an :data:`lodeline.sim.engine.LPAllocator` that records, for every sample-month it solves, the allocation
and the objective value, so the benchmark can check that all of them reach the same optimum:

* :class:`ScipyPerSolve` — what Lodeline's own baseline does (``solve_lp``): a fresh ``scipy.optimize.linprog``
  problem, matrices built in Python, for every sample and month (the naive baseline).
* :class:`HighsReSolve` — what an operations-research user would write: ONE HiGHS model (``highspy``) built once,
  whose column bounds (market pool, stock draw limits, fairness caps) and equality right-hand sides (the members'
  gaps) are changed before each re-solve; HiGHS keeps its basis between solves (warm start).
* :class:`GreedyPerSample` — Lodeline's exact closed-form optimum (``allocate_greedy``) one sample at a time; not
  timed, it gives the reference allocation and objective for the same sample-months.

Objective of the LP (all three): Σ_j w_j u_j + Σ_h ε_h z_h with the tie-broken weights and stock costs of
:mod:`lodeline.sim.allocation`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import highspy
import numpy as np

from lodeline.sim.allocation import Allocation, allocate_greedy, effective_weights, solve_lp, stock_costs
from lodeline.sim.engine import Policy
from lodeline.sim.network import Array


def lp_objective(alloc: Allocation, policy: Policy) -> float:
    """The LP's objective at an allocation of one sample: Σ w_eff·u + Σ ε·z."""
    m = alloc.unmet.shape[1]
    return float(effective_weights(policy.weights) @ alloc.unmet[0] + stock_costs(m) @ alloc.stock_draw[0])


@dataclass
class Recording:
    """What a solver returned, one entry per sample-month in solve order."""

    received: list[Array] = field(default_factory=list)
    stock_draw: list[Array] = field(default_factory=list)
    objective: list[float] = field(default_factory=list)

    def add(self, alloc: Allocation, objective: float) -> None:
        self.received.append(alloc.received[0])
        self.stock_draw.append(alloc.stock_draw[0])
        self.objective.append(objective)

    def arrays(self) -> tuple[Array, Array, Array]:
        return np.array(self.received), np.array(self.stock_draw), np.array(self.objective)


def _concat(parts: list[Allocation]) -> Allocation:
    return Allocation(
        np.concatenate([p.received for p in parts]),
        np.concatenate([p.stock_draw for p in parts]),
        np.concatenate([p.pool_used for p in parts]),
        np.concatenate([p.unmet for p in parts]),
    )


class ScipyPerSolve:
    """Naive baseline: ``lodeline.sim.allocation.solve_lp`` (a new linprog/HiGHS problem) per sample-month."""

    def __init__(self) -> None:
        self.record = Recording()

    def __call__(
        self, gap: Array, pool: Array, stock_limit: Array, caps: Array, policy: Policy
    ) -> Allocation:
        names = tuple(str(j) for j in range(gap.shape[1]))
        parts = []
        for s in range(gap.shape[0]):
            res = solve_lp(
                gap[s], float(pool[s]), stock_limit[s], policy.weights, caps[s], names, policy.logistics
            )
            self.record.add(res.allocation, res.objective)
            parts.append(res.allocation)
        return _concat(parts)


class GreedyPerSample:
    """Lodeline's closed-form optimum, one sample at a time (the reference for the equality check)."""

    def __init__(self) -> None:
        self.record = Recording()

    def __call__(
        self, gap: Array, pool: Array, stock_limit: Array, caps: Array, policy: Policy
    ) -> Allocation:
        parts = []
        for s in range(gap.shape[0]):
            alloc = allocate_greedy(
                gap[s : s + 1], pool[s : s + 1], stock_limit[s : s + 1], policy.weights, caps[s : s + 1],
                policy.logistics,
            )  # fmt: skip
            self.record.add(alloc, lp_objective(alloc, policy))
            parts.append(alloc)
        return _concat(parts)


class HighsReSolve:
    """One ``highspy`` model of the monthly LP, built on the first call, re-solved with new bounds each time.

    Columns: y (received, m) | z (stock draw, m) | q (market pool used, 1) | u (unmet, m), all ≥ 0.
    Rows: balance Σy − Σz − q ≤ 0; logistics Σy ≤ L; y_j + u_j = g_j. The pool (q ≤ P), stock (z ≤ s) and fairness
    (y ≤ c) limits are column bounds, which is the same LP as ``solve_lp`` writes them as rows.
    """

    def __init__(self) -> None:
        self.record = Recording()
        self.solves = 0
        self._h: highspy.Highs | None = None
        self._policy: Policy | None = None
        self._m = 0

    def _build(self, m: int, policy: Policy) -> highspy.Highs:
        inf = highspy.kHighsInf
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        n = 3 * m + 1
        cost = np.concatenate([np.zeros(m), stock_costs(m), [0.0], effective_weights(policy.weights)])
        h.addVars(n, np.zeros(n), np.full(n, inf))
        h.changeColsCost(n, np.arange(n, dtype=np.int32), cost)
        y, z, q = np.arange(m), np.arange(m, 2 * m), 2 * m
        balance_idx = np.concatenate([y, z, [q]]).astype(np.int32)
        balance_val = np.concatenate([np.ones(m), -np.ones(m), [-1.0]])
        h.addRow(-inf, 0.0, len(balance_idx), balance_idx, balance_val)
        logistics = policy.logistics if np.isfinite(policy.logistics) else inf
        h.addRow(-inf, logistics, m, y.astype(np.int32), np.ones(m))
        for j in range(m):
            h.addRow(0.0, 0.0, 2, np.array([j, 2 * m + 1 + j], dtype=np.int32), np.ones(2))
        self._m, self._policy = m, policy
        return h

    def __call__(
        self, gap: Array, pool: Array, stock_limit: Array, caps: Array, policy: Policy
    ) -> Allocation:
        m = gap.shape[1]
        if self._h is None or self._policy is not policy or self._m != m:
            self._h = self._build(m, policy)
        h, inf = self._h, highspy.kHighsInf
        bounded = np.arange(2 * m + 1, dtype=np.int32)  # y, z, q
        eq_rows = np.arange(2, 2 + m, dtype=np.int32)
        lower = np.zeros(2 * m + 1)
        parts = []
        for s in range(gap.shape[0]):
            g = np.maximum(gap[s], 0.0)
            upper = np.concatenate([np.where(np.isfinite(caps[s]), caps[s], inf), stock_limit[s], [pool[s]]])
            h.changeColsBounds(len(bounded), bounded, lower, upper)
            h.changeRowsBounds(m, eq_rows, g, g)
            h.run()
            status = h.getModelStatus()
            if status != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError(f"HiGHS re-solve {self.solves}: {h.modelStatusToString(status)}")
            self.solves += 1
            x = np.asarray(h.getSolution().col_value)
            alloc = Allocation(
                received=x[:m][None, :],
                stock_draw=x[m : 2 * m][None, :],
                pool_used=x[2 * m : 2 * m + 1],
                unmet=x[2 * m + 1 :][None, :],
            )
            self.record.add(alloc, float(h.getInfo().objective_function_value))
            parts.append(alloc)
        return _concat(parts)
