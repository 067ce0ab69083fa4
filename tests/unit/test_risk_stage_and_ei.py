"""Issue 11: the reported SR stage is the EC's bottleneck stage, shares never sum above 1, the newest source
per stage wins, and the published EC 2023 EI makes ``critical`` a verdict.

The worked example of ``test_risk_eu_method.py`` is reused: processing SR = 1.431999 (by hand there); an
extraction stage with global shares CHN 0.9, CAN 0.1 (WGI scaled 7 and 2), basis GSonly, EoL-RIR 0.1,
SI_SR 0.9 has HHI = 0.81*7 + 0.01*2 = 5.69 and SR = 5.69 * 0.9 * 0.9 = 4.6089.
"""

from __future__ import annotations

import json

import polars as pl
import pytest
from test_risk_eu_method import EXPECTED_SR, share_rows, worked_example_frames

from lodeline.risk.assessment import assessment_table, compile_assessment
from lodeline.risk.parameters import eu_parameters
from lodeline.risk.sensitivity import sensitivity_summary
from lodeline.risk.shares import combine_global, production_shares, refined_stage_shares

EXTRACTION_SR = 4.6089


def two_stage_frames(bottleneck: str | None) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    params, shares, factors, governance = worked_example_frames()
    extraction = params.with_columns(pl.lit("extraction").alias("stage"), pl.lit("GSonly").alias("basis"))
    both = pl.concat([params, extraction]).with_columns(
        pl.lit(bottleneck, dtype=pl.String).alias("bottleneck")
    )
    more = pl.DataFrame(share_rows("examplium", "extraction", "global", {"CHN": 0.9, "CAN": 0.1}))
    return both, pl.concat([shares, more]), factors, governance


def test_sr_is_the_bottleneck_stage_not_the_higher_one() -> None:
    """Bottleneck = processing (1.431999) although extraction is higher (4.6089): the old code reported 4.6089."""
    table = assessment_table(compile_assessment(*two_stage_frames("processing")))
    row = table.row(0, named=True)
    assert row["sr_extraction"] == pytest.approx(EXTRACTION_SR, abs=1e-9)
    assert row["sr"] == pytest.approx(EXPECTED_SR, abs=1e-9)
    assert row["sr_stage"] == "processing (EU bottleneck)"
    assert "computed" in row["sr_source"] and "not the EC's published SR" in row["sr_source"]


def test_sensitivity_follows_the_bottleneck_stage_too() -> None:
    compiled = compile_assessment(*two_stage_frames("processing"))
    summary = sensitivity_summary(compiled.model, 20, seed=1)
    assert summary["sr_base"][0] == pytest.approx(EXPECTED_SR, abs=1e-9)


def test_a_requested_stage_overrides_the_bottleneck() -> None:
    table = assessment_table(compile_assessment(*two_stage_frames("processing"), stage="extraction"))
    row = table.row(0, named=True)
    assert row["sr"] == pytest.approx(EXTRACTION_SR, abs=1e-9) and row["sr_processing"] is None
    assert row["sr_stage"] == "extraction (requested; EU bottleneck: processing)"


def test_without_a_bottleneck_the_higher_stage_counts_and_says_so() -> None:
    table = assessment_table(compile_assessment(*two_stage_frames(None)))
    row = table.row(0, named=True)
    assert row["sr"] == pytest.approx(EXTRACTION_SR, abs=1e-9)
    assert row["sr_stage"].startswith("higher of the assessed stages")


def test_bottleneck_stage_without_data_leaves_sr_unknown() -> None:
    """Bottleneck = extraction, but only processing has shares: SR is a gap, not the processing value."""
    params, shares, factors, governance = two_stage_frames("extraction")
    table = assessment_table(
        compile_assessment(params, shares.filter(pl.col("stage") == "processing"), factors, governance)
    )
    row = table.row(0, named=True)
    assert row["sr"] is None and row["status"] == "insufficient data"
    assert row["sr_processing"] == pytest.approx(EXPECTED_SR, abs=1e-9)
    assert "reported stage extraction" in row["reason"]
    assert row["critical"] is None


