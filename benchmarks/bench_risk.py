"""Issue 6 target: the whole EU assessment for every material + a 1,000-draw sensitivity in < 5 s.

``end_to_end_seconds`` = reading the canonical tables + the assessment + 1,000 draws + the tornado; the target
is checked on it. ``assessment_plus_sensitivity_seconds`` excludes the store read.

Measured on the bundled data built into a throw-away SQLite store. Baseline, in the same run: the SAME draws'
SR computed the plain way, a Python loop over draws and materials with pandas filtering per (material, stage,
scope) -- what one writes without vectorising. The baseline runs a subset of the draws (it is slow) and is
compared per draw; both must agree to 1e-9 on the draws they share.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.risk.assessment import CompiledAssessment, assessment_table, compile_assessment
from lodeline.risk.eu_method import BASIS_BOTH, BASIS_EU, BASIS_GS, SCOPES
from lodeline.risk.governance import WGI_DIMENSIONS
from lodeline.risk.loader import RiskInputs, load_risk_inputs
from lodeline.risk.sensitivity import draw_parameters, sensitivity_summary, tornado
from lodeline.store.engine import make_engine, upgrade

DRAWS = 1000


def _pandas_loop_sr(
    inputs: RiskInputs, compiled: CompiledAssessment, draws: dict[str, np.ndarray], n: int
) -> np.ndarray:
    """[n, items] stage SR the plain way: loop over draws and items, pandas filtering per group."""
    model, gov = compiled.model, compiled.governance
    assert gov is not None
    shares = inputs.shares.to_pandas()
    by_key = {key: frame for key, frame in shares.groupby(["mineral", "stage", "scope"])}
    wgi = pd.DataFrame(gov.values.T, index=list(gov.countries), columns=list(WGI_DIMENSIONS))
    factors = inputs.trade_factors.to_pandas()
    scope_map = {"global": "global", "eu_sourcing": "eu", "eu": "eu"}
    t_lookup = {
        (str(r.material).casefold(), r.stage, scope_map.get(r.scope, r.scope), r.country): float(r.t_c)
        for r in factors.itertuples()
    }
    items = [(i, inp) for i, inp in enumerate(compiled.inputs) if compiled.reasons[i] is None]
    out = np.full((n, model.n_items), np.nan)
    for d in range(n):
        dims = [WGI_DIMENSIONS[k] for k in range(len(WGI_DIMENSIONS)) if draws["dim_weights"][d, k] > 0]
        t_mult = float(draws["t_multiplier"][d])
        eol_mult = float(draws["eol_multiplier"][d])
        for i, inp in items:
            material, stage, mineral = model.materials[i], model.stages[i], compiled.minerals[i]
            hhi: dict[str, float] = {}
            for s, scope in enumerate(SCOPES):
                look_stage = inp["supply_stage"] if scope == "global" else stage
                sub = by_key.get((mineral, look_stage, scope))
                if sub is None or sub.empty:
                    continue
                years = sorted(sub["year"].unique())
                year = years[int(draws["slot"][d, 2 * i + s])]
                rows = sub[sub["year"] == year]
                w = wgi.loc[rows["country"].to_list(), dims].mean(axis=1).to_numpy()
                t = np.array(
                    [
                        1.0 + (t_lookup.get((material.casefold(), stage, scope, c), 1.0) - 1.0) * t_mult
                        for c in rows["country"]
                    ]
                )
                hhi[scope] = float(np.sum(rows["share"].to_numpy() ** 2 * w * t))
            basis = int(model.basis[i])
            eol = min(max(float(model.eol[i]) * eol_mult, 0.0), 0.99)
            if basis == BASIS_GS:
                weighted = hhi["global"]
            elif basis == BASIS_EU:
                weighted = hhi["eu"]
            elif "eu" not in hhi:
                weighted = hhi["global"]
            else:
                ir = float(model.ir[i])
                weighted = hhi["global"] * ir / 2 + hhi["eu"] * (1 - ir / 2)
            assert basis in (BASIS_GS, BASIS_EU, BASIS_BOTH)
            out[d, i] = weighted * (1 - eol) * float(model.si[i])
    return out


def run(quick: bool = False) -> dict[str, Any]:
    baseline_draws = 20 if quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        t0 = time.perf_counter()
        inputs = load_risk_inputs(engine)
        load_seconds = time.perf_counter() - t0
        engine.dispose()

    t0 = time.perf_counter()
    compiled = compile_assessment(
        inputs.params,
        inputs.shares,
        inputs.trade_factors,
        inputs.governance,
        extra_provenance=inputs.provenance,
    )
    table = assessment_table(compiled)
    summary = sensitivity_summary(compiled.model, DRAWS, seed=0)
    bars = tornado(compiled.model)
    assessment_seconds = time.perf_counter() - t0

    draws = draw_parameters(compiled.model, DRAWS, seed=0)
    t0 = time.perf_counter()
    vectorised = compiled.model.evaluate(**draws)
    kernel_seconds = time.perf_counter() - t0

    t0 = time.perf_counter()
    baseline = _pandas_loop_sr(inputs, compiled, draws, baseline_draws)
    baseline_seconds = time.perf_counter() - t0
    both = ~np.isnan(baseline)
    max_diff = float(np.max(np.abs(baseline[both] - vectorised[:baseline_draws][both])))
    if max_diff > 1e-9:
        raise AssertionError(f"baseline and vectorised SR disagree by {max_diff}")
    same_nan = bool(np.array_equal(np.isnan(baseline), np.isnan(vectorised[:baseline_draws])))

    per_draw_vectorised = kernel_seconds / DRAWS
    per_draw_baseline = baseline_seconds / baseline_draws
    return {
        "materials": table.height,
        "materials_assessed": int(table["sr"].is_not_null().sum()),
        "stage_items": compiled.model.n_items,
        "supplier_pairs": int(compiled.model.pair_group.size),
        "draws": DRAWS,
        "load_seconds": round(load_seconds, 3),
        "assessment_plus_sensitivity_seconds": round(assessment_seconds, 3),
        "end_to_end_seconds": round(load_seconds + assessment_seconds, 3),
        "target_seconds": 5.0,
        "meets_target": load_seconds + assessment_seconds < 5.0,
        "kernel_seconds_1000_draws": round(kernel_seconds, 4),
        "baseline": "Python loop over draws x (material, stage), pandas filter per (mineral, stage, scope)",
        "baseline_draws_measured": baseline_draws,
        "baseline_seconds": round(baseline_seconds, 3),
        "baseline_seconds_per_draw": round(per_draw_baseline, 5),
        "vectorised_seconds_per_draw": round(per_draw_vectorised, 7),
        "baseline_seconds_extrapolated_1000_draws": round(per_draw_baseline * DRAWS, 1),
        "ratio_baseline_over_vectorised": round(per_draw_baseline / per_draw_vectorised, 1),
        "max_abs_difference": max_diff,
        "same_missing_pattern": same_nan,
        "summary_rows": summary.height,
        "tornado_rows": bars.height,
    }
