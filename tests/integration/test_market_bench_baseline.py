"""The market benchmark times two implementations of the same indicators: they must agree on the bundled data."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.bench.market_baseline import pandas_indicators
from lodeline.domain.groups import get_group
from lodeline.market.indicators import compute_all
from lodeline.store.canonical import read_table


def test_polars_indicators_match_the_pandas_baseline(built_sqlite: tuple[str, Engine]) -> None:
    """Shares over max(world total, sum of parts), HHI/top supplier over named countries, and the largest
    external supplier's share of world production and of imports from outside the alliance."""
    engine = built_sqlite[1]
    alliance = get_group("G7+").members
    production, trade = read_table(engine, "production"), read_table(engine, "trade")
    ours = compute_all(
        production, trade, read_table(engine, "prices"), read_table(engine, "targets"), alliance
    )
    theirs = pandas_indicators(production.to_pandas(), trade.to_pandas(), alliance)
    keys = ["mineral", "stage", "year"]
    conc = ours.concentration.to_pandas().merge(
        theirs["concentration"].reset_index(), on=keys, suffixes=("", "_pd")
    )
    assert len(conc) == ours.concentration.height > 100
    assert conc["hhi"].to_numpy() == pytest.approx(conc["hhi_pd"].to_numpy())
    assert (conc["top_supplier"] == conc["top_supplier_pd"]).all()
    for basis, key in (("production", "dep_production"), ("trade value", "dep_trade")):
        dep = ours.dependency.filter(pl.col("basis") == basis).to_pandas()
        both = dep.merge(theirs[key].reset_index(), on=keys, suffixes=("", "_pd"))
        assert len(both) == len(dep) > 100, basis
        assert (both["top_external_supplier"] == both["top_external_supplier_pd"]).all(), basis
        assert both["top_external_share"].to_numpy() == pytest.approx(
            both["top_external_share_pd"].astype(float).to_numpy(), nan_ok=True
        ), basis
