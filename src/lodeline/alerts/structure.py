"""Structural indicators at annual frequency: the alliance's single-supplier dependency past the G7 test, a rise
in production concentration (HHI), a break in the alliance's imports from outside the alliance (BACI), and the
optional stock cover. Pure: frames with ``published`` in, timeline rows out (see :mod:`lodeline.alerts.timeline`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import polars as pl

from lodeline.alerts import timeline
from lodeline.alerts.model import IndicatorReading, Level
from lodeline.alerts.thresholds import spec


def _year_end(year: pl.Expr) -> pl.Expr:
    return pl.date(year, 12, 31)


def dependency_timeline(shares: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """``dependency`` (largest non-member's share, per stage) and ``hhi-rise`` (one-year HHI change within the same
    source series). ``shares``: mineral, stage, year, country, share, source, edition, published."""
    known = shares.filter(pl.col("share").is_not_null())
    keys = ["mineral", "stage", "year", "source", "edition", "published"]
    external = (
        known.filter(~pl.col("country").is_in(list(members)))
        .sort("share", descending=True)
        .group_by(keys, maintain_order=True)
        .agg(value=pl.col("share").first(), supplier=pl.col("country").first())
    )
    s = spec("dependency")
    dep = timeline.apply_hysteresis(
        external.with_columns(
            indicator=pl.lit("dependency"), key=pl.col("stage"), observed=_year_end(pl.col("year"))
        ),
        s,
    ).with_columns(
        explanation=pl.format(
            "{} {} {}: {} supplies {} of world production (G7 test: below {})",
            pl.col("mineral"),
            pl.col("stage"),
            pl.col("year"),
            pl.col("supplier"),
            (pl.col("value") * 100).round(1).cast(pl.String) + pl.lit(" %"),
            pl.lit(f"{s.entry[Level.WATCH]:.0%}"),
        )
    )
    hhi = (
        known.group_by(keys)
        .agg(hhi=(pl.col("share") ** 2).sum() * 10_000)
        .sort(["mineral", "stage", "source", "year"])
        .with_columns(prev=pl.col("hhi").shift(1).over(["mineral", "stage", "source"]))
        .with_columns(
            prev_year=pl.col("year").shift(1).over(["mineral", "stage", "source"]),
            value=pl.col("hhi") - pl.col("prev"),
        )
        .filter(pl.col("value").is_not_null() & (pl.col("year") - pl.col("prev_year") == 1))
    )
    h = spec("hhi-rise")
    rise = timeline.apply_hysteresis(
        hhi.with_columns(
            indicator=pl.lit("hhi-rise"), key=pl.col("stage"), observed=_year_end(pl.col("year"))
        ),
        h,
    ).with_columns(
        explanation=pl.format(
            "{} {} HHI {} -> {} in {} ({} points; watch at +{})",
            pl.col("mineral"),
            pl.col("stage"),
            pl.col("prev").round(0),
            pl.col("hhi").round(0),
            pl.col("year"),
            pl.col("value").round(0),
            pl.lit(h.entry[Level.WATCH]),
        )
    )
    return timeline.conform(pl.concat([timeline.conform(dep), timeline.conform(rise)]))


def trade_timeline(trade: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """``trade-break``: the fall of the members' imports from outside the alliance, year on year, per mineral and
    stage and coverage (complete or top-6: each its own series, so a change of series is not read as a break).
    ``trade``: mineral, stage, importer, exporter, year, value_usd, coverage, source, edition, published."""
    inflow = trade.filter(
        pl.col("importer").is_in(list(members))
        & ~pl.col("exporter").is_in(list(members))
        & pl.col("value_usd").is_not_null()
    )
    # Each coverage (complete, top-6) is its own series: a change of coverage is not a break, and choosing one
    # by how many years it has would look ahead.
    keys = ["mineral", "stage", "coverage", "source", "edition"]
    flows = (
        inflow.group_by([*keys, "year", "published"])
        .agg(total=pl.col("value_usd").sum())
        .sort([*keys, "year"])
        .with_columns(
            prev=pl.col("total").shift(1).over(keys),
            prev_year=pl.col("year").shift(1).over(keys),
        )
        .filter(
            pl.col("prev").is_not_null() & (pl.col("prev") > 0) & (pl.col("year") - pl.col("prev_year") == 1)
        )
        .with_columns(value=1 - pl.col("total") / pl.col("prev"))
    )
    s = spec("trade-break")
    out = timeline.apply_hysteresis(
        flows.with_columns(
            indicator=pl.lit("trade-break"),
            key=pl.format("{} ({})", pl.col("stage"), pl.col("coverage")),
            observed=_year_end(pl.col("year")),
        ),
        s,
    ).with_columns(
        explanation=pl.format(
            "alliance imports of {} ({}) from outside the alliance: USD {} m in {} vs {} m the year before "
            "({} % change; watch at a 30 % fall)",
            pl.col("mineral"),
            pl.col("stage"),
            (pl.col("total") / 1e6).round(1),
            pl.col("year"),
            (pl.col("prev") / 1e6).round(1),
            (-pl.col("value") * 100).round(1),
        )
    )
    return timeline.conform(out)


def stock_cover_readings(cover_days: Mapping[str, float], as_of: dt.date) -> list[IndicatorReading]:
    """Optional: a reading per mineral for which the caller gives the days of cover (e.g. from the stress-test
    engine over the pooled stocks); without input there is no reading (never a zero)."""
    s = spec("stock-cover")
    out = []
    for mineral, days in sorted(cover_days.items()):
        level = s.raw_level(float(days))
        out.append(
            IndicatorReading(
                indicator="stock-cover",
                mineral=mineral,
                value=float(days),
                level=level,
                explanation=f"pooled stocks cover {days:.0f} days of {mineral} under the current shortfall "
                f"(watch below {s.entry[Level.WATCH]:.0f} days)",
                source="stock-cover input",
                edition="as given",
                observed=as_of,
                published=as_of,
            )
        )
    return out
