"""Monte Carlo sensitivity of the EU supply risk and a one-at-a-time tornado per material.

Each draw varies, independently and all at once (vectorised; no Python loop over draws or materials):

- the supply-share year: every (material, stage, scope) uses one of its available years instead of the mean;
- the WGI dimensions: a random non-empty subset of the six (each kept with probability 1/2) is averaged;
- t_c: each listed factor's distance from 1 is scaled by U(0.5, 1.5) (one multiplier per draw);
- EoL-RIR: scaled by U(0.5, 1.5) per draw, clipped to [0, 0.99].

The tornado varies one factor at a time between its low and high setting with the others at base.
"""

from __future__ import annotations

import warnings

import numpy as np
import polars as pl

from lodeline.risk import EI_THRESHOLD, INSUFFICIENT, SR_THRESHOLD
from lodeline.risk.eu_method import SupplyRiskModel
from lodeline.risk.governance import WGI_DIMENSIONS

MULTIPLIER_RANGE = (0.5, 1.5)
FACTORS = ("share year", "WGI dimensions", "t_c", "EoL-RIR")


def draw_parameters(model: SupplyRiskModel, draws: int, seed: int = 0) -> dict[str, np.ndarray]:
    """The random inputs of ``draws`` draws, as arrays ready for :meth:`SupplyRiskModel.evaluate`."""
    rng = np.random.default_rng(seed)
    groups = model.n_slots.size
    slot = np.floor(rng.random((draws, groups)) * np.maximum(model.n_slots, 1)[None, :]).astype(np.int64)
    dims = (rng.random((draws, len(WGI_DIMENSIONS))) < 0.5).astype(float)
    dims[dims.sum(axis=1) == 0] = 1.0
    low, high = MULTIPLIER_RANGE
    return {
        "slot": slot,
        "dim_weights": dims,
        "t_multiplier": rng.uniform(low, high, draws),
        "eol_multiplier": rng.uniform(low, high, draws),
    }


def sensitivity_draws(
    model: SupplyRiskModel, draws: int = 1000, seed: int = 0
) -> tuple[list[str], np.ndarray]:
    """Materials and their [draws, materials] SR (at each material's reported stage) under random inputs."""
    stage_sr = model.evaluate(**draw_parameters(model, draws, seed))
    return model.material_sr(stage_sr)


def _tornado_cases(model: SupplyRiskModel) -> dict[str, dict[str, np.ndarray]]:
    """Per factor, the draws spanning its range with every other input at base."""
    k = max(int(model.n_slots.max()) if model.n_slots.size else 1, 1)
    slot = np.minimum(np.arange(k)[:, None], np.maximum(model.n_slots - 1, 0)[None, :])
    singles = np.eye(len(WGI_DIMENSIONS))
    low, high = MULTIPLIER_RANGE
    return {
        "share year": {"slot": slot},
        "WGI dimensions": {"dim_weights": np.vstack([singles, np.ones((1, len(WGI_DIMENSIONS)))])},
        "t_c": {"t_multiplier": np.array([low, 1.0, high])},
        "EoL-RIR": {"eol_multiplier": np.array([low, 1.0, high])},
    }


def tornado(model: SupplyRiskModel) -> pl.DataFrame:
    """[material, factor, sr_base, sr_low, sr_high, swing]: the SR range each factor alone produces."""
    names, base = model.material_sr(model.evaluate())
    rows = []
    for factor, case in _tornado_cases(model).items():
        _, sr = model.material_sr(model.evaluate(**case))
        with warnings.catch_warnings():  # all-NaN columns are materials without data: skipped below
            warnings.simplefilter("ignore", RuntimeWarning)
            lows, highs = np.nanmin(sr, axis=0), np.nanmax(sr, axis=0)
        for j, material in enumerate(names):
            if np.isnan(base[0, j]):
                continue
            rows.append(
                {
                    "material": material,
                    "factor": factor,
                    "sr_base": float(base[0, j]),
                    "sr_low": float(lows[j]),
                    "sr_high": float(highs[j]),
                    "swing": float(highs[j] - lows[j]),
                }
            )
    schema = {
        "material": pl.String,
        "factor": pl.String,
        "sr_base": pl.Float64,
        "sr_low": pl.Float64,
        "sr_high": pl.Float64,
        "swing": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def sensitivity_summary(
    model: SupplyRiskModel,
    draws: int = 1000,
    seed: int = 0,
    ei: dict[str, float | None] | None = None,
) -> pl.DataFrame:
    """Per material: base SR, draw mean and 5/50/95th percentiles, P(SR >= 1) and P(critical).

    Materials without an SR (insufficient data) are listed with ``status = "insufficient data"`` and null
    statistics. P(critical) needs EI (the published EC 2023 EI by default); without it it is null and ``p_sr_above_threshold`` is the
    supply-risk half of the test alone.
    """
    names, base = model.material_sr(model.evaluate())
    _, sr = sensitivity_draws(model, draws, seed)
    ei = ei or {}
    rows = []
    for j, material in enumerate(names):
        column = sr[:, j]
        if np.isnan(base[0, j]):
            # Listed explicitly, never as zero: `lodeline risk criticality` gives the reason.
            rows.append({"material": material, "status": INSUFFICIENT, "draws": 0})
            continue
        valid = column[~np.isnan(column)]
        p_above = float(np.mean(valid >= SR_THRESHOLD)) if valid.size else None
        ei_value = ei.get(material)
        p_critical = (
            None if ei_value is None or p_above is None else (p_above if ei_value >= EI_THRESHOLD else 0.0)
        )
        p05, p50, p95 = np.percentile(valid, [5, 50, 95]) if valid.size else (np.nan,) * 3
        rows.append(
            {
                "material": material,
                "sr_base": float(base[0, j]),
                "sr_mean": float(valid.mean()) if valid.size else None,
                "sr_p05": float(p05),
                "sr_p50": float(p50),
                "sr_p95": float(p95),
                "p_sr_above_threshold": p_above,
                "ei": ei_value,
                "p_critical": p_critical,
                "draws": int(valid.size),
                "status": "ok",
            }
        )
    schema = {
        "material": pl.String,
        "sr_base": pl.Float64,
        "sr_mean": pl.Float64,
        "sr_p05": pl.Float64,
        "sr_p50": pl.Float64,
        "sr_p95": pl.Float64,
        "p_sr_above_threshold": pl.Float64,
        "ei": pl.Float64,
        "p_critical": pl.Float64,
        "draws": pl.Int64,
        "status": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)
