"""The indicators' timelines over the whole history, computed once, and the scan at any date as a slice of them.

:class:`Timelines` holds every indicator's timeline (see :mod:`lodeline.alerts.timeline`); :meth:`Timelines.scan`
returns the alerts as they would have stood on ``as_of``. Pure: the service builds the input frames (each with its
``published`` date) from the store and the bundled policy facts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import polars as pl

from lodeline.alerts import timeline
from lodeline.alerts.fusion import fuse
from lodeline.alerts.model import Alert
from lodeline.alerts.policy import Measure, control_timeline
from lodeline.alerts.publication import AsOfSlicer
from lodeline.alerts.structure import dependency_timeline, stock_cover_readings, trade_timeline


@dataclass(frozen=True)
class Inputs:
    """Every input frame carries ``published``: prices (monthly), shares (per source), trade (BACI)."""

    prices: pl.DataFrame
    shares: pl.DataFrame
    trade: pl.DataFrame
    measures: tuple[Measure, ...]
    members: frozenset[str]
    salient: pl.DataFrame | None = None  # USGS annual statistics (prices, unit values), with ``published``

    def sliced(self, as_of: dt.date) -> Inputs:
        """The inputs as published by ``as_of`` (the baseline recomputes from these)."""

        def cut(f: pl.DataFrame) -> pl.DataFrame:
            return f.filter(pl.col("published") <= as_of)

        measures = tuple(m for m in self.measures if m.announced is not None and m.announced <= as_of)
        salient = None if self.salient is None else cut(self.salient)
        return Inputs(cut(self.prices), cut(self.shares), cut(self.trade), measures, self.members, salient)


@dataclass(frozen=True)
class Timelines:
    frame: pl.DataFrame

    @classmethod
    def compute(cls, inputs: Inputs) -> Timelines:
        # imported here: the price maths needs numpy, which a scan of cached timelines never loads
        from lodeline.alerts.prices import annual_price_timeline, price_timeline

        parts = [
            price_timeline(inputs.prices),
            dependency_timeline(inputs.shares, inputs.members),
            trade_timeline(inputs.trade, inputs.members),
            control_timeline(list(inputs.measures), inputs.shares),
        ]
        if inputs.salient is not None:
            parts.append(annual_price_timeline(inputs.salient))
        frame = pl.concat([p for p in parts if p.height] or [timeline.empty()])
        return cls(frame.sort(["mineral", "indicator", "key", "published", "observed"], maintain_order=True))

    @property
    def minerals(self) -> list[str]:
        return sorted(self.frame["mineral"].unique().to_list())

    def scan(
        self,
        as_of: dt.date,
        minerals: Iterable[str] | None = None,
        stock_cover: Mapping[str, float] | None = None,
        slicer: AsOfSlicer | None = None,
    ) -> list[Alert]:
        """One alert per mineral (every mineral with a reading, normal included), as of ``as_of``."""
        frame = self.frame
        wanted = None if minerals is None else sorted(set(minerals))
        if wanted is not None:
            frame = frame.filter(pl.col("mineral").is_in(wanted))
        readings = timeline.readings(timeline.as_of_rows(frame, as_of, slicer))
        if stock_cover:
            readings += [
                r for r in stock_cover_readings(stock_cover, as_of) if wanted is None or r.mineral in wanted
            ]
        by_mineral: dict[str, list] = {m: [] for m in (wanted or [])}
        for r in readings:
            by_mineral.setdefault(r.mineral, []).append(r)
        return [fuse(m, as_of, rs) for m, rs in sorted(by_mineral.items())]
