"""The log benchmark kernel runs at a small size and reports what BENCHMARKS.md needs (proofs verified)."""

from __future__ import annotations

from benchmarks.bench_tracelog import run_tracelog_bench


def test_bench_kernel_small() -> None:
    result = run_tracelog_bench(leaves=3000, proofs=40, pymerkle_proofs=5)
    assert result["leaves"] == 3000
    assert result["proofs_verified"] is True
    assert result["pymerkle_paths_agree"] is True
    for key in ("proof_ms", "pymerkle_proof_ms", "pymerkle_ratio", "append_leaves_per_s", "proof_cpu_ms"):
        assert result[key] > 0, key
