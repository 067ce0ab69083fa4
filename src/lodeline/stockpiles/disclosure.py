"""Statistical disclosure control of a published stockpile table (issue 13; docs/methods/disclosure-control.md).

``protect`` takes one row per contributor (member) and cell, builds mineral × group × form with every margin
(``"ALL"``), applies the primary rules (minimum frequency, (n, k) dominance, p%), chooses complementary cells by
LP so every sensitive cell keeps its protection interval, then attacks the result as an intruder would (``audit``)
and raises ``DisclosureAuditError`` rather than return a table that fails. Pure computation: no I/O."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from lodeline.stockpiles.audit import AuditReport, DisclosureAuditError, audit, run_audit
from lodeline.stockpiles.disclosure_rules import DisclosureInputError, DisclosureRules
from lodeline.stockpiles.disclosure_table import ALL, KEYS, CellTable, build_table
from lodeline.stockpiles.primary import CARRIED, primary_suppression
from lodeline.stockpiles.secondary import secondary_suppression

__all__ = [
    "ALL",
    "CARRIED",
    "CONFIDENTIAL",
    "AuditReport",
    "DisclosureAuditError",
    "DisclosureInputError",
    "DisclosureRules",
    "InformationLoss",
    "ProtectedTable",
    "audit",
    "protect",
]

CONFIDENTIAL = ":c"  # Eurostat's flag for a confidential cell


@dataclass(frozen=True)
class InformationLoss:
    """What the public does not see: suppressed cells and their tonnes (margins included), by kind."""

    cells: int
    tonnes: float
    primary_cells: int
    secondary_cells: int
    primary_tonnes: float
    secondary_tonnes: float
    total_cells: int
    total_tonnes: float  # grand total of the table, for scale


@dataclass(frozen=True)
class ProtectedTable:
    """``frame``: mineral, group, form, tonnes (null when suppressed), flag (``":c"`` or null), status
    (published | primary | secondary), contributors, rule. ``contributors`` and ``rule`` are for the secretariat:
    a public export keeps mineral, group, form, tonnes and flag only."""

    frame: pl.DataFrame
    audit: AuditReport
    information_loss: InformationLoss


def _carried(table: CellTable, previous: pl.DataFrame | None) -> np.ndarray | None:
    """Cells suppressed as primary in ``previous`` that exist in this table (new or vanished cells are ignored)."""
    if previous is None:
        return None
    missing = [c for c in (*KEYS, "status") if c not in previous.columns]
    if missing:
        raise DisclosureInputError(f"previous period's frame: missing column(s) {missing}")
    was_primary = previous.filter(pl.col("status") == "primary")
    lookups = [{name: i for i, name in enumerate([*table.categories[d], ALL])} for d in range(3)]
    carried = np.zeros(table.n_cells, dtype=bool)
    for row in was_primary.select(KEYS).iter_rows():
        codes = [lookups[d].get(label) for d, label in enumerate(row)]
        if all(c is not None for c in codes):
            carried[np.ravel_multi_index(tuple(codes), table.shape)] = True  # type: ignore[arg-type]
    return carried


def protect(
    contributions: pl.DataFrame,
    rules: DisclosureRules = DisclosureRules(),
    previous: pl.DataFrame | None = None,
) -> ProtectedTable:
    """The published table with primary and secondary suppression, audited. Raises ``DisclosureInputError`` on
    bad input (naming row and column) and ``DisclosureAuditError`` (carrying the report) if the audit fails."""
    table = build_table(contributions, rules.dominance_n)
    primary = primary_suppression(table, rules, _carried(table, previous))
    suppressed = secondary_suppression(table, primary, rules)
    status = np.where(primary.sensitive, "primary", np.where(suppressed, "secondary", "published"))
    report = run_audit(table, primary, suppressed, status)
    if not report.passed:
        raise DisclosureAuditError(report)
    value = table.value
    frame = table.labels().with_columns(
        pl.Series("tonnes", np.where(suppressed, np.nan, value)).fill_nan(None),
        pl.Series("flag", [CONFIDENTIAL if s else None for s in suppressed], dtype=pl.Utf8),
        pl.Series("status", status.tolist(), dtype=pl.Utf8),
        pl.Series("contributors", table.contributors, dtype=pl.Int64),
        pl.Series("rule", primary.rule.tolist(), dtype=pl.Utf8),
    )
    secondary = suppressed & ~primary.sensitive
    grand = value[-1]  # the last cell is (ALL, ALL, ALL)
    loss = InformationLoss(
        cells=int(suppressed.sum()),
        tonnes=float(value[suppressed].sum()),
        primary_cells=int(primary.sensitive.sum()),
        secondary_cells=int(secondary.sum()),
        primary_tonnes=float(value[primary.sensitive].sum()),
        secondary_tonnes=float(value[secondary].sum()),
        total_cells=table.n_cells,
        total_tonnes=float(grand),
    )
    return ProtectedTable(frame=frame, audit=report, information_loss=loss)
