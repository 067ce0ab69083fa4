"""Sensitivity draws and tornado, the EI formula and the GeoPolRisk-style import risk, on hand examples."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from test_risk_eu_method import (  # same folder: pytest puts it on sys.path
    EXPECTED_SR,
    governance_frame,
    share_rows,
    worked_example_frames,
)

from lodeline.errors import InvalidArgumentError
from lodeline.risk.assessment import compile_assessment
from lodeline.risk.economic_importance import economic_importance
from lodeline.risk.geopol import geopolitical_supply_risk
from lodeline.risk.governance import governance_matrix
from lodeline.risk.sensitivity import sensitivity_draws, sensitivity_summary, tornado


def worked_model():  # type: ignore[no-untyped-def]
    params, shares, factors, governance = worked_example_frames()
    return compile_assessment(params, shares, factors, governance).model


def test_base_evaluation_and_single_factor_overrides() -> None:
    model = worked_model()
    assert model.evaluate()[0, 0] == pytest.approx(EXPECTED_SR, abs=1e-9)
    assert model.evaluate(t_multiplier=np.array([1.0]))[0, 0] == pytest.approx(EXPECTED_SR, abs=1e-9)
    # EoL-RIR halved: 0.05 instead of 0.1
    assert model.evaluate(eol_multiplier=np.array([0.5]))[0, 0] == pytest.approx(
        1.7679 * 0.95 * 0.9, abs=1e-9
    )
    # No trade factors at all (multiplier 0 puts every t_c at 1): HHI_GS = 0.25*7 + 0.36 + 0.08 = 2.19,
    # HHI_EU = 0.28 + 0.36*4 + 0.08 = 1.8; SR = (2.19*0.3 + 1.8*0.7) * 0.81
    no_tc = (2.19 * 0.3 + 1.8 * 0.7) * 0.81
    assert model.evaluate(t_multiplier=np.array([0.0]))[0, 0] == pytest.approx(no_tc, abs=1e-9)
    # Political stability alone (all dimensions equal here, so any single one gives the same SR)
    one_dim = np.zeros((1, 6))
    one_dim[0, 1] = 1.0
    assert model.evaluate(dim_weights=one_dim)[0, 0] == pytest.approx(EXPECTED_SR, abs=1e-9)


def test_draws_are_reproducible_and_vary() -> None:
    model = worked_model()
    _, a = sensitivity_draws(model, 200, seed=1)
    _, b = sensitivity_draws(model, 200, seed=1)
    _, c = sensitivity_draws(model, 200, seed=2)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == (200, 1) and np.all(a > 0)


def test_share_year_enters_draws_and_tornado() -> None:
    params, shares, factors, governance = worked_example_frames()
    # A second, fully concentrated global year: HHI_GS(2023) = 1.0 * 7 * 1.1 = 7.7
    later = pl.DataFrame(share_rows("examplium", "processing", "global", {"CHN": 1.0}, year=2023))
    model = compile_assessment(params, pl.concat([shares, later]), factors, governance).model
    sr_2022 = EXPECTED_SR
    sr_2023 = (7.7 * 0.3 + 1.512 * 0.7) * 0.81
    bars = tornado(model).filter(pl.col("factor") == "share year").row(0, named=True)
    assert bars["sr_low"] == pytest.approx(sr_2022, abs=1e-9)
    assert bars["sr_high"] == pytest.approx(sr_2023, abs=1e-9)
    # base = mean shares over the two years (CHN 0.75, AUS 0.15, CAN 0.1)
    base_gs = 0.75**2 * 7 * 1.1 + 0.15**2 * 4 + 0.1**2 * 2
    assert bars["sr_base"] == pytest.approx((base_gs * 0.3 + 1.512 * 0.7) * 0.81, abs=1e-9)
    _, draws = sensitivity_draws(model, 400, seed=3)
    assert set(np.round(np.unique(draws[:, 0]), 6)) != {round(sr_2022, 6)}


def test_tornado_eol_bounds_and_summary_probabilities() -> None:
    model = worked_model()
    eol = tornado(model).filter(pl.col("factor") == "EoL-RIR").row(0, named=True)
    assert eol["sr_low"] == pytest.approx(1.7679 * (1 - 0.15) * 0.9, abs=1e-9)
    assert eol["sr_high"] == pytest.approx(1.7679 * (1 - 0.05) * 0.9, abs=1e-9)
    summary = sensitivity_summary(model, 300, seed=0, ei={"Examplium": 3.0}).row(0, named=True)
    assert summary["draws"] == 300
    assert 0.0 <= summary["p_sr_above_threshold"] <= 1.0
    assert summary["p_critical"] == summary["p_sr_above_threshold"]  # EI above 2.8
    low_ei = sensitivity_summary(model, 300, seed=0, ei={"Examplium": 1.0}).row(0, named=True)
    assert low_ei["p_critical"] == 0.0
    no_ei = sensitivity_summary(model, 300, seed=0).row(0, named=True)
    assert no_ei["p_critical"] is None and no_ei["status"] == "ok"


def test_sensitivity_lists_a_material_without_data_as_insufficient() -> None:
    params, shares, factors, governance = worked_example_frames()
    other = params.with_columns(pl.lit("Nodatium").alias("material"), pl.lit("nodatium").alias("mineral"))
    model = compile_assessment(pl.concat([params, other]), shares, factors, governance).model
    row = sensitivity_summary(model, 50).filter(pl.col("material") == "Nodatium").row(0, named=True)
    assert (
        row["status"] == "insufficient data"
        and row["sr_mean"] is None
        and row["p_sr_above_threshold"] is None
    )
    assert tornado(model).filter(pl.col("material") == "Nodatium").is_empty()


def test_economic_importance_hand_example() -> None:
    # sum A_s Q_s = 0.6*200 + 0.4*100 = 160 ; / max Q (250) * 10 = 6.4 ; * SI_EI 0.9 = 5.76
    end_uses = pl.DataFrame({"material": ["M", "M"], "sector": ["C29", "C27"], "share": [0.6, 0.4]})
    value_added = pl.DataFrame({"sector": ["C29", "C27", "C10"], "value_added": [200.0, 100.0, 250.0]})
    si_ei = pl.DataFrame({"material": ["M", "N"], "si_ei": [0.9, 0.8]})
    out = economic_importance(end_uses, value_added, si_ei)
    rows = {r["material"]: r for r in out.iter_rows(named=True)}
    assert rows["M"]["ei"] == pytest.approx(5.76, abs=1e-12)
    assert rows["N"]["ei"] is None and "no end-use shares" in rows["N"]["ei_note"]


def test_economic_importance_rejects_bad_inputs() -> None:
    si_ei = pl.DataFrame({"material": ["M"], "si_ei": [0.9]})
    va = pl.DataFrame({"sector": ["C29"], "value_added": [200.0]})
    with pytest.raises(InvalidArgumentError):
        economic_importance(pl.DataFrame({"material": ["M"], "sector": ["C29"], "share": [1.4]}), va, si_ei)
    with pytest.raises(InvalidArgumentError):
        economic_importance(pl.DataFrame({"material": ["M"], "sector": ["C99"], "share": [0.5]}), va, si_ei)
    with pytest.raises(InvalidArgumentError):
        economic_importance(pl.DataFrame({"material": ["M"], "share": [0.5]}), va, si_ei)


def trade_rows(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "mineral": "m",
                "stage": "refining",
                "exporter": e,
                "importer": i,
                "year": 2024,
                "value_usd": q * 1000.0,
                "quantity_t": q,
            }
            for e, i, q in rows
        ]
    )


def test_geopolrisk_hand_example_for_an_alliance() -> None:
    # Alliance {USA, CAN}: CAN->USA is internal and ignored. Imports: CHN 60+10 = 70 t, AUS 30 t.
    # g (pv, /10): CHN -0.5 -> 6/10 = 0.6 ; AUS 1.0 -> 3/10 = 0.3. Domestic production 100 t.
    # WTA = (0.6*70 + 0.3*30) / (100 + 100) = 0.255 ; HHI = 0.6^2 + 0.3^2 + 0.1^2 = 0.46 ; GPR = 0.1173
    trade = trade_rows([("CHN", "USA", 60), ("AUS", "USA", 30), ("CAN", "USA", 50), ("CHN", "CAN", 10)])
    shares = pl.DataFrame(
        {
            "mineral": "m",
            "stage": "refining",
            "year": 2024,
            "country": ["CHN", "AUS", "USA"],
            "share": [0.6, 0.3, 0.1],
        }
    )
    gov = governance_matrix(governance_frame({"CHN": -0.5, "AUS": 1.0, "USA": 1.0, "CAN": 1.5}))
    domestic = pl.DataFrame({"mineral": ["m"], "stage": ["refining"], "year": [2024], "quantity_t": [100.0]})
    row = geopolitical_supply_risk(
        trade, shares, gov, {"USA", "CAN"}, importer_name="NA2", domestic_production=domestic
    ).row(0, named=True)
    assert row["wta"] == pytest.approx(0.255, abs=1e-12)
    assert row["hhi"] == pytest.approx(0.46, abs=1e-12)
    assert row["geopolrisk"] == pytest.approx(0.1173, abs=1e-12)
    assert row["top_supplier"] == "CHN" and row["suppliers"] == 2 and row["import_unit"] == "t"
    # without domestic production the denominator is imports only: an upper bound, and said so
    upper = geopolitical_supply_risk(trade, shares, gov, {"USA", "CAN"}, importer_name="NA2").row(
        0, named=True
    )
    assert upper["wta"] == pytest.approx(51 / 100, abs=1e-12)
    assert "upper bound" in upper["note"]


def test_geopolrisk_without_foreign_imports_is_empty_not_zero() -> None:
    trade = trade_rows([("CAN", "USA", 50)])
    shares = pl.DataFrame(
        {"mineral": "m", "stage": "refining", "year": 2024, "country": ["CAN"], "share": [1.0]}
    )
    gov = governance_matrix(governance_frame({"CAN": 1.5, "USA": 1.0}))
    assert geopolitical_supply_risk(trade, shares, gov, {"USA", "CAN"}, importer_name="NA2").is_empty()
