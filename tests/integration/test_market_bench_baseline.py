"""The market benchmark's three implementations of one indicator set (Lodeline, vectorised pandas, DuckDB SQL) agree
on the bundled data, the check that guards the ratios fails on a difference, and hand-computed figures come out of
each of them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import polars as pl
import pytest
from benchmarks.market_peers import (
    COLUMNS,
    MarketBaselineMismatch,
    check_equal,
    compare,
    duckdb_connection,
    duckdb_core,
    lodeline_core,
    pandas_core,
)
from sqlalchemy import Engine

from lodeline.domain.groups import get_group
from lodeline.store.canonical import read_table


@pytest.fixture(scope="module")
def three(built_sqlite: tuple[str, Engine]) -> dict[str, dict[str, Any]]:
    engine = built_sqlite[1]
    alliance = get_group("G7+").members
    production, trade = read_table(engine, "production"), read_table(engine, "trade")
    con = duckdb_connection(production, trade)
    out = {
        "lodeline": lodeline_core(production, trade, alliance),
        "pandas": pandas_core(production.to_pandas(), trade.to_pandas(), alliance),
        "duckdb": duckdb_core(con, alliance),
    }
    con.close()
    return out


def _as_pandas(frame: Any) -> pd.DataFrame:
    return frame if isinstance(frame, pd.DataFrame) else frame.to_pandas()


def _row(frame: Any, **equals: Any) -> pd.Series:
    df = _as_pandas(frame)
    for column, value in equals.items():
        df = df[df[column] == value]
    assert len(df) == 1, equals
    return df.iloc[0]


def test_all_three_compute_the_same_indicators(three: dict[str, dict[str, Any]]) -> None:
    rows = check_equal(three["lodeline"], pandas=three["pandas"], duckdb=three["duckdb"])
    assert set(rows) == set(COLUMNS)
    assert (
        min(rows["shares"], rows["concentration"], rows["production_dependency"], rows["trade_value"]) > 100
    )
    assert rows["trade_quantity"] > 0


@pytest.mark.parametrize("peer", ["pandas", "duckdb"])
def test_gallium_2025_hhi_by_hand(three: dict[str, dict[str, Any]], peer: str) -> None:
    """``usgs_mcs2026/MCS2026_Commodities_Data.csv``, GALLIUM primary production 2025 (kg): China 900,000, Japan
    3,000, Russia 6,000, World total (rounded) 900,000. The parts (909,000) exceed the rounded total, so they are the
    denominator: HHI = (900/909·100)² + (6/909·100)² + (3/909·100)² = 9,803.505; top supplier China."""
    expected = sum((q / 909_000 * 100) ** 2 for q in (900_000, 6_000, 3_000))
    for name in ("lodeline", peer):
        row = _row(three[name]["concentration"], mineral="gallium", stage="refining", year=2025)
        assert row["hhi"] == pytest.approx(expected, rel=1e-12) and row["top_supplier"] == "CHN", name
        assert row["n_countries"] == 3 and row["top1_share"] == pytest.approx(900 / 909, rel=1e-12), name


@pytest.mark.parametrize("peer", ["pandas", "duckdb"])
def test_germanium_2019_unknown_alliance_share_by_hand(three: dict[str, dict[str, Any]], peer: str) -> None:
    """``usgs_myb2023_gallium_germanium/myb1-2023-germanium.xlsx`` table 1, 2019 (kg): China 85,700, Russia 5,000,
    Other 40,000 (includes members), total 131,000. No member is named but "Other" may hide some: the alliance share
    is NULL (unknown), not 0; the largest external producer is China at 85,700 / 131,000 = 0.654198."""
    for name in ("lodeline", peer):
        row = _row(three[name]["production_dependency"], mineral="germanium", stage="refining", year=2019)
        assert pd.isna(row["alliance_share"]), name
        assert row["top_external_supplier"] == "CHN", name
        assert row["top_external_share"] == pytest.approx(85_700 / 131_000, rel=1e-12), name


def test_a_difference_fails_the_check(three: dict[str, dict[str, Any]]) -> None:
    """One HHI off by 1e-8 relative, one supplier renamed, one known share made NULL: each raises, naming the row."""
    ours = three["lodeline"]
    conc = _as_pandas(three["pandas"]["concentration"]).copy()
    i = conc.index[(conc["mineral"] == "gallium") & (conc["year"] == 2025)][0]
    conc.loc[i, "hhi"] *= 1 + 1e-8
    with pytest.raises(
        MarketBaselineMismatch, match=r"concentration\.hhi differs at \(gallium, refining, 2025\)"
    ):
        compare("concentration", ours["concentration"], conc, "pandas")
    trade = _as_pandas(three["duckdb"]["trade_value"]).copy()
    trade.loc[trade["top_external_supplier"].notna().idxmax(), "top_external_supplier"] = "ZZZ"
    with pytest.raises(MarketBaselineMismatch, match=r"trade_value\.top_external_supplier"):
        compare("trade_value", ours["trade_value"], trade, "duckdb")
    dep = _as_pandas(three["pandas"]["production_dependency"]).copy()
    dep.loc[dep["alliance_share"].notna().idxmax(), "alliance_share"] = None
    with pytest.raises(MarketBaselineMismatch, match=r"production_dependency\.alliance_share"):
        compare("production_dependency", ours["production_dependency"], dep, "pandas")
    fewer = ours["shares"].filter(pl.col("country") != "CHN")
    with pytest.raises(MarketBaselineMismatch, match="rows"):
        compare("shares", ours["shares"], fewer, "pandas")
