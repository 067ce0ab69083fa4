"""The benchmark runner works at a tiny size and reports the figures the issue asks for."""

from lodeline.trace.benchmark import run_benchmark


def test_benchmark_small() -> None:
    result = run_benchmark(events=160, origin_runs=3)
    assert result["events"] == 160
    assert result["capture_events_per_s"] > 0 and result["origin_p95_ms"] > 0
    assert result["origin_upstream_lots"] == 1092
    assert result["store_events"] == 160 + 2551
