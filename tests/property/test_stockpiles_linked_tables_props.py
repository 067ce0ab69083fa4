"""Property: for random pairs of linked tables (gross and a contained measure ≤ gross per contribution, some items
without a contained figure), ``protect_measures`` hides the same cells in both wherever both have the cell, every
sensitive cell of each table keeps its protection (both audits pass), and each table hides at least the primary
cells it has alone. With every item giving both measures the tables have the same cells and share ONE
complementary pattern (``joint_secondary_suppression``); the shared pattern must pass both tables' audits, with
the sharing on and off."""

from __future__ import annotations

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodeline.stockpiles.audit import run_audit
from lodeline.stockpiles.disclosure import protect, protect_measures
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import build_table
from lodeline.stockpiles.primary import primary_suppression
from lodeline.stockpiles.secondary import joint_secondary_suppression

KEYS = ["mineral", "group", "form"]
MINERALS, GROUPS, FORMS, MEMBERS = (["Co", "Li"], ["EU", "G7", "NA"], ["ore", "metal"], ["a", "b", "c", "d"])


@st.composite
def contributions(draw: st.DrawFn) -> pl.DataFrame:
    rows = []
    for mineral in MINERALS[: draw(st.integers(1, 2))]:
        for group in GROUPS[: draw(st.integers(1, 3))]:
            for form in FORMS[: draw(st.integers(1, 2))]:
                for member in draw(st.lists(st.sampled_from(MEMBERS), unique=True, max_size=4)):
                    rows.append((mineral, group, form, member, float(draw(st.integers(0, 1000)))))
    if not rows:
        rows.append(("Li", "EU", "ore", "a", 5.0))
    return pl.DataFrame(rows, schema=[*KEYS, "member", "tonnes"], orient="row")


def _hidden(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(r) for r in frame.filter(pl.col("flag").is_not_null()).select(KEYS).iter_rows()}


def _primary(frame: pl.DataFrame) -> set[tuple[str, ...]]:
    return {tuple(r) for r in frame.filter(pl.col("status") == "primary").select(KEYS).iter_rows()}


@st.composite
def pairs(draw: st.DrawFn, all_given: bool = False) -> tuple[pl.DataFrame, pl.DataFrame]:
    gross = draw(contributions())
    shares = draw(st.lists(st.integers(0, 100), min_size=gross.height, max_size=gross.height))
    given_ = (
        [True] * gross.height
        if all_given
        else draw(st.lists(st.booleans(), min_size=gross.height, max_size=gross.height))
    )
    contained = (
        gross.with_columns(pl.Series("share", shares, dtype=pl.Float64), pl.Series("given", given_))
        .with_columns((pl.col("tonnes") * pl.col("share") / 100.0).floor().alias("tonnes"))
        .filter(pl.col("given"))
        .drop("share", "given")
    )
    if contained.is_empty():
        contained = gross.head(1)
    return gross, contained


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs(), st.booleans())
def test_linked_tables_hide_the_same_cells_and_pass(
    pair: tuple[pl.DataFrame, pl.DataFrame], share: bool
) -> None:
    gross, contained = pair
    out = protect_measures(
        {"gross": gross, "contained": contained}, bounded_by={"contained": "gross"}, share_patterns=share
    )
    g, c = out["gross"].frame, out["contained"].frame
    shared = {tuple(r) for r in g.select(KEYS).iter_rows()} & {tuple(r) for r in c.select(KEYS).iter_rows()}
    assert _hidden(g) & shared == _hidden(c) & shared
    assert out["gross"].audit.passed and out["contained"].audit.passed
    assert _primary(protect(gross).frame) <= _hidden(g)
    assert _primary(protect(contained).frame) <= _hidden(c)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pairs(all_given=True))
def test_one_joint_pattern_protects_both_measures(pair: tuple[pl.DataFrame, pl.DataFrame]) -> None:
    """The joint pattern alone (no union with per-measure patterns, no cross-measure narrowing) passes the
    intruder audit of EACH table: it is a pattern for both, not one that happens to pass after the union."""
    rules = DisclosureRules()
    tables = [build_table(frame, rules.dominance_n) for frame in pair]
    assert tables[0].categories == tables[1].categories  # every item gives both: the same cells
    primaries = [primary_suppression(t, rules) for t in tables]
    suppressed = joint_secondary_suppression(tables, primaries, rules)
    for table, primary in zip(tables, primaries, strict=True):
        assert (suppressed >= primary.sensitive).all()
        assert run_audit(table, primary, suppressed).passed
