"""The sim package's only database access: a thin loader over ``lodeline.store.canonical.read_table``."""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine

from lodeline.errors import StoreNotBuiltError
from lodeline.sim.build import TRADE_PROXY, build_network
from lodeline.sim.network import SupplyNetwork
from lodeline.store.canonical import is_built, read_table


def recycled_content(engine: Engine, mineral: str) -> float:
    """UNEP (2011) recycled content as a fraction: mean of the lower bounds over the mineral's elements.

    Lower bounds keep the assumption conservative ("<1 %" counts as 0).
    """
    rows = read_table(engine, "recycling_rates", mineral=mineral, metric="recycled_content")
    if rows.height == 0:
        return 0.0
    mean = rows["value_low"].fill_null(0.0).mean()
    return float(mean) / 100.0 if isinstance(mean, int | float) else 0.0


def load_network(
    engine: Engine, mineral: str, members: frozenset[str], year: int | None = None
) -> SupplyNetwork:
    if not is_built(engine):
        raise StoreNotBuiltError()
    production = read_table(engine, "production", mineral=mineral)
    trade_minerals = [mineral, TRADE_PROXY[mineral]] if mineral in TRADE_PROXY else [mineral]
    trade = read_table(engine, "trade", mineral=trade_minerals, coverage="complete")
    return build_network(production, trade, mineral, members, year, recycled_content(engine, mineral))


def political_stability(engine: Engine, year: int | None = None) -> dict[str, float]:
    """WGI political stability (pv) percentile rank, 0-100, for the latest year (or ``year``)."""
    frame = read_table(engine, "governance", indicator="pv")
    frame = frame.filter(pl.col("pct_rank").is_not_null())
    if frame.height == 0:
        return {}
    wanted = year or int(frame["year"].max())  # type: ignore[arg-type]
    frame = frame.filter(pl.col("year") == wanted)
    return {c: float(p) for c, p in frame.select("country", "pct_rank").iter_rows()}
