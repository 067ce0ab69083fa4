"""Stress tests for the CLI, the API (background jobs) and the Stress-test page: find the scenario, build the
network, run it, and shape the result (noise to zero, assumptions listed) the same way for every caller.

Nothing here prints or knows about Typer or HTTP. Long work reports progress through a callback
``progress(fraction, message)`` with ``fraction`` in [0, 1]. Files on disk are read by the caller (the CLI and the
Python facade through :mod:`lodeline.inputs`); text sent over the network (an uploaded scenario) is decoded by
the same module, within the tighter :data:`UPLOAD_BOUNDS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.inputs import Bounds, InputRejected, parse_yaml
from lodeline.services.results import Provenance
from lodeline.sim.compile import network_from_spec
from lodeline.sim.montecarlo import DEFAULT_CHUNK, Executor, make_task, run_montecarlo
from lodeline.sim.network import SupplyNetwork
from lodeline.sim.scenario import (
    Scenario,
    ScenarioError,
    library_scenario,
    library_scenarios,
    parse_scenario,
    scenario_from_text,
)
from lodeline.sim.shaping import NOISE_TOLERANCE, assumptions, clean_report, clean_rows, clean_value

METHOD = "docs/methods/stress-test.md"
Progress = Callable[[float, str], None]

#: The largest scenario or exercise script accepted as text (a library scenario is ~2 kB; an inline network
#: of a few hundred flows ~50 kB).
MAX_UPLOAD_BYTES = 256 * 1024
#: The deepest nesting and the most values (YAML aliases expanded) an uploaded file may have.
MAX_UPLOAD_DEPTH = 32
MAX_UPLOAD_NODES = 100_000
UPLOAD_BOUNDS = Bounds(max_bytes=MAX_UPLOAD_BYTES, max_depth=MAX_UPLOAD_DEPTH, max_nodes=MAX_UPLOAD_NODES)
#: Datasets the store-built network reads (production, trade, recycled content) besides those named in notes.
_NETWORK_SOURCES = ("cepii_baci", "unep_recycling")


def _no_progress(_fraction: float, _message: str) -> None:
    return None


# ------------------------------------------------------------------------------------------- scenarios
def list_scenarios() -> list[dict[str, Any]]:
    """The shipped scenario library: name, mineral, title, alliance, horizon, number of disruptions, source note."""
    rows = []
    for name, text in library_scenarios().items():
        s = scenario_from_text(text, f"library:{name}")
        rows.append(
            {
                "name": name,
                "mineral": s.mineral,
                "title": s.name,
                "alliance": s.alliance if isinstance(s.alliance, str) else ",".join(s.alliance),
                "horizon_months": s.horizon_months,
                "disruptions": len(s.disruptions),
                "source": " ".join(s.source.split()),
            }
        )
    return rows


def scenario_detail(name: str) -> dict[str, Any]:
    """One library scenario: its summary, the validated specification and the YAML text as shipped."""
    text = library_scenarios().get(name)
    if text is None:
        library(name)  # raises the 404 naming the library
    s = scenario_from_text(str(text), f"library:{name}")
    summary = next(r for r in list_scenarios() if r["name"] == name)
    return {**summary, "description": s.description, "spec": s.model_dump(mode="json"), "yaml": text}


def library(name: str) -> Scenario:
    """A library scenario by name, or a 404 naming the library."""
    found = library_scenario(name)
    if found is None:
        known = ", ".join(library_scenarios())
        raise NotFoundError(f"no library scenario {name!r}; known: {known}", name=name)
    return found


def parse_data(data: Any, where: str) -> Scenario:
    """A decoded YAML mapping (read by :mod:`lodeline.inputs`) validated as a scenario."""
    return parse_scenario(data, where)


def decode_upload(text: str | bytes, where: str) -> Any:
    """Uploaded YAML text decoded within :data:`UPLOAD_BOUNDS` by the one bounded reader (:mod:`lodeline.inputs`):
    size, UTF-8, syntax (with its line), depth, size after aliases, integer length; a refusal is a
    :class:`ScenarioError` naming the upload and the reason."""
    try:
        return parse_yaml(text, UPLOAD_BOUNDS)
    except InputRejected as exc:
        raise ScenarioError(where, "(root)", exc.reason) from None


def scenario_from_upload(text: str | bytes, where: str = "upload") -> Scenario:
    """A scenario sent as YAML text (the page's upload, the API's ``scenario_yaml``), validated field by field."""
    return parse_scenario(decode_upload(text, where), where)


# ------------------------------------------------------------------------------------------- networks
def _engine(engine: Engine | None) -> Engine:
    if engine is not None:
        return engine
    from lodeline.store.engine import get_engine

    return get_engine()


def network(scenario: Scenario, where: str, engine: Engine | None = None) -> SupplyNetwork:
    """The scenario's inline network, or the one built from the store's canonical tables."""
    if scenario.network is not None:
        return network_from_spec(scenario.network, scenario.mineral, scenario.alliance_members(), where)
    from lodeline.sim.store import load_network

    return load_network(_engine(engine), scenario.mineral, scenario.alliance_members(), scenario.year)


def stability(engine: Engine | None = None) -> dict[str, float]:
    """WGI political stability per country for Monte Carlo probabilities ({} before a data build)."""
    from lodeline.sim.store import political_stability
    from lodeline.store.canonical import is_built

    store = _engine(engine)
    return political_stability(store) if is_built(store) else {}


def provenance(scenario: Scenario, notes: list[str], engine: Engine | None = None) -> Provenance:
    """Sources of a result: the catalog entries the store-built network read; none for an inline network."""
    if scenario.network is not None:
        return Provenance(sources=[], method=METHOD, unit="t", notes=notes)
    from lodeline.store.canonical import catalog

    text = " ".join(notes)
    sources = [
        {k: d[k] for k in ("id", "title", "edition", "licence")}
        for d in catalog(_engine(engine))
        if d["id"] in _NETWORK_SOURCES or d["id"] in text
    ]
    return Provenance(sources=sources, method=METHOD, unit="t", notes=notes)


# ------------------------------------------------------------------------------------------- running
def run(
    scenario: Scenario, where: str, *, engine: Engine | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """A deterministic run: members, monthly path, binding nodes, LP duals, notes and assumptions (noise 0)."""
    from lodeline.sim.run import run_scenario

    report_progress = progress or _no_progress
    report_progress(0.05, "building the supply network")
    net = network(scenario, where, engine)
    report_progress(0.3, f"running {scenario.horizon_months} months")
    report = clean_report(run_scenario(net, scenario, where).to_dict())
    report["provenance"] = provenance(scenario, report["notes"], engine).to_dict()
    report_progress(1.0, "done")
    return report


def montecarlo(
    scenario: Scenario,
    where: str,
    *,
    samples: int,
    seed: int = 0,
    chunk_size: int = DEFAULT_CHUNK,
    executor: Executor | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Sampled disruptions: per member mean, VaR95, CVaR95 of shortfall and P(target breached) (noise 0)."""
    report_progress = progress or _no_progress
    report_progress(0.02, "building the supply network")
    net = network(scenario, where, engine)
    task, notes = make_task(net, scenario, stability(engine) if scenario.network is None else {}, where)

    def chunks(done: int, total: int) -> None:
        report_progress(0.05 + 0.9 * done / max(total, 1), f"sampled {done}/{total} chunks")

    result = run_montecarlo(
        task, samples, seed, chunk_size=chunk_size, executor=executor, progress=chunks, notes=notes
    )
    all_notes = list(net.notes) + list(notes)
    report_progress(1.0, "done")
    return {
        "scenario": scenario.name,
        "mineral": net.mineral,
        "samples": samples,
        "seed": seed,
        "chunk_size": chunk_size,
        "target_shortfall_pct": result.target_pct,
        "members": clean_rows(result.summary()),
        "notes": all_notes,
        "assumptions": assumptions(all_notes),
        "noise_tolerance": NOISE_TOLERANCE,
        "provenance": provenance(scenario, all_notes, engine).to_dict(),
    }


