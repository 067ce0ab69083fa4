"""Market indicators on small hand-checkable frames."""

from __future__ import annotations

import json

import polars as pl
import pytest

from lodeline.market.concentration import (
    concentration,
    prefer_newest_source,
    published_shares,
    supply_shares,
)
from lodeline.market.dependency import (
    apparent_consumption_dependency,
    production_dependency,
    trade_dependency,
    with_targets,
)
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


def test_trade_dependency_is_a_share_of_imports_from_outside_the_alliance() -> None:
    """2024 (complete): members import 100 in all, 20 of it from a member (JPN → DEU), so 80 from outside, of which
    CHN 70: 70 / 80 = 0.875 (counting member trade in the denominator would dilute it to 0.70). 2023 rests on the
    truncated top-6 series only and is flagged."""
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
    assert r24["top_external_supplier"] == "CHN" and r24["top_external_share"] == pytest.approx(70 / 80)
    assert r24["denominator"] == pytest.approx(80.0) and r24["alliance_supply"] == pytest.approx(100.0)
    assert r24["alliance_share"] == pytest.approx(0.20) and r24["coverage"] == "complete"
    assert r24["share_of"] == "alliance imports from outside the alliance" and r24["flag"] is None
    assert r23["top_external_share"] == pytest.approx(0.5) and r23["coverage"] == "top6"
    assert r23["flag"] == "top6-truncated"


def test_alliance_share_hidden_in_other_countries_is_unknown_not_zero() -> None:
    """CHN 60, RUS 10, other countries 30 (which may hold members): no member is named, so the alliance's share
    is unknown (NULL, flagged); with AUS named at 10 of 100 and other countries 20 it is a lower bound of 0.10."""
    unknown = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 60.0},
            {"country": "RUS", "year": 2024, "quantity": 10.0},
            {"country": "ROW", "year": 2024, "quantity": 30.0},
        ]
    )
    row = production_dependency(supply_shares(unknown), frozenset({"AUS", "USA"})).row(0, named=True)
    assert row["alliance_share"] is None and row["alliance_supply"] is None
    assert str(row["alliance_share_flag"]).startswith("unknown")
    assert row["top_external_supplier"] == "CHN" and row["top_external_share"] == pytest.approx(0.6)
    partial = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 70.0},
            {"country": "AUS", "year": 2024, "quantity": 10.0},
            {"country": "ROW", "year": 2024, "quantity": 20.0},
        ]
    )
    row = production_dependency(supply_shares(partial), frozenset({"AUS", "USA"})).row(0, named=True)
    assert row["alliance_share"] == pytest.approx(0.10)
    assert str(row["alliance_share_flag"]).startswith("lower bound")


def test_published_shares_fill_in_where_they_are_newer() -> None:
    """Production data to 2023 (all not available), published shares 2020–2024 adding up to 101 % in 2022: the
    published source is newer, so it is used where it has a year (2022 divided by 1.01); production fills 2019 and
    2023."""
    prod = production(
        [
            {"country": "CHN", "year": 2019, "quantity": 80.0},
            {"country": "ROW", "year": 2019, "quantity": 20.0},
            {"country": "CHN", "year": 2023, "quantity": None, "flag": "NA"},
        ]
    )
    published = pl.DataFrame(
        {
            "mineral": "rare-earths",
            "stage": "mining",
            "country": ["CHN", "USA", "CHN", "USA"],
            "year": [2022, 2022, 2024, 2024],
            "share": [0.94, 0.07, 0.90, 0.05],
            "source": "bgs_refined_shares",
            "edition": "e",
            "flag": None,
        },
        schema_overrides={"flag": pl.String},
    )
    merged = prefer_newest_source(supply_shares(prod), published_shares(published))
    by_year = {y: set(g["source"].to_list()) for (y,), g in merged.group_by("year")}
    assert by_year == {
        2019: {"usgs_mcs2026"},
        2022: {"bgs_refined_shares"},
        2023: {"usgs_mcs2026"},  # only production covers it: the gap stays a gap
        2024: {"bgs_refined_shares"},
    }
    assert merged.filter(pl.col("year") == 2023)["share"].is_null().all()
    y2022 = merged.filter(pl.col("year") == 2022)
    assert y2022["share"].sum() == pytest.approx(1.0) and y2022["flag"].str.contains("parts>total").all()
    assert concentration(merged).filter(pl.col("year") == 2024)["hhi"][0] == pytest.approx(90**2 + 5**2)
    # where the production series runs later (to 2025), older published shares are not mixed in
    newer = pl.concat([prod, production([{"country": "CHN", "year": 2025, "quantity": 90.0}])])
    kept = prefer_newest_source(supply_shares(newer), published_shares(published))
    assert set(kept["source"].to_list()) == {"usgs_mcs2026"} and 2022 not in kept["year"].to_list()


