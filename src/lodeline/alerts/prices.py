"""Price indicators over monthly series (World Bank Pink Sheet): a robust z-score of the 3-month log return
against the series' own previous 120 months (median and 1.4826 x MAD), and the volatility regime (6-month
realised volatility over its median of the previous 60 months). Pure: a prices frame with ``published`` in,
timeline rows out (see :mod:`lodeline.alerts.timeline`). Only monthly series are used; annual unit values are
not turned into a monthly signal. Change points: a two-sided CUSUM of the standardised monthly returns
(``price-change-point``, a watch-only signal)."""

from __future__ import annotations

import numpy as np
import polars as pl

from lodeline.alerts import timeline
from lodeline.alerts.model import Level
from lodeline.alerts.thresholds import spec

RETURN_MONTHS = 3
HISTORY_MONTHS = 120
MIN_HISTORY = 36
VOL_MONTHS = 6
VOL_HISTORY = 60
MAD_SCALE = 1.4826
#: CUSUM allowance k (in robust standard deviations): drifts smaller than this do not accumulate.
CUSUM_K = 0.5


def _past_windows(x: np.ndarray, window: int) -> np.ndarray:
    """Row t holds x[t-window .. t-1] (NaN where before the start): the history a reading at t may use."""
    padded = np.concatenate([np.full(window, np.nan), x])
    return np.lib.stride_tricks.sliding_window_view(padded, window)[: x.size]


