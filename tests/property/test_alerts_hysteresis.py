"""Hysteresis and de-duplication (hypothesis): a value oscillating around a threshold, by less than the
hysteresis band, enters that level once, not once per crossing."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lodeline.alerts.model import Level
from lodeline.alerts.thresholds import entries, hysteresis, spec


@given(
    n=st.integers(min_value=2, max_value=200),
    amplitude=st.floats(min_value=0.0, max_value=0.3),
    phase=st.booleans(),
)
def test_oscillation_around_warning_is_one_alert(n: int, amplitude: float, phase: bool) -> None:
    s = spec("price-zscore")  # warning at 3.5, exit factor 0.6: held down to 2.1
    t = s.entry[Level.WARNING]
    assert t is not None
    values = [t * (1 + amplitude * (1 if (i % 2 == 0) == phase else -1)) for i in range(n)]
    levels = hysteresis(values, s)
    assert entries(levels, Level.WARNING) <= 1
    # once reached, the level never drops below warning while the value stays inside the band
    if Level.WARNING in levels or Level.ALERT in levels:
        first = next(i for i, lv in enumerate(levels) if lv.rank >= Level.WARNING.rank)
        assert all(lv.rank >= Level.WARNING.rank for lv in levels[first:])


@given(st.lists(st.floats(min_value=-10, max_value=10), min_size=1, max_size=100))
def test_hysteresis_never_below_memoryless_level(values: list[float]) -> None:
    s = spec("price-zscore")
    for value, level in zip(values, hysteresis(values, s), strict=True):
        assert level.rank >= s.raw_level(value).rank


def test_leaving_needs_the_exit_threshold() -> None:
    s = spec("price-zscore")
    assert [lv.value for lv in hysteresis([3.6, 2.2, 2.0, 3.6], s)] == [
        "warning",
        "warning",
        "watch",
        "warning",
    ]
