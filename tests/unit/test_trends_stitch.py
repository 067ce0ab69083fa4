"""The pure stitching (``lodeline.market.trends``) on the raw files as the parsers read them, no store.

Figures by hand from ``data/raw/bgs_refined_shares/bgs_refined_production_shares_2000_2024.csv`` and
``data/raw/usgs_ds140/ds140-rare-earths-2020.xlsx`` (see each test)."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import bgs_refined_shares, usgs_ds140
from lodeline.domain.groups import get_group
from lodeline.market.trends import KIND_PUBLISHED_SHARES, KIND_WORLD_TOTAL, TREND_COLUMNS, stitch, trend

G7_PLUS = get_group("G7+").members


@pytest.fixture(scope="module")
def bgs() -> pl.DataFrame:
    return bgs_refined_shares.parse(RAW_DATA_DIR / "bgs_refined_shares")["stage_shares"]


@pytest.fixture(scope="module")
def ds140() -> pl.DataFrame:
    production = usgs_ds140.parse(RAW_DATA_DIR / "usgs_ds140")["production"]
    return production.filter(pl.col("is_primary")).with_columns(pl.col("year").cast(pl.Int64))


def test_one_source_no_breaks_and_gaps_stay_gaps(bgs: pl.DataFrame) -> None:
    """Magnesium, BGS only: the CSV's years 2000, 2005, 2010, 2015, 2020–2024 and no others (2001–2004 are not
    invented). 2000: CN 32, US 21, CA 14, NO 9, RU 8, IL 7, FR 4, KZ 2, BR 1 (sum 98) → HHI 1,024 + 441 + 196 + 81
    + 64 + 49 + 16 + 4 + 1 = 1,876, top-3 0.67; outside G7+ (US, CA, FR are members; Norway is not) China 0.32."""
    series = trend(pl.DataFrame(), bgs.filter(pl.col("mineral") == "magnesium"), G7_PLUS).series
    assert series.columns == list(TREND_COLUMNS)
    assert series["year"].to_list() == [2000, 2005, 2010, 2015, 2020, 2021, 2022, 2023, 2024]
    assert not series["break"].any() and series["alt_source"].is_null().all()
    y2000 = series.row(0, named=True)
    assert y2000["hhi"] == pytest.approx(1876) and y2000["top3_share"] == pytest.approx(0.67)
    assert (y2000["top_external_supplier"], y2000["alliance_dependency"]) == ("CHN", pytest.approx(0.32))
    assert y2000["kind"] == KIND_PUBLISHED_SHARES and y2000["world_total"] is None


def test_world_totals_carry_no_concentration(ds140: pl.DataFrame) -> None:
    """DS140 rare earths, "World production" column: 1,040 t in 1900, 243,000 t in 2020; no country rows, so no
    HHI, top supplier or dependency (the U.S. column is a non-primary series and must not make the U.S. the
    "top supplier")."""
    series = trend(ds140.filter(pl.col("mineral") == "rare-earths"), pl.DataFrame(), G7_PLUS).series
    assert series["year"].min() == 1900 and series["year"].max() == 2020
    assert series.height == 121  # every year 1900–2020 has a world total
    assert series.filter(pl.col("year") == 2020)["world_total"].item() == pytest.approx(243_000)
    assert set(series["kind"]) == {KIND_WORLD_TOTAL}
    assert series.select("hhi", "top_supplier", "alliance_dependency").null_count().row(0) == (121, 121, 121)


def test_shares_beat_world_totals_and_the_break_is_marked(bgs: pl.DataFrame, ds140: pl.DataFrame) -> None:
    """Two sources over the same years (DS140 lithium world totals 2000–2021 relabelled as a refining stage, with
    BGS cobalt refining shares relabelled as lithium, only to have two real sources overlap): published shares
    come before world totals, so 2000, 2005, … are BGS and the DS140 years between them stay DS140; every switch
    is a break, and a switch back from DS140 has no jump (DS140 has no HHI to compare)."""
    totals = ds140.filter(pl.col("mineral") == "lithium").with_columns(stage=pl.lit("refining"))
    shares = bgs.filter(pl.col("mineral") == "cobalt").with_columns(mineral=pl.lit("lithium"))
    series = trend(totals, shares, G7_PLUS).series
    by_year = dict(zip(series["year"], series["source"], strict=True))
    assert by_year[2000] == by_year[2005] == by_year[2024] == "bgs_refined_shares"
    assert by_year[2001] == by_year[2019] == "usgs_ds140" and by_year[2021] == "bgs_refined_shares"
    y2001 = series.filter(pl.col("year") == 2001).row(0, named=True)
    assert (y2001["break"], y2001["break_from"]) == (True, "bgs_refined_shares")
    y2005 = series.filter(pl.col("year") == 2005).row(0, named=True)
    assert (y2005["break"], y2005["break_from"], y2005["alt_source"]) == (True, "usgs_ds140", "usgs_ds140")
    assert y2005["jump_hhi"] is None  # the overlap year 2005 has no DS140 HHI


def test_empty_inputs_give_an_empty_series() -> None:
    assert stitch(pl.DataFrame()).is_empty()
    assert trend(pl.DataFrame(), pl.DataFrame(), G7_PLUS).series.is_empty()
