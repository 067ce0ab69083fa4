"""Issue 3 target: inclusion proof for any leaf of a 1,000,000-leaf log < 5 ms; pymerkle in the same run."""

from __future__ import annotations

from typing import Any

from lodeline.bench.tracelog import run_tracelog_bench


def run(quick: bool = False) -> dict[str, Any]:
    result = run_tracelog_bench(leaves=100_000 if quick else 1_000_000, proofs=200 if quick else 500)
    result["targets"] = {"proof_ms": "< 5", "append_ms_per_leaf": "<< 0.2 (capture budget per event)"}
    return result
