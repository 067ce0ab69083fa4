"""Hypothesis properties of shares and HHI."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from lodeline.market.concentration import concentration, supply_shares

COUNTRIES = ["CHN", "AUS", "USA", "CHL", "ARG", "COD", "IDN", "BRA", "CAN", "RUS", "ZAF", "IND"]
quantities = st.lists(
    st.floats(min_value=0.001, max_value=1e9, allow_nan=False), min_size=1, max_size=len(COUNTRIES)
)


def frame(values: list[float]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "mineral": "lithium",
            "stage": "mining",
            "year": 2024,
            "country": COUNTRIES[: len(values)],
            "quantity": values,
            "unit": "metric tons",
            "source": "s",
            "edition": "e",
            "flag": None,
        },
        schema_overrides={"flag": pl.String},
    )


@settings(max_examples=200, deadline=None)
@given(quantities)
def test_shares_sum_to_one(values: list[float]) -> None:
    shares = supply_shares(frame(values))
    assert abs(shares["share"].sum() - 1.0) < 1e-9


@settings(max_examples=200, deadline=None)
@given(quantities)
def test_hhi_bounds(values: list[float]) -> None:
    row = concentration(supply_shares(frame(values))).row(0, named=True)
    n = len(values)
    assert 10_000 / n - 1e-6 <= row["hhi"] <= 10_000 + 1e-6
    assert row["top1_share"] <= row["top3_share"] + 1e-12 <= 1 + 1e-9


@settings(max_examples=200, deadline=None)
@given(quantities.filter(lambda v: len(v) < len(COUNTRIES)), st.floats(min_value=0.001, max_value=1e9))
def test_adding_a_supplier_never_raises_top1_share(values: list[float], extra: float) -> None:
    """A new supplier dilutes the incumbent leader; the top-1 share can only rise if the newcomer
    itself becomes the largest supplier."""
    before = concentration(supply_shares(frame(values))).row(0, named=True)
    after_shares = supply_shares(frame([*values, extra]))
    after = concentration(after_shares).row(0, named=True)
    leader_after = after_shares.filter(pl.col("country") == before["top_supplier"])["share"][0]
    assert leader_after <= before["top1_share"] + 1e-12
    if extra <= max(values):
        assert after["top1_share"] <= before["top1_share"] + 1e-12
