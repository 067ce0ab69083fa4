"""Turn a validated :class:`Scenario` into engine inputs: inline network, monthly shocks, the policy.

Errors that only show up against a concrete network (a disrupted country with no node at that stage,
a demand shock for a country that consumes nothing) are raised here, still naming the field.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from lodeline.sim.engine import Policy
from lodeline.sim.network import Array, Mask, Shock, Stage, SupplyNetwork
from lodeline.sim.scenario import Disruption, NetworkSpec, Scenario, ScenarioError

STAGE_ORDER = ("mining", "refining", "component")


def network_from_spec(spec: NetworkSpec, mineral: str, members: frozenset[str], where: str) -> SupplyNetwork:
    """Build a network from an inline spec (t/month)."""
    names = [s.name for s in spec.stages]
    if names != sorted(names, key=STAGE_ORDER.index) or len(set(names)) != len(names):
        raise ScenarioError(where, "network.stages", f"stages must be distinct and in order {STAGE_ORDER}")
    stages = tuple(
        Stage(
            s.name,
            tuple(n.country for n in s.nodes),
            np.array([n.output for n in s.nodes], dtype=float),
            np.array([n.capacity if n.capacity is not None else n.output for n in s.nodes], dtype=float),
        )
        for s in spec.stages
    )
    consumers = tuple(c.country for c in spec.consumers)
    index: dict[str, tuple[int, int]] = {}
    for k, s in enumerate(stages):
        for i, country in enumerate(s.countries):
            index[f"{s.name}:{country}"] = (k, i)
    for i, country in enumerate(consumers):
        index[f"consumer:{country}"] = (len(stages), i)
    sizes = [len(s.countries) for s in stages] + [len(consumers)]
    flows = [np.zeros((sizes[k], sizes[k + 1])) for k in range(len(stages))]
    for i, f in enumerate(spec.flows):
        for end in ("source", "target"):
            if getattr(f, end) not in index:
                raise ScenarioError(
                    where, f"network.flows.{i}.{end}", f"{getattr(f, end)!r} is not a node (use stage:ISO3)"
                )
        (ks, a), (kt, b) = index[f.source], index[f.target]
        if kt != ks + 1:
            raise ScenarioError(where, f"network.flows.{i}.target", "flows must go to the next stage")
        flows[ks][a, b] += f.tonnes
    stocks = np.array([c.stock for c in spec.consumers], dtype=float)
    rates = np.array(
        [c.release_rate if c.release_rate is not None else c.stock for c in spec.consumers], dtype=float
    )
    return SupplyNetwork(
        mineral=mineral,
        year=spec.year,
        stages=stages,
        flows=tuple(flows),
        consumers=consumers,
        members=tuple(c in members for c in consumers),
        recycling=np.array([c.recycling for c in spec.consumers], dtype=float),
        stocks=stocks,
        release_rate=rates,
        notes=("inline network from the scenario file (t/month)",),
    )


def _combine(cut: Array, extra: float, where: tuple[int, int]) -> None:
    cut[where] = 1.0 - (1.0 - cut[where]) * (1.0 - extra)


def scenario_shocks(network: SupplyNetwork, scenario: Scenario, where: str) -> Callable[[int], Shock]:
    """The deterministic shock of each month (one sample) as a function of the month index (0-based)."""
    stage_of = {s.name: k for k, s in enumerate(network.stages)}
    resolved: list[tuple[int, int, Disruption]] = []
    for i, d in enumerate(scenario.disruptions):
        if d.stage not in stage_of:
            raise ScenarioError(
                where, f"disruptions.{i}.stage", f"the {network.mineral} network has no {d.stage} stage"
            )
        k = stage_of[d.stage]
        countries = network.stages[k].countries
        if d.country not in countries:
            raise ScenarioError(
                where,
                f"disruptions.{i}.country",
                f"{d.country} has no {d.stage} node in the {network.mineral} network "
                f"(nodes: {', '.join(countries)})",
            )
        resolved.append((k, countries.index(d.country), d))
    for i, s in enumerate(scenario.demand_shocks):
        if s.country is not None and s.country not in network.consumers:
            raise ScenarioError(where, f"demand_shocks.{i}.country", f"{s.country} is not a consumer node")
    targets = [network.stages[k + 1].countries for k in range(len(network.stages) - 1)] + [network.consumers]

    def shock_at(t: int) -> Shock:
        prod = tuple(np.zeros((1, len(s.countries))) for s in network.stages)
        export = tuple(np.zeros((1, len(s.countries))) for s in network.stages)
        routes: list[Array | None] = [None for _ in network.stages]
        demand = np.zeros((1, len(network.consumers)))
        for k, i, d in resolved:
            if not (d.start_month - 1 <= t < d.start_month - 1 + d.duration_months):
                continue
            if d.kind == "production":
                _combine(prod[k], d.cut, (0, i))
            elif d.to is None:
                _combine(export[k], d.cut, (0, i))
            else:
                route = routes[k]
                if route is None:
                    route = np.zeros((len(network.stages[k].countries), len(targets[k])))
                    routes[k] = route
                for j, country in enumerate(targets[k]):
                    if country in d.to:
                        _combine(route, d.cut, (i, j))
        for s in scenario.demand_shocks:
            if s.start_month - 1 <= t < s.start_month - 1 + s.duration_months:
                cols = slice(None) if s.country is None else network.consumers.index(s.country)
                demand[0, cols] += s.change
        return Shock(prod, export, tuple(routes), demand)

    return shock_at


def compile_policy(network: SupplyNetwork, scenario: Scenario, where: str) -> tuple[Mask, Policy]:
    """Member mask over consumers and the engine policy."""
    members = np.array(network.members, dtype=bool)
    names = [c for c, m in zip(network.consumers, network.members, strict=True) if m]
    for country in scenario.response.priority:
        if country not in names:
            raise ScenarioError(
                where, "response.priority", f"{country} is not an alliance member consuming in this network"
            )
    weights = np.array([scenario.response.priority.get(c, 1.0) for c in names], dtype=float)
    r = scenario.response
    policy = Policy(
        rule=r.release,
        reroute_fraction=r.reroute_fraction,
        substitution=r.substitution,
        recycling_rampup=r.recycling_rampup,
        kappa=r.fairness_kappa if r.fairness_kappa is not None else np.inf,
        logistics=r.logistics_t_per_month if r.logistics_t_per_month is not None else np.inf,
        weights=weights,
        elasticity=scenario.price.elasticity,
        max_price_multiple=scenario.price.max_multiple,
    )
    return members, policy
