"""The intruder audit: for each suppressed cell, the smallest and largest value it can take given every published
value, the additivity of the table and non-negativity (two LPs), against the protection its rule demands.

The report holds protection requirements derived from confidential contributions: it is for the secretariat."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from lodeline.stockpiles.disclosure_lp import Block, LPFailure, solve_blocks
from lodeline.stockpiles.disclosure_rules import DisclosureInputError, DisclosureRules
from lodeline.stockpiles.disclosure_table import KEYS, CellTable, build_table
from lodeline.stockpiles.primary import CARRIED, PrimaryResult, primary_suppression

#: relative tolerance of the coverage check (LP solutions are exact to HiGHS' feasibility tolerance, 1e-7)
TOLERANCE = 1e-6
#: components up to this many suppressed cells get exact bounds (2 LPs per cell); larger ones witnesses first
EXACT_LIMIT = 150


@dataclass(frozen=True)
class AuditReport:
    """One row per suppressed or sensitive cell: ``lower``/``upper`` the intruder's feasibility interval,
    ``required_lower``/``required_upper`` the protection the rule demands below and above the true value, ``ok``."""

    cells: pl.DataFrame

    @property
    def passed(self) -> bool:
        return bool(self.cells.get_column("ok").all()) if self.cells.height else True

    @property
    def failures(self) -> pl.DataFrame:
        return self.cells.filter(~pl.col("ok"))

    def summary(self) -> str:
        n_fail = self.failures.height
        verdict = "PASSED" if n_fail == 0 else f"FAILED ({n_fail} cell(s) under-protected)"
        return f"disclosure audit {verdict}: {self.cells.height} suppressed or sensitive cell(s) attacked"


class DisclosureAuditError(RuntimeError):
    """The intruder audit found a cell whose feasibility interval is narrower than its protection interval."""

    def __init__(self, report: AuditReport) -> None:
        self.report = report
        worst = report.failures.head(5).select(*KEYS).rows()
        super().__init__(f"{report.summary()}; first: {worst}")


def _witness_round(
    sub: sparse.csr_matrix,
    rhs: np.ndarray,
    x: np.ndarray,
    need: np.ndarray,
    todo: np.ndarray,
    sign: float,
    big: float,
) -> np.ndarray | None:
    """One feasible table y pushing every cell of ``todo`` by its need (up for sign +1, down for −1) at once:
    max Σ z_j with z_j ≤ sign·(y_j − x_j)/need_j and z_j ≤ 1; None if HiGHS fails."""
    n, k = x.size, todo.size
    # z_j − sign·y_j/need_j ≤ −sign·x_j/need_j
    a_ub = sparse.hstack(
        [
            sparse.csr_matrix((-sign / need[todo], (np.arange(k), todo)), shape=(k, n)),
            sparse.eye(k, format="csr"),
        ],
        format="csr",
    )
    result = linprog(
        np.concatenate([np.zeros(n), -np.ones(k)]),
        A_ub=a_ub,
        b_ub=-sign * x[todo] / need[todo],
        A_eq=sparse.hstack([sub, sparse.csr_matrix((sub.shape[0], k))], format="csr"),
        b_eq=rhs,
        bounds=np.column_stack(
            [
                np.concatenate([np.zeros(n), np.full(k, -np.inf)]),
                np.concatenate([np.full(n, big), np.ones(k)]),
            ]
        ),
        method="highs",
    )
    return np.asarray(result.x[:n]) if result.status == 0 else None


def _witnesses(
    sub: sparse.csr_matrix, rhs: np.ndarray, x: np.ndarray, need: np.ndarray, sign: float, big: float
) -> tuple[np.ndarray, np.ndarray]:
    """Cells of a large component whose protection one verified feasible table witnesses, and per cell the most
    extreme value (in direction ``sign``) seen in any witness. Rounds stop when a round certifies nothing new."""
    certified = need <= 0
    extreme = x.copy()
    scale = 1.0 + np.abs(rhs).max(initial=0.0)
    while not certified.all():
        todo = np.flatnonzero(~certified)
        y = _witness_round(sub, rhs, x, need, todo, sign, big)
        if y is None:
            break
        y = np.maximum(y, 0.0)
        if (
            np.abs(sub @ y - rhs).max(initial=0.0) > 1e-7 * scale
        ):  # verify the witness, do not trust the solver
            break
        extreme = np.maximum(extreme, y) if sign > 0 else np.minimum(extreme, y)
        newly = (sign * (y - x) >= need - TOLERANCE * np.maximum(1.0, x)) & ~certified
        if not newly.any():
            break
        certified |= newly
    return certified, extreme


def intruder_bounds(
    table: CellTable,
    suppressed: np.ndarray,
    primary: PrimaryResult | None = None,
    exact_limit: int = EXACT_LIMIT,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell, the intruder's [lower, upper] (the published value for published cells; ``inf`` when unbounded)
    and whether the bounds are exact.

    Suppressed cells linked by a shared constraint form components. A component of at most ``exact_limit`` cells
    (or every component when ``primary`` is None) gets its 2·n LPs, stacked. In a larger one, the protection of
    every sensitive cell is first shown by witnesses, feasible tables found by a few LPs that push all uncovered
    cells at once and checked against the constraints here; the cells no witness covers get their exact LPs.
    A witnessed bound is a value the intruder cannot exclude (the true bound is at least that wide)."""
    value = table.value
    lower, upper = value.astype(float).copy(), value.astype(float).copy()
    exact = np.ones(table.n_cells, dtype=bool)
    cells = np.flatnonzero(suppressed)
    if cells.size == 0:
        return lower, upper, exact
    a = table.constraints.tocsc()
    a_sup = a[:, cells].tocsr()
    rhs = -(a[:, ~suppressed] @ value[~suppressed])
    touching = np.flatnonzero(np.diff(a_sup.indptr) > 0)
    a_sup, rhs = a_sup[touching], rhs[touching]
    incidence = (a_sup != 0).astype(np.int8)
    n_comp, label = connected_components(incidence.T @ incidence, directed=False)
    # no published bound caps a cell whose whole component has no constraint: bound by a large number, report inf
    big = 1e3 * (1.0 + float(np.abs(value).sum()))
    blocks: list[Block] = []
    owners: list[tuple[np.ndarray, int, int]] = []  # (component cells, local index, sign)
    incidence_csc = incidence.tocsc()
    for comp in range(n_comp):
        local = np.flatnonzero(label == comp)
        rows = np.unique(incidence_csc[:, local].indices)
        sub = a_sup[rows][:, local]
        exact_cells = np.arange(local.size)
        if primary is not None and local.size > exact_limit:
            x, glob = value[cells[local]], cells[local]
            up_ok, up_seen = _witnesses(sub, rhs[rows], x, primary.upper[glob], 1.0, big)
            down_ok, down_seen = _witnesses(sub, rhs[rows], x, primary.lower[glob], -1.0, big)
            upper[glob], lower[glob] = up_seen, down_seen
            exact[glob] = False
            exact_cells = np.flatnonzero(~(up_ok & down_ok))
        for j in exact_cells:
            exact[cells[local[j]]] = True
            for sign in (1.0, -1.0):
                c = np.zeros(local.size)
                c[j] = sign
                blocks.append(Block(c, sub, rhs[rows], np.zeros(local.size), np.full(local.size, big)))
                owners.append((local, int(j), int(sign)))
    for (local, k, sign), sol in zip(owners, solve_blocks(blocks), strict=True):
        if sol is None:
            raise LPFailure("intruder LP has no optimum although the true table satisfies it")
        cell = cells[local[k]]
        bound = float(sol[k])
        if sign > 0:
            lower[cell] = max(bound, 0.0)
        else:
            upper[cell] = np.inf if bound >= big * (1 - 1e-9) else bound
    return lower, upper, exact


