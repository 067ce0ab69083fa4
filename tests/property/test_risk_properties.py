"""Properties the EU supply risk must have, checked through the full vectorised assessment."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lodeline.risk.assessment import assessment_table, compile_assessment
from lodeline.risk.eu_method import hhi_wgi_t, supply_risk
from lodeline.risk.governance import WGI_DIMENSIONS, rescale_wgi

COUNTRIES = ("CHN", "AUS", "CAN", "BRA", "ZAF")

weights = st.lists(st.floats(0.01, 1.0), min_size=2, max_size=5)
estimates = st.lists(st.floats(-2.5, 2.5), min_size=5, max_size=5)
fraction = st.floats(0.0, 1.0)
si = st.floats(0.05, 1.0)


def _normalise(w: list[float]) -> list[float]:
    total = sum(w)
    return [x / total for x in w]


def assess_sr(
    gs: list[float],
    eu: list[float] | None,
    wgi: list[float],
    *,
    ir: float = 0.5,
    eol: float = 0.1,
    si_sr: float = 0.9,
    basis: str = "GS+EU",
) -> float:
    params = pl.DataFrame(
        [
            {
                "material": "M",
                "mineral": "m",
                "stage": "processing",
                "basis": basis,
                "ir": ir,
                "eol_rir": eol,
                "si_sr": si_sr,
                "si_ei": 1.0,
            }
        ]
    )
    rows = [
        {
            "mineral": "m",
            "stage": "processing",
            "scope": scope,
            "year": 2022,
            "country": COUNTRIES[i],
            "share": s,
            "source": "t",
            "edition": "1",
        }
        for scope, shares in (("global", gs), ("eu", eu or []))
        for i, s in enumerate(shares)
    ]
    governance = pl.DataFrame(
        [
            {"country": c, "year": 2023, "indicator": d, "estimate": wgi[i]}
            for i, c in enumerate(COUNTRIES)
            for d in WGI_DIMENSIONS
        ]
    )
    factors = pl.DataFrame(
        schema={
            "material": pl.String,
            "stage": pl.String,
            "scope": pl.String,
            "country": pl.String,
            "t_c": pl.Float64,
        }
    )
    value = assessment_table(compile_assessment(params, pl.DataFrame(rows), factors, governance))["sr"][0]
    assert value is not None
    return float(value)


@settings(max_examples=40, deadline=None)
@given(weights, st.floats(-2.5, 2.5), st.floats(0.01, 0.5))
def test_sr_rises_with_concentration(w: list[float], estimate: float, transfer: float) -> None:
    # Equal governance everywhere, so only concentration matters: move part of the smallest supplier's share
    # to the largest (a reverse Pigou-Dalton transfer raises the HHI).
    shares = _normalise(w)
    lo, hi = int(np.argmin(shares)), int(np.argmax(shares))
    assume(lo != hi)
    moved = shares[lo] * transfer
    concentrated = list(shares)
    concentrated[lo] -= moved
    concentrated[hi] += moved
    wgi = [estimate] * 5
    before = assess_sr(shares, None, wgi, basis="GSonly")
    after = assess_sr(concentrated, None, wgi, basis="GSonly")
    assert after >= before - 1e-12


@settings(max_examples=40, deadline=None)
@given(weights, weights, estimates, st.integers(0, 4), st.floats(0.05, 2.0))
def test_sr_rises_when_a_supplier_governs_worse(
    gs_w: list[float], eu_w: list[float], wgi: list[float], who: int, worse_by: float
) -> None:
    gs, eu = _normalise(gs_w), _normalise(eu_w)
    worse = list(wgi)
    worse[who] = wgi[who] - worse_by  # lower WGI estimate = worse governance
    before = assess_sr(gs, eu, wgi)
    after = assess_sr(gs, eu, worse)
    assert after >= before - 1e-12
    supplies = (who < len(gs) and gs[who] > 0) or (who < len(eu) and eu[who] > 0)
    if supplies and wgi[who] > -2.5 + 1e-6:
        assert after > before


@settings(max_examples=40, deadline=None)
@given(weights, weights, estimates, fraction, fraction)
def test_sr_rises_with_import_reliance_when_global_hhi_exceeds_eu(
    gs_w: list[float], eu_w: list[float], wgi: list[float], ir_a: float, ir_b: float
) -> None:
    gs, eu = _normalise(gs_w), _normalise(eu_w)
    scaled = rescale_wgi(np.array(wgi))
    h_gs = hhi_wgi_t(np.array(gs), scaled[: len(gs)])
    h_eu = hhi_wgi_t(np.array(eu), scaled[: len(eu)])
    assume(h_gs > h_eu)
    low, high = sorted((ir_a, ir_b))
    assert assess_sr(gs, eu, wgi, ir=high) >= assess_sr(gs, eu, wgi, ir=low) - 1e-12
    # and the scalar formula agrees with the vectorised one
    scalar = supply_risk(h_gs, h_eu, import_reliance=high, eol_rir=0.1, si_sr=0.9)
    assert abs(scalar - assess_sr(gs, eu, wgi, ir=high)) < 1e-9


@settings(max_examples=40, deadline=None)
@given(weights, weights, estimates, fraction, fraction, si)
def test_sr_falls_as_end_of_life_recycling_rises(
    gs_w: list[float], eu_w: list[float], wgi: list[float], eol_a: float, eol_b: float, si_sr: float
) -> None:
    gs, eu = _normalise(gs_w), _normalise(eu_w)
    low, high = sorted((eol_a, eol_b))
    assume(high - low > 1e-6)
    at_low = assess_sr(gs, eu, wgi, eol=low, si_sr=si_sr)
    at_high = assess_sr(gs, eu, wgi, eol=high, si_sr=si_sr)
    assert at_high <= at_low + 1e-12
    if at_low > 0:
        assert at_high < at_low
