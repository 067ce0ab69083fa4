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
    table: CellTable,
    cells: np.ndarray,
    shape: tuple[int, int, int],
    target: int,
    primary: PrimaryResult,
    cost: np.ndarray,
) -> Block:
    """Variables [d⁺, d⁻] over the sub-table: A(d⁺ − d⁻) = 0, d⁺_p = 1, d⁻_p = 0, and the bounds above."""
    x = table.value[cells]
    p = int(np.flatnonzero(cells == target)[0])
    ub_plus = x / primary.lower[target]  # x − L·d ≥ 0 with d in units of U… see the module docstring
    ub_minus = x / primary.upper[target]
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
    suppressed = primary.sensitive.copy()
    base_cost = cell_costs(table, rules)
    targets = np.flatnonzero(primary.sensitive & (primary.upper > 0))
    targets = targets[np.argsort(-primary.upper[targets], kind="stable")]
    for start in range(0, targets.size, BATCH):
        batch = targets[start : start + BATCH]
        cost = np.where(suppressed, SUPPRESSED_COST, base_cost)
        # a cell of value 0 cannot carry a two-sided deviation; cells already withheld are free
        score = np.where(table.value > 0, np.where(suppressed, 0.0, base_cost), np.inf)
        pending = [(int(t), False) for t in batch]
        while pending:
            subs = [_sub_table(table, t, score, full) for t, full in pending]
            blocks = [
                _pattern_block(table, cells, shape, t, primary, cost)
                for (cells, shape), (t, _) in zip(subs, pending, strict=True)
            ]
            retry = []
            for (cells, _), (t, full), sol in zip(subs, pending, solve_blocks(blocks), strict=True):
                n = cells.size
                if sol is None:
                    # no pattern in the sub-table: retry on the whole table (the audit catches a numerical failure)
                    if not full:
                        retry.append((t, True))
                    continue
                moved = np.abs(sol[:n] - sol[n : 2 * n]) > MOVED
                suppressed[cells[moved]] = True
            pending = retry
    return suppressed