def run_audit(
    table: CellTable, primary: PrimaryResult, suppressed: np.ndarray, status: np.ndarray | None = None
) -> AuditReport:
    """Attack the table with ``suppressed`` cells withheld; every sensitive cell must be covered."""
    lower, upper, exact = intruder_bounds(table, suppressed, primary)
    x = table.value
    tol = TOLERANCE * np.maximum(1.0, x)
    covered = (upper >= x + primary.upper - tol) & (lower <= x - primary.lower + tol)
    ok = np.where(primary.sensitive, suppressed & covered, True)
    listed = np.flatnonzero(suppressed | primary.sensitive)
    if status is None:
        status = np.where(primary.sensitive, "primary", np.where(suppressed, "secondary", "published"))
    labels = table.labels()[listed]
    return AuditReport(
        labels.with_columns(
            pl.Series("status", status[listed].tolist(), dtype=pl.Utf8),
            pl.Series("rule", primary.rule[listed].tolist(), dtype=pl.Utf8),
            pl.Series("lower", lower[listed]),
            pl.Series("upper", upper[listed]),
            pl.Series("required_lower", primary.lower[listed]),
            pl.Series("required_upper", primary.upper[listed]),
            pl.Series("ok", ok[listed]),
            pl.Series("exact", exact[listed]),
        )
    )


def audit(
    frame: pl.DataFrame, contributions: pl.DataFrame, rules: DisclosureRules = DisclosureRules()
) -> AuditReport:
    """Audit a published frame (``ProtectedTable.frame``: a null ``tonnes`` is a suppressed cell) against the
    contributions it was computed from. Every cell of the table must be present once and every published value
    must equal the contributions' total; a cell whose ``rule`` is ``"carried"`` keeps its carried protection."""
    table = build_table(contributions, rules.dominance_n)
    need = [*KEYS, "tonnes"]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise DisclosureInputError(f"published frame: missing column(s) {missing}")
    idx = table.cell_index(frame, what="published frame")
    counts = np.bincount(idx, minlength=table.n_cells)
    if (counts != 1).any():
        cell = int(np.flatnonzero(counts != 1)[0])
        label = table.labels().row(cell)
        raise DisclosureInputError(
            f"published frame: cell {label} appears {int(counts[cell])} times; every cell must appear once"
        )
    published = frame.get_column("tonnes").cast(pl.Float64).to_numpy()
    suppressed = np.zeros(table.n_cells, dtype=bool)
    suppressed[idx] = np.isnan(published)
    shown = np.full(table.n_cells, np.nan)
    shown[idx] = published
    wrong = ~suppressed & ~np.isclose(shown, table.value, rtol=1e-9, atol=1e-9)
    if wrong.any():
        cell = int(np.flatnonzero(wrong)[0])
        raise DisclosureInputError(
            f"published frame: cell {table.labels().row(cell)} is not the total of the contributions"
        )
    carried = np.zeros(table.n_cells, dtype=bool)
    if "rule" in frame.columns:
        carried[idx] = (frame.get_column("rule") == CARRIED).fill_null(False).to_numpy()
    primary = primary_suppression(table, rules, carried)
    status = np.where(primary.sensitive, "primary", np.where(suppressed, "secondary", "published"))
    return run_audit(table, primary, suppressed, status)
