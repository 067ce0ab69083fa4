"""The 2030 outlook (issue 15) for the CLI, the API and the dashboard: will the pipeline bring the alliance's
single-supplier dependency below the G7 line? Loads the base year from the store, demand growth from the bundled
IEA projections and the pipeline from the project register, then runs :mod:`lodeline.outlook`
(docs/methods/outlook-2030.md)."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.config import get_settings
from lodeline.data.sources import iea_outlook
from lodeline.domain.countries import iso2_to_iso3, resolve_country
from lodeline.domain.groups import resolve_alliance
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.domain.units import tonnes_factor
from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.market.dependency import production_dependency
from lodeline.market.series import is_named_country
from lodeline.market.targets import g7_lines
from lodeline.outlook.engine import Baseline, PipelineProject
from lodeline.outlook.parameters import BUNDLED_FILE, bundled_parameters
from lodeline.outlook.summary import Line, Outlook, run_outlook
from lodeline.projects.schema import Project
from lodeline.services.market import _provenance, _require_built, market_shares
from lodeline.services.projects import load_projects
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import read_table

METHOD = "docs/methods/outlook-2030.md"
#: the outlook's stages and the register's words for them (lodeline.projects.schema.ProjectStage values)
PROJECT_STAGE = {"mining": "extraction", "refining": "processing"}
DEFAULT_SCENARIO = "STEPS"
MAX_DRAWS = 100_000
DEPENDENCY_NOTE = (
    "dependency = the largest share of world supply held by one country outside the alliance (production "
    "basis); incumbents fill the demand the pipeline leaves, in base-year proportions"
)
#: the trajectory runs at least to this year (the G7 2030 test and five years after it)
HORIZON = 2035


@dataclass(frozen=True)
class OutlookResult:
    summary: dict[str, Any]
    trajectory: pl.DataFrame
    projects: pl.DataFrame
    provenance: Provenance


def minerals_and_stages() -> list[tuple[str, str]]:
    """Every mineral × stage the outlook covers: the IEA projects demand for these minerals."""
    return [(m, s) for m in iea_outlook.MINERALS.values() for s in PROJECT_STAGE]


def _raw_folder(raw_dir: Path | None) -> Path:
    return (raw_dir or get_settings().raw_dir) / "iea_critical_minerals"


def demand_growth(
    mineral: str, base_year: int, horizon: int, scenario: str, raw_dir: Path | None = None
) -> list[float]:
    """Demand in each year base_year..horizon relative to base_year, linear between the IEA's published years
    (2024 observed, 2030, 2035, …); before the IEA's base year demand is held at its base-year level."""
    if scenario not in iea_outlook.SCENARIOS:
        raise InvalidArgumentError(
            f"unknown scenario {scenario!r}: expected one of {list(iea_outlook.SCENARIOS)}"
        )
    table = iea_outlook.demand(_raw_folder(raw_dir)).filter(
        (pl.col("mineral") == mineral) & (pl.col("scenario") == scenario)
    )
    if table.is_empty():
        raise NotFoundError(
            f"no IEA demand projection for {mineral}: the outlook covers "
            + ", ".join(sorted(iea_outlook.MINERALS.values()))
        )
    points = sorted(zip(table["year"].to_list(), table["demand"].to_list(), strict=True))

    def at(year: int) -> float:
        if year <= points[0][0]:
            return float(points[0][1])
        for (y0, d0), (y1, d1) in itertools.pairwise(points):
            if y0 <= year <= y1:
                return float(d0 + (d1 - d0) * (year - y0) / (y1 - y0))
        raise InvalidArgumentError(f"year {year} is beyond the IEA projection (last {points[-1][0]})")

    base = at(base_year)
    return [at(y) / base for y in range(base_year, horizon + 1)]


