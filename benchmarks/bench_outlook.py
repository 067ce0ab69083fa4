"""Issue 15 target: the 2030 outlook for every mineral and stage with 10,000 draws in under 5 s.

Inputs are read once from the bundled data built into a throw-away SQLite store (not timed): the base year, the
IEA demand growth and the register's pipeline for each of the 12 mineral × stage outlooks. Timed:

* ``service_seconds``: ``services.outlook.outlook`` for all 12, end to end (store reads, register, Monte Carlo,
  the per-project swing) -- the figure the target is checked on;
* ``engine_seconds``: ``run_outlook`` alone on the same inputs;
* ``scale_*``: the bundled pipeline has almost no stated capacity (the outlook counts 0-1 projects per mineral),
  so the same 12 baselines are also run with 40 synthetic projects each (generated here with a seeded generator:
  member and non-member countries, capacities 0.5-8 % of base-year output, starts 2025-2032, every study stage).

Baseline, in the same run: the same draws' dependency computed the plain way, a Python loop over draws and
projects (and years), for the synthetic scale case; it must equal the vectorised ``evaluate`` to 1e-12 on every
draw it computes. It runs ``BASELINE_DRAWS`` of the draws per outlook (it is slow) unless --quick.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.outlook.engine import Baseline, Draws, PipelineProject, Prepared, evaluate, prepare, sample
from lodeline.outlook.parameters import STUDY_STAGES, bundled_parameters
from lodeline.outlook.summary import Line, run_outlook
from lodeline.services import outlook as svc
from lodeline.store.engine import make_engine, upgrade

DRAWS = 10_000
BASELINE_DRAWS = 2_000
SYNTHETIC_PROJECTS = 40
LINES = [Line("below 60%", 0.6), Line("below 50%", 0.5)]


def loop_dependency(prepared: Prepared, draws: Draws, n: int) -> np.ndarray:
    """[n, T] dependency the plain way: per draw, per project, per year."""
    years = [int(y) for y in prepared.years]
    growth = [float(g) for g in prepared.growth]
    shares = [float(s) for s in prepared.shares]
    outside = [bool(o) for o in prepared.outside]
    ramp = [float(r) for r in prepared.ramp]
    out = np.zeros((n, len(years)))
    for d in range(n):
        by_country = [[0.0] * len(years) for _ in shares]
        for j in range(prepared.capacity.size):
            mean = float(prepared.delay_mean[j])
            delay = float(draws.gamma[d, j]) * (mean / draws.shape)
            if float(draws.uniform[d, j]) < float(prepared.failure[j]):
                continue
            start = math.floor(float(prepared.start[j]) + delay)
            c = int(prepared.country_index[j])
            for t, year in enumerate(years):
                k = year - start
                if k >= 0:
                    by_country[c][t] += ramp[min(k, len(ramp) - 1)] * float(prepared.capacity[j])
        for t in range(len(years)):
            pipeline = sum(by_country[c][t] for c in range(len(shares)))
            residual = max(growth[t] - pipeline, 0.0)
            total = residual + pipeline
            top = max(
                (shares[c] * residual + by_country[c][t] for c in range(len(shares)) if outside[c]),
                default=0.0,
            )
            out[d, t] = top / total if total > 0 else 0.0
    return out


def _synthetic(baseline: Baseline, rng: np.random.Generator) -> list[PipelineProject]:
    world = baseline.world or 1.0
    countries = [
        ("USA", False),
        ("AUS", False),
        ("CAN", False),
        ("JPN", False),
        ("FRA", False),
        ("BRA", True),
    ]
    stages = [s for s in STUDY_STAGES if s != "operating"]
    out = []
    for j in range(SYNTHETIC_PROJECTS):
        country, outside = countries[int(rng.integers(len(countries)))]
        out.append(
            PipelineProject(
                project_id=f"synthetic-{j}",
                name=f"synthetic {j}",
                country=country,
                outside=outside,
                capacity=float(rng.uniform(0.005, 0.08)) * world,
                start=int(rng.integers(2025, 2033)),
                study_stage=stages[int(rng.integers(len(stages)))],
            )
        )
    return out


def run(quick: bool = False) -> dict[str, Any]:
    draws = 1_000 if quick else DRAWS
    baseline_draws = 200 if quick else BASELINE_DRAWS
    params = bundled_parameters()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        combos = svc.minerals_and_stages()
        # inputs once (not timed), as the service builds them
        inputs = []
        for mineral, stage in combos:
            from lodeline.domain.groups import resolve_alliance
            from lodeline.services.projects import load_projects

            members = resolve_alliance("G7+").members
            baseline, _ = svc._baseline(engine, mineral, stage, members)
            growth = svc.demand_growth(mineral, baseline.base_year, svc.HORIZON, svc.DEFAULT_SCENARIO)
            items = svc.pipeline(load_projects(engine), mineral, stage, members, baseline.unit)
            inputs.append((mineral, stage, baseline, growth, items))
        start = time.perf_counter()
        service = [svc.outlook(engine, m, s, draws=draws, seed=1) for m, s in combos]
        service_seconds = time.perf_counter() - start
        start = time.perf_counter()
        for _, _, baseline, growth, items in inputs:
            run_outlook(baseline, items, growth, params, target_year=2030, lines=LINES, draws=draws, seed=1)
        engine_seconds = time.perf_counter() - start
        engine.dispose()
    rng = np.random.default_rng(15)
    scale = [(m, s, b, g, _synthetic(b, rng)) for m, s, b, g, _ in inputs]
    start = time.perf_counter()
    scale_results = [
        run_outlook(b, items, g, params, target_year=2030, lines=LINES, draws=draws, seed=2)
        for _, _, b, g, items in scale
    ]
    scale_seconds = time.perf_counter() - start
    vector_seconds = loop_seconds = 0.0
    max_diff = 0.0
    for _, _, b, g, items in scale:
        prepared = prepare(b, items, g, params)
        numbers = sample(prepared, draws, 2, params.gamma_shape)
        t0 = time.perf_counter()
        dep = evaluate(prepared, numbers)
        vector_seconds += time.perf_counter() - t0
        t0 = time.perf_counter()
        plain = loop_dependency(prepared, numbers, baseline_draws)
        loop_seconds += time.perf_counter() - t0
        max_diff = max(max_diff, float(np.abs(plain - dep[:baseline_draws]).max()))
    if max_diff > 1e-12:
        raise AssertionError(f"loop baseline differs from the vectorised evaluation by {max_diff}")
    per_draw_loop = loop_seconds / baseline_draws
    per_draw_vector = vector_seconds / draws
    return {
        "outlooks": len(combos),
        "draws": draws,
        "target_seconds": 5.0,
        "service_seconds": round(service_seconds, 3),
        "meets_target": service_seconds < 5.0,
        "engine_seconds": round(engine_seconds, 3),
        "counted_projects_bundled": {
            f"{r.summary['mineral']}/{r.summary['stage']}": r.summary["pipeline"]["counted"] for r in service
        },
        "scale_projects_per_outlook": SYNTHETIC_PROJECTS,
        "scale_run_outlook_seconds": round(scale_seconds, 3),
        "scale_p_below_60": {
            f"{m}/{s}": r.probabilities["below 60%"]
            for (m, s, *_), r in zip(scale, scale_results, strict=True)
        },
        "scale_evaluate_seconds": round(vector_seconds, 3),
        "baseline_loop_draws": baseline_draws,
        "baseline_loop_seconds": round(loop_seconds, 3),
        "baseline_loop_seconds_extrapolated_to_all_draws": round(per_draw_loop * draws, 1),
        "speedup_evaluate_vs_loop": round(per_draw_loop / per_draw_vector, 1) if per_draw_vector else None,
        "max_abs_difference": max_diff,
    }
