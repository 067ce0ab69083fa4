"""Market indicators on small hand-checkable frames."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lodeline.market.concentration import concentration, supply_shares
from lodeline.market.dependency import production_dependency, trade_dependency, with_targets
from lodeline.market.prices import price_indicators
from lodeline.market.series import primary_series
from lodeline.market.trade import import_reliance, import_shares
from lodeline.market.value_creation import local_value_creation

BASE = {
    "mineral": "rare-earths",
    "stage": "mining",
    "measure": "production",
    "unit": "metric tons",
    "basis": "contained",
    "series": "Mine production",
    "is_primary": True,
    "note": None,
    "source": "usgs_mcs2026",
    "edition": "MCS 2026",
    "flag": None,
}


def production(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame([{**BASE, "country_raw": r["country"], **r} for r in rows], infer_schema_length=None)


def test_shares_use_world_total_and_keep_flags() -> None:
    rows = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 270_000.0},
            {"country": "USA", "year": 2024, "quantity": 45_000.0},
            {"country": "MMR", "year": 2024, "quantity": None, "flag": "W"},
            {"country": "ROW", "year": 2024, "quantity": 75_000.0},
            {"country": "WLD", "year": 2024, "quantity": 390_000.0},
        ]
    )
    shares = supply_shares(rows)
    by = {r["country"]: r for r in shares.to_dicts()}
    assert by["CHN"]["share"] == pytest.approx(270 / 390)
    assert by["MMR"]["share"] is None and by["MMR"]["flag"] == "W"  # withheld stays missing, not zero
    conc = concentration(shares).row(0, named=True)
    assert conc["top_supplier"] == "CHN"
    assert conc["n_countries"] == 2  # ROW and withheld rows are not suppliers
    assert conc["hhi"] == pytest.approx((270 / 390 * 100) ** 2 + (45 / 390 * 100) ** 2)
    assert conc["top3_share"] == pytest.approx(315 / 390)


def test_primary_series_prefers_newest_usgs_edition() -> None:
    rows = pl.concat(
        [
            production([{"country": "CHN", "year": 2024, "quantity": 270_000.0}]),
            production([{"country": "CHN", "year": 2024, "quantity": 240_000.0}]).with_columns(
                source=pl.lit("usgs_mcs2025"), edition=pl.lit("MCS 2025")
            ),
            production([{"country": "CHN", "year": 2023, "quantity": 255_000.0}]).with_columns(
                source=pl.lit("usgs_mcs2025"), edition=pl.lit("MCS 2025")
            ),
        ]
    )
    chosen = primary_series(rows).sort("year")
    assert chosen["source"].to_list() == ["usgs_mcs2025", "usgs_mcs2026"]
    assert chosen["quantity"].to_list() == [255_000.0, 270_000.0]


def test_production_dependency_and_targets() -> None:
    rows = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 60.0},
            {"country": "AUS", "year": 2024, "quantity": 20.0},
            {"country": "MMR", "year": 2024, "quantity": 15.0},
            {"country": "USA", "year": 2024, "quantity": 5.0},
        ]
    )
    dep = production_dependency(supply_shares(rows), frozenset({"AUS", "USA"}))
    row = dep.row(0, named=True)
    assert row["top_external_supplier"] == "CHN"
    assert row["top_external_share"] == pytest.approx(0.60)
    assert row["alliance_share"] == pytest.approx(0.25)
    targets = pl.DataFrame(
        {
            "target_id": ["t"],
            "minerals": [json.dumps(["rare-earths"])],
            "metric": ["dependency on a single supplier outside the G7"],
            "comparator": ["<"],
            "value": [60.0],
            "ambition_value": [50.0],
            "deadline": [2030],
        }
    )
    out = with_targets(dep, targets).row(0, named=True)
    assert out["target"] == pytest.approx(0.6) and out["target_year"] == 2030
    assert out["gap"] == pytest.approx(0.0) and out["ambition_gap"] == pytest.approx(0.10)


def trade_rows(rows: list[tuple[str, str, int, float, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "hs6": "850511",
                "mineral": "rare-earths",
                "stage": "component",
                "exporter": e,
                "importer": i,
                "year": y,
                "value_usd": v,
                "quantity_t": None,
                "coverage": c,
                "source": "cepii_baci",
                "edition": "V202601",
                "flag": None,
            }
            for e, i, y, v, c in rows
        ],
        infer_schema_length=None,
    )


def test_trade_dependency_prefers_complete_coverage_and_counts_intra_alliance_supply() -> None:
    trade = trade_rows(
        [
            ("CHN", "DEU", 2024, 70.0, "complete"),
            ("JPN", "DEU", 2024, 20.0, "complete"),
            ("VNM", "USA", 2024, 10.0, "complete"),
            ("CHN", "DEU", 2024, 99.0, "top6"),  # ignored: complete coverage exists for 2024
            ("CHN", "DEU", 2023, 50.0, "top6"),
            ("PHL", "USA", 2023, 50.0, "top6"),
        ]
    )
    dep = trade_dependency(trade, frozenset({"DEU", "JPN", "USA"})).sort("year")
    r23, r24 = dep.to_dicts()
    assert r24["top_external_supplier"] == "CHN" and r24["top_external_share"] == pytest.approx(0.70)
    assert r24["alliance_share"] == pytest.approx(0.20) and r24["coverage"] == "complete"
    assert r23["top_external_share"] == pytest.approx(0.5) and r23["coverage"] == "top6"


def test_import_shares_and_reliance() -> None:
    trade = trade_rows([("CHN", "USA", 2024, 80.0, "complete"), ("JPN", "USA", 2024, 20.0, "complete")])
    shares = import_shares(trade, frozenset({"USA"}))
    assert shares["origin"].to_list() == ["CHN", "JPN"] and shares["share"].to_list() == [0.8, 0.2]
    qty = trade.with_columns(quantity_t=pl.col("value_usd"), stage=pl.lit("mining"))
    prod = production([{"country": "USA", "year": 2024, "quantity": 100.0}])
    reliance = import_reliance(prod, qty, "USA").row(0, named=True)
    assert reliance["import_reliance"] == pytest.approx(100 / 200)


def test_local_value_creation() -> None:
    rows = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 100.0},
            {"country": "CHN", "year": 2024, "quantity": 250.0, "stage": "refining"},
            {"country": "AUS", "year": 2024, "quantity": 50.0},
        ]
    )
    out = local_value_creation(rows)
    assert out.height == 1
    assert out.row(0, named=True)["refined_to_mined"] == pytest.approx(2.5)


def test_price_indicators() -> None:
    import datetime as dt

    periods = [dt.date(2020 + m // 12, m % 12 + 1, 1) for m in range(25)]
    prices = pl.DataFrame(
        {
            "series_id": ["copper"] * 25,
            "mineral": ["copper"] * 25,
            "description": ["Copper, LME"] * 25,
            "period": periods,
            "frequency": ["M"] * 25,
            "value": [100.0 * (1.01**m) for m in range(25)],
            "unit": ["$/mt"] * 25,
        }
    )
    out = price_indicators(prices)
    last = out.row(-1, named=True)
    assert last["yoy_change"] == pytest.approx(1.01**12 - 1)
    assert last["volatility_12m"] == pytest.approx(0.0, abs=1e-9)  # constant growth: no volatility


def test_import_shares_never_count_complete_and_top6_twice() -> None:
    trade = trade_rows(
        [
            ("CHN", "USA", 2024, 80.0, "complete"),
            ("JPN", "USA", 2024, 20.0, "complete"),
            ("CHN", "USA", 2024, 80.0, "top6"),
        ]
    )
    shares = import_shares(trade, frozenset({"USA"}))
    assert shares["imports"].sum() == pytest.approx(100.0)
