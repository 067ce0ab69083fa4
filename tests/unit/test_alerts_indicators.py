"""Each alert indicator on a hand-made series with a known answer (step, spike, flat), the publication table,
and the fusion's explanation."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from lodeline.alerts import publication
from lodeline.alerts.fusion import fuse
from lodeline.alerts.model import IndicatorReading, Level
from lodeline.alerts.policy import control_timeline, parse_measures
from lodeline.alerts.prices import annual_price_timeline, price_timeline, series_signals
from lodeline.alerts.structure import dependency_timeline, stock_cover_readings, trade_timeline


def _monthly(values: list[float], series: str = "wb-x", mineral: str = "nickel") -> pl.DataFrame:
    periods = [dt.date(2000 + i // 12, i % 12 + 1, 1) for i in range(len(values))]
    frame = pl.DataFrame(
        {
            "series_id": series,
            "mineral": mineral,
            "period": periods,
            "frequency": "M",
            "value": values,
            "source": "worldbank_pinksheet",
            "edition": "test",
        }
    )
    return publication.with_published_monthly(frame, "worldbank_pinksheet")


def _wiggle(n: int) -> list[float]:
    """A price that moves ±1 % a month in a fixed pattern (a history with a non-zero MAD)."""
    pattern = [1.01, 0.99, 1.02, 0.98, 1.0, 1.01]
    out, p = [], 100.0
    for i in range(n):
        p *= pattern[i % len(pattern)]
        out.append(p)
    return out


def test_flat_history_stays_normal() -> None:
    """A price that only wiggles ±2 % never leaves normal."""
    tl = price_timeline(_monthly(_wiggle(200)))
    assert set(tl["level"].to_list()) == {"normal"}


def test_step_up_is_a_warning_then_decays() -> None:
    """A 50 % step after 150 months: the 3-month log return is log(1.5) = 0.405 against a history whose 3-month
    returns are within ±3 % (MAD about 0.01), so the z-score is far above the warning threshold (3.5); three
    months later the step has left the 3-month window and the level falls back to normal."""
    values = _wiggle(150)
    values += [v * 1.5 for v in _wiggle(200)[150:180]]
    tl = price_timeline(_monthly(values)).filter(pl.col("indicator") == "price-zscore").sort("observed")
    at_step = tl.filter(pl.col("observed") == dt.date(2012, 7, 1)).row(0, named=True)
    assert at_step["level"] == "alert" and at_step["value"] > 10
    assert tl["level"][-1] == "normal"


def test_spike_is_seen_once_and_published_the_next_month() -> None:
    """A one-month spike: the reading for the spike month is published on the 2nd business day of the month
    after (2012-07 -> 2012-08-02, a Thursday), never on the observation date."""
    values = _wiggle(180)
    values[150] *= 2
    tl = price_timeline(_monthly(values)).filter(pl.col("indicator") == "price-zscore")
    spike = tl.filter(pl.col("observed") == dt.date(2012, 7, 1)).row(0, named=True)
    assert spike["published"] == dt.date(2012, 8, 2)
    assert spike["level"] in {"warning", "alert"}


def test_series_signals_robust_z_by_hand() -> None:
    """Constant 1 % monthly growth then +30 %: the 3-month returns are all log(1.01^3) exactly, so MAD = 0 and no
    z-score is defined (a gap, never 0 or infinity)."""
    values = np.array([100 * 1.01**i for i in range(60)] + [100 * 1.01**60 * 1.3])
    z, _ = series_signals(values)
    assert np.isnan(z[-1])


def test_export_control_levels_by_supplier_share() -> None:
    """A measure announced 2023-07-03, effective 2023-08-01 by a supplier with 98 % of refining: warning at the
    announcement (share >= 25 %), alert at the effective date (>= 60 %), a standing watch 12 months later."""
    text = (
        "measure_id,jurisdiction,measure_type,direction,materials_tracked,announced_date,effective_date,"
        "suspended_from,suspended_until\n"
        "m1,CN,export_licensing,export,gallium,2023-07-03,2023-08-01,,\n"
        "m2,CN,decontrol,export,gallium,2023-07-03,2023-08-01,,\n"
        "m3,US,trade_investigation,import,gallium,2023-07-03,,,\n"
    )
    measures = parse_measures(text)
    assert [m.measure_id for m in measures] == ["m1"]
    shares = pl.DataFrame(
        {
            "mineral": ["gallium", "gallium"],
            "stage": ["refining", "refining"],
            "year": [2022, 2022],
            "country": ["CHN", "JPN"],
            "share": [0.98, 0.02],
            "source": "s",
            "edition": "e",
            "published": [dt.date(2023, 1, 31)] * 2,
        }
    )
    tl = control_timeline(measures, shares).sort("published")
    assert tl["level"].to_list() == ["warning", "alert", "watch"]
    assert tl["published"].to_list() == [dt.date(2023, 7, 3), dt.date(2023, 8, 1), dt.date(2024, 8, 1)]
    # Without share data published by then the level is the documented fallback (watch), not a guess.
    unknown = control_timeline(measures, shares.with_columns(published=pl.lit(dt.date(2024, 1, 1))))
    assert unknown.sort("published")["level"].to_list()[:2] == ["watch", "watch"]


def test_dependency_and_hhi_rise() -> None:
    """Year 1: A 50 %, B 50 % (HHI 5000); year 2: A 80 %, B 20 % (HHI 6400+400 = 6800, a rise of 1800 >= 1500:
    warning). A is outside the alliance {B}: dependency 0.5 (normal) then 0.8 (watch, >= 0.6)."""
    shares = pl.DataFrame(
        {
            "mineral": "x",
            "stage": "mining",
            "year": [2020, 2020, 2021, 2021],
            "country": ["AAA", "BBB", "AAA", "BBB"],
            "share": [0.5, 0.5, 0.8, 0.2],
            "source": "s",
            "edition": "e",
            "published": [dt.date(2021, 1, 31)] * 2 + [dt.date(2022, 1, 31)] * 2,
        }
    )
    tl = dependency_timeline(shares, frozenset({"BBB"}))
    dep = tl.filter(pl.col("indicator") == "dependency").sort("observed")
    assert dep["level"].to_list() == ["normal", "watch"]
    rise = tl.filter(pl.col("indicator") == "hhi-rise").row(0, named=True)
    assert round(rise["value"]) == 1800 and rise["level"] == "warning"


def test_trade_break() -> None:
    """Imports from outside the alliance fall from 100 to 40 (a 60 % fall: warning at >= 50 %); flows between
    members are ignored."""
    trade = pl.DataFrame(
        {
            "mineral": "x",
            "stage": "refining",
            "importer": ["USA", "USA", "USA"],
            "exporter": ["CHN", "CHN", "JPN"],
            "year": [2020, 2021, 2021],
            "value_usd": [100.0, 40.0, 500.0],
            "coverage": "complete",
            "source": "cepii_baci",
            "edition": "e",
            "published": [dt.date(2022, 1, 31), dt.date(2023, 1, 31), dt.date(2023, 1, 31)],
        }
    )
    row = trade_timeline(trade, frozenset({"USA", "JPN"})).row(0, named=True)
    assert abs(row["value"] - 0.6) < 1e-12 and row["level"] == "warning"


def test_stock_cover_only_when_given() -> None:
    assert stock_cover_readings({}, dt.date(2026, 1, 1)) == []
    (r,) = stock_cover_readings({"gallium": 45}, dt.date(2026, 1, 1))
    assert r.level == Level.WARNING  # 45 days: below 60 (warning), above 30 (alert)


def test_publication_rules() -> None:
    """Pink Sheet May 2026 -> 2nd business day of June 2026 (Mon 1, Tue 2); MCS 2026 by its edition date; BACI
    year 2024 in January 2026."""
    assert publication.published_month("worldbank_pinksheet", dt.date(2026, 5, 1)) == dt.date(2026, 6, 2)
    assert publication.published_year("usgs_mcs2026", 2025, "MCS 2026") == dt.date(2026, 2, 6)
    assert publication.published_year("cepii_baci", 2024, "x") == dt.date(2026, 1, 31)


def test_fusion_names_the_drivers() -> None:
    def reading(ind: str, level: Level, value: float) -> IndicatorReading:
        return IndicatorReading(ind, "nickel", value, level, f"{ind} text", "s", "e", None, None)

    alert = fuse(
        "nickel",
        dt.date(2022, 4, 30),
        [reading("dependency", Level.WATCH, 0.7), reading("price-zscore", Level.WARNING, 3.9)],
    )
    assert alert.level == Level.WARNING
    assert alert.readings[0].indicator == "price-zscore"
    assert (
        "price-zscore (price-zscore text)" in alert.explanation and "dependency at watch" in alert.explanation
    )


def test_change_point_on_a_shift_in_returns() -> None:
    """After 150 months of ±2 % wiggles, the price grows 3 % every month: each standardised return is about +2
    robust standard deviations, the CUSUM gains about 1.5 a month (k = 0.5) and reaches 5 within 6 months (a
    watch); the wiggles alone never reach it."""
    flat = price_timeline(_monthly(_wiggle(200))).filter(pl.col("indicator") == "price-change-point")
    assert flat.height > 0 and set(flat["level"].to_list()) == {"normal"}
    values = _wiggle(150)
    for _ in range(12):
        values.append(values[-1] * 1.03)
    tl = price_timeline(_monthly(values)).filter(pl.col("indicator") == "price-change-point").sort("observed")
    after = tl.filter(pl.col("observed") >= dt.date(2012, 7, 1))
    first = after.filter(pl.col("level") == "watch")["observed"].min()
    assert first is not None and first <= dt.date(2012, 12, 1)
    assert set(tl.filter(pl.col("observed") < dt.date(2012, 7, 1))["level"].to_list()) == {"normal"}


def test_annual_unit_value_change() -> None:
    """USGS annual prices (lithium carbonate 11 700 -> 63 700 USD/t, 2021 -> 2022 in the MCS 2026 salient
    table): a rise of 63700/11700 - 1 = 444 % is a watch (>= 50 %); a fall is normal; each row is published with
    its edition (MCS 2026: 2026-02-06), never at the observation date."""
    salient = pl.DataFrame(
        {
            "mineral": "lithium",
            "year": [2021, 2022, 2023],
            "statistic": "price",
            "detail": "carbonate",
            "value": [11700.0, 63700.0, 39000.0],
            "source": "usgs_mcs2026",
            "edition": "MCS 2026",
        }
    )
    tl = annual_price_timeline(publication.with_published_annual(salient)).sort("observed")
    assert [round(v, 3) for v in tl["value"].to_list()] == [
        round(63700 / 11700 - 1, 3),
        round(39000 / 63700 - 1, 3),
    ]
    assert tl["level"].to_list() == ["watch", "normal"]
    assert set(tl["published"].to_list()) == {dt.date(2026, 2, 6)}
