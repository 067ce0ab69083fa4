"""The stress-test benchmark at a small size on the worked example: Lodeline, the naive per-scenario LP and the
highspy re-solve reach the same optimum, both ratios are reported, and a different optimum fails the benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from benchmarks.bench_sim import BaselineMismatch, check_same_optimum, run_benchmark
from benchmarks.sim_peers import GreedyPerSample, HighsReSolve

from lodeline.cli.inputs import read_yaml
from lodeline.sim.compile import network_from_spec
from lodeline.sim.montecarlo import ChunkTask, baseline_per_scenario_lp, make_task
from lodeline.sim.scenario import parse_scenario

WORKED = Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml"


def _task() -> ChunkTask:
    scenario = parse_scenario(read_yaml(WORKED, "scenario"), str(WORKED))
    assert scenario.network is not None
    network = network_from_spec(scenario.network, scenario.mineral, scenario.alliance_members(), str(WORKED))
    task, _ = make_task(network, scenario, {}, str(WORKED))
    return task


def test_benchmark_reports_both_ratios_on_equal_results() -> None:
    task = _task()
    result = run_benchmark(task, samples=2000, subsample=5)
    assert result["samples"] == 2000 and result["baseline_subsample"] == 5
    assert result["baseline_lp_solves"] == 5 * task.horizon
    assert result["equal_results"] is True
    for name in ("naive", "highs"):
        assert result[f"ratio_{name}"] > 0 and result[f"baseline_{name}_seconds_per_scenario"] > 0
        assert max(result["max_abs_diff"][name].values()) <= 1e-6


def test_a_different_optimum_fails_the_check() -> None:
    """The same five scenarios solved by the closed form and by the HiGHS model, then one month's objective of the
    HiGHS recording moved by 0.01 (well above the 1e-6 tolerance): the check raises instead of reporting a ratio."""
    task = _task()
    reference, highs = GreedyPerSample(), HighsReSolve()
    baseline_per_scenario_lp(task, 2026, 2000, 5, lp_allocator=reference)
    baseline_per_scenario_lp(task, 2026, 2000, 5, lp_allocator=highs)
    assert check_same_optimum(reference.record, highs.record, "highs")["objective"] <= 1e-6
    highs.record.objective[3] += 0.01
    with pytest.raises(BaselineMismatch, match="highs objective"):
        check_same_optimum(reference.record, highs.record, "highs")
    highs.record.objective[3] -= 0.01
    highs.record.stock_draw[0] = np.asarray(highs.record.stock_draw[0]) + 1.0
    with pytest.raises(BaselineMismatch, match="highs stock draw"):
        check_same_optimum(reference.record, highs.record, "highs")
