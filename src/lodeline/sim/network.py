"""The supply network of one mineral: staged producer nodes, trade/domestic flows, consumers, stocks.

A network is a chain of producing stages (mining → refining → optionally component) followed by the
consumers. Each producing stage ``k`` has nodes ``(country, stage)`` with a baseline output and a
capacity (t/month). Flows between consecutive stages, and from the last stage to the consumers, are
baseline tonnes per month (BACI trade plus domestic flows). Propagation is Leontief pass-through: a
node's output scales with the share of its baseline input that still arrives, capped by its (possibly
cut) capacity; its output is shipped in its baseline proportions. Everything here is pure numpy and
vectorised over a leading "sample" axis so the same code serves one deterministic run and 100,000
Monte Carlo samples.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from lodeline.errors import InvalidArgumentError

Array = NDArray[np.float64]
Mask = NDArray[np.bool_]
Index = NDArray[np.intp]


@dataclass(frozen=True)
class Stage:
    """One producing stage: its nodes (countries), baseline output and capacity in t/month."""

    name: str
    countries: tuple[str, ...]
    output: Array
    capacity: Array

    @property
    def spare(self) -> Array:
        return np.maximum(self.capacity - self.output, 0.0)


@dataclass(frozen=True)
class SupplyNetwork:
    """A mineral's network. ``flows[k]`` has shape (len(stages[k]), len(next)); the last maps to consumers.

    ``recycling`` is each consumer's secondary (scrap-based) supply, ``stocks`` the stock held by each
    consumer country (t) and ``release_rate`` the most it can draw per month (t/month).
    """

    mineral: str
    year: int
    stages: tuple[Stage, ...]
    flows: tuple[Array, ...]
    consumers: tuple[str, ...]
    members: tuple[bool, ...]
    recycling: Array
    stocks: Array
    release_rate: Array
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if len(self.flows) != len(self.stages):
            raise InvalidArgumentError("network: one flow matrix per stage is required")
        sizes = [len(s.countries) for s in self.stages] + [len(self.consumers)]
        for k, flow in enumerate(self.flows):
            if flow.shape != (sizes[k], sizes[k + 1]):
                raise InvalidArgumentError(
                    f"network: flows[{k}] ({self.stages[k].name}) has shape {flow.shape}, expected "
                    f"{(sizes[k], sizes[k + 1])}"
                )
            if (flow < 0).any():
                raise InvalidArgumentError(f"network: flows[{k}] has negative tonnes")
        for arr, name in (
            (self.recycling, "recycling"),
            (self.stocks, "stocks"),
            (self.release_rate, "release_rate"),
        ):
            if arr.shape != (len(self.consumers),):
                raise InvalidArgumentError(f"network: {name} must have one value per consumer")

    @property
    def demand(self) -> Array:
        """Baseline consumption per consumer (t/month): what arrives from the last stage plus recycling."""
        return self.flows[-1].sum(axis=0) + self.recycling

    def stage_index(self, stage: str) -> int:
        for k, s in enumerate(self.stages):
            if s.name == stage:
                return k
        raise InvalidArgumentError(
            f"stage {stage!r} is not in the {self.mineral} network (stages: {', '.join(s.name for s in self.stages)})"
        )

    def countries(self) -> set[str]:
        out = set(self.consumers)
        for s in self.stages:
            out.update(s.countries)
        return out


@dataclass(frozen=True)
class Shock:
    """Per-sample cuts for ONE month. Arrays carry a leading sample axis S (or 1, broadcast).

    ``production_cut[k]`` (S, N_k) removes output at the node (mine outage, quota on production);
    ``export_cut[k]`` (S, N_k) removes the node's cross-border shipments (ban, licensing delay,
    chokepoint); ``route_cut[k]`` (N_k, N_{k+1}) optionally restricts single routes (same for all
    samples); ``demand_change`` (S, C) is a relative change of demand. ``None`` means "no cut" and
    lets the engine skip work (most stages are untouched in a Monte Carlo sweep).
    """

    production_cut: tuple[Array | None, ...]
    export_cut: tuple[Array | None, ...]
    route_cut: tuple[Array | None, ...]
    demand_change: Array


@dataclass(frozen=True)
class FlowShares:
    """Each node's baseline shipments as shares of its output, split into domestic and cross-border."""

    domestic: tuple[Array, ...]
    foreign: tuple[Array, ...]
    base_input: tuple[Array | None, ...]


