"""Monte Carlo stress testing: correlated disruptions (Gaussian copula), vectorised over samples.

Each sample draws, for every producer node of the chosen stage, whether it is disrupted within the
horizon. Marginal probabilities come from governance (WGI political stability) or explicit overrides;
dependence comes from a one-factor Gaussian copula with equicorrelation ρ:

    Z_i = √ρ · M + √(1 − ρ) · E_i,   M, E_i ~ N(0, 1) independent,   disrupted_i ⇔ Φ(Z_i) < p_i

so every pair of latent variables has correlation ρ and each marginal stays exactly p_i. A disrupted
node loses ``cut`` of its exports (or output) for ``duration_months`` from a uniformly drawn start
month. The scenario's own deterministic disruptions apply in every sample on top.

Samples are processed in fixed-size chunks, each with its own child of ``SeedSequence(seed)``: the
result depends only on (seed, samples, chunk size), never on where a chunk runs (in-process or on a
Dask cluster).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from scipy.special import ndtr

from lodeline.errors import InvalidArgumentError
from lodeline.sim.compile import compile_policy, scenario_shocks
from lodeline.sim.engine import LPAllocator, Policy, Totals, simulate
from lodeline.sim.network import Array, Index, Mask, Shock, SupplyNetwork
from lodeline.sim.scenario import MonteCarloSpec, Scenario, ScenarioError

DEFAULT_CHUNK = 2_500
#: The most samples one run draws. The result keeps every sample's shortfall per member (about 0.5 KB a sample
#: on the shipped scenarios, and about 50 µs of work in-process), so this bounds a run at a few GB and minutes.
MAX_SAMPLES = 10_000_000


def disruption_probabilities(
    countries: Sequence[str], spec: MonteCarloSpec, stability_pct: dict[str, float]
) -> tuple[Array, list[str]]:
    """p_i = p_min + (p_max − p_min) · (1 − PV_i/100); explicit overrides win; missing WGI → midpoint."""
    probs = np.empty(len(countries))
    notes: list[str] = []
    missing = []
    for i, c in enumerate(countries):
        if c in spec.probabilities:
            probs[i] = spec.probabilities[c]
        elif c in stability_pct:
            probs[i] = spec.p_min + (spec.p_max - spec.p_min) * (1.0 - stability_pct[c] / 100.0)
        else:
            probs[i] = 0.5 * (spec.p_min + spec.p_max)
            missing.append(c)
    if missing:
        notes.append(f"no WGI political stability for {', '.join(missing)}: probability set to the midpoint")
    return probs, notes


def sample_events(
    rng: np.random.Generator, probs: Array, correlation: float, n: int, horizon: int
) -> tuple[Array, Index]:
    """(disrupted (n, N) bool as float, start month (n, N) int) from the one-factor Gaussian copula."""
    common = rng.standard_normal((n, 1))
    own = rng.standard_normal((n, len(probs)))
    latent = np.sqrt(correlation) * common + np.sqrt(1.0 - correlation) * own
    disrupted = (ndtr(latent) < probs).astype(float)
    start = rng.integers(0, horizon, size=(n, len(probs)))
    return disrupted, start


@dataclass(frozen=True)
class ChunkTask:
    network: SupplyNetwork
    members: Mask
    policy: Policy
    spec: MonteCarloSpec
    stage_index: int
    probs: Array
    base_shocks: tuple[Shock, ...]  # the scenario's deterministic shock per month (1 sample)
    horizon: int


def _nonzero(cut: Array | None) -> Array | None:
    """Drop an all-zero cut so the engine can skip the stage (keeps 100,000-sample sweeps fast)."""
    return None if cut is None or not cut.any() else cut


def chunk_shock_fn(task: ChunkTask, disrupted: Array, start: Index) -> Callable[[int], Shock]:
    """The per-month shock of a block of samples: deterministic base combined with sampled events."""
    spec, k = task.spec, task.stage_index

    def shock_at(t: int) -> Shock:
        base = task.base_shocks[t]
        active = (start <= t) & (t < start + spec.duration_months)
        cut = spec.cut * disrupted * active
        prod = [_nonzero(p) for p in base.production_cut]
        export = [_nonzero(e) for e in base.export_cut]
        target = prod if spec.kind == "production" else export
        fixed = target[k]
        target[k] = cut if fixed is None else 1.0 - (1.0 - fixed) * (1.0 - cut)
        return Shock(tuple(prod), tuple(export), base.route_cut, base.demand_change)

    return shock_at


def run_chunk(task: ChunkTask, seed: np.random.SeedSequence, n: int) -> tuple[Array, Array]:
    """One chunk: (unmet totals (n, C), demand totals (n, C)). Top-level so Dask can pickle it."""
    rng = np.random.default_rng(seed)
    disrupted, start = sample_events(rng, task.probs, task.spec.correlation, n, task.horizon)
    totals = simulate(
        task.network, chunk_shock_fn(task, disrupted, start), task.horizon, n, task.members, task.policy
    )
    return totals.unmet, totals.demand


def make_task(
    network: SupplyNetwork, scenario: Scenario, stability_pct: dict[str, float], where: str = "<scenario>"
) -> tuple[ChunkTask, list[str]]:
    spec = scenario.montecarlo
    stage_of = {s.name: k for k, s in enumerate(network.stages)}
    if spec.stage not in stage_of:
        raise ScenarioError(
            where, "montecarlo.stage", f"the {network.mineral} network has no {spec.stage} stage"
        )
    k = stage_of[spec.stage]
    for country in spec.probabilities:
        if country not in network.stages[k].countries:
            raise ScenarioError(
                where,
                "montecarlo.probabilities",
                f"{country} has no {spec.stage} node in the {network.mineral} network",
            )
    probs, notes = disruption_probabilities(network.stages[k].countries, spec, stability_pct)
    members, policy = compile_policy(network, scenario, where)
    shock_at = scenario_shocks(network, scenario, where)
    base = tuple(shock_at(t) for t in range(scenario.horizon_months))
    return ChunkTask(network, members, policy, spec, k, probs, base, scenario.horizon_months), notes


class Executor(Protocol):
    """What a Dask ``Client`` offers that we use (kept structural so sim never needs dask to import)."""

    def map(self, func: Callable[..., Any], *iterables: Any, **kwargs: Any) -> list[Any]: ...

    def gather(self, futures: Any) -> Any: ...


@dataclass(frozen=True)
class MonteCarloResult:
    samples: int
    seed: int
    chunk_size: int
    consumers: tuple[str, ...]
    members: Mask
    unmet: Array  # (samples, C) tonnes over the horizon
    demand: Array  # (samples, C)
    target_pct: float
    notes: tuple[str, ...]

    def summary(self) -> list[dict[str, Any]]:
        """Per consumer: mean, VaR95 and CVaR95 of shortfall (t and % of demand), P(shortfall % > target)."""
        pct = 100.0 * np.divide(self.unmet, self.demand, out=np.zeros_like(self.unmet), where=self.demand > 0)
        rows = []
        for j, c in enumerate(self.consumers):
            t = self.unmet[:, j]
            var = float(np.quantile(t, 0.95))
            tail = t[t >= var]
            p = pct[:, j]
            var_p = float(np.quantile(p, 0.95))
            rows.append(
                {
                    "country": c,
                    "member": bool(self.members[j]),
                    "mean_shortfall_t": float(t.mean()),
                    "var95_shortfall_t": var,
                    "cvar95_shortfall_t": float(tail.mean()) if tail.size else var,
                    "mean_shortfall_pct": float(p.mean()),
                    "var95_shortfall_pct": var_p,
                    "cvar95_shortfall_pct": float(p[p >= var_p].mean()),
                    "p_target_breached": float((p > self.target_pct).mean()),
                }
            )
        return rows


def chunk_plan(samples: int, chunk_size: int, seed: int) -> list[tuple[np.random.SeedSequence, int]]:
    if not 1 <= samples <= MAX_SAMPLES:
        raise InvalidArgumentError(f"samples must be between 1 and {MAX_SAMPLES:,} (got {samples:,})")
    if chunk_size < 1:
        raise InvalidArgumentError("chunk size must be at least 1")
    if seed < 0:
        raise InvalidArgumentError(f"the seed must be 0 or more (got {seed})")
    sizes = [chunk_size] * (samples // chunk_size) + ([samples % chunk_size] if samples % chunk_size else [])
    seeds = np.random.SeedSequence(seed).spawn(len(sizes))
    return list(zip(seeds, sizes, strict=True))


def run_montecarlo(
    task: ChunkTask,
    samples: int,
    seed: int,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    notes: Sequence[str] = (),
) -> MonteCarloResult:
    """Run ``samples`` samples in chunks, in-process or on ``executor`` (a Dask client); same seed, same result."""
    plan = chunk_plan(samples, chunk_size, seed)
    if executor is None:
        parts = []
        for i, (s, n) in enumerate(plan):
            parts.append(run_chunk(task, s, n))
            if progress:
                progress(i + 1, len(plan))
    else:
        futures = executor.map(
            run_chunk, [task] * len(plan), [s for s, _ in plan], [n for _, n in plan], pure=False
        )
        parts = list(executor.gather(futures))
        if progress:
            progress(len(plan), len(plan))
    unmet = np.concatenate([p[0] for p in parts])
    demand = np.concatenate([p[1] for p in parts])
    return MonteCarloResult(
        samples,
        seed,
        chunk_size,
        task.network.consumers,
        task.members,
        unmet,
        demand,
        task.spec.target_shortfall_pct,
        tuple(notes),
    )


def baseline_per_scenario_lp(
    task: ChunkTask,
    seed: int,
    samples: int,
    n: int,
    chunk_size: int = DEFAULT_CHUNK,
    lp_allocator: LPAllocator | None = None,
) -> Totals:
    """Re-run the first ``n`` samples of a ``samples``-sample run one by one, one HiGHS LP per sample-month
    (``lp_allocator``: how each LP is solved; default a fresh ``scipy.optimize.linprog`` problem each time).

    Chunk 0 is redrawn with its full size so the random stream (and so each sample) is identical.
    """
    first_seed, first_size = chunk_plan(samples, chunk_size, seed)[0]
    n = min(n, first_size)
    rng = np.random.default_rng(first_seed)
    disrupted, start = sample_events(rng, task.probs, task.spec.correlation, first_size, task.horizon)
    unmet, demand, draw = [], [], []
    for i in range(n):
        fn = chunk_shock_fn(task, disrupted[i : i + 1], start[i : i + 1])
        t = simulate(
            task.network,
            fn,
            task.horizon,
            1,
            task.members,
            task.policy,
            per_sample_lp=True,
            lp_allocator=lp_allocator,
        )
        unmet.append(t.unmet)
        demand.append(t.demand)
        draw.append(t.stock_draw)
    return Totals(np.concatenate(demand), np.concatenate(unmet), np.concatenate(draw), np.ones(n))
