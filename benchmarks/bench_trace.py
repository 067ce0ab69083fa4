"""Traceability registry benchmark (issue 3): capture throughput and origin latency on SQLite.

``run(quick=False)`` captures 200,000 events (quick: 20,000) of synthetic lithium chains — validation, hashing,
signature check, mass balance and Merkle log append all included — then times ``origin`` for a lot with a
6-level, 1,092-ancestor upstream graph in the resulting store. Baselines named by the issue: Trillian on MySQL
(~1,190 writes/s) and Tessera on POSIX (~2,900 writes/s), published figures; ratios are reported against them.
"""

from __future__ import annotations

import json
import platform
import sys
from typing import Any

from benchmarks.trace_kernel import run_benchmark


def run(quick: bool = False) -> dict[str, Any]:
    result = run_benchmark(events=20_000 if quick else 200_000)
    result["machine"] = (
        f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}"
    )
    result["quick"] = quick
    return result


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
