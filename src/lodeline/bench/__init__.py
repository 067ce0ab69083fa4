"""Benchmark kernels callable from the CLI (`lodeline … bench`) and from ``benchmarks/``."""
