"""Market figures that were wrong (issue 11), each checked against a value computed by hand from the raw file.

Raw files are under ``src/lodeline/data/raw/``. The G7+ members are the 32 ISO3 codes of group ``G7+`` in
``src/lodeline/domain/data/country_groups.csv`` (G7, EU27 and Australia).
"""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.errors import InvalidArgumentError
from lodeline.services import market as svc

BACI_2024 = "cepii_baci/baci_hs17_V202601_2024_critical_hs6_subset.csv"
IEA = "iea_critical_minerals/iea_cm_may2025_barrytho_iea.json"


def _row(frame: pl.DataFrame, **equals: object) -> dict[str, object]:
    rows = frame.filter(*[pl.col(k) == v for k, v in equals.items()])
    assert rows.height == 1, f"{equals}: {rows.height} rows"
    return rows.row(0, named=True)


# --- 1. market imports: groups before countries, unknown importers are errors ---------------------------------


def test_imports_for_the_default_group_is_the_groups_imports(built_sqlite: tuple[str, Engine]) -> None:
    """G7+ imports of permanent magnets (HS 850511), 2024, by value, intra-group trade excluded.

    From ``BACI_2024``: rows with hs6 850511, importer in G7+, exporter not in G7+ (and ≠ importer): their
    value_kusd adds up to 2,223,003.759; the rows with exporter CHN add up to 1,663,967.103.
    China's share = 1,663,967.103 / 2,223,003.759 = 0.74852. (Before the fix "G7+" — three characters, upper
    case — was taken for a country code and the table was empty.)"""
    frame = svc.imports_by_origin(built_sqlite[1], "rare-earths", "G7+").frame
    china = _row(frame, stage="component", year=2024, origin="CHN")
    assert china["share"] == pytest.approx(1_663_967.103 / 2_223_003.759, rel=1e-9)
    assert china["imports"] == pytest.approx(1_663_967_103, rel=1e-9)
    assert not frame.filter(pl.col("year") == 2024)["origin"].is_in(["DEU", "USA", "JPN"]).any()


def test_imports_resolve_every_group_before_countries(built_sqlite: tuple[str, Engine]) -> None:
    for group in ("G7+", "MSP", "EU27", "g7"):
        assert not svc.imports_by_origin(built_sqlite[1], "cobalt", group).frame.is_empty(), group
    usa = svc.imports_by_origin(built_sqlite[1], "cobalt", "USA").frame
    assert not usa.is_empty() and "USA" not in usa["origin"].to_list()


@pytest.mark.parametrize("importer", ["XYZ", "MSQ", "Narnia"])
def test_an_unknown_importer_is_an_error(built_sqlite: tuple[str, Engine], importer: str) -> None:
    with pytest.raises(InvalidArgumentError, match=rf"importer '{importer}' is neither a country group"):
        svc.imports_by_origin(built_sqlite[1], "cobalt", importer)


# --- 2. value creation: units converted, incomparable inputs give no ratio -------------------------------------


def test_lithium_refined_to_mined_converts_units(built_sqlite: tuple[str, Engine]) -> None:
    """China, lithium, 2024. Refined: ``IEA`` supply.Lithium.refining.countries.China["2024"] =
    169.67759096410308 kt Li content of lithium chemicals. Mined: ``usgs_mcs2026/MCS2026_Commodities_Data.csv``,
    LITHIUM, China, Mine production, 2024 = 41,400 metric tons lithium content.
    Ratio = 169.67759096410308 × 1,000 t / 41,400 t = 4.0985 (it printed 0.0041 when kt were divided by t)."""
    frame = svc.value_creation(built_sqlite[1], "lithium").frame
    china = _row(frame, country="CHN", year=2024)
    assert china["refined_to_mined"] == pytest.approx(169.67759096410308 * 1000 / 41_400, rel=1e-9)
    assert china["mined_t"] == 41_400 and china["refined_t"] == pytest.approx(169_677.59096410308)
    assert (china["mined_unit"], china["refined_unit"]) == ("metric tons", "kt")
    assert (china["mined_source"], china["refined_source"]) == ("usgs_mcs2026", "iea_critical_minerals")
    assert china["comparable"] is True and china["comparable_note"] is None


@pytest.mark.parametrize(
    ("mineral", "why"),
    [("rare-earths", "magnet rare earths only"), ("graphite", "synthetic"), ("titanium", "weight")],
)
def test_no_ratio_of_incomparable_inputs(built_sqlite: tuple[str, Engine], mineral: str, why: str) -> None:
    """USGS rare-earth mining is all rare-earth oxides, IEA refining the magnet rare earths only; IEA battery-grade
    graphite includes synthetic graphite; titanium mining is TiO2 content, titanium sponge gross weight."""
    frame = svc.value_creation(built_sqlite[1], mineral).frame
    assert frame.height > 0
    assert frame["refined_to_mined"].is_null().all()
    assert not frame["comparable"].any()
    assert frame["comparable_note"].str.contains(why).all()


