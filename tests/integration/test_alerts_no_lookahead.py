"""No look-ahead: a scan as of D reads only data published on or before D (alerts/data/publication.yaml), on the
bundled data. Fails if any indicator reads a row published after D: (1) the slicer records every row it serves and
its latest publication date; (2) the full-history timelines sliced at D equal the indicators recomputed from only
the inputs published by D; (3) moving D one day before a publication date drops that publication."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.alerts.engine import Timelines
from lodeline.alerts.publication import AsOfSlicer
from lodeline.services import alerts as service

DATES = [
    dt.date(2008, 6, 30),
    dt.date(2014, 2, 28),
    dt.date(2020, 6, 30),
    dt.date(2022, 4, 30),
    dt.date(2023, 8, 15),
    dt.date(2025, 1, 31),  # 2025-01-31 and -07-31 once differed: same-day events of a measure tied
    dt.date(2025, 7, 31),
    dt.date(2026, 2, 6),
]


@pytest.fixture(scope="module")
def built(built_sqlite: tuple[str, Engine]) -> Engine:
    return built_sqlite[1]


@pytest.mark.parametrize("as_of", DATES)
def test_nothing_served_after_as_of(built: Engine, as_of: dt.date) -> None:
    _, tl = service.timelines(built)
    slicer = AsOfSlicer(as_of)
    alerts = tl.scan(as_of, slicer=slicer)
    assert slicer.rows_served > 0
    assert all(day <= as_of for day in slicer.served.values())
    for alert in alerts:
        for reading in alert.readings:
            assert reading.published is not None and reading.published <= as_of, reading


@pytest.mark.parametrize("as_of", DATES)
def test_slicing_equals_recomputing_from_published_data(built: Engine, as_of: dt.date) -> None:
    inputs, tl = service.timelines(built)
    sliced = inputs.sliced(as_of)
    for frame in (sliced.prices, sliced.shares, sliced.trade):
        assert frame.height == 0 or frame["published"].max() <= as_of
    fresh = Timelines.compute(sliced)
    got = [a.to_dict() for a in tl.scan(as_of)]
    want = [a.to_dict() for a in fresh.scan(as_of)]
    assert got == want


def test_one_day_before_publication_drops_it(built: Engine) -> None:
    """Pink Sheet data for May 2026 was published on 2026-06-02 (2nd business day): on 06-01 the latest copper
    reading is April's. MCS 2026 was first posted on 2026-02-06: on 02-05 no reading rests on it."""

    def copper_observed(day: dt.date) -> dt.date | None:
        (alert,) = service.scan(built, day, ["copper"])
        return next(r.observed for r in alert.readings if r.indicator == "price-zscore")

    assert copper_observed(dt.date(2026, 6, 1)) == dt.date(2026, 4, 1)
    assert copper_observed(dt.date(2026, 6, 2)) == dt.date(2026, 5, 1)
    _, tl = service.timelines(built)
    before = [r.source for a in tl.scan(dt.date(2026, 2, 5)) for r in a.readings]
    on = [r.source for a in tl.scan(dt.date(2026, 2, 6)) for r in a.readings]
    assert "usgs_mcs2026" not in before and "usgs_mcs2026" in on


def test_timeline_has_publication_dates(built: Engine) -> None:
    _, tl = service.timelines(built)
    assert tl.frame.filter(pl.col("published").is_null()).is_empty()
    assert tl.frame.filter(pl.col("published") < pl.col("observed")).is_empty()
