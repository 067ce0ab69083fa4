"""A network small enough to check by hand: 3 miners, 2 refiners, 2 consumers (t/month).

Baseline
    ore:     AUS→CHN 40, AUS→JPN 20, BRA→JPN 20, CHN→CHN 20  (miners AUS 60, BRA 20, CHN 20)
    refined: CHN→USA 30, CHN→DEU 30, JPN→USA 10, JPN→DEU 30  (refiners CHN 60/cap 60, JPN 40/cap 50)
    demand:  USA 40, DEU 60 (= what arrives). USA holds 30 t of stock, drawable in one month; DEU none.
"""

from __future__ import annotations

import numpy as np
import pytest

from lodeline.sim.allocation import STOCK_COST, allocate_greedy, solve_lp, stock_costs
from lodeline.sim.compile import network_from_spec
from lodeline.sim.network import Shock, propagate
from lodeline.sim.run import run_scenario
from lodeline.sim.scenario import parse_scenario

NETWORK = {
    "year": 2024,
    "stages": [
        {
            "name": "mining",
            "nodes": [
                {"country": "AUS", "output": 60},
                {"country": "BRA", "output": 20},
                {"country": "CHN", "output": 20},
            ],
        },
        {
            "name": "refining",
            "nodes": [
                {"country": "CHN", "output": 60, "capacity": 60},
                {"country": "JPN", "output": 40, "capacity": 50},
            ],
        },
    ],
    "consumers": [{"country": "USA", "stock": 30}, {"country": "DEU"}],
    "flows": [
        {"source": "mining:AUS", "target": "refining:CHN", "tonnes": 40},
        {"source": "mining:AUS", "target": "refining:JPN", "tonnes": 20},
        {"source": "mining:BRA", "target": "refining:JPN", "tonnes": 20},
        {"source": "mining:CHN", "target": "refining:CHN", "tonnes": 20},
        {"source": "refining:CHN", "target": "consumer:USA", "tonnes": 30},
        {"source": "refining:CHN", "target": "consumer:DEU", "tonnes": 30},
        {"source": "refining:JPN", "target": "consumer:USA", "tonnes": 10},
        {"source": "refining:JPN", "target": "consumer:DEU", "tonnes": 30},
    ],
}


def _scenario(**overrides: object) -> dict:
    base = {
        "name": "worked example",
        "mineral": "gallium",
        "alliance": ["USA", "DEU"],
        "horizon_months": 3,
        "disruptions": [
            {
                "country": "CHN",
                "stage": "refining",
                "kind": "export",
                "cut": 1.0,
                "start_month": 1,
                "duration_months": 2,
            }
        ],
        "response": {
            "release": "optimised",
            "reroute_fraction": 1.0,
            "fairness_kappa": None,
            "priority": {"DEU": 1.1},
        },
        "network": NETWORK,
    }
    base.update(overrides)
    return base


def _net(sc):  # type: ignore[no-untyped-def]
    assert sc.network is not None
    return network_from_spec(sc.network, sc.mineral, sc.alliance_members(), "test")


def test_mine_outage_propagates_by_hand() -> None:
    """AUS mine output halves (60 → 30): CHN refinery gets 20 + 20 = 40 of 60, JPN gets 10 + 20 = 30 of 40.

    CHN refines 40 and ships half each way: USA 20, DEU 20. JPN refines 30 and ships 1/4 to USA (7.5) and
    3/4 to DEU (22.5). So USA receives 27.5 of 40 and DEU 42.5 of 60. JPN's spare is now 50 − 30 = 20.
    """
    sc = parse_scenario(_scenario())
    net = _net(sc)
    shock = Shock(
        production_cut=(np.array([[0.5, 0.0, 0.0]]), np.zeros((1, 2))),
        export_cut=(np.zeros((1, 3)), np.zeros((1, 2))),
        route_cut=(None, None),
        demand_change=np.zeros((1, 2)),
    )
    prop = propagate(net, shock)
    np.testing.assert_allclose(prop.delivered[0], [27.5, 42.5])
    np.testing.assert_allclose(prop.node_output[1][0], [40.0, 30.0])
    # spare reachable by the market: CHN 60 − 40 = 20 plus JPN 50 − 30 = 20 … but spare is capacity − BASELINE
    # output (the idle plant), 0 for CHN and 10 for JPN: spare capacity is not conjured from missing feed.
    np.testing.assert_allclose(prop.spare_available, [10.0])


