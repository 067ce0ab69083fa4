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
    """Per-sample cuts for ONE month. Arrays carry a leading sample axis S.

    ``production_cut[k]`` (S, N_k) removes output at the node (mine outage, quota on production);
    ``export_cut[k]`` (S, N_k) removes the node's cross-border shipments (ban, licensing delay,
    chokepoint); ``route_cut[k]`` (N_k, N_{k+1}) optionally restricts single routes (same for all
    samples); ``demand_change`` (S, C) is a relative change of demand.
    """

    production_cut: tuple[Array, ...]
    export_cut: tuple[Array, ...]
    route_cut: tuple[Array | None, ...]
    demand_change: Array


def _split_domestic(flow: Array, sources: tuple[str, ...], targets: tuple[str, ...]) -> tuple[Array, Array]:
    same = np.array([[a == b for b in targets] for a in sources], dtype=bool).reshape(flow.shape)
    return np.where(same, flow, 0.0), np.where(same, 0.0, flow)


@dataclass(frozen=True)
class Propagation:
    """Result of propagating one month's shock: deliveries to consumers and per-stage node availability."""

    delivered: Array  # (S, C) from the last stage (excludes recycling)
    node_output: tuple[Array, ...]  # per stage (S, N_k)
    spare_available: Array  # (S,) spare capacity of the last stage that can still reach the market


def propagate(network: SupplyNetwork, shock: Shock) -> Propagation:
    """Pass a shock down the chain. Vectorised over samples: no Python loop over scenarios."""
    consumer_names = network.consumers
    outputs: list[Array] = []
    arriving: Array | None = None
    for k, stage in enumerate(network.stages):
        capacity = stage.capacity * (1.0 - shock.production_cut[k])
        if arriving is None:
            out = np.minimum(stage.output * (1.0 - shock.production_cut[k]), capacity)
        else:
            base_in = network.flows[k - 1].sum(axis=0)
            # Leontief pass-through: output scales with the fraction of baseline input still arriving.
            ratio = np.divide(arriving, base_in, out=np.ones_like(arriving), where=base_in > 0)
            out = np.minimum(stage.output * ratio, capacity)
        outputs.append(out)
        targets = network.stages[k + 1].countries if k + 1 < len(network.stages) else consumer_names
        flow = network.flows[k]
        shipped = flow.sum(axis=1)
        share = np.divide(flow, shipped[:, None], out=np.zeros_like(flow), where=shipped[:, None] > 0)
        domestic, foreign = _split_domestic(share, stage.countries, targets)
        route = shock.route_cut[k]
        if route is not None:
            foreign = foreign * (1.0 - route)
        # Exports withheld by a ban stay in the exporting country; they do not reach other consumers.
        arriving = out @ domestic + (out * (1.0 - shock.export_cut[k])) @ foreign
    assert arriving is not None
    last = network.stages[-1]
    usable = (1.0 - shock.production_cut[-1]) * (1.0 - shock.export_cut[-1])
    spare = (last.spare * usable).sum(axis=1)
    return Propagation(delivered=arriving, node_output=tuple(outputs), spare_available=spare)


def no_shock(network: SupplyNetwork, samples: int = 1) -> Shock:
    """A shock that changes nothing (baseline), with ``samples`` rows."""
    return Shock(
        production_cut=tuple(np.zeros((samples, len(s.countries))) for s in network.stages),
        export_cut=tuple(np.zeros((samples, len(s.countries))) for s in network.stages),
        route_cut=tuple(None for _ in network.stages),
        demand_change=np.zeros((samples, len(network.consumers))),
    )
