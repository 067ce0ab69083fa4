"""Tabletop exercises: a scenario, timed injects, participants' recorded decisions, and an after-action review.

The script names a base scenario (library name or inline mapping), injects that add disruptions at a
month ("month 2: licensing delays extended"), and the decisions participants took (release stock,
ration demand, reroute more spare capacity). The engine advances month by month with those
decisions, then reruns the same crisis with the optimised response (the LP) for comparison.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator

from lodeline.inputs import first_validation_error
from lodeline.sim.compile import compile_policy, scenario_shocks
from lodeline.sim.engine import Policy, simulate
from lodeline.sim.network import Array, Mask, Shock, SupplyNetwork
from lodeline.sim.scenario import (
    Disruption,
    Scenario,
    ScenarioError,
    _country,
    _Strict,
    library_scenarios,
    parse_scenario,
)


class Inject(_Strict):
    month: int = Field(ge=1)
    text: str = Field(min_length=1)
    disruptions: list[Disruption] = Field(default_factory=list)


class Decision(_Strict):
    month: int = Field(ge=1)
    participant: str
    action: Literal["release", "ration", "reroute"]
    tonnes: float | None = Field(default=None, ge=0.0)
    fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    note: str = ""

    @field_validator("participant")
    @classmethod
    def _p(cls, v: str) -> str:
        return _country(v)


class ExerciseScript(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    scenario: str | dict[str, Any]
    participants: list[str] = Field(default_factory=list)
    injects: list[Inject] = Field(default_factory=list)
    decisions: list[Decision] = Field(default_factory=list)
    #: A release rule set (bundled name or inline mapping) whose plan the after-action report includes, and the
    #: pooled stocks it draws on (rows ``member, mineral, tonnes[, holder_type]``; none = the scenario's stocks).
    release_rules: str | dict[str, Any] | None = None
    stocks: list[dict[str, Any]] | None = Field(default=None, max_length=10_000)


def parse_decision(text: str, month: int, participant: str) -> Decision:
    """A typed decision line: ``release 120``, ``ration 0.05``, ``reroute 0.8`` (raises ValueError)."""
    parts = text.split(maxsplit=2)
    if len(parts) < 2 or parts[0] not in ("release", "ration", "reroute"):
        raise ValueError("expected 'release TONNES', 'ration FRACTION', 'reroute FRACTION' or 'pass'")
    value = float(parts[1])
    note = parts[2] if len(parts) > 2 else ""
    if parts[0] == "release":
        return Decision(month=month, participant=participant, action="release", tonnes=value, note=note)
    return Decision(month=month, participant=participant, action=parts[0], fraction=value, note=note)  # type: ignore[arg-type]


def parse_script(data: Any, where: str) -> tuple[ExerciseScript, Scenario]:
    """Validate the script and resolve its scenario; errors name the field."""
    if not isinstance(data, dict):
        raise ScenarioError(where, "(root)", "an exercise script must be a YAML mapping")
    try:
        script = ExerciseScript.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(where, *first_validation_error(exc)) from None
    if isinstance(script.scenario, str):
        library = library_scenarios()
        if script.scenario not in library:
            raise ScenarioError(where, "scenario", f"no library scenario {script.scenario!r}")
        base = yaml.safe_load(library[script.scenario])
    else:
        base = dict(script.scenario)
    for i, d in enumerate(script.decisions):
        if d.action == "release" and d.tonnes is None:
            raise ScenarioError(where, f"decisions.{i}.tonnes", "a release needs tonnes")
        if d.action in ("ration", "reroute") and d.fraction is None:
            raise ScenarioError(where, f"decisions.{i}.fraction", f"a {d.action} decision needs a fraction")
    # injects add their disruptions to the scenario (they take effect from their start month)
    base["disruptions"] = list(base.get("disruptions") or []) + [
        d.model_dump() for inj in script.injects for d in inj.disruptions
    ]
    return script, parse_scenario(base, where)


def _decision_hooks(
    network: SupplyNetwork,
    script: ExerciseScript,
    members: Mask,
    policy: Policy,
    shock_at: Callable[[int], Shock],
    where: str,
) -> tuple[Callable[[int], Shock], Callable[[int, Array], Array], Callable[[int], float], Array]:
    member_names = [c for c, m in zip(network.consumers, members, strict=True) if m]
    release: dict[tuple[int, int], float] = {}
    ration: dict[int, list[tuple[int, float]]] = {}
    reroute: list[tuple[int, float]] = []
    for i, d in enumerate(script.decisions):
        if d.action == "reroute":
            reroute.append((d.month - 1, float(d.fraction or 0.0)))
            continue
        if d.participant not in member_names:
            raise ScenarioError(
                where, f"decisions.{i}.participant", f"{d.participant} is not an alliance member here"
            )
        j = member_names.index(d.participant)
        if d.action == "release":
            release[(d.month - 1, j)] = release.get((d.month - 1, j), 0.0) + float(d.tonnes or 0.0)
        else:
            ration.setdefault(network.consumers.index(d.participant), []).append(
                (d.month - 1, float(d.fraction or 0.0))
            )
    rationed = np.zeros(len(network.consumers))

    def shock_with_rationing(t: int) -> Shock:
        s = shock_at(t)
        change = s.demand_change.copy()
        for col, steps in ration.items():
            active = [f for start, f in steps if start <= t]
            if active:
                change[0, col] -= active[-1]
                rationed[col] += active[-1] * network.demand[col]
        return Shock(s.production_cut, s.export_cut, s.route_cut, change)

    def release_at(t: int, limit: Array) -> Array:
        decided = np.zeros_like(limit)
        for (month, j), tonnes in release.items():
            if month == t:
                decided[:, j] = tonnes
        return decided

    def reroute_at(t: int) -> float:
        active = [f for start, f in sorted(reroute) if start <= t]
        return active[-1] if active else policy.reroute_fraction

    return shock_with_rationing, release_at, reroute_at, rationed


def month_status(
    network: SupplyNetwork, script: ExerciseScript, scenario: Scenario, month: int, where: str
) -> list[dict[str, Any]]:
    """What each member faces in ``month`` (1-based) given the decisions recorded so far."""
    shock_at = scenario_shocks(network, scenario, where)
    members, policy = compile_policy(network, scenario, where)
    manual = Policy(**{**policy.__dict__, "rule": "manual"})
    shocks, release_at, reroute_at, _ = _decision_hooks(network, script, members, policy, shock_at, where)
    played = simulate(
        network,
        shocks,
        month,
        1,
        members,
        manual,
        keep_path=True,
        release_at=release_at,
        reroute_at=reroute_at,
    )
    assert played.path is not None
    p = played.path
    return [
        {
            "country": network.consumers[j],
            "demand_t": float(p["demand"][0, -1, j]),
            "shortfall_t": float(p["unmet"][0, -1, j]),
            "stock_t": float(p["stock_end"][0, -1, j] + p["stock_draw"][0, -1, j]),
        }
        for j in np.flatnonzero(members)
    ]


def run_exercise(
    network: SupplyNetwork, script: ExerciseScript, scenario: Scenario, where: str
) -> dict[str, Any]:
    """Advance the crisis with the participants' decisions and with the optimised response; compare."""
    shock_at = scenario_shocks(network, scenario, where)
    members, policy = compile_policy(network, scenario, where)
    months = scenario.horizon_months
    manual = Policy(**{**policy.__dict__, "rule": "manual"})
    shocks, release_at, reroute_at, rationed = _decision_hooks(
        network, script, members, policy, shock_at, where
    )
    played = simulate(
        network,
        shocks,
        months,
        1,
        members,
        manual,
        keep_path=True,
        release_at=release_at,
        reroute_at=reroute_at,
    )
    best = simulate(
        network,
        shock_at,
        months,
        1,
        members,
        Policy(**{**policy.__dict__, "rule": "optimised"}),
        keep_path=True,
    )
    assert played.path is not None and best.path is not None
    idx = np.flatnonzero(members)
    comparison: list[dict[str, Any]] = []
    for j in idx:
        c = network.consumers[j]
        comparison.append(
            {
                "country": c,
                "shortfall_t_participants": float(played.unmet[0, j]),
                "shortfall_t_optimised": float(best.unmet[0, j]),
                "difference_t": float(played.unmet[0, j] - best.unmet[0, j]),
                "stock_draw_t_participants": float(played.stock_draw[0, j]),
                "stock_draw_t_optimised": float(best.stock_draw[0, j]),
                "rationed_t": float(rationed[j]),
            }
        )
    timeline = [
        {"month": i.month, "kind": "inject", "who": "control", "what": i.text} for i in script.injects
    ]
    timeline += [
        {
            "month": d.month,
            "kind": "decision",
            "who": d.participant,
            "what": f"{d.action} "
            + (f"{d.tonnes:,.0f} t" if d.tonnes is not None else f"{100 * (d.fraction or 0):.0f} %")
            + (f" — {d.note}" if d.note else ""),
        }
        for d in script.decisions
    ]
    timeline.sort(key=lambda r: (int(str(r["month"])), r["kind"] != "inject"))
    total_played = float(played.unmet[0, idx].sum())
    total_best = float(best.unmet[0, idx].sum())
    findings = [
        f"Alliance shortfall over {months} months: {total_played:,.1f} t with the participants' decisions, "
        f"{total_best:,.1f} t with the optimised release ({total_played - total_best:+,.1f} t).",
        f"Stock drawn: {float(played.stock_draw[0].sum()):,.1f} t (participants) vs "
        f"{float(best.stock_draw[0].sum()):,.1f} t (optimised).",
    ]
    if rationed.sum() > 0:
        findings.append(
            f"Rationing removed {float(rationed.sum()):,.1f} t of demand (not counted as shortfall)."
        )
    gaps = [(float(r["difference_t"]), str(r["country"])) for r in comparison]
    if gaps and max(gaps)[0] > 1e-9:
        gap, country = max(gaps)
        findings.append(f"Largest gap to the optimum: {country} ({gap:,.1f} t more shortfall).")

    def by_month(path: dict[str, Array], key: str) -> list[float]:
        return [float(v) for v in path[key][0][:, idx].sum(axis=1)]

    return {
        "name": script.name,
        "description": script.description or scenario.description,
        "scenario": scenario.name,
        "mineral": network.mineral,
        "months": months,
        "timeline": timeline,
        "comparison": comparison,
        "participants": {
            "member_shortfall_by_month": by_month(played.path, "unmet"),
            "member_stock_by_month": by_month(played.path, "stock_end"),
        },
        "optimised": {
            "member_shortfall_by_month": by_month(best.path, "unmet"),
            "member_stock_by_month": by_month(best.path, "stock_end"),
        },
        "findings": findings,
        "notes": list(network.notes),
    }