def test_export_ban_shortfalls_allocation_and_duals_by_hand() -> None:
    """China bans refined exports (cut 1.0) in months 1–2; reroute all of JPN's spare (10 t); DEU priority 1.1.

    Month 1: USA receives 10 (from JPN), DEU 30: gaps USA 30, DEU 30. Supply = pool 10 + USA stock 30 = 40.
      Optimised: DEU (weight 1.1) first → 30; USA → 10; USA unmet 20. Pool 10 used, USA draws 30 (stock → 0).
      Duals: pool = 1.0 (next tonne goes to USA), USA stock = 1.0 − ε = 0.999, balance = 1.0.
    Month 2: same gaps, supply = pool 10 only → DEU 10 (unmet 20), USA unmet 30. Pool dual = 1.1.
    Month 3: no ban, no gap.
    Totals: USA demand 120, unmet 50 (41.67 %); DEU demand 180, unmet 20 (11.11 %). USA stock draw 30.
    """
    sc = parse_scenario(_scenario())
    report = run_scenario(_net(sc), sc)
    by = {r["country"]: r for r in report.members}
    assert by["USA"]["shortfall_t"] == pytest.approx(50.0)
    assert by["DEU"]["shortfall_t"] == pytest.approx(20.0)
    assert by["USA"]["shortfall_pct"] == pytest.approx(100 * 50 / 120)
    assert by["DEU"]["shortfall_pct"] == pytest.approx(100 * 20 / 180)
    assert by["USA"]["stock_draw_t"] == pytest.approx(30.0)
    assert by["USA"]["stock_end_t"] == pytest.approx(0.0)
    # 30 t at 40 t/month = 0.75 months of cover = 0.75 × 365.25/12 days
    assert by["USA"]["days_of_cover_start"] == pytest.approx(0.75 * 365.25 / 12)
    m = report.monthly
    assert [x["member_shortfall_t"] for x in m] == pytest.approx([20.0, 50.0, 0.0])
    assert m[0]["by_member"]["USA"]["stock_draw_t"] == pytest.approx(30.0)
    duals = {(d["month"], d["constraint"], d["member"]): d["value_per_tonne"] for d in report.duals}
    assert duals[(1, "market_pool", None)] == pytest.approx(1.0)
    assert duals[(1, "stock", "USA")] == pytest.approx(1.0 - STOCK_COST)
    assert duals[(1, "balance", None)] == pytest.approx(1.0)
    assert duals[(2, "market_pool", None)] == pytest.approx(1.1)
    assert report.lp_max_abs_diff is not None and report.lp_max_abs_diff < 1e-6
    nodes = {(n["country"], n["stage"]): n for n in report.nodes}
    assert nodes[("JPN", "refining")]["utilisation"] == pytest.approx(40 / 50)
    assert nodes[("JPN", "refining")]["spare_t_per_month"] == pytest.approx(10.0)
    binding = {(b["country"], b["stage"]): b for b in report.binding_nodes}
    # CHN withholds 60 t/month of exports for 2 months
    assert binding[("CHN", "refining")]["exports_withheld_t"] == pytest.approx(120.0)


def test_greedy_equals_lp_with_fairness_and_logistics() -> None:
    """Fairness caps c = κ·share·available and a logistics limit: greedy and HiGHS agree to 1e-7."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        m = 4
        gap = rng.uniform(0, 50, m)
        pool = float(rng.uniform(0, 60))
        limit = rng.uniform(0, 30, m)
        weights = rng.choice([1.0, 1.0, 2.0, 3.0], m)
        share = rng.dirichlet(np.ones(m))
        caps = 1.5 * share * (pool + limit.sum())
        logistics = float(rng.uniform(10, 100))
        names = tuple("ABCD")
        lp = solve_lp(gap, pool, limit, weights, caps, names, logistics)
        greedy = allocate_greedy(gap[None], np.array([pool]), limit[None], weights, caps[None], logistics)
        np.testing.assert_allclose(greedy.received, lp.allocation.received, atol=1e-7)
        np.testing.assert_allclose(greedy.stock_draw, lp.allocation.stock_draw, atol=1e-7)
        eps = stock_costs(m)
        obj = float((weights * 0 + greedy.unmet[0]) @ _eff(weights) + greedy.stock_draw[0] @ eps)
        assert obj == pytest.approx(lp.objective, abs=1e-6)


def _eff(w: np.ndarray) -> np.ndarray:
    from lodeline.sim.allocation import effective_weights

    return effective_weights(w)


def test_proportional_release_shares_by_consumption() -> None:
    """IEA-style rule, same month-1 gaps (USA 30, DEU 30, pool 10).

    Month 1: release needed = min(60 − 10, drawable 30) = 30, shared by consumption: USA (40 % of 100)
    releases 0.4 × 30 = 12 (DEU holds nothing, so its share is simply missing). Supply 10 + 12 = 22 is
    shared pro rata to the equal gaps: 11 each, so USA's unmet is 30 − 11 = 19.
    Month 2: USA holds 18; needed = min(50, 18) = 18; USA releases 0.4 × 18 = 7.2.
    """
    sc = parse_scenario(_scenario(response={"release": "proportional", "reroute_fraction": 1.0}))
    report = run_scenario(_net(sc), sc)
    m1 = report.monthly[0]
    assert m1["stock_draw_t"] == pytest.approx(12.0)
    assert m1["by_member"]["USA"]["shortfall_t"] == pytest.approx(19.0)
    # month 2: needed = min(60 − 10, 18) = 18; USA's share 0.4 × 18 = 7.2
    assert report.monthly[1]["stock_draw_t"] == pytest.approx(7.2)
