"""Pure parts of issue 13's second measure and second grouping: days of cover (hand-worked), linked-table
protection (a cell hidden in one table is hidden in every table that has it) and member groups."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.errors import InvalidArgumentError
from lodeline.stockpiles.cover import cover_table, days_of_cover
from lodeline.stockpiles.disclosure import protect, protect_measures
from lodeline.stockpiles.member_groups import bundled_groups, groups_from_text


def test_days_of_cover_by_hand() -> None:
    """9,000 t contained against 88,122.33 t a year: 9,000 / 88,122.33 × 365 = 37.2776 days; 0 t gives 0 days;
    an unknown side or a non-positive consumption gives no figure (a gap, not 0)."""
    assert days_of_cover(9000.0, 88_122.33) == pytest.approx(37.27757, rel=1e-5)
    assert days_of_cover(0.0, 100.0) == 0.0
    assert days_of_cover(None, 100.0) is None and days_of_cover(10.0, None) is None
    assert days_of_cover(10.0, 0.0) is None


def test_cover_table_keeps_gaps_and_suppression() -> None:
    pooled = pl.DataFrame(
        {"mineral": ["a", "b", "c"], "contained_t": [365.0, None, 10.0], "flag": [None, ":c", None]}
    )
    consumption = pl.DataFrame(
        {
            "mineral": ["a", "b"],
            "consumption_t": [730.0, 50.0],
            "year": [2024, 2024],
            "basis": ["x", "x"],
            "source": ["s", "s"],
            "flag": [None, None],
        }
    )
    out = {r["mineral"]: r for r in cover_table(pooled, consumption).iter_rows(named=True)}
    assert out["a"]["days_of_cover"] == pytest.approx(182.5)  # 365 / 730 × 365
    assert out["b"]["days_of_cover"] is None and "suppressed" in out["b"]["gap"]
    assert out["c"]["days_of_cover"] is None and "no alliance apparent consumption" in out["c"]["gap"]


def _contrib(rows: list[tuple[str, str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["mineral", "group", "form", "member", "tonnes"], orient="row")


def test_union_of_patterns_across_measures() -> None:
    """Gross: cobalt/public (A 100, B 110, C 90) and cobalt/industry (D 500, E 480, F 520) are both publishable on
    their own. Contained: the industry cell holds D 500 only (E and F gave no contained figure) → primary there,
    and its complement (the public cell, the only other cell of the cobalt line) is suppressed too. Alone, the
    gross table would publish both cells; protected together, both are hidden in gross as well, so gross cannot
    bound the hidden contained cells (and every table still passes its audit)."""
    gross = _contrib(
        [
            ("cobalt", "public", "metal", "A", 100.0),
            ("cobalt", "public", "metal", "B", 110.0),
            ("cobalt", "public", "metal", "C", 90.0),
            ("cobalt", "industry", "metal", "D", 500.0),
            ("cobalt", "industry", "metal", "E", 480.0),
            ("cobalt", "industry", "metal", "F", 520.0),
        ]
    )
    contained = _contrib(
        [
            ("cobalt", "public", "metal", "A", 99.0),
            ("cobalt", "public", "metal", "B", 109.0),
            ("cobalt", "public", "metal", "C", 89.0),
            ("cobalt", "industry", "metal", "D", 499.0),
        ]
    )
    alone = protect(gross).frame
    assert alone["flag"].null_count() == alone.height  # gross alone publishes every cell
    out = protect_measures({"gross": gross, "contained": contained}, bounded_by={"contained": "gross"})
    for name in ("gross", "contained"):
        frame = out[name].frame
        cells = frame.filter(
            (pl.col("group") != "ALL") & (pl.col("form") == "metal") & (pl.col("mineral") == "cobalt")
        )
        assert cells["flag"].to_list() == [":c", ":c"], name
        assert out[name].audit.passed
    hidden = {
        n: set(
            out[n].frame.filter(pl.col("flag").is_not_null()).select("mineral", "group", "form").iter_rows()
        )
        for n in out
    }
    assert hidden["gross"] == hidden["contained"]


def test_member_groups_bundled_and_validated() -> None:
    groups = bundled_groups()
    assert groups.group_of("DEU") == "G7"  # in G7 and EU27: the first match wins
    assert groups.group_of("NLD") == "EU27"
    assert groups.group_of("AUS") == "other partners"
    with pytest.raises(InvalidArgumentError, match=r"groups\[0\]\.name"):
        groups_from_text("groups:\n  - name: public_strategic\n    alliance: G7\n", "test")
    with pytest.raises(InvalidArgumentError, match="groups"):
        groups_from_text("groups: []\n", "test")
    with pytest.raises(InvalidArgumentError):
        groups_from_text("groups:\n  - name: X\n    alliance: NOPE\n", "test")
