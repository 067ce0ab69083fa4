"""τ-Argus (``pytauargus``, EUPL-1.2, a benchmark-only dev dependency) as the disclosure benchmark's baseline: it
runs on a small synthetic table (8 minerals × 6 groups × 4 forms → 9 × 7 × 5 = 315 cells with margins) and
produces a pattern that Lodeline's intruder audit evaluates.

How the figures are checked by hand:
- every value τ-Argus publishes is recomputed here from the raw contributions, by summing ``tonnes`` over each
  (mineral, group, form) combination with ``ALL`` standing for a margin (a plain Polars group-by per margin set);
- τ-Argus' primary cells (status ``U``) must be exactly the cells Lodeline's primary rules mark sensitive: the
  same rules at the member (holding) level, so a wrong translation of the rules fails here;
- the audit must attack exactly the cells τ-Argus withheld, and fail once the secondary cells are published —
  the pattern is evaluated, not waved through."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from benchmarks.bench_disclosure import synthetic_contributions
from benchmarks.tauargus_baseline import (
    tau_safety_rules,
    tauargus_baseline,
    tauargus_in_subprocess,
    tauargus_published,
)

from lodeline.stockpiles.audit import audit
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import ALL, KEYS, build_table
from lodeline.stockpiles.primary import primary_suppression

RULES = DisclosureRules()


@pytest.fixture(scope="module")
def contributions() -> pl.DataFrame:
    return synthetic_contributions(8, 6, 4, seed=7)


@pytest.fixture(scope="module")
def published(contributions: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    frame, _ = tauargus_published(contributions, RULES, workdir=str(tmp_path_factory.mktemp("tau")))
    return frame


def _hand_totals(contributions: pl.DataFrame) -> pl.DataFrame:
    """Every cell's total, margins included, by one group-by per subset of the keys kept."""
    parts = []
    for keep in itertools.product([True, False], repeat=3):
        by = [k for k, kept in zip(KEYS, keep, strict=True) if kept]
        grouped = (
            contributions.group_by(by).agg(pl.col("tonnes").sum())
            if by
            else contributions.select(pl.col("tonnes").sum())
        )
        parts.append(
            grouped.with_columns(
                [pl.lit(ALL).alias(k) for k, kept in zip(KEYS, keep, strict=True) if not kept]
            ).select(*KEYS, pl.col("tonnes").alias("expected"))
        )
    return pl.concat(parts)


def test_rules_are_stated_at_the_member_level() -> None:
    assert tau_safety_rules(RULES) == "P(0,0)|P(0,0)|P(10,1)|NK(0,0)|NK(0,0)|NK(2,85)|FREQ(0,0)|FREQ(3,10)"
    with pytest.raises(ValueError, match=r"rules\.p is 12\.5"):
        tau_safety_rules(DisclosureRules(p_percent=12.5))


def test_published_values_are_the_raw_totals(contributions: pl.DataFrame, published: pl.DataFrame) -> None:
    assert published.height == 9 * 7 * 5
    both = published.join(_hand_totals(contributions), on=list(KEYS), how="left")
    shown = both.filter(pl.col("tonnes").is_not_null() & (pl.col("tau_status") != "E"))
    assert shown.height > 200
    assert np.allclose(shown["tonnes"].to_numpy(), shown["expected"].to_numpy(), rtol=1e-9, atol=1e-6)
    grand = published.filter((pl.col("mineral") == ALL) & (pl.col("group") == ALL) & (pl.col("form") == ALL))
    assert grand["tonnes"].item() == pytest.approx(contributions["tonnes"].sum(), rel=1e-12)


def test_tau_primary_cells_are_lodelines(contributions: pl.DataFrame, published: pl.DataFrame) -> None:
    table = build_table(contributions, RULES.dominance_n)
    sensitive = primary_suppression(table, RULES).sensitive
    tau_primary = np.zeros(table.n_cells, dtype=bool)
    idx = table.cell_index(published, what="τ-Argus table")
    tau_primary[idx] = (published["tau_status"] == "U").to_numpy()
    assert sensitive.sum() > 10
    assert (tau_primary == sensitive).all()


def test_the_audit_evaluates_taus_pattern(contributions: pl.DataFrame, published: pl.DataFrame) -> None:
    withheld = published.filter(pl.col("tonnes").is_null())
    secondary = published.filter(pl.col("tau_status") == "M")
    assert secondary.height > 0
    report = audit(published.select(*KEYS, "tonnes"), contributions, RULES)
    attacked = report.cells.filter(pl.col("status") != "published").select(KEYS).sort(KEYS)
    assert attacked.equals(withheld.select(KEYS).sort(KEYS))
    assert report.passed, report.summary()
    # publish τ-Argus' secondary cells again: the same audit must now find under-protected primary cells
    exposed = published.join(_hand_totals(contributions), on=list(KEYS), how="left").with_columns(
        pl.when(pl.col("tau_status") == "M")
        .then(pl.col("expected"))
        .otherwise(pl.col("tonnes"))
        .alias("tonnes")
    )
    weakened = audit(exposed.select(*KEYS, "tonnes"), contributions, RULES)
    assert not weakened.passed
    assert weakened.failures.height > 0


def test_baseline_summary_counts_the_pattern(
    contributions: pl.DataFrame, published: pl.DataFrame, tmp_path: Path
) -> None:
    summary, report = tauargus_baseline(contributions, RULES, workdir=str(tmp_path))
    assert summary["method"] == "MOD(1)"
    assert summary["audit_passed"] is report.passed
    assert summary["cells_suppressed"] == summary["primary_cells"] + summary["secondary_cells"]
    hand = published.filter(pl.col("tonnes").is_null()).join(
        _hand_totals(contributions), on=list(KEYS), how="left"
    )
    assert summary["cells_suppressed"] == hand.height
    assert summary["tonnes_suppressed"] == pytest.approx(hand["expected"].sum(), abs=0.06)


def test_the_benchmark_child_is_cut_off_when_it_overruns() -> None:
    """The benchmark runs τ-Argus in a child process (same seed, same table) and records a run that overruns."""
    assert tauargus_in_subprocess((8, 6, 4), timeout=0.01) == {
        "method": "MOD(1)",
        "finished": False,
        "timeout_seconds": 0.01,
    }