# --- 3. overview: every figure carries its own stage and year ---------------------------------------------------


def test_overview_figures_come_from_their_own_stage_and_year(built_sqlite: tuple[str, Engine]) -> None:
    engine = built_sqlite[1]
    overview = svc.minerals_overview(engine).frame
    assert {"stage", "year"} <= set(overview.columns) and "latest_year" not in overview.columns
    for row in overview.iter_rows(named=True):
        conc = svc.concentration(engine, row["mineral"], row["stage"]).frame
        same = _row(conc, year=row["year"])
        assert row["hhi"] == pytest.approx(same["hhi"]) and row["top_supplier"] == same["top_supplier"]


def test_overview_graphite_names_what_is_measured(built_sqlite: tuple[str, Engine]) -> None:
    """The graphite row's figures are IEA battery-grade graphite (natural and synthetic), refining, 2024.

    ``IEA`` supply.Graphite.refining: China 1,794.824456364271 kt of a total of 1,875.2524875207132 kt in 2024,
    so the top-1 share is 0.95711. Before the fix the row said 2025 (the USGS mining year) and "Natural graphite"."""
    row = _row(svc.minerals_overview(built_sqlite[1]).frame, mineral="graphite")
    assert (row["stage"], row["year"]) == ("refining", 2024)
    assert row["name"] == "Battery-grade graphite (natural and synthetic)"
    assert row["top_supplier"] == "CHN"
    assert row["top1_share"] == pytest.approx(1794.824456364271 / 1875.2524875207132, rel=1e-9)


# --- 4. trade dependency: imports from outside the alliance -------------------------------------------------------


@pytest.mark.parametrize(
    ("mineral", "stage", "china", "external", "hs6"),
    [
        ("rare-earths", "component", 1_663_967.103, 2_223_003.759, "850511"),
        ("cobalt", "refining", 18_810.418, 28_657.048, "282200"),
    ],
)
def test_trade_dependency_is_a_share_of_imports_from_outside(
    built_sqlite: tuple[str, Engine], mineral: str, stage: str, china: float, external: float, hs6: str
) -> None:
    """``BACI_2024``, 2024, value_kusd of rows with the HS6 code, importer in G7+, exporter ≠ importer.
    Magnets 850511: all member imports 2,677,013.283, from outside 2,223,003.759, from CHN 1,663,967.103, so China is
    62.2 % of all member imports but 1,663,967.103 / 2,223,003.759 = 74.85 % of imports from outside.
    Cobalt oxides 282200: all 203,999.881, outside 28,657.048, CHN 18,810.418 → 9.2 % vs 65.64 %."""
    dep = svc.dependency(built_sqlite[1], mineral, "G7+").frame
    row = _row(dep, stage=stage, year=2024, basis="trade value")
    assert row["top_external_supplier"] == "CHN"
    assert row["top_external_share"] == pytest.approx(china / external, rel=1e-9)
    assert row["denominator"] == pytest.approx(external * 1000, rel=1e-9)
    assert row["share_of"] == "alliance imports from outside the alliance"
    assert row["coverage"] == "complete" and row["flag"] is None


def test_years_from_the_truncated_trade_series_are_flagged(built_sqlite: tuple[str, Engine]) -> None:
    """2018–2023 rest on baci_hs17_V202601_2018_2024_top6_per_side_usd.csv (top-6 partners per side only)."""
    dep = svc.dependency(built_sqlite[1], "rare-earths", "G7+").frame
    trade = dep.filter(pl.col("basis") == "trade value")
    assert set(trade.filter(pl.col("year") <= 2023)["flag"].to_list()) == {"top6-truncated"}
    assert set(dep.filter(pl.col("basis") == "production")["share_of"].to_list()) == {"world production"}


# --- 5. gallium 2025: parts above the rounded total ---------------------------------------------------------------


def test_gallium_2025_shares_never_sum_above_one(built_sqlite: tuple[str, Engine]) -> None:
    """``usgs_mcs2026/MCS2026_Commodities_Data.csv``, GALLIUM primary production 2025 (kg): China 900,000,
    Japan 3,000, Russia 6,000 (United States and other countries "--"), World total (rounded) 900,000.
    Parts 909,000 > 900,000, so the denominator is 909,000: China 900/909 = 0.990099, Russia 6/909, Japan 3/909.
    HHI = 99.0099² + 0.660066² + 0.330033² = 9,803.51 (it read 10,001 against the rounded total)."""
    engine = built_sqlite[1]
    frame = svc.shares(engine, "gallium", "refining", 2025).frame
    assert frame["share"].sum() == pytest.approx(1.0) and frame["share"].sum() <= 1 + 1e-12
    assert _row(frame, country="CHN")["share"] == pytest.approx(900_000 / 909_000, rel=1e-12)
    assert frame["flag"].str.contains("parts>total").all()
    conc = _row(svc.concentration(engine, "gallium", "refining").frame, year=2025)
    expected = sum((q / 909_000 * 100) ** 2 for q in (900_000, 6_000, 3_000))
    assert conc["hhi"] == pytest.approx(expected, rel=1e-12) and expected == pytest.approx(9803.505, abs=1e-3)
    assert conc["world_total"] == 909_000


