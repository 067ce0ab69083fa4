"""The Monte Carlo speed benchmark: vectorised sweep vs. one HiGHS LP per sampled scenario (same run)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from lodeline.sim.montecarlo import DEFAULT_CHUNK, ChunkTask, baseline_per_scenario_lp, run_montecarlo


def run_benchmark(task: ChunkTask, samples: int, subsample: int, seed: int = 2026) -> dict[str, Any]:
    """Time ``samples`` vectorised samples, then ``subsample`` of the same samples one LP at a time.

    The baseline re-solves exactly the first ``subsample`` samples, so ``max_abs_diff_t`` shows the two
    give equal shortfalls; its per-scenario time is extrapolated to ``samples``.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    result = run_montecarlo(task, samples, seed)
    seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    t1 = time.perf_counter()
    baseline = baseline_per_scenario_lp(task, seed, samples, subsample)
    baseline_seconds = time.perf_counter() - t1
    n = baseline.unmet.shape[0]
    per_scenario = baseline_seconds / n
    diff = float(np.abs(baseline.unmet - result.unmet[:n]).max())
    lp_solves = n * task.horizon
    return {
        "mineral": task.network.mineral,
        "network_nodes": {s.name: len(s.countries) for s in task.network.stages}
        | {"consumers": len(task.network.consumers)},
        "months": task.horizon,
        "samples": samples,
        "chunk_size": min(samples, DEFAULT_CHUNK),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu_seconds, 3),
        "scenarios_per_second": round(samples / seconds, 1),
        "baseline": "one scipy linprog(method='highs') allocation LP per sampled scenario and month",
        "baseline_subsample": n,
        "baseline_lp_solves": lp_solves,
        "baseline_seconds_subsample": round(baseline_seconds, 3),
        "baseline_seconds_per_scenario": per_scenario,
        "baseline_extrapolated_seconds": round(per_scenario * samples, 1),
        "ratio": round(per_scenario * samples / seconds, 1),
        "max_abs_diff_t": diff,
        "equal_results": diff <= 1e-6 * max(1.0, float(np.abs(result.unmet[:n]).max())),
    }
