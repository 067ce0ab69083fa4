"""The audit's witness path (components larger than ``EXACT_LIMIT``) against the exact LPs on the same table.

On the benchmark's quick synthetic table (12 minerals × 10 groups × 5 forms, 858 cells, one component of ~230
withheld cells) the audit is run twice: with witnesses (the default) and with every cell's two LPs solved
(``exact_limit`` above the component size). A witnessed bound is a value of a feasible table, so it must lie
inside the exact interval, and both must reach the same verdict for every cell — on the protected table (all ok)
and on an under-protected one (only the primary cells withheld, where the exact LPs find the failures)."""

from __future__ import annotations

import numpy as np
import pytest
from benchmarks.bench_disclosure import synthetic_contributions

from lodeline.stockpiles.audit import intruder_bounds, run_audit
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import build_table
from lodeline.stockpiles.primary import primary_suppression
from lodeline.stockpiles.secondary import secondary_suppression


@pytest.fixture(scope="module")
def setting():  # type: ignore[no-untyped-def]
    rules = DisclosureRules()
    table = build_table(synthetic_contributions(12, 10, 5), rules.dominance_n)
    primary = primary_suppression(table, rules)
    return table, primary, secondary_suppression(table, primary, rules)


def test_witnessed_bounds_lie_inside_the_exact_interval(setting) -> None:  # type: ignore[no-untyped-def]
    table, primary, suppressed = setting
    lo_w, up_w, exact_w = intruder_bounds(table, suppressed, primary)
    lo_e, up_e, exact_e = intruder_bounds(table, suppressed, primary, exact_limit=10**6)
    assert exact_e.all() and not exact_w[suppressed].all()  # the default really took the witness path
    cells = np.flatnonzero(suppressed)
    tol = 1e-6 * np.maximum(1.0, table.value[cells])
    assert (up_w[cells] <= up_e[cells] + tol).all() and (lo_w[cells] >= lo_e[cells] - tol).all()
    x, need_up, need_down = table.value[cells], primary.upper[cells], primary.lower[cells]
    assert (up_e[cells] >= x + need_up - tol).all() and (lo_e[cells] <= x - need_down + tol).all()


def test_witness_and_exact_verdicts_agree_on_an_under_protected_table(setting) -> None:  # type: ignore[no-untyped-def]
    table, primary, _ = setting
    only_primary = primary.sensitive.copy()
    witnessed = run_audit(table, primary, only_primary)
    lo_e, up_e, _ = intruder_bounds(table, only_primary, primary, exact_limit=10**6)
    x = table.value
    tol = 1e-6 * np.maximum(1.0, x)
    exact_ok = (up_e >= x + primary.upper - tol) & (lo_e <= x - primary.lower + tol)
    exact_failures = int((primary.sensitive & ~exact_ok).sum())
    assert exact_failures > 0 and not witnessed.passed
    assert witnessed.failures.height == exact_failures
    assert witnessed.failures["exact"].all()  # every failure is backed by its exact LPs
    assert not witnessed.cells["exact"].all()  # and the covered cells were certified by witnesses
