"""Run every benchmark module (bench_*.py) and write one JSON file per benchmark to benchmarks/results/.

python -m benchmarks            # all, full size
python -m benchmarks market     # only bench_market
python -m benchmarks --quick    # smaller sizes (smoke run)
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine() -> dict[str, object]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    names = sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))
    if wanted:
        unknown = sorted(set(wanted) - set(names))
        if unknown:
            print(f"unknown benchmark(s) {unknown}; available: {names}", file=sys.stderr)
            return 2
        names = [n for n in names if n in wanted]
    out_dir = HERE / "results"
    out_dir.mkdir(exist_ok=True)
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        print(f"== {name} ==", file=sys.stderr, flush=True)
        start = time.perf_counter()
        result = module.run(quick=quick)
        record = {
            "benchmark": name,
            "quick": quick,
            "machine": machine(),
            "wall_seconds": round(time.perf_counter() - start, 2),
            "result": result,
        }
        (out_dir / f"{name}.json").write_text(json.dumps(record, indent=2, default=str))
        print(json.dumps(record, indent=2, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
