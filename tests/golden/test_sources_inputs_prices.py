"""Golden checks of the EU CRM 2023, BGS, Pink Sheet, UNEP and IEA parsers against published figures."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import (
    bgs_refined_shares,
    eu_crm_2023,
    iea_critical_minerals,
    unep_recycling,
    worldbank_pinksheet,
)


def _one(frame: pl.DataFrame, **eq: object) -> dict[str, object]:
    sel = frame
    for k, v in eq.items():
        sel = sel.filter(pl.col(k) == v)
    assert sel.height == 1, (eq, sel)
    return sel.row(0, named=True)


def test_eu_crm_cobalt_inputs_and_trade_factor() -> None:
    frames = eu_crm_2023.parse(RAW_DATA_DIR / "eu_crm_2023")
    ci = frames["criticality_inputs"]
    cobalt = {r["parameter"]: r for r in ci.filter(pl.col("material") == "Cobalt").iter_rows(named=True)}
    assert cobalt["SI_EI"]["value"] == pytest.approx(0.97)
    assert cobalt["SI_SR"]["value"] == pytest.approx(0.98)
    assert cobalt["IR_extraction_pct"]["value"] == 81
    assert cobalt["IR_processing_pct"]["value"] == 1
    assert cobalt["EoL_RIR_pct"]["value"] == 22
    assert cobalt["bottleneck_stage"]["text_value"] == "Extraction"
    assert {r["mineral"] for r in cobalt.values()} == {"cobalt"}
    assert _one(ci, material="Gallium", parameter="IR_processing_pct")["value"] == 98
    assert _one(ci, material="Natural graphite", parameter="SI_SR")["mineral"] == "graphite"
    # processing-only material: no extraction import reliance row at all
    assert (
        ci.filter((pl.col("material") == "Gallium") & (pl.col("parameter") == "IR_extraction_pct")).height
        == 0
    )
    assert _one(ci, material="Potash", parameter="EoL_RIR_pct")["mineral"] == "potash"
    assert _one(ci, material="Titanium metal", parameter="SI_EI")["mineral"] is None
    assert ci["material"].n_unique() == 90
    # eu_crm_2023_economic_importance.csv: the EI the EC published, one row per material (Gallium 3.7, HREE 4.2)
    ei = ci.filter(pl.col("parameter") == "EI_published")
    assert ei.height == 90 and ei["material"].n_unique() == 90
    assert _one(ci, material="Gallium", parameter="EI_published")["value"] == pytest.approx(3.7)
    assert _one(ci, material="HREE", parameter="EI_published")["value"] == pytest.approx(4.2)
    assert _one(ci, material="Natural graphite", parameter="EI_published")["mineral"] == "graphite"
    tf = frames["trade_factors"]
    row = _one(tf, material="Cobalt", country="COD", stage="extraction", scope="global")
    assert row["t_c"] == pytest.approx(1.1) and row["mineral"] == "cobalt"
    assert tf.height == 121  # every data line of the file
    assert _one(tf, material="Coking Coal", country="MNG")["mineral"] == "coking-coal"


def test_bgs_shares_as_published() -> None:
    ss = bgs_refined_shares.parse(RAW_DATA_DIR / "bgs_refined_shares")["stage_shares"]
    assert ss.height == 803
    assert _one(ss, mineral="magnesium", year=2000, country="CHN")["share"] == pytest.approx(0.32)
    assert _one(ss, mineral="germanium", year=2023, country="CHN")["share"] == pytest.approx(0.95)
    assert set(ss["stage"]) == {"refining"}
    assert "alumina" in set(ss["mineral"]) and "bauxite" not in set(ss["mineral"])


def test_pinksheet_copper_and_gold() -> None:
    prices = worldbank_pinksheet.parse(RAW_DATA_DIR / "worldbank_pinksheet")["prices"]
    copper = _one(prices, series_id="wb-copper", period=dt.date(2025, 12, 1))
    assert copper["value"] == pytest.approx(11785.25)
    assert (copper["unit"], copper["mineral"], copper["frequency"]) == ("$/mt", "copper", "M")
    assert _one(prices, series_id="wb-copper", period=dt.date(1960, 1, 1))["value"] == pytest.approx(715.4)
    gold = _one(prices, series_id="wb-gold", period=dt.date(2026, 5, 1))
    assert gold["value"] == pytest.approx(4587.21) and gold["unit"] == "$/troy oz"
    assert _one(prices, series_id="wb-nickel", period=dt.date(2026, 1, 1))["value"] == pytest.approx(17768.5)
    assert _one(prices, series_id="wb-iron-ore-cfr-spot", period=dt.date(2026, 5, 1))["unit"] == "$/dmtu"
    assert prices["period"].max() == dt.date(2026, 5, 1)
    assert prices.filter(pl.col("series_id") == "wb-copper").height == 797  # 1960M01-2026M05
    assert prices.filter(pl.col("value").is_null() & pl.col("flag").is_null()).height == 0


def test_unep_recycling_rates() -> None:
    rr = unep_recycling.parse(RAW_DATA_DIR / "recycling_unep2011")["recycling_rates"]
    co = _one(rr, element="Co", metric="eol_rr")
    assert (co["value_low"], co["value_high"], co["raw"], co["mineral"]) == (68.0, 68.0, "68d", "cobalt")
    assert "Shedd, USGS (2004)" in co["note"]
    li = _one(rr, element="Li", metric="eol_rr")
    assert li["value_low"] is None and li["value_high"] == 1.0 and li["flag"] == "<"
    ni = _one(rr, element="Ni", metric="eol_rr")
    assert (ni["value_low"], ni["value_high"]) == (57.0, 63.0)
    ga = _one(rr, element="Ga", metric="recycled_content")
    assert (ga["value_low"], ga["value_high"], ga["raw"]) == (25.0, 50.0, "25-50e")
    assert _one(rr, element="Nd", metric="eol_rr")["mineral"] == "rare-earths"
    assert _one(rr, element="Fe", metric="eol_rr")["mineral"] is None
    assert _one(rr, element="Re", metric="eol_rr")["mineral"] == "rhenium"
    assert rr["element"].n_unique() == 59


@pytest.fixture(scope="module")
def iea() -> pl.DataFrame:
    return iea_critical_minerals.parse(RAW_DATA_DIR / "iea_critical_minerals")["production"]


@pytest.mark.parametrize(
    ("mineral", "stage", "year", "country", "kt"),
    [
        # PROVENANCE cross-check figures (May 2025 edition, observed 2024)
        ("cobalt", "mining", 2024, "COD", 181.796),
        ("nickel", "refining", 2024, "IDN", 1493.2),
        ("graphite", "refining", 2024, "CHN", 1794.8),
        ("rare-earths", "refining", 2024, "CHN", 73.757),
        ("lithium", "mining", 2024, "WLD", 255.45),
        ("cobalt", "refining", 2024, "WLD", 250.15),
        # May 2024 workbook, observed 2023
        ("lithium", "refining", 2023, "CHN", 113.9),
        ("cobalt", "refining", 2023, "CHN", 171.7),
        ("copper", "mining", 2023, "CHL", 5311.3),
    ],
)
def test_iea_published_figures(
    iea: pl.DataFrame, mineral: str, stage: str, year: int, country: str, kt: float
) -> None:
    row = _one(iea, mineral=mineral, stage=stage, year=year, country=country)
    decimals = len(str(kt).split(".")[1])
    assert row["quantity"] == pytest.approx(kt, abs=0.5 * 10**-decimals)  # as rounded in PROVENANCE
    assert row["unit"] == "kt" and row["measure"] == "production"


def test_iea_shares_and_series(iea: pl.DataFrame) -> None:
    assert set(iea["year"]) == {2023, 2024}  # no projections
    assert iea["is_primary"].all()
    series = iea.group_by("mineral", "stage").agg(pl.col("series").n_unique())
    assert (series["series"] == 1).all() and series.height == 12
    # China refines ~65% of lithium chemicals and ~77% of cobalt in 2023 (IEA GCMO-2024 headlines)
    li = iea.filter(
        (pl.col("mineral") == "lithium") & (pl.col("stage") == "refining") & (pl.col("year") == 2023)
    )
    world = li.filter(pl.col("country") == "WLD")["quantity"][0]
    assert li.filter(pl.col("country") == "CHN")["quantity"][0] / world == pytest.approx(0.646, abs=0.001)
    # after the Rest-of-world fix every block's countries add up to its Total
    parts = (
        iea.filter(pl.col("country") != "WLD")
        .group_by("mineral", "stage", "year")
        .agg(pl.col("quantity").sum())
    )
    totals = iea.filter(pl.col("country") == "WLD").select("mineral", "stage", "year", total="quantity")
    joined = parts.join(totals, on=["mineral", "stage", "year"])
    assert joined.height == 24
    assert ((joined["quantity"] - joined["total"]).abs() < 1e-6 * joined["total"].clip(lower_bound=1)).all()
    row = _one(iea, mineral="nickel", stage="mining", year=2024, country="ROW")
    assert row["quantity"] == pytest.approx(529.0) and "629" in row["note"]
