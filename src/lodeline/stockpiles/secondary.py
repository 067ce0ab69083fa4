"""Secondary (complementary) suppression: for each primary cell, an LP finds the cheapest deviation pattern that
moves the cell by its protection levels while keeping the table additive and non-negative; the cells the pattern
moves are suppressed (docs/methods/disclosure-control.md, "Secondary suppression").

The pattern d (scaled so the primary cell p moves by 1, i.e. by its upper protection U) satisfies A·d = 0,
d_p = 1, x_i + U·d_i ≥ 0 and x_i − L·d_i ≥ 0 for every cell (L the lower protection), so x + U·d and x − L·d are
both tables an intruder cannot tell from the true one once the moved cells are withheld: the intruder's interval for p
then covers [x_p − L, x_p + U] whatever else is suppressed later (more suppression only widens intervals). This is
the LP heuristic of Kelly, Golden & Assad (1992) and Fischetti & Salazar-González (2000) with both directions
certified by one LP. To keep each LP small it runs on a sub-table: the primary cell's categories, ``ALL`` and the
``CANDIDATES`` cheapest alternatives per dimension; if that has no pattern the whole table is used (which always
has one: the table scaled by U/x_p)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from scipy import sparse

from lodeline.stockpiles.disclosure_lp import Block, solve_blocks
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import CellTable, additivity
from lodeline.stockpiles.primary import PrimaryResult

CANDIDATES = 3
BATCH = 48
#: cost of a deviation through a cell already suppressed (free but for a tie-break towards sparse patterns)
SUPPRESSED_COST = 1e-6
MOVED = 1e-7  # a scaled deviation above this suppresses the cell


def cell_costs(table: CellTable, rules: DisclosureRules) -> np.ndarray:
    """Information loss of suppressing each cell: its tonnes plus 1 % of the median non-zero interior cell (so
    that among equal tonnages fewer cells win), or 1 per cell; normalised to a maximum of 1."""
    if rules.cost == "cells":
        return np.ones(table.n_cells)
    positive = table.value[table.value > 0]
    charge = 0.01 * float(np.median(positive)) if positive.size else 1.0
    cost = table.value + charge
    return cost / cost.max()


def _sub_table(
    table: CellTable, target: int, score: np.ndarray, full: bool
) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Cell numbers (row-major) and shape of the sub-table around ``target``: its categories, ALL (last) and the
    cheapest alternatives per dimension; the whole table when ``full``."""
    shape = table.shape
    coord = np.array(np.unravel_index(target, shape))
    keep = []
    for d in range(3):
        if full:
            keep.append(np.arange(shape[d]))
            continue
        alternatives = np.setdiff1d(np.arange(shape[d] - 1), [coord[d]])
        probe = np.repeat(coord[None, :], alternatives.size, axis=0)
        probe[:, d] = alternatives
        s = score[np.ravel_multi_index(tuple(probe.T), shape)] if alternatives.size else np.empty(0)
        finite = alternatives[np.isfinite(s)]
        best = finite[np.argsort(s[np.isfinite(s)], kind="stable")[:CANDIDATES]]
        keep.append(np.union1d(best, [coord[d], shape[d] - 1]))
    grid = np.meshgrid(*keep, indexing="ij")
    cells = np.ravel_multi_index(tuple(g.ravel() for g in grid), shape)
    return cells, (keep[0].size, keep[1].size, keep[2].size)


@lru_cache(maxsize=256)
def _sub_constraints(shape: tuple[int, int, int]) -> sparse.csr_matrix:
    """[A, −A] of a sub-table of this shape. The sub-table keeps ``ALL`` in every dimension, so the rows of the
    full table that touch it are exactly the sub-table's own margin rows (children outside it do not move)."""
    a = additivity(shape)
    return sparse.hstack([a, -a], format="csr")


