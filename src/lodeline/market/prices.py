"""Price indicators: annual change and rolling volatility of monthly series."""

from __future__ import annotations

import math

import polars as pl


def price_indicators(prices: pl.DataFrame, *, window: int = 12) -> pl.DataFrame:
    """For each monthly series: year-on-year change (vs the same month a year earlier) and the annualised
    rolling volatility of monthly log returns over ``window`` months (std × √12)."""
    monthly = prices.filter(pl.col("frequency") == "M").sort(["series_id", "period"])
    return (
        monthly.with_columns(
            yoy_change=(pl.col("value") / pl.col("value").shift(12).over("series_id") - 1),
            _ret=(pl.col("value") / pl.col("value").shift(1).over("series_id")).log(),
        )
        .with_columns(
            volatility_12m=pl.col("_ret").rolling_std(window_size=window).over("series_id") * math.sqrt(12)
        )
        .drop("_ret")
    )


def annual_average(prices: pl.DataFrame) -> pl.DataFrame:
    """Calendar-year average of each monthly series (months with values only; ``months`` counts them)."""
    return (
        prices.filter((pl.col("frequency") == "M") & pl.col("value").is_not_null())
        .group_by("series_id", pl.col("period").dt.year().alias("year"))
        .agg(value=pl.col("value").mean(), months=pl.len(), unit=pl.col("unit").first())
        .sort(["series_id", "year"])
    )
