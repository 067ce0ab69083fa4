"""Issue 2 targets: data build < 60 s; all indicators < 1 s; ratio vs the pandas groupby/apply baseline."""

from __future__ import annotations

from typing import Any

from lodeline.bench.market import run_market_bench


def run(quick: bool = False) -> dict[str, Any]:
    result = run_market_bench(repeat=2 if quick else 5)
    result["targets"] = {"build_seconds": "< 60", "indicators_seconds": "< 1"}
    return result
