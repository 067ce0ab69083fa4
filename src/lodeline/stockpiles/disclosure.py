"""Statistical disclosure control of a published stockpile table (issue 13; docs/methods/disclosure-control.md).

``protect`` takes one row per contributor (member) and cell, builds mineral × group × form with every margin
(``"ALL"``), applies the primary rules (minimum frequency, (n, k) dominance, p%), chooses complementary cells by
LP so every sensitive cell keeps its protection interval, then attacks the result as an intruder would (``audit``)
and raises ``DisclosureAuditError`` rather than return a table that fails. Pure computation: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import polars as pl

from lodeline.stockpiles.audit import TOLERANCE, AuditReport, DisclosureAuditError, audit, run_audit
from lodeline.stockpiles.disclosure_rules import DisclosureInputError, DisclosureRules
from lodeline.stockpiles.disclosure_table import ALL, KEYS, CellTable, build_table
from lodeline.stockpiles.primary import CARRIED, PrimaryResult, primary_suppression
from lodeline.stockpiles.secondary import joint_secondary_suppression, same_cells, secondary_suppression

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
    "protect_measures",
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


def _finish(table: CellTable, primary: PrimaryResult, suppressed: np.ndarray) -> ProtectedTable:
    """Audit ``suppressed`` (raising if it fails) and build the published frame and information loss."""
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


def protect(
    contributions: pl.DataFrame,
    rules: DisclosureRules = DisclosureRules(),
    previous: pl.DataFrame | None = None,
) -> ProtectedTable:
    """The published table with primary and secondary suppression, audited. Raises ``DisclosureInputError`` on
    bad input (naming row and column) and ``DisclosureAuditError`` (carrying the report) if the audit fails."""
    table = build_table(contributions, rules.dominance_n)
    primary = primary_suppression(table, rules, _carried(table, previous))
    return _finish(table, primary, secondary_suppression(table, primary, rules))


def _label_keys(table: CellTable, mask: np.ndarray) -> set[tuple[str, str, str]]:
    return {tuple(r) for r in table.labels().filter(pl.Series(mask)).iter_rows()}


def _tighten(
    table: CellTable, protected: ProtectedTable, other: ProtectedTable, *, other_is_upper: bool
) -> ProtectedTable:
    """Re-check ``protected``'s sensitive cells with the other measure's interval of the same cell: contained ≤
    gross for every contribution, so an intruder bounds a hidden contained cell by the gross cell's upper bound
    (``other_is_upper``) and a hidden gross cell from below by the contained cell's lower bound."""
    keys = list(KEYS)
    side = "upper" if other_is_upper else "lower"
    bound = other.audit.cells.select(*keys, pl.col(side).alias("_other"))
    values = table.labels().with_columns(pl.Series("_x", table.value))
    cells = protected.audit.cells.join(values, on=keys, how="left").join(bound, on=keys, how="left")
    pick = pl.min_horizontal if other_is_upper else pl.max_horizontal
    cells = cells.with_columns(pick(pl.col(side), pl.col("_other").fill_null(pl.col(side))).alias(side))
    tol = TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col("_x"))
    covered = (pl.col("upper") >= pl.col("_x") + pl.col("required_upper") - tol) & (
        pl.col("lower") <= pl.col("_x") - pl.col("required_lower") + tol
    )
    sensitive = pl.col("status") == "primary"
    cells = cells.with_columns(
        pl.when(sensitive).then(pl.col("ok") & covered).otherwise(pl.col("ok")).alias("ok")
    )
    report = AuditReport(cells.drop("_x", "_other"))
    if not report.passed:
        raise DisclosureAuditError(report)
    return replace(protected, audit=report)


def _same_cell_groups(built: Mapping[str, tuple[CellTable, PrimaryResult]], share: bool) -> list[list[str]]:
    """The tables' names grouped by identical cells (in input order); every table alone unless ``share``."""
    groups: list[list[str]] = []
    for name, (table, _) in built.items():
        for group in groups:
            if share and same_cells([built[group[0]][0], table]):
                group.append(name)
                break
        else:
            groups.append([name])
    return groups


def protect_measures(
    contributions: Mapping[str, pl.DataFrame],
    rules: DisclosureRules = DisclosureRules(),
    previous: Mapping[str, pl.DataFrame | None] | None = None,
    *,
    bounded_by: Mapping[str, str] | None = None,
    share_patterns: bool = True,
) -> dict[str, ProtectedTable]:
    """Linked tables protected together: several measures of one table (gross and contained tonnes) and tables
    that share cells (the same minerals grouped by holder type and by member group share every cell whose group
    is ``ALL``). Each gets its own primary and complementary suppression, then every table suppresses the UNION
    of the patterns by cell label (a cell hidden in one table is hidden in every table that has it, so a
    published gross cell never bounds a hidden contained one, and a margin published in one grouping never
    undoes the other's suppression), and each is re-audited with the union pattern (suppressing more only widens
    an intruder's intervals, so the re-audit confirms rather than repairs). ``bounded_by`` maps a table to the
    one that is at least it contribution by contribution (contained → gross of the same grouping): its cells'
    intervals are then also narrowed by the other's interval of the same cell before the protection check.
    Tables with the same cells (the measures of one grouping when every item gives both) share ONE complementary
    pattern (``joint_secondary_suppression``: one LP per cell sensitive in any of them, feasible in each), which
    is sound by the same argument and about halves the secondary step; ``share_patterns=False`` solves each
    table alone (the union then joins them as before). Raises ``DisclosureAuditError`` if any audit fails."""
    built: dict[str, tuple[CellTable, PrimaryResult]] = {}
    for name, frame in contributions.items():
        table = build_table(frame, rules.dominance_n)
        before = None if previous is None else previous.get(name)
        built[name] = (table, primary_suppression(table, rules, _carried(table, before)))
    tables: dict[str, tuple[CellTable, PrimaryResult, np.ndarray]] = {}
    for names in _same_cell_groups(built, share_patterns):
        parts = [built[n] for n in names]
        if len(parts) == 1:
            suppressed = secondary_suppression(parts[0][0], parts[0][1], rules)
        else:
            suppressed = joint_secondary_suppression([t for t, _ in parts], [p for _, p in parts], rules)
        for name, (table, primary) in zip(names, parts, strict=True):
            tables[name] = (table, primary, suppressed)
    hidden: set[tuple[str, str, str]] = set()
    for table, _, suppressed in tables.values():
        hidden |= _label_keys(table, suppressed)
    out = {}
    for name, (table, primary, suppressed) in tables.items():
        labels = table.labels()
        in_union = np.array([tuple(r) in hidden for r in labels.iter_rows()], dtype=bool)
        out[name] = _finish(table, primary, suppressed | in_union)
    for name, bounding in (bounded_by or {}).items():
        if name in out and bounding in out:
            lowered = _tighten(tables[name][0], out[name], out[bounding], other_is_upper=True)
            out[bounding] = _tighten(tables[bounding][0], out[bounding], out[name], other_is_upper=False)
            out[name] = lowered
    return out