def test_eu_parameters_carry_the_bottleneck_and_the_rare_earth_flag() -> None:
    long = pl.DataFrame(
        [
            ("Nickel", "nickel", "bottleneck_stage", None, "Processing"),
            ("Nickel", "nickel", "supply_basis_extraction", None, "GS+EU"),
            ("Nickel", "nickel", "supply_basis_processing", None, "GS+EU"),
            ("Nickel", "nickel", "SI_SR", 0.92, None),
            ("Terbium", None, "group", None, "HREE"),
            ("Terbium", None, "bottleneck_stage", None, "Processing"),
            ("Terbium", None, "supply_basis_processing", None, "GSonly"),
            ("Terbium", None, "SI_SR", 0.92, None),
            ("Cerium", None, "group", None, "LREE"),
            ("Cerium", None, "supply_basis_processing", None, "GSonly"),
        ],
        schema=["material", "mineral", "parameter", "value", "text_value"],
        orient="row",
    )
    params = eu_parameters(long)
    assert set(params.filter(pl.col("material") == "Nickel")["bottleneck"]) == {"processing"}
    for material in ("Terbium", "Cerium"):
        row = params.filter(pl.col("material") == material).row(0, named=True)
        assert row["mineral"] == "rare-earths"
        assert row["proxy"].startswith("HREE/LREE not distinguished")


def test_rare_earth_members_are_flagged_in_the_output() -> None:
    params, shares, factors, governance = worked_example_frames()
    member = params.with_columns(
        pl.lit("Terbium").alias("material"),
        pl.lit("HREE/LREE not distinguished: all rare earths").alias("proxy"),
    )
    table = assessment_table(
        compile_assessment(
            pl.concat([params.with_columns(pl.lit(None, dtype=pl.String).alias("proxy")), member]),
            shares,
            factors,
            governance,
        )
    )
    flags = dict(table.select("material", "flags").iter_rows())
    assert flags["Examplium"] is None
    assert flags["Terbium"] == "HREE/LREE not distinguished: all rare earths"


def test_bgs_shares_above_one_are_normalised_and_flagged() -> None:
    """Raw file bgs_refined_shares/bgs_refined_production_shares_2000_2024.csv, germanium 2022: CN 94, US 4,
    RU 3 (%) = 101 %. Normalised: CN 94/101 = 0.930693, US 4/101 = 0.039604, RU 3/101 = 0.029703; sum 1.
    The old code kept 0.94 + 0.04 + 0.03 = 1.01."""
    bgs = pl.DataFrame(
        {
            "mineral": ["germanium"] * 3,
            "stage": ["refining"] * 3,
            "country": ["CHN", "USA", "RUS"],
            "year": [2022] * 3,
            "share": [0.94, 0.04, 0.03],
            "source": "bgs_refined_shares",
            "edition": "1",
        }
    )
    shares = refined_stage_shares(bgs)
    got = dict(shares.select("country", "share").iter_rows())
    assert got["CHN"] == pytest.approx(94 / 101, abs=1e-12)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    assert shares["flag"].str.contains("2022: named countries sum to 1.01").all()


def test_production_above_the_stated_total_is_flagged() -> None:
    """USGS MCS 2026 gallium 2025 (kilograms): China 900,000, Japan 3,000, Russia 6,000; world total (rounded)
    900,000. The denominator is max(900,000, 909,000) = 909,000: China 900,000/909,000 = 0.990099."""
    rows = pl.DataFrame(
        [
            {
                "mineral": "gallium",
                "stage": "refining",
                "measure": "production",
                "country": c,
                "year": 2025,
                "quantity": q,
                "unit": "kilograms",
                "is_primary": True,
                "source": "usgs_mcs2026",
                "edition": "MCS 2026",
            }
            for c, q in (("CHN", 900_000.0), ("JPN", 3_000.0), ("RUS", 6_000.0), ("WLD", 900_000.0))
        ]
    )
    shares = production_shares(rows)
    got = dict(shares.select("country", "share").iter_rows())
    assert got["CHN"] == pytest.approx(900_000 / 909_000, abs=1e-12)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    assert shares["flag"][0] == (
        "2025: named countries sum to 909000.0 kilograms > stated total 900000.0 kilograms: shares normalised to "
        "the sum of parts"
    )


