"""Issue 13 target: secondary suppression plus the intruder audit of a 3-D table with margins of ≥ 10,000 cells
(50 minerals × 40 reporting groups × 5 forms → 51 × 41 × 6 = 12,546 cells) in under 10 s on 2 cores.

The table is SYNTHETIC, generated here from a fixed seed: each group has 4–12 members; each member holds each
(mineral, form) with probability 0.6, a log-normal quantity. No figure is real.

Baselines in the same run: τ-Argus itself (``pytauargus``, EUPL-1.2, a benchmark-only dev dependency; its
modular/HiTaS secondary suppression, see ``benchmarks/tauargus_baseline.py``), and the naive "suppress the whole
row" heuristic — for every sensitive cell, withhold every cell of its (mineral, group) row across forms, then, while the same audit
finds an under-protected cell, withhold the rows through it along every dimension (stopping when that adds
nothing or after 6 rounds). All three results are audited by the
same intruder LPs and their information loss is reported side by side, with the load average of the shared machine.

``run_linked`` times what the service does per grouping: gross AND contained tonnes protected together
(``protect_measures``: primary rules per measure, complementary suppression, the union of the patterns, each table
audited, contained narrowed by gross). Contained = gross × a seeded fraction per contribution (0.2–0.95, a grade),
so both tables have the same cells. Lodeline shares one complementary pattern between them (one LP per cell
sensitive in either); the baseline in the same run is the same call with ``share_patterns=False`` (one pattern
per measure, then their union), as before the sharing. ``python -c "from benchmarks.bench_disclosure import
run_linked; print(run_linked())"`` runs it alone."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import polars as pl

from benchmarks.tauargus_baseline import tauargus_in_subprocess
from lodeline.stockpiles.audit import run_audit
from lodeline.stockpiles.disclosure import ProtectedTable, protect, protect_measures
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.disclosure_table import CellTable, build_table
from lodeline.stockpiles.primary import primary_suppression
from lodeline.stockpiles.secondary import secondary_suppression

SEED = 20261205


def synthetic_contributions(
    minerals: int = 50, groups: int = 40, forms: int = 5, seed: int = SEED
) -> pl.DataFrame:
    """Clearly synthetic submissions: one row per member and held (mineral, form)."""
    rng = np.random.default_rng(seed)
    rows: dict[str, list[Any]] = {"mineral": [], "group": [], "form": [], "member": [], "tonnes": []}
    for g in range(groups):
        for m_id in range(int(rng.integers(4, 13))):
            held = rng.random((minerals, forms)) < 0.6
            scale = rng.lognormal(7.0, 0.5)
            for mi, fi in zip(*np.nonzero(held), strict=True):
                rows["mineral"].append(f"SYN-M{mi:02d}")
                rows["group"].append(f"SYN-G{g:02d}")
                rows["form"].append(f"SYN-F{fi}")
                rows["member"].append(f"SYN-G{g:02d}-{m_id}")
                rows["tonnes"].append(round(float(scale * rng.lognormal(0.0, 0.6)), 1))
    return pl.DataFrame(rows)


def synthetic_contained(gross: pl.DataFrame, seed: int = SEED) -> pl.DataFrame:
    """Contained tonnes of the same synthetic items: gross × a seeded fraction (0.2–0.95) per contribution."""
    rng = np.random.default_rng(seed + 1)
    fraction = rng.uniform(0.2, 0.95, gross.height)
    return gross.with_columns((pl.col("tonnes") * pl.Series(fraction)).round(1).alias("tonnes"))


def _linked_loss(out: dict[str, ProtectedTable]) -> dict[str, Any]:
    loss = {name: t.information_loss for name, t in out.items()}
    return {
        "audit_passed": all(t.audit.passed for t in out.values()),
        "cells_suppressed": loss["gross"].cells,
        "primary_cells": {n: v.primary_cells for n, v in loss.items()},
        "secondary_cells": {n: v.secondary_cells for n, v in loss.items()},
        "tonnes_suppressed": {n: round(v.tonnes, 1) for n, v in loss.items()},
    }


def run_linked(quick: bool = False, repeats: int = 1) -> dict[str, Any]:
    """Gross and contained protected together, shared pattern (Lodeline) against one pattern per measure."""
    sizes = (12, 10, 5) if quick else (50, 40, 5)
    gross = synthetic_contributions(*sizes)
    parts = {"gross": gross, "contained": synthetic_contained(gross)}
    bound = {"contained": "gross"}
    timings: dict[str, list[float]] = {"shared": [], "per_measure": []}
    outs: dict[str, dict[str, ProtectedTable]] = {}
    for _ in range(repeats):
        for key, share in (("shared", True), ("per_measure", False)):
            start = time.perf_counter()
            outs[key] = protect_measures(parts, DisclosureRules(), bounded_by=bound, share_patterns=share)
            timings[key].append(round(time.perf_counter() - start, 2))
    shared, alone = outs["shared"], outs["per_measure"]
    same_primary = all(
        shared[n].frame["status"].eq("primary").to_list() == alone[n].frame["status"].eq("primary").to_list()
        for n in parts
    )
    hidden = {k: [o[n].frame["flag"].is_not_null().to_list() for n in parts] for k, o in outs.items()}
    return {
        "synthetic": True,
        "cells_per_table": shared["gross"].information_loss.total_cells,
        "grand_total_tonnes": {n: round(t.information_loss.total_tonnes, 1) for n, t in shared.items()},
        "same_primary_cells": same_primary,
        "same_cells_hidden_in_both_measures": {k: v[0] == v[1] for k, v in hidden.items()},
        "lodeline_shared": {"seconds": timings["shared"], **_linked_loss(shared)},
        "baseline_per_measure": {"seconds": timings["per_measure"], **_linked_loss(alone)},
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "target_seconds": 10.0,
    }


def _lines_through(table: CellTable, cells: np.ndarray, dims: tuple[int, ...]) -> np.ndarray:
    """Every cell on the lines through ``cells`` along ``dims``."""
    shape = table.shape
    coords = np.stack(np.unravel_index(cells, shape), axis=1)
    out = []
    for d in dims:
        for v in range(shape[d]):
            c = coords.copy()
            c[:, d] = v
            out.append(np.ravel_multi_index(tuple(c.T), shape))
    return np.unique(np.concatenate(out)) if out else np.empty(0, dtype=np.int64)


def whole_row_baseline(
    contributions: pl.DataFrame, rules: DisclosureRules, max_rounds: int = 6
) -> dict[str, Any]:
    start = time.perf_counter()
    table = build_table(contributions, rules.dominance_n)
    primary = primary_suppression(table, rules)
    suppressed = np.zeros(table.n_cells, dtype=bool)
    suppressed[_lines_through(table, np.flatnonzero(primary.sensitive), (2,))] = True
    suppressed &= table.contributors > 0
    rounds = 0
    report = run_audit(table, primary, suppressed)
    while not report.passed and rounds < max_rounds:
        rounds += 1
        bad = report.failures
        cells = table.cell_index(bad, what="audit")
        before = int(suppressed.sum())
        suppressed[_lines_through(table, cells, (0, 1, 2))] = True
        suppressed &= table.contributors > 0
        if int(suppressed.sum()) == before:
            break  # every line through the failing cells is already withheld: the heuristic is stuck
        report = run_audit(table, primary, suppressed)
    seconds = time.perf_counter() - start
    return {
        "seconds": round(seconds, 2),
        "rounds": rounds,
        "audit_passed": report.passed,
        "cells_under_protected": report.failures.height,
        "cells_suppressed": int(suppressed.sum()),
        "tonnes_suppressed": round(float(table.value[suppressed].sum()), 1),
    }


def run(quick: bool = False) -> dict[str, Any]:
    sizes = (12, 10, 5) if quick else (50, 40, 5)
    contributions = synthetic_contributions(*sizes)
    rules = DisclosureRules()
    start = time.perf_counter()
    protected = protect(contributions, rules)
    seconds = time.perf_counter() - start
    loss = protected.information_loss
    # the same steps one by one, for the split of the time
    t0 = time.perf_counter()
    table = build_table(contributions, rules.dominance_n)
    primary = primary_suppression(table, rules)
    t1 = time.perf_counter()
    suppressed = secondary_suppression(table, primary, rules)
    t2 = time.perf_counter()
    report = run_audit(table, primary, suppressed)
    t3 = time.perf_counter()
    baseline = whole_row_baseline(contributions, rules)
    tau = tauargus_in_subprocess(sizes)  # default rules, as above
    return {
        "synthetic": True,
        "contributions": contributions.height,
        "cells": loss.total_cells,
        "grand_total_tonnes": round(loss.total_tonnes, 1),
        "lodeline": {
            "seconds": round(seconds, 2),
            "split_seconds": {
                "table_and_primary": round(t1 - t0, 2),
                "secondary": round(t2 - t1, 2),
                "audit": round(t3 - t2, 2),
            },
            "audit_passed": protected.audit.passed and report.passed,
            "audit_exact_rows": int(report.cells["exact"].sum()),
            "audit_rows": report.cells.height,
            "primary_cells": loss.primary_cells,
            "secondary_cells": loss.secondary_cells,
            "cells_suppressed": loss.cells,
            "tonnes_suppressed": round(loss.tonnes, 1),
            "secondary_tonnes": round(loss.secondary_tonnes, 1),
        },
        "tauargus_baseline": tau,
        "whole_row_baseline": baseline,
        "linked_gross_contained": run_linked(quick),
        "load_average_1_5_15": [round(v, 2) for v in os.getloadavg()],
        "target_seconds": 10.0,
    }
