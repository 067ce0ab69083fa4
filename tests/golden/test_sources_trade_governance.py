"""Golden checks of the BACI and WGI parsers against figures printed in the bundled files and their PROVENANCE."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import cepii_baci, wgi


@pytest.fixture(scope="module")
def trade() -> pl.DataFrame:
    return cepii_baci.parse(RAW_DATA_DIR / "cepii_baci")["trade"]


@pytest.fixture(scope="module")
def governance() -> pl.DataFrame:
    return wgi.parse(RAW_DATA_DIR / "wgi")["governance"]


def test_baci_spot_check_chile_china_lithium_carbonate_2024(trade: pl.DataFrame) -> None:
    # PROVENANCE spot check: Chile -> China, 283691 lithium carbonate = 185,820 t / USD 2.03 bn.
    row = trade.filter(
        (pl.col("coverage") == "complete")
        & (pl.col("exporter") == "CHL")
        & (pl.col("importer") == "CHN")
        & (pl.col("hs6") == "283691")
    ).row(0, named=True)
    assert round(row["quantity_t"]) == 185_820
    assert row["value_usd"] == pytest.approx(2.03e9, rel=0.005)
    assert (row["mineral"], row["stage"], row["year"]) == ("lithium", "refining", 2024)
    assert row["_file"] == "cepii_baci/baci_hs17_V202601_2024_critical_hs6_subset.csv"


def test_baci_no_row_dropped(trade: pl.DataFrame) -> None:
    complete = trade.filter(pl.col("coverage") == "complete")
    assert complete.height == 21_723  # PROVENANCE row count; S19 rows are mapped, not dropped
    top6 = trade.filter(pl.col("coverage") == "top6")
    # 115,401 published rows less the two duplicate copies (germanium, hafnium) of the 3,337 HS 811292 rows
    assert top6.height == 115_401 - 2 * 3_337
    assert complete["_row"].min() == 2 and complete["_row"].max() == 21_724


def test_baci_other_asia_is_taiwan(trade: pl.DataFrame) -> None:
    complete = trade.filter(pl.col("coverage") == "complete")
    s19 = complete.filter((pl.col("exporter") == "TWN") | (pl.col("importer") == "TWN"))
    assert s19.height == 627  # lines containing S19 in the raw file


def test_baci_broad_hs_group_booked_once(trade: pl.DataFrame) -> None:
    assert trade.filter(pl.col("mineral").is_in(["gallium", "germanium", "hafnium"])).height == 0
    group = trade.filter(pl.col("hs6") == "811292")
    assert set(group["mineral"]) == {"gallium-germanium-group"}
    assert group.filter(pl.col("coverage") == "top6").height == 3_337
    dupes = group.group_by("coverage", "year", "exporter", "importer").len().filter(pl.col("len") > 1)
    assert dupes.height == 0


def test_baci_magnets_are_rare_earth_components_and_missing_quantity_is_flagged(trade: pl.DataFrame) -> None:
    magnets = trade.filter(pl.col("hs6") == "850511")
    assert set(zip(magnets["mineral"], magnets["stage"], strict=True)) == {("rare-earths", "component")}
    no_qty = trade.filter((pl.col("coverage") == "complete") & pl.col("quantity_t").is_null())
    assert no_qty.height == 1_030 and set(no_qty["flag"]) == {"NA"}
    top6 = trade.filter(pl.col("coverage") == "top6")
    assert top6["quantity_t"].null_count() == top6.height
    assert set(top6["year"]) == set(range(2018, 2025))
    coking = trade.filter(pl.col("hs6") == "270112")
    assert set(coking["mineral"]) == {"coking-coal"}


@pytest.mark.parametrize(
    ("iso3", "indicator", "year", "estimate", "pct_rank"),
    [
        ("USA", "ge", 2023, 1.22, 87.7),
        ("CHN", "rq", 2023, -0.36, 38.7),
        ("COD", "pv", 2023, -2.04, 5.2),  # WGI code ZAR
        ("ROU", "cc", 2023, 0.04, 56.1),  # WGI code ROM
        ("XKX", "rl", 2023, -0.31, 41.5),  # WGI code KSV
        ("TLS", "va", 2023, 0.43, 61.3),  # WGI code TMP
        ("NOR", "ge", 2022, 1.94, 98.1),
    ],
)
def test_wgi_published_values(
    governance: pl.DataFrame, iso3: str, indicator: str, year: int, estimate: float, pct_rank: float
) -> None:
    row = governance.filter(
        (pl.col("country") == iso3) & (pl.col("indicator") == indicator) & (pl.col("year") == year)
    ).row(0, named=True)
    assert row["estimate"] == pytest.approx(estimate)
    assert row["pct_rank"] == pytest.approx(pct_rank)
    assert row["flag"] is None


def test_wgi_missing_markers_are_null_with_flag(governance: pl.DataFrame) -> None:
    # American Samoa 1996 cc is ".." in the file
    row = governance.filter(
        (pl.col("country") == "ASM") & (pl.col("indicator") == "cc") & (pl.col("year") == 1996)
    ).row(0, named=True)
    assert row["estimate"] is None and row["pct_rank"] is None and row["flag"] == "NA"
    flagged = governance.filter(pl.col("flag") == "NA")
    assert flagged["estimate"].null_count() + flagged["pct_rank"].null_count() >= flagged.height
    # 32,100 rows less the 150 of the former Netherlands Antilles (excluded on purpose)
    assert governance.height == 32_100 - 150
    assert set(governance["indicator"]) == {"va", "pv", "ge", "rq", "rl", "cc"}
