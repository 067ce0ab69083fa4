"""Conservation on random networks and shocks (hypothesis): every tonne of demand is either supplied
(contracted delivery, recycling, demand response, pool or stock) or unmet, in every period; stocks never
go negative; no node produces above its capacity; draws never exceed the release rate; and the vectorised
allocation equals one HiGHS LP per sample."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lodeline.sim.allocation import allocate_greedy, fairness_caps, solve_lp
from lodeline.sim.engine import Policy, simulate
from lodeline.sim.network import Shock, Stage, SupplyNetwork, flow_shares, propagate

COUNTRIES = ("AUS", "CHN", "USA", "DEU", "JPN", "BRA")


@st.composite
def networks(draw: st.DrawFn) -> SupplyNetwork:
    n_mine = draw(st.integers(1, 4))
    n_ref = draw(st.integers(1, 3))
    n_con = draw(st.integers(1, 4))
    pos = st.floats(0.0, 100.0, allow_nan=False)
    mine_c = tuple(COUNTRIES[:n_mine])
    ref_c = tuple(COUNTRIES[1 : 1 + n_ref])
    con_c = tuple(COUNTRIES[2 : 2 + n_con]) if n_con <= 4 else COUNTRIES[:n_con]
    ore = np.array([[draw(pos) for _ in ref_c] for _ in mine_c])
    refined_out = ore.sum(axis=0) * draw(st.floats(0.2, 1.0))
    shares = np.array([[draw(st.floats(0.0, 1.0)) for _ in con_c] for _ in ref_c]) + 1e-3
    shares = shares / shares.sum(axis=1, keepdims=True)
    refined = refined_out[:, None] * shares
    spare = np.array([draw(st.floats(0.0, 50.0)) for _ in ref_c])
    stocks = np.array([draw(st.floats(0.0, 200.0)) for _ in con_c])
    return SupplyNetwork(
        mineral="test",
        year=2024,
        stages=(
            Stage("mining", mine_c, ore.sum(axis=1), ore.sum(axis=1)),
            Stage("refining", ref_c, refined_out, refined_out + spare),
        ),
        flows=(ore, refined),
        consumers=con_c,
        members=tuple(draw(st.booleans()) for _ in con_c),
        recycling=np.array([draw(st.floats(0.0, 10.0)) for _ in con_c]),
        stocks=stocks,
        release_rate=stocks * draw(st.floats(0.1, 1.0)),
    )


@settings(max_examples=60, deadline=None)
@given(
    net=networks(),
    seed=st.integers(0, 2**32 - 1),
    rule=st.sampled_from(["optimised", "proportional", "none"]),
    kappa=st.sampled_from([np.inf, 1.0, 2.0]),
)
def test_conservation_every_period(net: SupplyNetwork, seed: int, rule: str, kappa: float) -> None:
    rng = np.random.default_rng(seed)
    samples, months = 7, 5
    cuts = [
        (
            rng.uniform(0, 1, (months, samples, len(s.countries)))
            * (rng.uniform(0, 1, (months, samples, 1)) < 0.6)
        )
        for s in net.stages
    ]
    demand_change = rng.uniform(-0.3, 0.5, (months, samples, len(net.consumers)))

    def shock_at(t: int) -> Shock:
        return Shock(
            production_cut=(cuts[0][t] * 0.5, None),
            export_cut=(None, cuts[1][t]),
            route_cut=(None, None),
            demand_change=demand_change[t],
        )

    members = np.array(net.members, dtype=bool)
    policy = Policy(
        rule, 0.7, 0.05, 0.1, kappa, np.inf, np.linspace(2.0, 1.0, int(members.sum())), -0.3, 10.0
    )
    totals = simulate(net, shock_at, months, samples, members, policy, keep_path=True)
    p = totals.path
    assert p is not None
    supplied = p["delivered"] + net.recycling + p["response"] + p["received"]
    # supply used (capped at demand) + unmet = demand, every sample, consumer and month
    used = np.minimum(supplied, p["demand"])
    np.testing.assert_allclose(used + p["unmet"], p["demand"], atol=1e-8)
    assert (p["unmet"] >= -1e-9).all()
    assert (p["stock_end"] >= -1e-9).all()
    assert (p["stock_draw"] <= net.release_rate + 1e-9).all()
    # stock accounting: start − draws = end
    start = np.where(members, net.stocks, 0.0)
    np.testing.assert_allclose(start - p["stock_draw"].sum(axis=1), p["stock_end"][:, -1], atol=1e-8)
    # received from pool + stocks never exceeds what the pool and the draws provide
    assert (p["received"].sum(axis=2) <= p["pool"] + p["stock_draw"].sum(axis=2) + 1e-8).all()
    # no node above capacity
    shares = flow_shares(net)
    for t in range(months):
        prop = propagate(net, shock_at(t), shares)
        for k, stage in enumerate(net.stages):
            assert (prop.node_output[k] <= stage.capacity + 1e-9).all()


@settings(max_examples=60, deadline=None)
@given(
    m=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
    kappa=st.sampled_from([np.inf, 1.0, 1.5]),
    logistics=st.sampled_from([np.inf, 20.0]),
)
def test_greedy_allocation_is_the_lp_optimum(m: int, seed: int, kappa: float, logistics: float) -> None:
    rng = np.random.default_rng(seed)
    gap = rng.uniform(0, 40, m) * (rng.uniform(0, 1, m) < 0.8)
    pool = float(rng.uniform(0, 50))
    limit = rng.uniform(0, 30, m) * (rng.uniform(0, 1, m) < 0.7)
    weights = rng.choice([1.0, 1.5, 2.0], m)
    share = rng.dirichlet(np.ones(m))
    caps = fairness_caps(np.array([pool + limit.sum()]), share, kappa)[0]
    lp = solve_lp(gap, pool, limit, weights, caps, tuple(str(i) for i in range(m)), logistics)
    greedy = allocate_greedy(gap[None], np.array([pool]), limit[None], weights, caps[None], logistics)
    np.testing.assert_allclose(greedy.received, lp.allocation.received, atol=1e-6)
    np.testing.assert_allclose(greedy.stock_draw, lp.allocation.stock_draw, atol=1e-6)
    np.testing.assert_allclose(greedy.unmet, lp.allocation.unmet, atol=1e-6)
    assert (greedy.stock_draw <= limit + 1e-9).all()
    assert greedy.received.sum() <= min(pool + limit.sum(), logistics) + 1e-9
