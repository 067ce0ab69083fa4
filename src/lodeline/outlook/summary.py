"""One outlook run summarised: the trajectories, the probabilities of meeting the lines in the target year, the
projects that matter most and what the pipeline leaves unquantified (pure; docs/methods/outlook-2030.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lodeline.errors import InvalidArgumentError
from lodeline.outlook.engine import (
    Baseline,
    PipelineProject,
    below,
    counted,
    deterministic,
    evaluate,
    no_pipeline,
    prepare,
    sample,
    sensitivity,
)
from lodeline.outlook.parameters import NOT_STATED, Parameters


@dataclass(frozen=True, slots=True)
class Line:
    """A ceiling the dependency is tested against: ``dependency <comparator> threshold`` meets it."""

    label: str
    threshold: float
    comparator: str = "<"


@dataclass(frozen=True)
class Outlook:
    years: list[int]
    deterministic: list[float]
    no_pipeline: list[float]
    median: list[float]
    p10: list[float]
    p90: list[float]
    target_year: int
    probabilities: dict[str, float]  # line label -> P(meets it in target_year)
    deterministic_meets: dict[str, bool]
    projects: list[dict[str, Any]]
    pipeline: dict[str, Any]
    draws: int
    seed: int
    notes: list[str] = field(default_factory=list)

    def trajectory_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "year": y,
                "deterministic": d,
                "no_pipeline": n,
                "median": m,
                "p10": lo,
                "p90": hi,
            }
            for y, d, n, m, lo, hi in zip(
                self.years, self.deterministic, self.no_pipeline, self.median, self.p10, self.p90, strict=True
            )
        ]


def quantiles(values: np.ndarray, qs: Sequence[float]) -> list[np.ndarray]:
    """Per column, numpy's default ("linear") quantiles from one sort (``np.quantile`` over many columns is slower)."""
    ordered = np.sort(values, axis=0)
    n = ordered.shape[0]
    out = []
    for q in qs:
        pos = q * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo))
    return out


def _project_row(baseline: Baseline, project: PipelineProject) -> dict[str, Any]:
    return {
        "project_id": project.project_id,
        "name": project.name,
        "country": project.country,
        "outside_alliance": project.outside,
        "capacity": project.capacity,
        "capacity_unit": baseline.unit if project.capacity is not None else None,
        "expected_start": project.start,
        "study_stage": project.study_stage or NOT_STATED,
        "counted": counted(baseline, project) is None,
        "not_counted_because": counted(baseline, project),
        "p_if_on_time": None,
        "p_if_failed": None,
        "swing_pp": None,
    }


def run_outlook(
    baseline: Baseline,
    projects: Sequence[PipelineProject],
    growth: Sequence[float],
    params: Parameters,
    *,
    target_year: int,
    lines: Sequence[Line],
    draws: int = 10_000,
    seed: int = 0,
) -> Outlook:
    """Deterministic, no-pipeline and Monte Carlo trajectories; P(meets each line in ``target_year``); per
    project, the probability of meeting the first line if it starts on time vs if it fails (its swing)."""
    if not lines:
        raise InvalidArgumentError("at least one line (threshold) is needed")
    prepared = prepare(baseline, projects, growth, params)
    years = [int(y) for y in prepared.years]
    if target_year not in years:
        raise InvalidArgumentError(
            f"target year {target_year} is outside the projection {years[0]}–{years[-1]}"
        )
    t = years.index(target_year)
    numbers = sample(prepared, draws, seed, params.gamma_shape)
    dep = evaluate(prepared, numbers)
    det = deterministic(prepared)
    base = no_pipeline(prepared)
    p10, median, p90 = quantiles(dep, (0.1, 0.5, 0.9))
    probabilities = {ln.label: float(below(dep[:, t], ln.threshold, ln.comparator).mean()) for ln in lines}
    meets = {ln.label: bool(below(det[t : t + 1], ln.threshold, ln.comparator)[0]) for ln in lines}
    rows = [_project_row(baseline, p) for p in projects]
    first = lines[0]
    swings = sensitivity(prepared, numbers, t, first.threshold, first.comparator)
    by_id = dict(zip(prepared.project_ids, swings, strict=True))
    for row in rows:
        if row["counted"] and row["project_id"] in by_id:
            on_time, failed = by_id[row["project_id"]]
            row.update(p_if_on_time=on_time, p_if_failed=failed, swing_pp=(on_time - failed) * 100)
    rows.sort(key=lambda r: (-(r["swing_pp"] or 0.0), not r["counted"], r["project_id"]))
    total = len(projects)
    quantified = sum(1 for p in projects if p.capacity is not None)
    pipeline = {
        "projects": total,
        "counted": len(prepared.project_ids),
        "capacity_stated": quantified,
        "capacity_not_stated": total - quantified,
        "start_not_stated": sum(1 for p in projects if p.start is None),
        "counted_capacity": float(sum(p.capacity or 0.0 for p in projects if counted(baseline, p) is None)),
        "unit": baseline.unit,
    }
    notes = []
    if total - quantified:
        notes.append(
            f"{total - quantified} of {total} pipeline projects state no capacity: they add nothing here "
            "(listed as 'capacity not stated'), so the projection understates what the pipeline could deliver"
        )
    return Outlook(
        years=years,
        deterministic=[float(v) for v in det],
        no_pipeline=[float(v) for v in base],
        median=[float(v) for v in median],
        p10=[float(v) for v in p10],
        p90=[float(v) for v in p90],
        target_year=target_year,
        probabilities=probabilities,
        deterministic_meets=meets,
        projects=rows,
        pipeline=pipeline,
        draws=draws,
        seed=seed,
        notes=notes,
    )
