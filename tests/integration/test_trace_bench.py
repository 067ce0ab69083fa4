"""The benchmark runner works at a tiny size and reports the figures the issue asks for."""

import pytest
from benchmarks.trace_kernel import min_window_rate, run_benchmark


def test_benchmark_small() -> None:
    result = run_benchmark(events=160, origin_runs=3, workers=1)
    assert result["events"] == 160
    assert result["capture_events_per_s"] > 0 and result["origin_p95_ms"] > 0
    assert result["capture_sequential_events_per_s"] > 0 and result["pipeline_vs_sequential_ratio"] > 0
    assert result["capture_min_window_events_per_s"] > 0
    assert result["origin_upstream_lots"] == 1092
    assert result["store_events"] == 160 + 2551


def test_slowest_window_finds_the_slow_stretch() -> None:
    # 10 documents of 100 events: 1 s each, except documents 5 and 6 which take 4 s each.
    marks, t = [], 0.0
    for n in range(10):
        t += 4.0 if n in (4, 5) else 1.0
        marks.append((t, (n + 1) * 100))
    assert min_window_rate(marks, 200) == pytest.approx(200 / 8)  # documents 5-6
    assert min_window_rate(marks, 1000) == pytest.approx(1000 / 16)  # the whole run
    assert min_window_rate(marks, 100) == pytest.approx(25.0)
    assert min_window_rate([], 100) == 0.0
