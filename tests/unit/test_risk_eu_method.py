"""The EU supply-risk formula against a worked example computed by hand, plus bad-input paths."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from lodeline.errors import InsufficientDataError, InvalidArgumentError
from lodeline.risk.assessment import INSUFFICIENT, assessment_table, compile_assessment
from lodeline.risk.eu_method import hhi_wgi_t, supply_risk
from lodeline.risk.governance import WGI_DIMENSIONS, governance_matrix, rescale_wgi

# Worked example (by hand):
#   WGI estimates (all six dimensions equal): CHN -1.0, AUS 0.5, CAN 1.5
#   scaled (2.5 - x) * 2:                    CHN 7.0,  AUS 4.0, CAN 2.0
#   global supply shares:  CHN 0.5, AUS 0.3, CAN 0.2;  t_c(global): CHN 1.1
#     HHI_GS = 0.25*7*1.1 + 0.09*4 + 0.04*2 = 1.925 + 0.36 + 0.08 = 2.365
#   EU sourcing shares:    CHN 0.2, AUS 0.6, CAN 0.2;  t_c(EU):     AUS 0.8
#     HHI_EU = 0.04*7 + 0.36*4*0.8 + 0.04*2 = 0.28 + 1.152 + 0.08 = 1.512
#   IR 60 %, EoL-RIR 10 %, SI_SR 0.9
#     SR = (2.365*0.6/2 + 1.512*(1-0.6/2)) * (1-0.1) * 0.9 = 1.7679 * 0.81 = 1.431999
WGI = {"CHN": -1.0, "AUS": 0.5, "CAN": 1.5}
EXPECTED_SR = 1.431999


def governance_frame(estimates: dict[str, float], year: int = 2023) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"country": c, "year": year, "indicator": d, "estimate": v}
            for c, v in estimates.items()
            for d in WGI_DIMENSIONS
        ]
    )


def share_rows(
    mineral: str, stage: str, scope: str, shares: dict[str, float], year: int = 2022
) -> list[dict]:
    return [
        {
            "mineral": mineral,
            "stage": stage,
            "scope": scope,
            "year": year,
            "country": c,
            "share": s,
            "source": "hand",
            "edition": "1",
        }
        for c, s in shares.items()
    ]


def params_frame(rows: list[dict]) -> pl.DataFrame:
    schema = {
        "material": pl.String,
        "mineral": pl.String,
        "stage": pl.String,
        "basis": pl.String,
        "ir": pl.Float64,
        "eol_rir": pl.Float64,
        "si_sr": pl.Float64,
        "si_ei": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


def trade_factor_frame(rows: list[tuple[str, str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["material", "stage", "scope", "country", "t_c"], orient="row"
    ).with_columns(pl.col("t_c").cast(pl.Float64))


def test_rescaling_maps_the_wgi_range_onto_ten_to_zero() -> None:
    assert rescale_wgi(np.array([-2.5, 0.0, 2.5, 3.0])).tolist() == [10.0, 5.0, 0.0, 0.0]


def test_worked_example_scalar() -> None:
    wgi = rescale_wgi(np.array([-1.0, 0.5, 1.5]))
    h_gs = hhi_wgi_t(np.array([0.5, 0.3, 0.2]), wgi, np.array([1.1, 1.0, 1.0]))
    h_eu = hhi_wgi_t(np.array([0.2, 0.6, 0.2]), wgi, np.array([1.0, 0.8, 1.0]))
    assert h_gs == pytest.approx(2.365, abs=1e-12)
    assert h_eu == pytest.approx(1.512, abs=1e-12)
    sr = supply_risk(h_gs, h_eu, import_reliance=0.6, eol_rir=0.1, si_sr=0.9)
    assert sr == pytest.approx(EXPECTED_SR, abs=1e-12)


def worked_example_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    params = params_frame(
        [
            {
                "material": "Examplium",
                "mineral": "examplium",
                "stage": "processing",
                "basis": "GS+EU",
                "ir": 0.6,
                "eol_rir": 0.1,
                "si_sr": 0.9,
                "si_ei": 0.95,
            }
        ]
    )
    shares = pl.DataFrame(
        share_rows("examplium", "processing", "global", {"CHN": 0.5, "AUS": 0.3, "CAN": 0.2})
        + share_rows("examplium", "processing", "eu", {"CHN": 0.2, "AUS": 0.6, "CAN": 0.2})
    )
    factors = trade_factor_frame(
        [
            ("Examplium", "processing", "global", "CHN", 1.1),
            ("Examplium", "processing", "eu_sourcing", "AUS", 0.8),
        ]
    )
    return params, shares, factors, governance_frame(WGI)


def test_worked_example_through_the_vectorised_assessment() -> None:
    params, shares, factors, governance = worked_example_frames()
    table = assessment_table(compile_assessment(params, shares, factors, governance))
    row = table.row(0, named=True)
    assert row["sr"] == pytest.approx(EXPECTED_SR, abs=1e-9)
    assert row["sr_processing"] == pytest.approx(EXPECTED_SR, abs=1e-9)
    assert row["sr_extraction"] is None
    assert row["status"] == "ok"
    assert row["sr_above_threshold"] is True
    assert row["ei"] is None and row["critical"] is None and "end-use" in row["ei_note"]
    inputs = json.loads(row["inputs"])
    assert inputs["processing"]["t_c_listed"] == {"CHN": 1.1, "AUS": 0.8}
    assert inputs["processing"]["eu_sourcing"] == "extra-EU imports (trade)"


def test_material_sr_is_the_higher_stage() -> None:
    params, shares, factors, governance = worked_example_frames()
    extraction = params.with_columns(pl.lit("extraction").alias("stage"), pl.lit("GSonly").alias("basis"))
    more = pl.DataFrame(share_rows("examplium", "extraction", "global", {"CHN": 0.9, "CAN": 0.1}))
    table = assessment_table(
        compile_assessment(pl.concat([params, extraction]), pl.concat([shares, more]), factors, governance)
    )
    row = table.row(0, named=True)
    # extraction: 0.81*7 + 0.01*2 = 5.69 ; * 0.9 * 0.9 = 4.6089
    assert row["sr_extraction"] == pytest.approx(4.6089, abs=1e-9)
    assert row["sr"] == pytest.approx(max(4.6089, EXPECTED_SR), abs=1e-9)


def test_missing_eu_sourcing_uses_global_supply_as_a_documented_proxy() -> None:
    params, shares, factors, governance = worked_example_frames()
    table = assessment_table(
        compile_assessment(params, shares.filter(pl.col("scope") == "global"), factors, governance)
    )
    row = table.row(0, named=True)
    assert row["sr"] == pytest.approx(2.365 * 0.9 * 0.9, abs=1e-9)
    assert json.loads(row["inputs"])["processing"]["eu_sourcing"] == "proxy: global supply"


def test_material_without_supply_data_is_insufficient_never_zero() -> None:
    params, shares, factors, governance = worked_example_frames()
    other = params.with_columns(pl.lit("Nodatium").alias("material"), pl.lit("nodatium").alias("mineral"))
    table = assessment_table(compile_assessment(pl.concat([params, other]), shares, factors, governance))
    row = table.filter(pl.col("material") == "Nodatium").row(0, named=True)
    assert row["sr"] is None and row["sr_processing"] is None
    assert row["status"] == INSUFFICIENT
    assert "no global supply data" in row["reason"]
    assert row["critical"] is None and row["sr_above_threshold"] is None


def test_unmapped_material_and_missing_substitution_index_say_why() -> None:
    params, shares, factors, governance = worked_example_frames()
    unmapped = params.with_columns(pl.lit("Woodium").alias("material"), pl.lit(None).alias("mineral"))
    no_si = params.with_columns(pl.lit("Groupium").alias("material"), pl.lit(None, pl.Float64).alias("si_sr"))
    table = assessment_table(
        compile_assessment(pl.concat([params, unmapped, no_si]), shares, factors, governance)
    )
    reasons = dict(table.select("material", "reason").iter_rows())
    assert "no Lodeline mineral" in reasons["Woodium"]
    assert "SI_SR" in reasons["Groupium"]


def test_supplier_without_wgi_takes_the_mean_and_is_reported() -> None:
    params, shares, factors, _ = worked_example_frames()
    governance = governance_frame({"CHN": -1.0, "AUS": 0.5})  # CAN has no WGI
    compiled = compile_assessment(params, shares, factors, governance)
    assert compiled.governance is not None and compiled.governance.imputed == frozenset({"CAN"})
    can = compiled.governance.index()["CAN"]
    assert compiled.governance.values[0, can] == pytest.approx((7.0 + 4.0) / 2)


def test_bad_inputs_raise_typed_errors() -> None:
    with pytest.raises(InvalidArgumentError):
        hhi_wgi_t(np.array([0.7, 0.6]), np.array([5.0, 5.0]))
    with pytest.raises(InvalidArgumentError):
        supply_risk(1.0, 1.0, import_reliance=60, eol_rir=0.1, si_sr=1.0)
    with pytest.raises(InvalidArgumentError):
        supply_risk(1.0, 1.0, import_reliance=0.5, eol_rir=0.1, si_sr=1.0, basis="nonsense")
    with pytest.raises(InsufficientDataError):
        governance_matrix(
            pl.DataFrame(
                schema={
                    "country": pl.String,
                    "year": pl.Int64,
                    "indicator": pl.String,
                    "estimate": pl.Float64,
                }
            )
        )
