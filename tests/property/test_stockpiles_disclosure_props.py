"""Property: for random small tables, after ``protect`` no intruder recovers a sensitive cell beyond its
protection interval.

The intruder here is written independently of the library: from the published frame alone it builds the table's
additivity (every margin equals the sum of its children along each dimension marked ``ALL``), fixes every published
cell, and solves min and max of each withheld cell with scipy's HiGHS. The protection each cell needs is also
recomputed here from the contributions with the textbook formulas (Hundepool et al. 2012, §4.2)."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from lodeline.stockpiles.disclosure import DisclosureRules, protect

MINERALS, GROUPS, FORMS, MEMBERS = (
    ["Co", "Li", "Ni"],
    ["EU", "G7", "NA"],
    ["ore", "metal"],
    ["a", "b", "c", "d", "e"],
)


@st.composite
def contributions(draw: st.DrawFn) -> pl.DataFrame:
    minerals = MINERALS[: draw(st.integers(1, 3))]
    groups = GROUPS[: draw(st.integers(1, 3))]
    forms = FORMS[: draw(st.integers(1, 2))]
    rows = []
    for mineral, group, form in itertools.product(minerals, groups, forms):
        members = draw(st.lists(st.sampled_from(MEMBERS), unique=True, max_size=4))
        for member in members:
            tonnes = draw(st.integers(0, 1000))
            rows.append((mineral, group, form, member, float(tonnes)))
    if not rows:
        rows.append(("Li", "EU", "ore", "a", 5.0))
    return pl.DataFrame(rows, schema=["mineral", "group", "form", "member", "tonnes"], orient="row")


def required(contrib: pl.DataFrame, rules: DisclosureRules) -> dict[tuple[str, str, str], float]:
    """Upper protection of every sensitive cell, margins included (members' rows summed per cell)."""
    out: dict[tuple[str, str, str], float] = {}
    labels = [[*sorted(set(contrib[k])), "ALL"] for k in ("mineral", "group", "form")]
    for cell in itertools.product(*labels):
        mask = np.ones(contrib.height, dtype=bool)
        for key, label in zip(("mineral", "group", "form"), cell, strict=True):
            if label != "ALL":
                mask &= (contrib[key] == label).to_numpy()
        per_member = sorted(
            contrib.filter(mask).group_by("member").agg(pl.col("tonnes").sum())["tonnes"], reverse=True
        )
        x = sum(per_member)
        if x <= 0:
            continue
        x1 = per_member[0]
        x2 = per_member[1] if len(per_member) > 1 else 0.0
        levels = []
        if len(per_member) < rules.min_frequency:
            levels.append(rules.frequency_range / 100 * x)
        top = sum(per_member[: rules.dominance_n])
        if 100 * top > rules.dominance_k * x:
            levels.append(100 / rules.dominance_k * top - x)
        if 100 * (x - x1 - x2) < rules.p_percent * x1:
            levels.append(rules.p_percent / 100 * x1 - (x - x1 - x2))
        if levels:
            out[cell] = max(levels)  # type: ignore[index]
    return out


def intruder(frame: pl.DataFrame) -> dict[tuple[str, str, str], tuple[float, float]]:
    """[min, max] of every withheld cell given the published ones, additivity and non-negativity."""
    cells = [tuple(r) for r in frame.select("mineral", "group", "form").rows()]
    index = {c: i for i, c in enumerate(cells)}
    published = frame["tonnes"].to_list()
    rows = []
    for cell in cells:
        for d in range(3):
            if cell[d] != "ALL":
                continue
            children = [
                c for c in cells if c[d] != "ALL" and all(c[e] == cell[e] for e in range(3) if e != d)
            ]
            row = np.zeros(len(cells))
            row[index[cell]] = 1.0
            for child in children:
                row[index[child]] -= 1.0
            rows.append(row)
    a_eq = np.array(rows) if rows else None
    bounds = [(v, v) if v is not None else (0, None) for v in published]
    out = {}
    for cell in cells:
        if published[index[cell]] is not None:
            continue
        c = np.zeros(len(cells))
        c[index[cell]] = 1.0
        lo = linprog(c, A_eq=a_eq, b_eq=np.zeros(len(rows)) if rows else None, bounds=bounds, method="highs")
        hi = linprog(-c, A_eq=a_eq, b_eq=np.zeros(len(rows)) if rows else None, bounds=bounds, method="highs")
        assert lo.status == 0
        out[cell] = (lo.fun, np.inf if hi.status == 3 else -hi.fun)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contributions())
def test_no_intruder_recovers_a_protected_cell(contrib: pl.DataFrame) -> None:
    rules = DisclosureRules()
    protected = protect(contrib, rules)
    frame = protected.frame
    truth = build_truth(contrib, frame)
    bounds = intruder(frame)
    for cell, need in required(contrib, rules).items():
        assert cell in bounds, f"sensitive cell {cell} published"
        lo, hi = bounds[cell]
        x = truth[cell]
        tol = 1e-6 * max(1.0, x)
        assert hi >= x + need - tol, (cell, x, need, hi)
        assert lo <= x - min(need, x) + tol, (cell, x, need, lo)


def build_truth(contrib: pl.DataFrame, frame: pl.DataFrame) -> dict[tuple[str, str, str], float]:
    truth = {}
    for cell in frame.select("mineral", "group", "form").rows():
        mask = np.ones(contrib.height, dtype=bool)
        for key, label in zip(("mineral", "group", "form"), cell, strict=True):
            if label != "ALL":
                mask &= (contrib[key] == label).to_numpy()
        truth[tuple(cell)] = float(contrib.filter(mask)["tonnes"].sum())
    return truth
