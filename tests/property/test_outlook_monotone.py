"""The outlook's probabilities are monotone in the delay distribution (docs/methods/outlook-2030.md).

With the same random numbers, scaling every stage's mean delay up makes each project start later in every draw
(delay = standard gamma draw x mean / shape), so pipeline output in a year can only fall, and with projects inside
the alliance the dependency can only rise: P(meets the line) may not increase. (Supply added in a country OUTSIDE
the alliance can make that country the largest outside supplier, so the property is stated for member projects.)
The same holds for the failure probabilities (failure = uniform < p)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lodeline.outlook.engine import Baseline, PipelineProject
from lodeline.outlook.parameters import STUDY_STAGES, bundled_parameters
from lodeline.outlook.summary import Line, run_outlook

LINES = [Line("60", 0.6), Line("50", 0.5)]

projects = st.lists(
    st.builds(
        PipelineProject,
        project_id=st.uuids().map(str),
        name=st.just("p"),
        country=st.sampled_from(["USA", "AUS", "JPN"]),
        outside=st.just(False),
        capacity=st.floats(0.5, 60.0),
        start=st.integers(2025, 2031),
        study_stage=st.sampled_from([s for s in STUDY_STAGES if s != "operating"]),
    ),
    min_size=1,
    max_size=6,
    unique_by=lambda p: p.project_id,
)


@settings(max_examples=40, deadline=None)
@given(
    items=projects,
    top=st.floats(0.4, 0.95),
    growth=st.floats(0.0, 0.12),
    scales=st.tuples(st.floats(0.0, 3.0), st.floats(0.0, 3.0)).map(sorted),
    seed=st.integers(0, 2**32 - 1),
)
def test_longer_delays_never_raise_the_probability(
    items: list[PipelineProject], top: float, growth: float, scales: list[float], seed: int
) -> None:
    baseline = Baseline(2024, ("CHN", "USA"), (top, (1 - top) / 2), (True, False), 100.0, "kt")
    g = [1 + growth * i for i in range(7)]
    params = bundled_parameters()
    quick, slow = (
        run_outlook(
            baseline, items, g, params.scaled(delay=s), target_year=2030, lines=LINES, draws=300, seed=seed
        )
        for s in scales
    )
    for line in LINES:
        assert slow.probabilities[line.label] <= quick.probabilities[line.label]
    assert all(s >= q - 1e-12 for s, q in zip(slow.median, quick.median, strict=True))


@settings(max_examples=30, deadline=None)
@given(
    items=projects,
    scales=st.tuples(st.floats(0.0, 2.0), st.floats(0.0, 2.0)).map(sorted),
    seed=st.integers(0, 999),
)
def test_likelier_failure_never_raises_the_probability(
    items: list[PipelineProject], scales: list[float], seed: int
) -> None:
    baseline = Baseline(2024, ("CHN", "USA"), (0.7, 0.2), (True, False), 100.0, "kt")
    g = [1 + 0.05 * i for i in range(7)]
    low, high = (
        run_outlook(
            baseline,
            items,
            g,
            bundled_parameters().scaled(failure=s),
            target_year=2030,
            lines=LINES,
            draws=300,
            seed=seed,
        )
        for s in scales
    )
    for line in LINES:
        assert high.probabilities[line.label] <= low.probabilities[line.label]
