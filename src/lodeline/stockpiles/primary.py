"""Primary suppression: which cells are sensitive and the protection interval each demands.

Definitions (Hundepool et al., *Statistical Disclosure Control*, Wiley 2012, §4.2; τ-Argus manual, "sensitivity
rules"). For a cell of total X whose contributors' totals are x1 ≥ x2 ≥ …, and R = X − x1 − x2:

- minimum frequency: sensitive when 0 < contributors < ``min_frequency``; protection ``frequency_range``/100 · X;
- (n, k) dominance: sensitive when x1 + … + xn > k/100 · X; protection 100/k · (x1 + … + xn) − X (the amount the
  published upper bound must exceed X so that the n largest no longer appear to hold over k %);
- p% rule: sensitive when R < p/100 · x1; protection p/100 · x1 − R (the second largest, knowing x2, bounds x1 by
  U − x2 − 0 from the cell's upper bound U; it must not come within p % of x1).

The upper protection level is the largest of the rules that fire; the lower one is the same, capped at X (the cell
cannot go below zero). A cell of value 0 is never sensitive (τ-Argus' default for zero cells). A cell suppressed
as primary last period that still has contributions is carried (rule ``"carried"``) with protection at least
p/100 · X, so that this period's published value does not reveal last period's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import CellTable

RULES = ("frequency", "dominance", "p%")
CARRIED = "carried"


@dataclass(frozen=True)
class PrimaryResult:
    """Per cell: sensitive or not, the binding rule (or None), and the upper and lower protection levels."""

    sensitive: np.ndarray
    rule: np.ndarray  # object: str | None
    upper: np.ndarray
    lower: np.ndarray


def protection_levels(table: CellTable, rules: DisclosureRules) -> dict[str, np.ndarray]:
    """Per rule, the upper protection level of every cell (0 where the rule does not fire)."""
    x = table.value
    positive = x > 0
    remainder = np.maximum(x - table.largest - table.second, 0.0)
    frequency = positive & (table.contributors < rules.min_frequency)
    # compared multiplied out (100·top > k·X) so that exact thresholds are not blurred by a division
    dominance = positive & (100.0 * table.top_n > rules.dominance_k * x)
    p_rule = positive & (100.0 * remainder < rules.p_percent * table.largest)
    return {
        "frequency": np.where(frequency, rules.frequency_range / 100.0 * x, 0.0),
        "dominance": np.where(dominance, np.maximum(100.0 / rules.dominance_k * table.top_n - x, 0.0), 0.0),
        "p%": np.where(p_rule, np.maximum(rules.p_percent / 100.0 * table.largest - remainder, 0.0), 0.0),
        "_fired_frequency": frequency.astype(float),
        "_fired_dominance": dominance.astype(float),
        "_fired_p%": p_rule.astype(float),
    }


def primary_suppression(
    table: CellTable, rules: DisclosureRules, carried: np.ndarray | None = None
) -> PrimaryResult:
    """Sensitive cells of ``table`` under ``rules``; ``carried`` marks cells suppressed as primary last period."""
    levels = protection_levels(table, rules)
    fired = np.stack([levels[f"_fired_{r}"] > 0 for r in RULES])
    level = np.stack([levels[r] for r in RULES])
    sensitive: np.ndarray = np.asarray(fired.any(axis=0))
    # the binding rule: among the rules that fired, the one demanding the most protection
    binding = np.argmax(np.where(fired, level, -1.0), axis=0)
    rule = np.array([None, *RULES], dtype=object)[np.where(sensitive, binding + 1, 0)]
    upper = level.max(axis=0)
    if carried is not None:
        extra = carried & ~sensitive & (table.value > 0)
        rule[extra] = CARRIED
        sensitive = sensitive | extra
        carried_level = rules.p_percent / 100.0 * table.value
        upper = np.where(carried & (table.value > 0), np.maximum(upper, carried_level), upper)
    upper = np.where(sensitive, upper, 0.0)
    lower = np.minimum(upper, table.value)
    return PrimaryResult(sensitive=sensitive, rule=rule, upper=upper, lower=lower)