def _pattern_block(
    tables: Sequence[CellTable],
    cells: np.ndarray,
    shape: tuple[int, int, int],
    target: int,
    primaries: Sequence[PrimaryResult],
    cost: np.ndarray,
    which: int | None,
) -> Block:
    """Variables [d⁺, d⁻] over the sub-table: A(d⁺ − d⁻) = 0, d⁺_p = 1, d⁻_p = 0, and the bounds above, for every
    table in which the target is sensitive (``which``: that table only). One d serves them all: table k's
    deviations are U_k·d and L_k·d, so the bounds of each keep each of its two shifted tables non-negative."""
    ub_plus = np.full(cells.size, np.inf)
    ub_minus = np.full(cells.size, np.inf)
    for k, (table, primary) in enumerate(zip(tables, primaries, strict=True)):
        if (which is not None and k != which) or not (
            primary.sensitive[target] and primary.upper[target] > 0
        ):
            continue
        x = table.value[cells]
        ub_plus = np.minimum(ub_plus, x / primary.lower[target])  # x − L·d ≥ 0 with d in units of U
        ub_minus = np.minimum(ub_minus, x / primary.upper[target])
    p = int(np.flatnonzero(cells == target)[0])
    lb = np.zeros(2 * cells.size)
    ub_plus[p], ub_minus[p] = 1.0, 0.0
    lb[p] = 1.0
    c_cells = cost[cells].copy()
    c_cells[p] = 0.0
    a_eq = _sub_constraints(shape)
    return Block(
        c=np.concatenate([c_cells, c_cells]),
        a_eq=a_eq,
        b_eq=np.zeros(a_eq.shape[0]),
        lb=lb,
        ub=np.concatenate([ub_plus, ub_minus]),
    )


def secondary_suppression(table: CellTable, primary: PrimaryResult, rules: DisclosureRules) -> np.ndarray:
    """The suppressed cells (primary and complementary). Primary cells are processed in batches, largest
    protection first; the costs are updated between batches so later patterns reuse cells already withheld."""
    return joint_secondary_suppression([table], [primary], rules)


def same_cells(tables: Sequence[CellTable]) -> bool:
    """Whether the tables have the same cells (the same categories in every dimension), cell for cell."""
    return all(t.categories == tables[0].categories for t in tables)


def joint_secondary_suppression(
    tables: Sequence[CellTable], primaries: Sequence[PrimaryResult], rules: DisclosureRules
) -> np.ndarray:
    """ONE suppression pattern for several measures of the same cells (gross and contained tonnes): the cells
    sensitive in any of them, each protected by one deviation pattern that is feasible in every table where the
    cell is sensitive (so one LP per sensitive cell instead of one per cell and measure). Moving the same cells
    in every table, the pattern certifies each table's protection interval as the single-table pattern does.
    Where no joint pattern exists on the whole table, each measure gets its own pattern for that cell."""
    if not tables or not same_cells(tables):
        raise ValueError("a joint suppression pattern needs tables with the same cells")
    suppressed = np.logical_or.reduce([p.sensitive for p in primaries])
    base_cost = np.mean([cell_costs(t, rules) for t in tables], axis=0)
    positive = np.logical_and.reduce([t.value > 0 for t in tables])
    upper = np.max([np.where(p.sensitive, p.upper, 0.0) for p in primaries], axis=0)
    targets = np.flatnonzero(upper > 0)
    targets = targets[np.argsort(-upper[targets], kind="stable")]
    first = tables[0]
    for start in range(0, targets.size, BATCH):
        batch = targets[start : start + BATCH]
        cost = np.where(suppressed, SUPPRESSED_COST, base_cost)
        # a cell of value 0 cannot carry a two-sided deviation; cells already withheld are free
        score = np.where(positive, np.where(suppressed, 0.0, base_cost), np.inf)
        pending: list[tuple[int, bool, int | None]] = [(int(t), False, None) for t in batch]
        while pending:
            subs = [_sub_table(first, t, score, full) for t, full, _ in pending]
            blocks = [
                _pattern_block(tables, cells, shape, t, primaries, cost, which)
                for (cells, shape), (t, _, which) in zip(subs, pending, strict=True)
            ]
            retry: list[tuple[int, bool, int | None]] = []
            for (cells, _), (t, full, which), sol in zip(subs, pending, solve_blocks(blocks), strict=True):
                n = cells.size
                if sol is None:
                    # no pattern in the sub-table: retry on the whole table, then per measure (the audit
                    # catches a numerical failure)
                    if not full:
                        retry.append((t, True, which))
                    elif which is None and len(tables) > 1:
                        retry.extend(
                            (t, True, k) for k, p in enumerate(primaries) if p.sensitive[t] and p.upper[t] > 0
                        )
                    continue
                moved = np.abs(sol[:n] - sol[n : 2 * n]) > MOVED
                suppressed[cells[moved]] = True
            pending = retry
    return suppressed
