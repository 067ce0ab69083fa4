"""The alert scan and backtest: load the canonical tables with their publication dates, build the indicators'
timelines once per data build and alliance (cached in memory and, across processes, in the user cache directory:
``services.alert_cache``), slice them as of a date (docs/alerts.md)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.alerts import backtest as bt
from lodeline.alerts.engine import Inputs, Timelines
from lodeline.alerts.model import Alert, Level
from lodeline.alerts.policy import MEASURES_FILE, parse_measures
from lodeline.alerts.publication import describe, with_published_annual, with_published_monthly
from lodeline.config import get_settings
from lodeline.domain.groups import resolve_alliance
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, StoreNotBuiltError
from lodeline.inputs import read_text
from lodeline.market.concentration import published_shares, supply_shares
from lodeline.market.series import primary_series
from lodeline.services import alert_cache
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import is_built, last_build_sha256, read_table

METHOD = "docs/methods/early-warning.md"
EARLIEST = dt.date(2000, 1, 1)
BACKTEST_START = dt.date(2005, 1, 1)
_lock = threading.Lock()
_cache: dict[tuple[str, str, str], Timelines] = {}
_inputs: dict[tuple[str, str, str], Inputs] = {}


def load_inputs(engine: Engine, alliance: str = "G7+") -> Inputs:
    """Every input the indicators read, each row with the date it was published (alerts/data/publication.yaml)."""
    if not is_built(engine):
        raise StoreNotBuiltError()
    group = resolve_alliance(alliance)
    prices = read_table(engine, "prices").filter(pl.col("frequency") == "M")
    prices = (
        pl.concat([with_published_monthly(part, src) for (src,), part in prices.group_by(["source"])])
        if prices.height
        else prices.with_columns(published=pl.lit(None, pl.Date))
    )
    production = read_table(engine, "production", measure="production", is_primary=True)
    share_parts = []
    for _, part in production.group_by(["source", "edition"]):
        share_parts.append(supply_shares(primary_series(part)).drop("total"))
    published = published_shares(read_table(engine, "stage_shares"))
    if published.height:
        share_parts.append(published.drop("total"))
    shares = pl.concat(share_parts, how="vertical_relaxed") if share_parts else pl.DataFrame()
    shares = with_published_annual(
        shares.select("mineral", "stage", "year", "country", "share", "source", "edition")
    )
    trade = read_table(engine, "trade")
    trade = with_published_annual(
        trade.select(
            "mineral", "stage", "importer", "exporter", "year", "value_usd", "coverage", "source", "edition"
        )
    )
    salient = with_published_annual(
        read_table(engine, "salient", statistic="price").select(
            "mineral", "year", "statistic", "detail", "value", "source", "edition"
        )
    )
    measures = tuple(
        parse_measures(read_text(get_settings().raw_dir / MEASURES_FILE, "export-control measures"))
    )
    return Inputs(
        prices=prices, shares=shares, trade=trade, measures=measures, members=group.members, salient=salient
    )


def _key(engine: Engine, alliance: str) -> tuple[str, str, str, frozenset[str]]:
    sha = last_build_sha256(engine)
    if sha is None:
        raise StoreNotBuiltError()
    group = resolve_alliance(alliance)
    return str(engine.url), sha, group.id, group.members


def inputs_of(engine: Engine, alliance: str = "G7+") -> Inputs:
    """:func:`load_inputs`, kept in memory per data build, alliance and engine."""
    key = _key(engine, alliance)
    with _lock:
        hit = _inputs.get(key[:3])
    if hit is None:
        hit = load_inputs(engine, alliance)
        with _lock:
            _inputs.clear()
            _inputs[key[:3]] = hit
    return hit


def scan_timelines(engine: Engine, alliance: str = "G7+") -> Timelines:
    """The full-history timelines of a data build and alliance: from memory, else from the user cache directory
    (a fresh process: ``services.alert_cache``), else computed (and written there)."""
    url, sha, group, members = _key(engine, alliance)
    with _lock:
        hit = _cache.get((url, sha, group))
    if hit is not None:
        return hit
    files = alert_cache.dependency_files(get_settings().raw_dir / MEASURES_FILE)
    disk_key = alert_cache.cache_key(sha, group, members, files)
    frame = alert_cache.load(disk_key)
    if frame is not None:
        value = Timelines(frame)
    else:
        value = Timelines.compute(inputs_of(engine, alliance))
        alert_cache.store(disk_key, value.frame)
    with _lock:
        _cache.clear()  # one build at a time is enough
        _cache[(url, sha, group)] = value
    return value


def timelines(engine: Engine, alliance: str = "G7+") -> tuple[Inputs, Timelines]:
    """The inputs and the full-history timelines (those who need the inputs too: tests, the benchmark)."""
    return inputs_of(engine, alliance), scan_timelines(engine, alliance)


def _minerals(minerals: Sequence[str] | None) -> list[str] | None:
    if not minerals:
        return None
    return sorted({resolve_mineral(m) for m in minerals})


def _check_date(as_of: dt.date) -> None:
    if not EARLIEST <= as_of <= dt.date(2100, 1, 1):
        raise InvalidArgumentError(f"invalid as-of date {as_of}: expected {EARLIEST} or later")


def scan(
    engine: Engine,
    as_of: dt.date | None = None,
    minerals: Sequence[str] | None = None,
    *,
    alliance: str = "G7+",
    include_normal: bool = True,
    stock_cover: Mapping[str, float] | None = None,
) -> list[Alert]:
    """The alerts as they stood on ``as_of`` (default: today), from the data published by then."""
    day = as_of or dt.date.today()
    _check_date(day)
    wanted = _minerals(minerals)
    tl = scan_timelines(engine, alliance)
    alerts = tl.scan(day, wanted, stock_cover)
    if not include_normal:
        alerts = [a for a in alerts if a.level != Level.NORMAL]
    return sorted(alerts, key=lambda a: (-a.level.rank, a.mineral))


def published_stock_cover(engine: Engine, period: str, alliance: str = "G7+") -> dict[str, float]:
    """Days of cover per mineral from ``period``'s published (disclosure-controlled) pooled stocks against the
    alliance's consumption (``services.stock_cover``): the stock-cover indicator's input. A suppressed total or a
    mineral without consumption gives no entry (no reading), never a zero. These are the aggregates as published
    now: a backtest never reads them (their publication is not dated by as-of)."""
    from lodeline.services import stock_cover  # the stockpile exchange, only when asked for

    frame = stock_cover.cover(engine, period, alliance).frame.filter(pl.col("days_of_cover").is_not_null())
    return {str(r["mineral"]): float(r["days_of_cover"]) for r in frame.iter_rows(named=True)}


def record_scan(
    engine: Engine,
    actor: str,
    minerals: Sequence[str] | None = None,
    *,
    alliance: str = "G7+",
    stock_period: str | None = None,
) -> tuple[list[Alert], list[Any]]:
    """Today's scan recorded in the alert lifecycle (``services.alert_lifecycle.record``): an open alert per
    mineral above normal, raised levels as escalations, the outbox messages for the subscribers and the log leaf of
    every warning or above, in one transaction. Only today's scan is recorded: a past date is a replay, not an
    alert. Returns the alerts and what was recorded for each."""
    from lodeline.services import alert_lifecycle

    cover = published_stock_cover(engine, stock_period, alliance) if stock_period else None
    alerts = scan(engine, dt.date.today(), minerals, alliance=alliance, stock_cover=cover)
    return alerts, alert_lifecycle.record(engine, alerts, actor)


def alerts_frame(alerts: Sequence[Alert]) -> pl.DataFrame:
    """One row per alert (the table/csv/json rendering of a scan)."""
    return pl.DataFrame(
        [
            {
                "mineral": a.mineral,
                "level": a.level.value,
                "as_of": a.as_of,
                "drivers": ", ".join(
                    r.indicator for r in a.readings if r.level == a.level and a.level != Level.NORMAL
                ),
                "explanation": a.explanation,
                "latest_published": max((r.published for r in a.readings if r.published), default=None),
            }
            for a in alerts
        ],
        schema={
            "mineral": pl.String,
            "level": pl.String,
            "as_of": pl.Date,
            "drivers": pl.String,
            "explanation": pl.String,
            "latest_published": pl.Date,
        },
    )


def latest_data_date(engine: Engine, alliance: str = "G7+") -> dt.date:
    tl = scan_timelines(engine, alliance)
    latest = tl.frame["published"].max()
    return latest if isinstance(latest, dt.date) else dt.date.today()


def backtest(
    engine: Engine,
    start: dt.date = BACKTEST_START,
    end: dt.date | None = None,
    *,
    alliance: str = "G7+",
) -> bt.Report:
    """Monthly replay from ``start`` to ``end`` (default, and at most: the latest publication date in the data)."""
    _check_date(start)
    latest = latest_data_date(engine, alliance)
    last = latest if end is None else min(end, latest)  # no month past the data is replayed (bounded work)
    if last < start:
        raise InvalidArgumentError(f"backtest end {last} is before its start {start}")
    tl = scan_timelines(engine, alliance)
    levels = _replay(tl, latest).filter(
        (pl.col("date") >= dt.date(start.year, start.month, 1)) & (pl.col("date") <= last)
    )
    return bt.score(levels, bt.episodes(), start, last, set(tl.minerals))


_replays: dict[int, tuple[Timelines, pl.DataFrame]] = {}


def _replay(tl: Timelines, latest: dt.date) -> pl.DataFrame:
    """Every mineral's level at every month-end from 2000 to ``latest``, once per timelines (a backtest of any
    span is a filter of it: each month's level depends on that month's slice only)."""
    with _lock:
        hit = _replays.get(id(tl))
    if hit is not None and hit[0] is tl:
        return hit[1]
    minerals = sorted(set(tl.minerals) | {e.mineral for e in bt.episodes()})
    levels = bt.levels_frame(tl, bt.month_ends(EARLIEST, latest), minerals)
    with _lock:
        _replays.clear()
        _replays[id(tl)] = (tl, levels)  # holding tl keeps its id from being reused
    return levels


def backtest_frames(report: bt.Report) -> dict[str, pl.DataFrame]:
    return {
        "episodes": pl.DataFrame(report.rows),
        "false_alarms": pl.DataFrame(
            report.false_alarms, schema={"mineral": pl.String, "decade": pl.String, "false_alarms": pl.Int64}
        ),
    }


def _provenance(notes: list[str]) -> Provenance:
    return Provenance(
        sources=[
            {"id": r["dataset"], "title": r["source"], "edition": "", "licence": ""} for r in describe()
        ],
        method=METHOD,
        notes=notes,
    )


def readings_frame(alerts: Sequence[Alert]) -> pl.DataFrame:
    """One row per indicator reading, with the mineral's fused level (the API's flat form of a scan)."""
    rows = [
        {
            "mineral": a.mineral,
            "level": a.level.value,
            "as_of": a.as_of,
            "indicator": r.indicator,
            "value": r.value,
            "indicator_level": r.level.value,
            "explanation": r.explanation,
            "source": r.source,
            "edition": r.edition,
            "observed": r.observed,
            "published": r.published,
        }
        for a in alerts
        for r in a.readings
    ]
    return pl.DataFrame(rows, schema=READING_SCHEMA)


READING_SCHEMA = {
    "mineral": pl.String,
    "level": pl.String,
    "as_of": pl.Date,
    "indicator": pl.String,
    "value": pl.Float64,
    "indicator_level": pl.String,
    "explanation": pl.String,
    "source": pl.String,
    "edition": pl.String,
    "observed": pl.Date,
    "published": pl.Date,
}


def scan_result(
    engine: Engine, as_of: dt.date | None, minerals: Sequence[str] | None, alliance: str = "G7+"
) -> MarketResult:
    alerts = scan(engine, as_of, minerals, alliance=alliance)
    day = as_of or dt.date.today()
    notes = [
        f"as of {day}: only data published on or before that date (alerts/data/publication.yaml)",
        f"alliance {resolve_alliance(alliance).id}; one row per indicator reading; level = the mineral's fused level",
    ]
    return MarketResult(readings_frame(alerts), _provenance(notes))


def backtest_result(
    engine: Engine, start: dt.date, end: dt.date | None, alliance: str = "G7+"
) -> MarketResult:
    report = backtest(engine, start, end, alliance=alliance)
    s = report.summary
    notes = [
        f"all: {s['detected']}/{s['episodes']} episodes detected (recall {s['recall']}); "
        f"{s['warning_episodes']} warning episodes, {s['false_alarms']} false alarms (precision {s['precision']})",
        f"held-out: {s['held-out']['detected']}/{s['held-out']['episodes']} detected; "
        f"tuning: {s['tuning']['detected']}/{s['tuning']['episodes']} detected",
        "false alarms per mineral-decade: "
        + "; ".join(f"{r['mineral']} {r['decade']}: {r['false_alarms']}" for r in report.false_alarms),
    ]
    return MarketResult(backtest_frames(report)["episodes"], _provenance(notes))