def test_the_newest_source_wins_per_stage() -> None:
    """Germanium: USGS yearbook refinery estimates stop at 2020 (2021-2023 "NA"), BGS shares run to 2024."""
    old = pl.DataFrame(
        [
            {
                "mineral": "germanium",
                "stage": "refining",
                "measure": "production",
                "country": c,
                "year": y,
                "quantity": q,
                "unit": "kilograms",
                "is_primary": True,
                "source": "usgs_myb",
                "edition": "2023",
            }
            for y in (2019, 2020)
            for c, q in (("CHN", 95_000.0), ("RUS", 5_000.0), ("ROW", 40_000.0), ("WLD", 140_000.0))
        ]
        + [
            {
                "mineral": "germanium",
                "stage": "refining",
                "measure": "production",
                "country": "CHN",
                "year": 2021,
                "quantity": None,
                "unit": "kilograms",
                "is_primary": True,
                "source": "usgs_myb",
                "edition": "2023",
            }
        ]
    )
    bgs = pl.DataFrame(
        {
            "mineral": "germanium",
            "stage": "refining",
            "country": ["CHN", "USA"],
            "year": 2024,
            "share": [0.94, 0.03],
            "source": "bgs_refined_shares",
            "edition": "1",
        }
    )
    combined = combine_global(production_shares(old), refined_stage_shares(bgs))
    assert set(combined["source"]) == {"bgs_refined_shares"} and set(combined["year"]) == {2024}
    # a tie keeps the production series
    tie = bgs.with_columns(pl.lit(2020).alias("year"))
    assert set(combine_global(production_shares(old), refined_stage_shares(tie))["source"]) == {"usgs_myb"}


def test_published_ei_is_labelled_and_makes_critical_a_verdict() -> None:
    """EI published in eu_crm_2023_economic_importance.csv: Examplium stands in for Gallium (EI 3.7 >= 2.8)."""
    from lodeline.risk.economic_importance import PUBLISHED, published_ei  # new in issue 11

    long = pl.DataFrame(
        [("Examplium", None, "EI_published", 3.7, None), ("Examplium", None, "SI_SR", 0.9, None)],
        schema=["material", "mineral", "parameter", "value", "text_value"],
        orient="row",
    )
    ei = published_ei(long)
    assert ei.rows() == [("Examplium", 3.7, "", PUBLISHED)]
    row = assessment_table(compile_assessment(*worked_example_frames()), ei).row(0, named=True)
    assert row["ei"] == 3.7 and row["ei_source"] == "published (EC 2023)"
    assert row["critical"] is True  # SR 1.431999 >= 1 and EI 3.7 >= 2.8
    low = ei.with_columns(pl.lit(2.6).alias("ei"))  # EI below 2.8 (as indium's 2.6): not critical
    assert assessment_table(compile_assessment(*worked_example_frames()), low)["critical"][0] is False


def test_computed_ei_replaces_the_published_one_only_where_given() -> None:
    from lodeline.risk.economic_importance import COMPUTED, PUBLISHED, merge_ei  # new in issue 11

    published = pl.DataFrame(
        {"material": ["A", "B"], "ei": [3.0, 5.0], "ei_note": ["", ""], "ei_source": [PUBLISHED] * 2}
    )
    computed = pl.DataFrame({"material": ["A", "B"], "ei": [4.2, None], "ei_note": ["", "no end uses"]})
    merged = {r[0]: r for r in merge_ei(published, computed).rows()}
    assert merged["A"][1] == 4.2 and merged["A"][3] == COMPUTED
    assert merged["B"][1] == 5.0 and merged["B"][3] == PUBLISHED


def test_inputs_list_the_source_per_stage() -> None:
    params, shares, factors, governance = worked_example_frames()
    row = assessment_table(compile_assessment(params, shares, factors, governance)).row(0, named=True)
    inputs = json.loads(row["inputs"])["processing"]
    assert inputs["sources_global"] == ["hand"] and inputs["sources_eu"] == ["hand"]