def flow_shares(network: SupplyNetwork) -> FlowShares:
    domestic, foreign, base_input = [], [], []
    for k, stage in enumerate(network.stages):
        targets = network.stages[k + 1].countries if k + 1 < len(network.stages) else network.consumers
        flow = network.flows[k]
        shipped = flow.sum(axis=1)
        share = np.divide(flow, shipped[:, None], out=np.zeros_like(flow), where=shipped[:, None] > 0)
        same = np.array([[a == b for b in targets] for a in stage.countries], dtype=bool).reshape(flow.shape)
        domestic.append(np.where(same, share, 0.0))
        foreign.append(np.where(same, 0.0, share))
        base_input.append(network.flows[k - 1].sum(axis=0) if k > 0 else None)
    return FlowShares(tuple(domestic), tuple(foreign), tuple(base_input))


@dataclass(frozen=True)
class Propagation:
    """Result of propagating one month's shock: deliveries to consumers and per-stage node availability."""

    delivered: Array  # (S, C) from the last stage (excludes recycling)
    node_output: tuple[Array, ...]  # per stage (S, N_k) or (1, N_k) when untouched
    spare_available: Array  # (S,) spare capacity of the last stage that can still reach the market


def propagate(network: SupplyNetwork, shock: Shock, shares: FlowShares | None = None) -> Propagation:
    """Pass a shock down the chain. Vectorised over samples: no Python loop over scenarios."""
    shares = shares or flow_shares(network)
    outputs: list[Array] = []
    arriving: Array | None = None
    for k, stage in enumerate(network.stages):
        prod_cut = shock.production_cut[k]
        if arriving is None:
            out = stage.output[None, :] if prod_cut is None else stage.output * (1.0 - prod_cut)
        else:
            base_in = shares.base_input[k]
            assert base_in is not None
            # Leontief pass-through: output scales with the fraction of baseline input still arriving.
            ratio = np.divide(arriving, base_in, out=np.ones_like(arriving), where=base_in > 0)
            out = stage.output * ratio
            if prod_cut is not None:
                out = np.minimum(out, stage.capacity * (1.0 - prod_cut))
        outputs.append(out)
        foreign = shares.foreign[k]
        route = shock.route_cut[k]
        if route is not None:
            foreign = foreign * (1.0 - route)
        export_cut = shock.export_cut[k]
        # Exports withheld by a ban stay in the exporting country; they do not reach other consumers.
        shipped_abroad = out if export_cut is None else out * (1.0 - export_cut)
        arriving = out @ shares.domestic[k] + shipped_abroad @ foreign
    assert arriving is not None
    last = network.stages[-1]
    usable = np.ones((1, len(last.countries)))
    if shock.production_cut[-1] is not None:
        usable = usable * (1.0 - shock.production_cut[-1])
    if shock.export_cut[-1] is not None:
        usable = usable * (1.0 - shock.export_cut[-1])
    spare = usable @ last.spare
    return Propagation(delivered=arriving, node_output=tuple(outputs), spare_available=spare)


def no_shock(network: SupplyNetwork, samples: int = 1) -> Shock:
    """A shock that changes nothing (baseline), with ``samples`` rows."""
    return Shock(
        production_cut=tuple(np.zeros((samples, len(s.countries))) for s in network.stages),
        export_cut=tuple(np.zeros((samples, len(s.countries))) for s in network.stages),
        route_cut=tuple(None for _ in network.stages),
        demand_change=np.zeros((samples, len(network.consumers))),
    )
