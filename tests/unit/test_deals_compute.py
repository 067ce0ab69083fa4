"""Pure deals computation: coverage on a hand-worked three-country case, lifecycle, never-summed money."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest

from lodeline.deals import money
from lodeline.deals.coverage import coverage
from lodeline.deals.lifecycle import agreement_status, measure_status
from lodeline.deals.restrictions import affected_share


def _agreement(aid: str, countries: list[str], minerals: list[str], *, general: bool = False,
               stages: list[str] | None = None) -> dict[str, Any]:  # fmt: skip
    return {"agreement_id": aid, "countries": countries, "minerals": minerals, "general": general,
            "stages": stages or [], "binding": "no"}  # fmt: skip


def test_coverage_three_countries_hand_worked() -> None:
    """Lithium mining 2024: CHN 0.60, AUS 0.25, CHL 0.10, USA 0.05 of world output; the alliance is {USA}.
    Top external supplier CHN, d = 0.60. USA-AUS names lithium at mining (specific); USA-CHL covers 'critical
    minerals' in general; EU-BRA has no alliance member and covers nothing.
    Specific: min(0.25, 0.60) / 0.60 = 0.41667. With general: min(0.25 + 0.10, 0.60) / 0.60 = 0.58333."""
    shares = pl.DataFrame({"mineral": ["lithium"] * 4, "stage": ["mining"] * 4, "year": [2024] * 4,
                           "country": ["CHN", "AUS", "CHL", "USA"], "share": [0.60, 0.25, 0.10, 0.05]})  # fmt: skip
    dependency = pl.DataFrame({"mineral": ["lithium", "lithium"], "stage": ["mining", "mining"], "year": [2023, 2024],
                               "top_external_supplier": ["CHN", "CHN"], "top_external_share": [0.5, 0.60]})  # fmt: skip
    agreements = [
        _agreement("usa-aus", ["USA", "AUS"], ["lithium"], stages=["mining"]),
        _agreement("usa-chl", ["USA", "CHL"], [], general=True),
        _agreement("eu-bra", ["DEU", "BRA"], ["lithium"]),
    ]
    table = coverage(agreements, shares, dependency, frozenset({"USA"}))
    assert table["partner"].to_list() == ["AUS", "CHL"]
    assert table["year"].unique().to_list() == [2024]
    row = table.row(0, named=True)
    assert row["partner_share"] == 0.25 and row["mineral_specific"] is True
    assert row["replaceable_specific"] == pytest.approx(0.25 / 0.60)
    assert row["replaceable_all"] == pytest.approx(0.35 / 0.60)
    assert table.row(1, named=True)["mineral_specific"] is False


def test_coverage_caps_at_one_and_skips_the_top_supplier_and_unknown_shares() -> None:
    """A partner that is itself the top supplier replaces nothing; a partner without a share is not counted (0.9
    from AUS alone caps at 1)."""
    shares = pl.DataFrame({"mineral": ["x"] * 2, "stage": ["refining"] * 2, "year": [2024] * 2,
                           "country": ["CHN", "AUS"], "share": [0.05, 0.9]})  # fmt: skip
    dependency = pl.DataFrame({"mineral": ["x"], "stage": ["refining"], "year": [2024],
                               "top_external_supplier": ["CHN"], "top_external_share": [0.05]})  # fmt: skip
    agreements = [_agreement("a", ["USA", "CHN", "AUS", "PER"], ["x"])]
    table = coverage(agreements, shares, dependency, frozenset({"USA"}))
    flags = dict(zip(table["partner"], table["flag"], strict=True))
    assert flags == {"AUS": None, "CHN": "partner-is-top-supplier", "PER": "no-share-data"}
    assert table["replaceable_specific"].unique().to_list() == [1.0]


def test_no_covering_agreement_is_one_flagged_row() -> None:
    shares = pl.DataFrame(
        {"mineral": ["x"], "stage": ["mining"], "year": [2024], "country": ["CHN"], "share": [1.0]}
    )
    dependency = pl.DataFrame({"mineral": ["x"], "stage": ["mining"], "year": [2024],
                               "top_external_supplier": ["CHN"], "top_external_share": [1.0]})  # fmt: skip
    table = coverage([], shares, dependency, frozenset({"USA"}))
    assert (
        table.height == 1
        and table["flag"][0] == "no-covering-agreement"
        and table["replaceable_all"][0] == 0.0
    )


def test_lifecycle_from_dates_and_recorded_status() -> None:
    rec = {"signed_start": dt.date(2023, 3, 28), "in_force_start": dt.date(2023, 6, 1)}
    assert agreement_status(rec, dt.date(2023, 1, 1)) == "announced"
    assert agreement_status(rec, dt.date(2023, 4, 1)) == "signed"
    assert agreement_status(rec, dt.date(2024, 1, 1)) == "in force"
    assert (
        agreement_status(rec | {"status": "terminated", "status_date": "2025-02-01"}, dt.date(2025, 3, 1))
        == "terminated"
    )
    assert (
        agreement_status(rec | {"status": "terminated", "status_date": "2025-02-01"}, dt.date(2024, 3, 1))
        == "in force"
    )
    m = {"announced_start": dt.date(2025, 10, 9), "effective_start": dt.date(2025, 10, 9),
         "suspended_from": dt.date(2025, 11, 7), "suspended_until": dt.date(2026, 11, 10)}  # fmt: skip
    assert measure_status(m, dt.date(2025, 1, 1)) == "not announced"
    assert measure_status(m, dt.date(2025, 10, 20)) == "in force"
    assert measure_status(m, dt.date(2026, 1, 1)) == "suspended"
    assert measure_status(m, dt.date(2026, 12, 5)) == "in force"


def test_money_of_different_nature_or_currency_is_never_added() -> None:
    """A pledge plus a pipeline value (or USD plus EUR, or an amount with no currency) must fail loudly."""
    pledge = money.Money(40e6, "USD", "pledge")
    pipeline = money.Money(6.4e9, "USD", "pipeline value")
    with pytest.raises(money.MixedMoneyError):
        _ = pledge + pipeline
    with pytest.raises(money.MixedMoneyError):
        _ = pledge + money.Money(1.0, "EUR", "pledge")
    with pytest.raises(money.MixedMoneyError):
        _ = money.Money(5e7, None, "pledge") + money.Money(5e7, None, "pledge")
    assert (pledge + money.Money(1e6, "USD", "pledge")).amount == 41e6


def test_bundled_financing_listing_has_no_totals() -> None:
    """The register lists each of the 10 stated figures on its own line (PROVENANCE: never sum across rows)."""
    from lodeline.config import RAW_DATA_DIR
    from lodeline.data.sources.policy_deals import read_agreements

    lines = money.listing(read_agreements(RAW_DATA_DIR / "policy_facts"))
    assert len(lines) == 10 and set(lines[0]) == {"agreement_id", "amount", "currency", "nature"}
    assert {line["nature"] for line in lines} == {
        "pledge",
        "pipeline value",
        "technical assistance",
        "unknown nature",
    }


def test_affected_share_hand_worked() -> None:
    """Alliance {USA, JPN} imports of 811292 in 2024: from CHN 30, from DEU 10 (outside), from JPN 50 (member, left
    out): 30 / 40 = 0.75. Code 282590 has no trade rows and is listed as such."""
    trade = pl.DataFrame({"hs6": ["811292"] * 4, "exporter": ["CHN", "DEU", "JPN", "CHN"],
                          "importer": ["USA", "USA", "USA", "USA"], "year": [2024, 2024, 2024, 2023],
                          "value_usd": [30.0, 10.0, 50.0, 99.0]})  # fmt: skip
    out = affected_share(trade, ["811292", "282590"], "CHN", frozenset({"USA", "JPN"}))
    assert out["affected_share"] == pytest.approx(0.75) and out["trade_year"] == 2024
    assert out["hs6_without_trade_data"] == "282590"
