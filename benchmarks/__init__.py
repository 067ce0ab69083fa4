"""Benchmarks: `make bench` (or `python -m benchmarks [name …] [--quick]`). Each bench_*.py exposes run()."""
