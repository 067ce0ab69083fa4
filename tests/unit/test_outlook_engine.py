"""The outlook engine (docs/methods/outlook-2030.md): hand-worked trajectory, the zero-delay and certain-failure
limits, gaps that stay gaps, and parameter validation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from lodeline.errors import InvalidArgumentError
from lodeline.outlook.engine import Baseline, PipelineProject, deterministic, evaluate, prepare, sample
from lodeline.outlook.parameters import Parameters, bundled_parameters, parse_parameters
from lodeline.outlook.summary import Line, run_outlook

LINES = [Line("below 60%", 0.6), Line("below 50%", 0.5)]
# demand +50 % from 2024 to 2030, linear
GROWTH = [1 + 0.5 * i / 6 for i in range(7)]


def _baseline() -> Baseline:
    # China 80 % (outside), United States 10 % (member), 10 % not attributed; world 100 kt in 2024
    return Baseline(2024, ("CHN", "USA"), (0.8, 0.1), (True, False), 100.0, "kt")


def _project(**kw: object) -> PipelineProject:
    base = {
        "project_id": "p1",
        "name": "Plant",
        "country": "USA",
        "outside": False,
        "capacity": 30.0,
        "start": 2027,
        "study_stage": "construction",
    }
    base.update(kw)
    return PipelineProject(**base)  # type: ignore[arg-type]


def _params(delay: float = 1.0, failure: float = 1.0) -> Parameters:
    return bundled_parameters().scaled(delay=delay, failure=failure)


def test_hand_worked_deterministic_trajectory() -> None:
    """By hand: demand g(t) = 1 + 0.5 (t-2024)/6 of 2024's 100 kt; the 30 kt US plant starts 2027 at 50 %
    (ramp-up [0.5, 0.8], then 100 %): pipeline 0.15 (2027), 0.24 (2028), 0.30 (2029, 2030) of 2024 output.
    China keeps 80 % of the residual g - P: 2027 0.8 x (1.25 - 0.15) / 1.25 = 0.704;
    2028 0.8 x (1.3333 - 0.24) / 1.3333 = 0.656; 2030 0.8 x (1.5 - 0.3) / 1.5 = 0.64."""
    prepared = prepare(_baseline(), [_project()], GROWTH, _params())
    det = deterministic(prepared)
    assert det[:3] == pytest.approx([0.8, 0.8, 0.8])
    assert det[3] == pytest.approx(0.704)
    assert det[4] == pytest.approx(0.656)
    assert det[6] == pytest.approx(0.64)


def test_outside_project_can_become_the_largest_outside_supplier() -> None:
    """By hand: a 130 kt plant in Malaysia (outside) on time in 2025 at full capacity (no ramp-up):
    2030 demand 150 kt, pipeline 130, residual 20; China 0.8 x 20 = 16 kt; Malaysia 130 kt of 150 = 0.8667."""
    params = parse_parameters({**_raw(), "ramp_up": []})
    project = _project(country="MYS", outside=True, capacity=130.0, start=2025)
    det = deterministic(prepare(_baseline(), [project], GROWTH, params))
    assert det[6] == pytest.approx(130 / 150)


def test_zero_delay_no_failure_equals_deterministic() -> None:
    projects = [_project(), _project(project_id="p2", capacity=10.0, start=2029, study_stage="scoping")]
    out = run_outlook(
        _baseline(),
        projects,
        GROWTH,
        _params(delay=0.0, failure=0.0),
        target_year=2030,
        lines=LINES,
        draws=500,
    )
    assert out.median == pytest.approx(out.deterministic)
    assert out.p10 == pytest.approx(out.deterministic)
    assert out.p90 == pytest.approx(out.deterministic)
    assert out.probabilities["below 60%"] == (1.0 if out.deterministic_meets["below 60%"] else 0.0)


def test_certain_failure_equals_no_pipeline() -> None:
    params = parse_parameters(
        {**_raw(), "stages": {k: {**v, "failure_probability": 1.0} for k, v in _raw()["stages"].items()}}
    )
    out = run_outlook(_baseline(), [_project()], GROWTH, params, target_year=2030, lines=LINES, draws=300)
    assert out.median == pytest.approx(out.no_pipeline)
    assert out.p10 == pytest.approx(out.no_pipeline)
    assert out.no_pipeline == pytest.approx([0.8] * 7)
    assert out.probabilities == {"below 60%": 0.0, "below 50%": 0.0}


def test_project_without_capacity_contributes_nothing_and_is_flagged() -> None:
    gap = _project(project_id="gap", capacity=None)
    out = run_outlook(
        _baseline(), [gap], GROWTH, _params(delay=0.0, failure=0.0), target_year=2030, lines=LINES, draws=50
    )
    assert out.deterministic == pytest.approx(out.no_pipeline)
    row = out.projects[0]
    assert row["counted"] is False and row["not_counted_because"] == "capacity not stated"
    assert row["capacity"] is None and row["swing_pp"] is None
    assert out.pipeline["capacity_not_stated"] == 1
    assert any("state no capacity" in n for n in out.notes)


def test_operating_project_is_not_added_again() -> None:
    out = run_outlook(
        _baseline(),
        [_project(study_stage="operating")],
        GROWTH,
        _params(),
        target_year=2030,
        lines=LINES,
        draws=20,
    )
    assert out.deterministic == pytest.approx(out.no_pipeline)
    assert out.projects[0]["not_counted_because"].startswith("operating")


def test_the_project_that_matters_most_comes_first() -> None:
    """A 45 kt plant brings 2030 to 0.8 x (1.5 - 0.45)/1.5 = 0.56 < 0.6 on time; a 1 kt one barely moves it."""
    big = _project(project_id="big", capacity=45.0, start=2026, study_stage="feasibility")
    small = _project(project_id="small", capacity=1.0, start=2026, study_stage="feasibility")
    out = run_outlook(_baseline(), [small, big], GROWTH, _params(), target_year=2030, lines=LINES, draws=2000)
    assert out.projects[0]["project_id"] == "big"
    assert out.projects[0]["p_if_failed"] == 0.0
    assert out.projects[0]["swing_pp"] > 20


def test_same_seed_same_answer() -> None:
    prepared = prepare(_baseline(), [_project()], GROWTH, _params())
    a = evaluate(prepared, sample(prepared, 200, 7, 2.0))
    b = evaluate(prepared, sample(prepared, 200, 7, 2.0))
    assert np.array_equal(a, b)


def test_target_year_outside_projection_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="outside the projection"):
        run_outlook(_baseline(), [], GROWTH, _params(), target_year=2040, lines=LINES)


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"gamma_shape": -1}, "gamma_shape"),
        ({"ramp_up": [0.8, 0.5]}, "non-decreasing"),
        ({"ramp_up": [1.5]}, "ramp_up\\[0\\]"),
        ({"stages": {"scoping": {"delay_mean_years": 1, "failure_probability": 2}}}, "failure_probability"),
    ],
)
def test_bad_parameters_name_the_field(patch: dict[str, object], message: str) -> None:
    raw = _raw()
    if "stages" in patch:
        raw["stages"] = {**raw["stages"], **patch["stages"]}  # type: ignore[dict-item]
    else:
        raw.update(patch)
    with pytest.raises(InvalidArgumentError, match=message):
        parse_parameters(raw)


def _raw() -> dict[str, Any]:
    p = bundled_parameters()
    return {
        "gamma_shape": p.gamma_shape,
        "ramp_up": list(p.ramp_up),
        "stages": {
            k: {"delay_mean_years": v.delay_mean_years, "failure_probability": v.failure_probability}
            for k, v in p.stages.items()
        },
    }


def test_quantiles_equal_numpys_linear_quantiles() -> None:
    from lodeline.outlook.summary import quantiles

    values = np.random.default_rng(3).random((1001, 7))
    for ours, q in zip(quantiles(values, (0.1, 0.5, 0.9)), (0.1, 0.5, 0.9), strict=True):
        assert np.allclose(ours, np.quantile(values, q, axis=0), rtol=0, atol=1e-15)


def test_sensitivity_equals_rerunning_with_the_project_on_time_or_failed() -> None:
    """The one-at-a-time swing, computed in place, equals a full re-evaluation with that project's delay set to 0
    and failure off (on time) or failure forced (failed), the other projects' draws unchanged."""
    from lodeline.outlook.engine import Draws, sensitivity

    projects = [
        _project(project_id="a", capacity=20.0, start=2026, study_stage="feasibility"),
        _project(
            project_id="b", country="MYS", outside=True, capacity=15.0, start=2027, study_stage="scoping"
        ),
        _project(project_id="c", capacity=12.0, start=2028, study_stage="construction"),
    ]
    prepared = prepare(_baseline(), projects, GROWTH, _params())
    numbers = sample(prepared, 400, 9, 2.0)
    swings = sensitivity(prepared, numbers, 6, 0.6)
    for k in range(3):
        gamma, uniform = numbers.gamma.copy(), numbers.uniform.copy()
        gamma[:, k], uniform[:, k] = 0.0, 1.0  # on time, never fails
        on_time = (evaluate(prepared, Draws(gamma, uniform, 2.0))[:, 6] < 0.6).mean()
        uniform[:, k] = -1.0  # always fails
        failed = (evaluate(prepared, Draws(gamma, uniform, 2.0))[:, 6] < 0.6).mean()
        assert swings[k] == pytest.approx((on_time, failed))