# --- 6. germanium: unknown stays unknown, newest source per stage -----------------------------------------------


def test_germanium_alliance_share_is_unknown_not_zero(built_sqlite: tuple[str, Engine]) -> None:
    """``usgs_myb2023_gallium_germanium/myb1-2023-germanium.xlsx`` table 1, 2019 (kg): China 85,700, Russia 5,000,
    Other 40,000 ("includes Belgium, Canada, Germany and others"), total 131,000. No alliance member is named, yet
    "Other" includes members: the alliance share is unknown (NULL, flagged), not 0. The top external supplier is
    still known: China 85,700 / 131,000 = 0.654198."""
    dep = svc.dependency(built_sqlite[1], "germanium", "G7+").frame
    row = _row(dep, stage="refining", year=2019, basis="production")
    assert row["alliance_share"] is None and str(row["alliance_share_flag"]).startswith("unknown")
    assert row["top_external_share"] == pytest.approx(85_700 / 131_000, rel=1e-12)
    assert dep.filter(pl.col("alliance_share") == 0).is_empty()


def test_germanium_refining_uses_the_newest_source(built_sqlite: tuple[str, Engine]) -> None:
    """``bgs_refined_shares/bgs_refined_production_shares_2000_2024.csv`` runs to 2024 (the yearbook to 2023, with
    2021–2023 not available), so the market views use it. Germanium 2020: CN 91, RU 5, US 4 (%): the G7+ share is the
    United States' 0.04 and China is the top external supplier at 0.91. 2024: CN 94, US 3, RU 2 → HHI 94² + 3² + 2²
    = 8,849, and 1 % of output is not attributed, so the alliance share 0.03 is a lower bound."""
    engine = built_sqlite[1]
    dep = svc.dependency(engine, "germanium", "G7+").frame
    y2020 = _row(dep, stage="refining", year=2020, basis="production")
    assert y2020["alliance_share"] == pytest.approx(0.04) and y2020["top_external_share"] == pytest.approx(
        0.91
    )
    assert y2020["source"] == "bgs_refined_shares"
    y2024 = _row(dep, stage="refining", year=2024, basis="production")
    assert y2024["alliance_share"] == pytest.approx(0.03) and "lower bound" in str(
        y2024["alliance_share_flag"]
    )
    row = _row(svc.minerals_overview(engine).frame, mineral="germanium")
    assert (row["stage"], row["year"], row["hhi"]) == ("refining", 2024, pytest.approx(8849.0))


# --- 7. shares default to the latest year with a known share ------------------------------------------------------


def test_germanium_refining_shares_default_to_a_year_with_data(built_sqlite: tuple[str, Engine]) -> None:
    """Without --year the view shows the latest year with at least one known share: 2024 (BGS: CN 94 %, US 3 %,
    RU 2 %), not the yearbook's 2023 whose every figure is "NA"."""
    frame = svc.shares(built_sqlite[1], "germanium", "refining").frame
    assert frame["year"].unique().to_list() == [2024]
    assert frame["share"].is_not_null().any()
    assert _row(frame, country="CHN")["share"] == pytest.approx(0.94)


def test_apparent_consumption_basis_where_production_and_trade_measure_the_same_material(
    built_sqlite: tuple[str, Engine],
) -> None:
    """Titanium sponge 2024 (HS 810820, unwrought titanium). Production, ``usgs_mcs2026/MCS2026_Commodities_Data.csv``
    TITANIUM "Titanium sponge metal production" 2024 (t): Japan 57,000 is the only member with a figure (United States
    W, so the members' production is a lower bound and the row is flagged). Trade, ``BACI_2024`` hs6 810820, qty_t:
    members' imports from outside 36,033.465 (largest Saudi Arabia 15,985.17), members' exports to outside
    4,911.135. Apparent consumption = 57,000 + 36,033.465 − 4,911.135 = 88,122.33 t; Saudi Arabia's share
    = 15,985.17 / 88,122.33 = 0.18140."""
    dep = svc.dependency(built_sqlite[1], "titanium", "G7+").frame
    row = _row(dep, stage="refining", year=2024, basis="apparent consumption")
    assert row["denominator"] == pytest.approx(57_000 + 36_033.465 - 4_911.135, rel=1e-9)
    assert row["alliance_supply"] == pytest.approx(57_000)
    assert row["top_external_supplier"] == "SAU"
    assert row["top_external_share"] == pytest.approx(15_985.17 / 88_122.33, rel=1e-9)
    assert row["unit"] == "t" and row["flag"] == "production-lower-bound"
    assert row["share_of"].startswith("alliance apparent consumption")
    # no apparent consumption where trade and production measure different things (cobalt oxides vs refined Co)
    cobalt = svc.dependency(built_sqlite[1], "cobalt", "G7+").frame
    assert cobalt.filter(pl.col("basis") == "apparent consumption").is_empty()
