"""A deterministic scenario run: per-member shortfall, days of cover, stock draw, binding nodes, prices, duals."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from lodeline.sim.allocation import fairness_caps, solve_lp
from lodeline.sim.compile import compile_policy, scenario_shocks
from lodeline.sim.engine import DAYS_PER_MONTH, Policy, Totals, days_of_cover, simulate
from lodeline.sim.network import Array, Mask, Shock, SupplyNetwork, no_shock, propagate
from lodeline.sim.scenario import Scenario


@dataclass(frozen=True)
class RunReport:
    scenario: str
    mineral: str
    months: int
    rule: str
    members: list[dict[str, Any]]
    monthly: list[dict[str, Any]]
    binding_nodes: list[dict[str, Any]]
    duals: list[dict[str, Any]]
    lp_max_abs_diff: float | None
    price_multiple_max: float
    notes: list[str]
    nodes: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "mineral": self.mineral,
            "months": self.months,
            "release_rule": self.rule,
            "members": self.members,
            "monthly": self.monthly,
            "binding_nodes": self.binding_nodes,
            "duals": self.duals,
            "lp_max_abs_diff": self.lp_max_abs_diff,
            "price_multiple_max": self.price_multiple_max,
            "notes": self.notes,
            "nodes": self.nodes,
        }


def node_table(network: SupplyNetwork) -> list[dict[str, Any]]:
    """Every producing node: baseline output, capacity, utilisation and spare (t/month)."""
    rows = []
    for stage in network.stages:
        for i, country in enumerate(stage.countries):
            cap = float(stage.capacity[i])
            rows.append(
                {
                    "country": country,
                    "stage": stage.name,
                    "output_t_per_month": float(stage.output[i]),
                    "capacity_t_per_month": cap,
                    "utilisation": float(stage.output[i]) / cap if cap > 0 else None,
                    "spare_t_per_month": float(stage.spare[i]),
                }
            )
    return rows


def binding_nodes(
    network: SupplyNetwork, shock_at: Callable[[int], Shock], months: int
) -> list[dict[str, Any]]:
    """Nodes whose output or exports fall below baseline, with the tonnes lost over the horizon."""
    base = propagate(network, no_shock(network))
    lost: dict[tuple[str, str], dict[str, float]] = {}
    for t in range(months):
        shock = shock_at(t)
        prop = propagate(network, shock)
        for k, stage in enumerate(network.stages):
            out = prop.node_output[k][0]
            drop = base.node_output[k][0] - out
            targets = network.stages[k + 1].countries if k + 1 < len(network.stages) else network.consumers
            flow = network.flows[k]
            shipped = flow.sum(axis=1)
            foreign = np.array(
                [
                    sum(flow[i, j] for j, c in enumerate(targets) if c != country)
                    for i, country in enumerate(stage.countries)
                ]
            )
            foreign_share = np.divide(foreign, shipped, out=np.zeros_like(foreign), where=shipped > 0)
            cut = shock.export_cut[k]
            export_loss = out * (cut[0] if cut is not None else 0.0) * foreign_share
            route = shock.route_cut[k]
            if route is not None:
                share = np.divide(flow, shipped[:, None], out=np.zeros_like(flow), where=shipped[:, None] > 0)
                export_loss = export_loss + out * (share * route).sum(axis=1)
            for i, country in enumerate(stage.countries):
                if drop[i] > 1e-9 or export_loss[i] > 1e-9:
                    entry = lost.setdefault(
                        (country, stage.name), {"output_lost_t": 0.0, "exports_withheld_t": 0.0}
                    )
                    entry["output_lost_t"] += float(max(drop[i], 0.0))
                    entry["exports_withheld_t"] += float(export_loss[i])
    rows = [{"country": c, "stage": s, **v} for (c, s), v in lost.items()]
    return sorted(rows, key=lambda r: -(r["output_lost_t"] + r["exports_withheld_t"]))


def _lp_duals(
    network: SupplyNetwork,
    totals: Totals,
    members: Mask,
    policy: Policy,
    release_at: Callable[[int, Array], Array] | None = None,
) -> tuple[list[dict[str, Any]], float]:
    """Re-solve each month's member allocation as an LP (HiGHS): duals, and the gap to the engine's numbers."""
    assert totals.path is not None
    p = totals.path
    idx = np.flatnonzero(members)
    names = tuple(network.consumers[i] for i in idx)
    member_demand = network.demand[idx]
    share = member_demand / member_demand.sum() if member_demand.sum() > 0 else member_demand
    rate = network.release_rate[idx]
    out: list[dict[str, Any]] = []
    worst = 0.0
    for t in range(p["demand"].shape[1]):
        gap_all = p["received"][0, t] + p["unmet"][0, t]
        gap = gap_all[idx]
        if gap.sum() <= 1e-12:
            continue
        g_total = gap_all.sum()
        pool = float(p["pool"][0, t] * gap.sum() / g_total) if g_total > 0 else 0.0
        stock_start = p["stock_end"][0, t, idx] + p["stock_draw"][0, t, idx]
        limit = np.minimum(stock_start, rate)
        if release_at is not None:  # the same gate the engine applied (release rules' lead times)
            limit = np.minimum(release_at(t, limit[None, :])[0], limit)
        caps = fairness_caps(np.array([pool + limit.sum()]), share, policy.kappa)[0]
        lp = solve_lp(gap, pool, limit, policy.weights, caps, names, policy.logistics)
        worst = max(
            worst,
            float(np.abs(lp.allocation.received[0] - p["received"][0, t, idx]).max()),
            float(np.abs(lp.allocation.stock_draw[0] - p["stock_draw"][0, t, idx]).max()),
        )
        for d in lp.duals:
            if d.binding:
                out.append(
                    {
                        "month": t + 1,
                        "constraint": d.constraint,
                        "member": d.member,
                        "value_per_tonne": d.value_per_tonne,
                    }
                )
    return out, worst


def run_scenario(
    network: SupplyNetwork,
    scenario: Scenario,
    where: str = "<scenario>",
    *,
    rule: str | None = None,
    release_at: Callable[[int, Array], Array] | None = None,
) -> RunReport:
    """Run the scenario deterministically over its horizon (one sample).

    ``rule`` overrides the scenario's release rule and ``release_at(month, stock_limit)`` caps each member's draw
    per month (both used by the release plan of :mod:`lodeline.services.release`)."""
    shock_at = scenario_shocks(network, scenario, where)
    members, policy = compile_policy(network, scenario, where)
    if rule is not None:
        policy = replace(policy, rule=rule)
    months = scenario.horizon_months
    totals = simulate(network, shock_at, months, 1, members, policy, keep_path=True, release_at=release_at)
    assert totals.path is not None
    p = totals.path
    monthly_demand = network.demand
    rows = []
    for j, country in enumerate(network.consumers):
        demand = float(totals.demand[0, j])
        unmet = float(totals.unmet[0, j])
        stock_end = float(p["stock_end"][0, -1, j])
        rows.append(
            {
                "country": country,
                "member": bool(members[j]),
                "demand_t": demand,
                "shortfall_t": unmet,
                "shortfall_pct": 100.0 * unmet / demand if demand > 0 else 0.0,
                "worst_month_shortfall_pct": float(
                    np.max(
                        np.divide(
                            p["unmet"][0, :, j],
                            p["demand"][0, :, j],
                            out=np.zeros(months),
                            where=p["demand"][0, :, j] > 0,
                        )
                    )
                    * 100.0
                ),
                "stock_start_t": float(network.stocks[j]) if members[j] else 0.0,
                "stock_draw_t": float(totals.stock_draw[0, j]),
                "stock_end_t": stock_end,
                "days_of_cover_start": _finite(
                    days_of_cover(
                        np.array([network.stocks[j] if members[j] else 0.0]), monthly_demand[j : j + 1]
                    )[0]
                ),
                "days_of_cover_end": _finite(
                    days_of_cover(np.array([stock_end]), monthly_demand[j : j + 1])[0]
                ),
            }
        )
    monthly = []
    for t in range(months):
        demand_t = p["demand"][0, t]
        monthly.append(
            {
                "month": t + 1,
                "demand_t": float(demand_t.sum()),
                "delivered_t": float(p["delivered"][0, t].sum()),
                "shortfall_t": float(p["unmet"][0, t].sum()),
                "member_shortfall_t": float(p["unmet"][0, t][members].sum()),
                "stock_draw_t": float(p["stock_draw"][0, t].sum()),
                "member_stock_t": float(p["stock_end"][0, t][members].sum()),
                "price_multiple": float(p["price_multiple"][0, t]),
                "by_member": {
                    c: {
                        "shortfall_t": float(p["unmet"][0, t, j]),
                        "stock_end_t": float(p["stock_end"][0, t, j]),
                        "stock_draw_t": float(p["stock_draw"][0, t, j]),
                    }
                    for j, c in enumerate(network.consumers)
                    if members[j]
                },
            }
        )
    duals: list[dict[str, Any]] = []
    diff: float | None = None
    if policy.rule == "optimised" and members.any():
        duals, diff = _lp_duals(network, totals, members, policy, release_at)
    notes = list(network.notes)
    notes.append(
        f"days of cover use baseline consumption; a month is {DAYS_PER_MONTH:.4f} days; prices: constant elasticity "
        f"{policy.elasticity}"
    )
    return RunReport(
        scenario=scenario.name,
        mineral=network.mineral,
        months=months,
        rule=policy.rule,
        members=rows,
        monthly=monthly,
        binding_nodes=binding_nodes(network, shock_at, months),
        duals=duals,
        lp_max_abs_diff=diff,
        price_multiple_max=float(totals.price_multiple_max[0]),
        notes=notes,
        nodes=node_table(network),
    )


def _finite(x: float) -> float | None:
    return float(x) if np.isfinite(x) else None