def test_apparent_consumption_dependency() -> None:
    """Titanium refining (HS 810820), tonnes. Members: JPN produces 50 (kt → 50,000 t), USA withheld. Imports from
    outside: SAU 20,000, KAZ 10,000; exports to outside 5,000; JPN → USA (member to member) 7,000 is not counted.
    Apparent consumption = 50,000 + 30,000 − 5,000 = 75,000 t; SAU's share 20,000 / 75,000 = 0.2667, flagged
    because the US figure is withheld (production, and so consumption, is a lower bound)."""
    shares = supply_shares(
        production(
            [
                {"country": "CHN", "year": 2024, "quantity": 200.0},
                {"country": "JPN", "year": 2024, "quantity": 50.0},
                {"country": "USA", "year": 2024, "quantity": None, "flag": "W"},
            ]
        ).with_columns(
            mineral=pl.lit("titanium"), stage=pl.lit("refining"), unit=pl.lit("thousand metric tons")
        )
    )
    flows = [
        ("SAU", "JPN", 20_000.0),
        ("KAZ", "USA", 10_000.0),
        ("JPN", "CHN", 5_000.0),
        ("JPN", "USA", 7_000.0),
    ]
    trade = trade_rows([(e, i, 2024, q, "complete") for e, i, q in flows]).with_columns(
        hs6=pl.lit("810820"),
        mineral=pl.lit("titanium"),
        stage=pl.lit("refining"),
        quantity_t=pl.col("value_usd"),
    )
    row = apparent_consumption_dependency(shares, trade, frozenset({"JPN", "USA"})).row(0, named=True)
    assert row["denominator"] == pytest.approx(75_000.0) and row["alliance_supply"] == pytest.approx(50_000.0)
    assert row["top_external_supplier"] == "SAU" and row["top_external_share"] == pytest.approx(
        20_000 / 75_000
    )
    assert row["basis"] == "apparent consumption" and row["flag"] == "production-lower-bound"
    # a stage whose traded product is another material gets no apparent consumption
    other = trade.with_columns(hs6=pl.lit("282200"))
    assert apparent_consumption_dependency(shares, other, frozenset({"JPN", "USA"})).is_empty()


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


def test_local_value_creation_converts_units_and_refuses_incomparable_inputs() -> None:
    """Mined 41,400 t, refined 169.7 kt (same contained basis) → 169,700 / 41,400 = 4.099. A gross-weight refined
    figure against contained mining, or a unit that is not a mass, gives no ratio."""
    rows = production(
        [
            {"country": "CHN", "year": 2024, "quantity": 41_400.0},
            {"country": "CHN", "year": 2024, "quantity": 169.7, "stage": "refining", "unit": "kt"},
            {"country": "AUS", "year": 2024, "quantity": 80_000.0},
            {
                "country": "AUS",
                "year": 2024,
                "quantity": 5.0,
                "stage": "refining",
                "unit": "kt",
                "basis": "gross",
            },
            {"country": "USA", "year": 2024, "quantity": 1_000.0},
            {
                "country": "USA",
                "year": 2024,
                "quantity": 2.0,
                "stage": "refining",
                "unit": "million cubic meters",
            },
        ]
    )
    by = {r["country"]: r for r in local_value_creation(rows).to_dicts()}
    assert by["CHN"]["refined_to_mined"] == pytest.approx(169_700 / 41_400) and by["CHN"]["comparable"]
    assert by["AUS"]["refined_to_mined"] is None and "gross" in by["AUS"]["comparable_note"]
    assert by["USA"]["refined_to_mined"] is None and "not a mass unit" in by["USA"]["comparable_note"]


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
