"""Every market indicator at once (used by the benchmark and by consistency tests)."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lodeline.market.concentration import concentration, supply_shares
from lodeline.market.dependency import (
    apparent_consumption_dependency,
    production_dependency,
    trade_dependency,
    with_targets,
)
from lodeline.market.prices import price_indicators
from lodeline.market.series import primary_series
from lodeline.market.value_creation import local_value_creation


@dataclass(frozen=True)
class AllIndicators:
    shares: pl.DataFrame
    concentration: pl.DataFrame
    dependency: pl.DataFrame
    value_creation: pl.DataFrame
    prices: pl.DataFrame


def compute_all(
    production: pl.DataFrame,
    trade: pl.DataFrame,
    prices: pl.DataFrame,
    targets: pl.DataFrame,
    alliance: frozenset[str],
) -> AllIndicators:
    """Shares, HHI/top-k, alliance dependency (production and trade bases) with targets, local value
    creation and price indicators for every mineral, stage, year and country."""
    primary = primary_series(production)
    shares = supply_shares(primary)
    dep_parts = [
        production_dependency(shares, alliance),
        trade_dependency(trade, alliance, measure="value_usd"),
    ]
    with_qty = trade.filter(pl.col("quantity_t").is_not_null())
    if not with_qty.is_empty():
        dep_parts.append(trade_dependency(with_qty, alliance, measure="quantity_t"))
        dep_parts.append(apparent_consumption_dependency(shares, with_qty, alliance))
    dependency = with_targets(pl.concat(dep_parts, how="vertical_relaxed"), targets)
    return AllIndicators(
        shares=shares,
        concentration=concentration(shares),
        dependency=dependency,
        value_creation=local_value_creation(primary),
        prices=price_indicators(prices),
    )