def _rolling_robust_z(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    """z_t = (x_t - median(x_{t-window..t-1})) / (1.4826 MAD of the same window); NaN without enough history or
    with MAD = 0 (a gap, never infinity)."""
    past = _past_windows(x, window)
    enough = (~np.isnan(past)).sum(axis=1) >= min_periods
    out = np.full(x.shape, np.nan)
    if not enough.any():
        return out
    rows = past[enough]
    med = np.nanmedian(rows, axis=1)
    mad = np.nanmedian(np.abs(rows - med[:, None]), axis=1) * MAD_SCALE
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(mad > 0, (x[enough] - med) / mad, np.nan)
    out[enough] = z
    return out


def _rolling_ratio_to_median(x: np.ndarray, window: int, min_periods: int) -> np.ndarray:
    past = _past_windows(x, window)
    enough = (~np.isnan(past)).sum(axis=1) >= min_periods
    out = np.full(x.shape, np.nan)
    if not enough.any():
        return out
    med = np.nanmedian(past[enough], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[enough] = np.where(med > 0, x[enough] / med, np.nan)
    return out


def cusum_change_points(returns: np.ndarray, k: float, h: float) -> np.ndarray:
    """Two-sided CUSUM (Page 1954) of monthly log returns standardised by their own previous 120 months (median,
    1.4826 MAD): S+ = max(0, S+ + e - k), S- = max(0, S- - e - k); the statistic max(S+, S-) per month, and a
    change point where it reaches ``h`` (both sums then restart from 0). Causal: month t uses returns up to t."""
    e = _rolling_robust_z(returns, HISTORY_MONTHS, MIN_HISTORY)
    out = np.full(returns.shape, np.nan)
    up = down = 0.0
    for t in range(returns.size):
        if np.isnan(e[t]):
            up = down = 0.0
            continue
        up, down = max(0.0, up + e[t] - k), max(0.0, down - e[t] - k)
        out[t] = max(up, down)
        if out[t] >= h:
            up = down = 0.0
    return out


def series_signals(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(z of the 3-month log return, volatility ratio) for one monthly series, aligned with ``values``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        logp = np.log(np.where(values > 0, values, np.nan))
    ret3 = np.full(values.shape, np.nan)
    ret3[RETURN_MONTHS:] = logp[RETURN_MONTHS:] - logp[:-RETURN_MONTHS]
    ret1 = np.full(values.shape, np.nan)
    ret1[1:] = logp[1:] - logp[:-1]
    z = _rolling_robust_z(ret3, HISTORY_MONTHS, MIN_HISTORY)
    vol = np.full(values.shape, np.nan)
    for t in range(VOL_MONTHS, values.size):
        window = ret1[t - VOL_MONTHS + 1 : t + 1]
        if not np.isnan(window).any():
            vol[t] = float(np.std(window, ddof=1)) * np.sqrt(12)
    ratio = _rolling_ratio_to_median(vol, VOL_HISTORY, MIN_HISTORY)
    return z, ratio


def price_timeline(prices: pl.DataFrame) -> pl.DataFrame:
    """Timeline rows of ``price-zscore`` and ``price-volatility`` for every monthly series in ``prices``
    (columns series_id, mineral, period, frequency, value, source, edition, published)."""
    monthly = prices.filter(pl.col("frequency") == "M").sort(["series_id", "period"])
    parts = []
    for (series_id,), part in monthly.group_by(["series_id"], maintain_order=True):
        values = part["value"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        z, ratio = series_signals(values)
        with np.errstate(divide="ignore", invalid="ignore"):
            logp = np.log(np.where(values > 0, values, np.nan))
        ret1 = np.concatenate([[np.nan], np.diff(logp)])
        cusum = cusum_change_points(
            ret1, CUSUM_K, float(spec("price-change-point").entry[Level.WATCH] or 5.0)
        )
        base = part.select("mineral", "period", "published", "source", "edition").with_columns(
            key=pl.lit(series_id)
        )
        for name, arr in (("price-zscore", z), ("price-volatility", ratio), ("price-change-point", cusum)):
            rows = base.with_columns(
                indicator=pl.lit(name), value=pl.Series(arr, dtype=pl.Float64, nan_to_null=True)
            ).filter(pl.col("value").is_not_null())
            parts.append(rows)
    if not parts:
        return timeline.empty()
    frame = pl.concat(parts).rename({"period": "observed"})
    out = []
    for name in ("price-zscore", "price-volatility", "price-change-point"):
        s = spec(name)
        rows = timeline.apply_hysteresis(frame.filter(pl.col("indicator") == name), s)
        if name == "price-zscore":
            text = pl.format(
                "{} 3-month price change is {} robust standard deviations from its own 10-year history "
                "(watch at {}, warning at {})",
                pl.col("key"),
                pl.col("value").round(2),
                pl.lit(s.entry[Level.WATCH]),
                pl.lit(s.entry[Level.WARNING]),
            )
        elif name == "price-change-point":
            text = pl.format(
                "{} CUSUM of monthly returns is {} (a change point at {}: the level of the returns shifted)",
                pl.col("key"),
                pl.col("value").round(2),
                pl.lit(s.entry[Level.WATCH]),
            )
        else:
            text = pl.format(
                "{} 6-month volatility is {} x its 5-year median (watch at {})",
                pl.col("key"),
                pl.col("value").round(2),
                pl.lit(s.entry[Level.WATCH]),
            )
        out.append(rows.with_columns(explanation=text))
    return timeline.conform(pl.concat(out))


def annual_price_timeline(salient: pl.DataFrame) -> pl.DataFrame:
    """``price-annual``: the year-on-year change of the annual prices and unit values USGS publishes (MCS salient
    statistics, DS 140) for minerals with no monthly series, at annual frequency and per published series
    (``detail``), within one source edition. ``salient``: mineral, year, statistic, detail, value, source, edition,
    published. A watch-only signal (an annual average moves late)."""
    rows = salient.filter(
        (pl.col("statistic") == "price") & pl.col("value").is_not_null() & (pl.col("value") > 0)
    )
    if rows.is_empty():
        return timeline.empty()
    keys = ["mineral", "detail", "source", "edition"]
    changes = (
        rows.sort([*keys, "year"])
        .with_columns(
            price=pl.col("value"),
            prev=pl.col("value").shift(1).over(keys),
            prev_year=pl.col("year").shift(1).over(keys),
        )
        .filter(pl.col("prev").is_not_null() & (pl.col("year") - pl.col("prev_year") == 1))
        .with_columns(
            change=pl.col("value") / pl.col("prev") - 1,
            indicator=pl.lit("price-annual"),
            key=pl.col("detail"),
            observed=pl.date(pl.col("year"), 12, 31),
        )
        .with_columns(value=pl.col("change"))
    )
    s = spec("price-annual")
    out = timeline.apply_hysteresis(changes, s).with_columns(
        explanation=pl.format(
            "{} {}: {} -> {} in {} ({} %; annual data, watch at a {} % rise)",
            pl.col("mineral"),
            pl.col("detail"),
            pl.col("prev"),
            pl.col("price"),
            pl.col("year"),
            (pl.col("change") * 100).round(1),
            pl.lit(round((s.entry[Level.WATCH] or 0) * 100)),
        )
    )
    return timeline.conform(out)
