"""Benchmark: 100,000 Monte Carlo scenarios over the rare-earths network (the largest bundled one, three
producing stages) with shortfall allocation, in-process, against two per-scenario LP baselines.

* naive: a fresh ``scipy.optimize.linprog(method="highs")`` problem per sampled scenario and month, its matrices
  built in Python each time (Lodeline's ``solve_lp``);
* HiGHS re-solve: what an operations-research user would write: one ``highspy`` model built once, its bounds and
  right-hand sides changed per scenario and month, re-solved warm (:class:`benchmarks.sim_peers.HighsReSolve`).

Both re-solve exactly the first ``subsample`` scenarios of the vectorised run; their time per scenario is
extrapolated to ``samples``. Before any ratio is reported, the benchmark checks that Lodeline's closed-form
allocation, the naive LP and the HiGHS model reach the same optimum in every scenario-month (objective and the
allocation: tonnes received and drawn from stock per member) and the same shortfall per consumer over the horizon;
a mismatch raises and fails the benchmark.

The store is built from the bundled data into a temporary SQLite file first (not timed).
"""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.sim_peers import GreedyPerSample, HighsReSolve, Recording, ScipyPerSolve
from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.sim.montecarlo import (
    DEFAULT_CHUNK,
    ChunkTask,
    baseline_per_scenario_lp,
    make_task,
    run_montecarlo,
)
from lodeline.sim.scenario import library_scenarios, scenario_from_text
from lodeline.sim.store import load_network, political_stability
from lodeline.store.engine import make_engine, upgrade

SCENARIO = "cn-rare-earths-magnets-2025"
#: Tolerance of the equality checks, relative to max(1, the largest value compared) (LP solvers stop at ~1e-7).
TOLERANCE = 1e-6


class BaselineMismatch(RuntimeError):
    """A baseline reached a different optimum than Lodeline: its ratio would compare different work."""


def _close(a: np.ndarray, b: np.ndarray, what: str) -> float:
    if a.shape != b.shape:
        raise BaselineMismatch(f"{what}: shapes differ ({a.shape} vs {b.shape})")
    diff = float(np.abs(a - b).max()) if a.size else 0.0
    scale = max(1.0, float(np.abs(b).max()) if b.size else 0.0)
    if not diff <= TOLERANCE * scale:
        raise BaselineMismatch(f"{what}: largest difference {diff:.3g} > {TOLERANCE:g} × {scale:.3g}")
    return diff


def check_same_optimum(reference: Recording, other: Recording, name: str) -> dict[str, float]:
    """Objective, tonnes received and tonnes drawn per member, every scenario-month: ``other`` vs ``reference``."""
    ref_received, ref_draw, ref_obj = reference.arrays()
    received, draw, obj = other.arrays()
    if ref_obj.size == 0:
        raise BaselineMismatch("no allocation LP was solved (the scenario's release rule is not 'optimised')")
    return {
        "objective": _close(obj, ref_obj, f"{name} objective"),
        "received_t": _close(received, ref_received, f"{name} tonnes received"),
        "stock_draw_t": _close(draw, ref_draw, f"{name} stock draw"),
    }


def run_benchmark(task: ChunkTask, samples: int, subsample: int, seed: int = 2026) -> dict[str, Any]:
    """Time ``samples`` vectorised samples, then ``subsample`` of the same samples with each LP baseline."""
    load_before = os.getloadavg()[0]
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_montecarlo(task, samples, seed)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0

    # The reference allocation for the same scenario-months: Lodeline's closed form one sample at a time. Its time is
    # the per-scenario loop without any LP (the engine's monthly steps for one sample), the floor of both baselines.
    reference = GreedyPerSample()
    t1 = time.perf_counter()
    ref_totals = baseline_per_scenario_lp(task, seed, samples, subsample, lp_allocator=reference)
    loop_seconds = time.perf_counter() - t1
    n = ref_totals.unmet.shape[0]

    timings: dict[str, float] = {}
    checks: dict[str, dict[str, float]] = {}
    for name, solver in (("naive", ScipyPerSolve()), ("highs", HighsReSolve())):
        t1 = time.perf_counter()
        totals = baseline_per_scenario_lp(task, seed, samples, subsample, lp_allocator=solver)
        timings[name] = time.perf_counter() - t1
        checks[name] = check_same_optimum(reference.record, solver.record, name)
        checks[name]["unmet_t"] = _close(totals.unmet, result.unmet[:n], f"{name} shortfall per consumer")
        checks[name]["stock_draw_total_t"] = _close(
            totals.stock_draw, ref_totals.stock_draw, f"{name} stock draw per consumer"
        )
    _close(ref_totals.unmet, result.unmet[:n], "per-sample greedy vs vectorised shortfall")

    lp_solves = len(reference.record.objective)
    out: dict[str, Any] = {
        "mineral": task.network.mineral,
        "network_nodes": {s.name: len(s.countries) for s in task.network.stages}
        | {"consumers": len(task.network.consumers)},
        "months": task.horizon,
        "samples": samples,
        "chunk_size": min(samples, DEFAULT_CHUNK),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "scenarios_per_second": round(samples / seconds, 1),
        "baseline_subsample": n,
        "baseline_lp_solves": lp_solves,
        "highspy_version": version("highspy"),
        "equal_results": True,  # check_same_optimum and _close raise otherwise
        "max_abs_diff": checks,
        "tolerance": f"{TOLERANCE:g} x max(1, largest value)",
        "per_scenario_loop_without_lp_seconds": loop_seconds / n,
    }
    descriptions = {
        "naive": "a fresh scipy linprog(method='highs') allocation LP per sampled scenario and month",
        "highs": "one highspy model built once, bounds and right-hand sides changed and re-solved warm "
        "per sampled scenario and month",
    }
    for name, spent in timings.items():
        per_scenario = spent / n
        out[f"baseline_{name}"] = descriptions[name]
        out[f"baseline_{name}_seconds_subsample"] = round(spent, 3)
        out[f"baseline_{name}_seconds_per_scenario"] = per_scenario
        out[f"baseline_{name}_extrapolated_seconds"] = round(per_scenario * samples, 1)
        out[f"ratio_{name}"] = round(per_scenario * samples / seconds, 1)
    out["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def run(quick: bool = False) -> dict[str, Any]:
    samples, subsample = (5_000, 10) if quick else (100_000, 50)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        scenario = scenario_from_text(library_scenarios()[SCENARIO], SCENARIO)
        network = load_network(engine, scenario.mineral, scenario.alliance_members())
        task, _ = make_task(network, scenario, political_stability(engine), SCENARIO)
        engine.dispose()
    out = run_benchmark(task, samples, subsample)
    out["scenario"] = SCENARIO
    out["machine"] = (
        f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    )
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