def exercise(
    data: Any, where: str, *, engine: Engine | None = None, progress: Progress | None = None
) -> dict[str, Any]:
    """Play an exercise script (decoded YAML) and return its after-action report (noise 0)."""
    from lodeline.sim.exercise import parse_script, run_exercise

    report_progress = progress or _no_progress
    script, scenario = parse_script(data, where)
    report_progress(0.05, "building the supply network")
    net = network(scenario, where, engine)
    report_progress(0.3, "playing the decisions and the optimised response")
    aar = clean_value(run_exercise(net, script, scenario, where))
    aar["assumptions"] = assumptions(list(net.notes))
    if script.release_rules is not None:
        from lodeline.services.release import plan_for_exercise

        report_progress(0.7, "planning the coordinated release")
        aar["release_plan"] = plan_for_exercise(
            net, scenario, where, script.release_rules, script.stocks, engine
        )
    report_progress(1.0, "done")
    return dict(aar)


def check_samples(samples: int, limit: int) -> None:
    if not 1 <= samples <= limit:
        raise InvalidArgumentError(f"samples must be between 1 and {limit:,} (got {samples:,})")


def report_html(kind: str, result: dict[str, Any]) -> str:
    """The downloadable HTML report of a finished run or exercise (charts embedded offline)."""
    from lodeline.sim.report import exercise_report_html, montecarlo_report_html, run_report_html

    if kind == "run":
        return run_report_html(result)
    if kind == "exercise":
        return exercise_report_html(result)
    return montecarlo_report_html(result)