def _baseline(
    engine: Engine, mineral: str, stage: str, members: frozenset[str]
) -> tuple[Baseline, dict[str, Any]]:
    rows = market_shares(engine, mineral).filter(pl.col("stage") == stage)
    known = rows.filter(pl.col("share").is_not_null())
    if known.is_empty():
        raise NotFoundError(f"no {stage} shares for {mineral} in the store")
    year = int(known["year"].max())  # type: ignore[arg-type]
    base = rows.filter(pl.col("year") == year)
    named = base.filter(is_named_country() & pl.col("share").is_not_null()).sort("country")
    dep = production_dependency(base, members).row(0, named=True)
    total = base["total"].drop_nulls()
    unit = base["unit"].drop_nulls()
    baseline = Baseline(
        base_year=year,
        countries=tuple(named["country"].to_list()),
        shares=tuple(float(s) for s in named["share"].to_list()),
        outside=tuple(c not in members for c in named["country"].to_list()),
        world=float(total[0]) if total.len() else None,
        unit=str(unit[0]) if unit.len() else None,
    )
    return baseline, dep


def _country(codes: Sequence[str]) -> str | None:
    for code in codes:
        try:
            return iso2_to_iso3(code) if len(code.strip()) == 2 else resolve_country(code)
        except LodelineError:
            continue
    return None


def pipeline(
    projects: Iterable[Project], mineral: str, stage: str, members: frozenset[str], unit: str | None
) -> list[PipelineProject]:
    """Register records (:class:`lodeline.projects.schema.Project`) → the engine's projects for one mineral and
    stage; capacity in the base year's unit where the register converted it to contained metal, else None with
    the register's reason."""
    wanted = PROJECT_STAGE[stage]
    per_tonne = tonnes_factor(unit)
    out = []
    for p in projects:
        if mineral not in p.minerals or wanted not in {str(s) for s in p.stages}:
            continue
        country = _country(p.countries)
        capacity, note = None, None
        cap = p.capacity
        if cap is None:
            note = p.gaps.get("capacity")
            note = None if note == "not stated in the source" else note
        elif cap.contained_t_per_year is None or (cap.mineral not in (None, mineral)):
            note = p.gaps.get("contained_capacity") or cap.factor_note or "no contained-metal figure"
        elif per_tonne is None:
            note = f"the base year has no mass unit ({unit!r}) to compare it with"
        else:
            capacity = float(cap.contained_t_per_year) / per_tonne
        excluded = None
        if country is None:
            excluded = "country not stated"
        elif len(p.countries) > 1:
            note = (note + "; " if note else "") + f"several countries: counted in {country}"
        study = p.study_stage.value if p.study_stage is not None else None
        out.append(
            PipelineProject(
                project_id=p.project_id,
                name=p.name,
                country=country or "",
                outside=country not in members,
                capacity=capacity,
                start=p.expected_start_year,
                study_stage=study,
                capacity_note=note,
                excluded=excluded,
            )
        )
    return out


def _iea_base_case(
    raw_dir: Path | None, mineral: str, stage: str, year: int, members: frozenset[str]
) -> dict[str, Any]:
    """The IEA's own base-case supply in ``year`` (a cross-check: it already weights announced projects)."""
    table = iea_outlook.supply(_raw_folder(raw_dir)).filter(
        (pl.col("mineral") == mineral) & (pl.col("stage") == stage) & (pl.col("year") == year)
    )
    if table.is_empty():
        return {"year": year, "top_external_supplier": None, "dependency": None}
    total = float(table["quantity"].sum())
    outside = table.filter(is_named_country() & ~pl.col("country").is_in(list(members))).sort(
        ["quantity", "country"], descending=[True, False]
    )
    if outside.is_empty() or total <= 0:
        return {"year": year, "top_external_supplier": None, "dependency": 0.0}
    return {
        "year": year,
        "top_external_supplier": outside["country"][0],
        "dependency": float(outside["quantity"][0]) / total,
    }


