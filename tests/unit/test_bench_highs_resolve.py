"""The stress-test benchmark's OR baseline: one highspy model of the monthly allocation LP, re-solved with new
bounds, gives the optimum of a fresh LP every time (hand-worked months, then random months against solve_lp)."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.sim_peers import GreedyPerSample, HighsReSolve, ScipyPerSolve

from lodeline.sim.allocation import STOCK_COST, fairness_caps, solve_lp, stock_costs
from lodeline.sim.engine import Policy


def _policy(weights: list[float], kappa: float = np.inf, logistics: float = np.inf) -> Policy:
    return Policy("optimised", 1.0, 0.0, 0.0, kappa, logistics, np.array(weights), -0.5, 10.0)


def test_worked_example_months_on_one_model() -> None:
    """docs/examples/worked-example.yaml, members (USA, DEU), DEU priority 1.1, both gaps 30 t.

    Month 1: pool 10, USA stock 30: DEU (weight 1.1) gets 30, USA 10 (unmet 20); USA draws all 30 t.
      Objective 1.0·20 + ε_USA·30 with ε_USA = 0.001 (first holder) = 20.03.
    Month 2: pool 10, no stock left: DEU 10 (unmet 20), USA unmet 30. Objective 1.1·20 + 1.0·30 = 52.
    Both months are solved on the same HiGHS model, built once."""
    policy = _policy([1.0, 1.1])
    highs = HighsReSolve()
    gap = np.array([[30.0, 30.0]])
    first = highs(gap, np.array([10.0]), np.array([[30.0, 0.0]]), np.full((1, 2), np.inf), policy)
    model = highs._h
    second = highs(gap, np.array([10.0]), np.array([[0.0, 0.0]]), np.full((1, 2), np.inf), policy)
    assert highs._h is model and highs.solves == 2
    np.testing.assert_allclose(first.received, [[10.0, 30.0]], atol=1e-9)
    np.testing.assert_allclose(first.stock_draw, [[30.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(first.unmet, [[20.0, 0.0]], atol=1e-9)
    np.testing.assert_allclose(second.received, [[0.0, 10.0]], atol=1e-9)
    np.testing.assert_allclose(second.unmet, [[30.0, 20.0]], atol=1e-9)
    assert stock_costs(2)[0] == STOCK_COST == 0.001
    assert highs.record.objective == pytest.approx([20.0 + 0.001 * 30, 1.1 * 20 + 30.0], rel=1e-12)


@pytest.mark.parametrize(("kappa", "logistics"), [(np.inf, np.inf), (1.5, np.inf), (1.0, 20.0)])
def test_resolves_match_a_fresh_lp_and_the_greedy(kappa: float, logistics: float) -> None:
    """60 random months (fairness caps, logistics limit) in one call: every re-solve of the one model reaches the
    objective and allocation of a fresh ``solve_lp`` and of Lodeline's closed form."""
    rng = np.random.default_rng(12)
    m, s = 4, 60
    gap = rng.uniform(0, 40, (s, m)) * (rng.uniform(0, 1, (s, m)) < 0.8)
    pool = rng.uniform(0, 50, s)
    limit = rng.uniform(0, 30, (s, m)) * (rng.uniform(0, 1, (s, m)) < 0.7)
    share = rng.dirichlet(np.ones(m))
    caps = fairness_caps(pool + limit.sum(axis=1), share, kappa)
    policy = _policy([1.0, 1.5, 2.0, 1.0], kappa, logistics)
    solvers = HighsReSolve(), ScipyPerSolve(), GreedyPerSample()
    allocs = [solver(gap, pool, limit, caps, policy) for solver in solvers]
    highs, scipy_, greedy = allocs
    for other in (scipy_, greedy):
        np.testing.assert_allclose(highs.received, other.received, atol=1e-6)
        np.testing.assert_allclose(highs.stock_draw, other.stock_draw, atol=1e-6)
        np.testing.assert_allclose(highs.unmet, other.unmet, atol=1e-6)
    objectives = [np.array(solver.record.objective) for solver in solvers]
    np.testing.assert_allclose(objectives[0], objectives[1], rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(objectives[0], objectives[2], rtol=1e-9, atol=1e-7)
    lp = solve_lp(gap[0], float(pool[0]), limit[0], policy.weights, caps[0], tuple("ABCD"), logistics)
    assert objectives[0][0] == pytest.approx(lp.objective, rel=1e-9, abs=1e-7)
    assert solvers[0].solves == s