def outlook(
    engine: Engine,
    mineral: str,
    stage: str,
    *,
    year: int = 2030,
    draws: int = 10_000,
    seed: int = 0,
    alliance: str = "G7+",
    scenario: str = DEFAULT_SCENARIO,
    projects: Iterable[Project] | None = None,
    raw_dir: Path | None = None,
) -> OutlookResult:
    """The alliance's single-supplier dependency trajectory for one mineral × stage with the pipeline on time and
    as a Monte Carlo distribution; P(below the G7 test and ambition in ``year``); the projects that matter most."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    if stage_id not in PROJECT_STAGE:
        raise InvalidArgumentError(f"the outlook covers the stages {list(PROJECT_STAGE)}, not {stage_id!r}")
    if not 1 <= draws <= MAX_DRAWS:
        raise InvalidArgumentError(f"draws must be between 1 and {MAX_DRAWS}, got {draws}")
    if not 0 <= seed < 2**63:
        raise InvalidArgumentError("seed must be a non-negative integer below 2**63")
    group = resolve_alliance(alliance)
    _require_built(engine)
    baseline, base_dep = _baseline(engine, mineral_id, stage_id, group.members)
    if not baseline.base_year < year <= 2050:
        raise InvalidArgumentError(f"year must be after the base year {baseline.base_year} and at most 2050")
    horizon = max(year, HORIZON)
    growth = demand_growth(mineral_id, baseline.base_year, horizon, scenario, raw_dir)
    test, ambition, named = g7_lines(read_table(engine, "targets"))
    lines = [Line(f"below {test.threshold:.0%}", test.threshold, test.comparator)]
    if ambition is not None:
        lines.append(Line(f"below {ambition.threshold:.0%}", ambition.threshold, ambition.comparator))
    if projects is None:
        projects = load_projects(engine)  # the public view: confidential member figures are not used
    items = pipeline(projects, mineral_id, stage_id, group.members, baseline.unit)
    params = bundled_parameters()
    result = run_outlook(
        baseline, items, growth, params, target_year=year, lines=lines, draws=draws, seed=seed
    )
    iea = _iea_base_case(raw_dir, mineral_id, stage_id, 2030, group.members)
    summary = _summary(result, baseline, base_dep, mineral_id, stage_id, group.id, scenario, iea, named)
    trajectory = pl.DataFrame(result.trajectory_rows()).with_columns(
        demand_growth=pl.Series(growth), mineral=pl.lit(mineral_id), stage=pl.lit(stage_id)
    )
    frame = pl.DataFrame(result.projects, infer_schema_length=None) if result.projects else _empty_projects()
    base = market_shares(engine, mineral_id).filter(
        (pl.col("stage") == stage_id) & (pl.col("year") == baseline.base_year)
    )
    notes = [
        f"alliance {group.id}; base year {baseline.base_year}; demand growth: IEA Critical Minerals Data Explorer "
        f"{iea_outlook.EDITION} edition, {iea_outlook.SCENARIO_NAMES[scenario]} ({scenario})",
        f"delays and failures by study stage: {BUNDLED_FILE} (sources cited there and in {METHOD})",
        DEPENDENCY_NOTE,
        *result.notes,
    ]
    provenance = _provenance(
        engine, base, method=METHOD, notes=notes, extra_sources=("iea_critical_minerals",)
    )
    return OutlookResult(summary, trajectory, frame, provenance)


def _empty_projects() -> pl.DataFrame:
    return pl.DataFrame(
        schema={
            "project_id": pl.String,
            "name": pl.String,
            "country": pl.String,
            "counted": pl.Boolean,
            "not_counted_because": pl.String,
            "swing_pp": pl.Float64,
        }
    )


def _summary(
    result: Outlook,
    baseline: Baseline,
    base_dep: dict[str, Any],
    mineral: str,
    stage: str,
    alliance: str,
    scenario: str,
    iea: dict[str, Any],
    named: list[str],
) -> dict[str, Any]:
    t = result.years.index(result.target_year)
    return {
        "mineral": mineral,
        "stage": stage,
        "alliance": alliance,
        "yardstick": "G7 target" if mineral in named else "same yardstick, comparison only",
        "base_year": baseline.base_year,
        "base_unit": baseline.unit,
        "base_top_external_supplier": base_dep.get("top_external_supplier"),
        "base_dependency": base_dep.get("top_external_share"),
        "target_year": result.target_year,
        "probabilities": result.probabilities,
        "deterministic": result.deterministic[t],
        "deterministic_meets": result.deterministic_meets,
        "no_pipeline": result.no_pipeline[t],
        "median": result.median[t],
        "p10": result.p10[t],
        "p90": result.p90[t],
        "draws": result.draws,
        "seed": result.seed,
        "scenario": scenario,
        "iea_edition": iea_outlook.EDITION,
        "iea_base_case": iea,
        "pipeline": result.pipeline,
        "notes": result.notes,
    }


VIEWS = ("summary", "trajectory", "projects")


def summary_frame(result: OutlookResult) -> pl.DataFrame:
    """The summary as one row (probabilities as ``p_below_60``, ``p_below_50``…): for tables and the API."""
    s = result.summary
    row: dict[str, Any] = {
        k: s[k]
        for k in (
            "mineral",
            "stage",
            "alliance",
            "yardstick",
            "base_year",
            "base_top_external_supplier",
            "base_dependency",
            "target_year",
            "deterministic",
            "no_pipeline",
            "median",
            "p10",
            "p90",
        )
    }
    for label, prob in s["probabilities"].items():
        row["p_" + label.replace(" ", "_").replace("%", "")] = prob
    row["iea_base_case_supplier"] = s["iea_base_case"]["top_external_supplier"]
    row["iea_base_case_dependency"] = s["iea_base_case"]["dependency"]
    row.update({f"pipeline_{k}": v for k, v in s["pipeline"].items() if k != "unit"})
    row.update(draws=s["draws"], seed=s["seed"], scenario=s["scenario"], iea_edition=s["iea_edition"])
    return pl.DataFrame([row], infer_schema_length=None)


def view(result: OutlookResult, name: str) -> MarketResult:
    """One of :data:`VIEWS` as a frame with the outlook's provenance (the API's paged, cached envelope)."""
    if name not in VIEWS:
        raise InvalidArgumentError(f"unknown view {name!r}: expected one of {list(VIEWS)}")
    frame = {
        "summary": summary_frame,
        "trajectory": lambda r: r.trajectory,
        "projects": lambda r: r.projects,
    }[name](result)
    return MarketResult(frame, result.provenance)


#: draws per outlook on the Targets page (12 outlooks; cached per data build)
PAGE_DRAWS = 2_000


def overview(
    engine: Engine, alliance: str = "G7+", *, draws: int = PAGE_DRAWS, seed: int = 0
) -> MarketResult:
    """One summary row per mineral × stage the outlook covers (the Targets page's projected band and
    probabilities); a mineral × stage without a base year in the store is left out and named in the notes."""
    rows, missing = [], []
    provenance = None
    for mineral, stage in minerals_and_stages():
        try:
            result = outlook(engine, mineral, stage, draws=draws, seed=seed, alliance=alliance)
        except NotFoundError:
            missing.append(f"{mineral} {stage}")
            continue
        provenance = provenance or result.provenance
        rows.append(summary_frame(result))
    if not rows or provenance is None:
        raise NotFoundError("no outlook: the store has no base year for any mineral the IEA projects")
    notes = [
        DEPENDENCY_NOTE,
        f"demand growth: IEA Critical Minerals Data Explorer {iea_outlook.EDITION} edition, "
        f"{iea_outlook.SCENARIO_NAMES[DEFAULT_SCENARIO]}; {draws:,} draws per outlook, seed {seed}",
        "pipeline_counted of pipeline_projects add supply; the others state no capacity or no start "
        "and add nothing (never zero-filled: the outlook understates an unquantified pipeline)",
    ]
    if missing:
        notes.append("no base year in the store for: " + ", ".join(missing))
    frame = pl.concat(rows, how="diagonal_relaxed")
    return MarketResult(
        frame,
        Provenance(provenance.sources, provenance.flags, METHOD, None, notes),
    )


def pipeline_version(engine: Engine) -> str:
    """A digest of what the outlook reads from the register (ids, minerals, stages, countries, capacity, start,
    study stage): part of a cache key, so a member's new or updated project shows before the next data build."""
    digest = hashlib.sha256()
    for p in load_projects(engine):
        cap = p.capacity
        fields = (
            p.project_id,
            p.minerals,
            tuple(str(s) for s in p.stages),
            p.countries,
            None if cap is None else (cap.mineral, cap.contained_t_per_year),
            p.expected_start_year,
            None if p.study_stage is None else p.study_stage.value,
        )
        digest.update(repr(fields).encode())
    return digest.hexdigest()
