"""Issue 12 target: ``lodeline --help`` starts in under 0.5 s (it took 4-6 s when the root imported every command).

Each command runs N times in a fresh subprocess (nothing cached in-process), after one uncounted warm-up run: the
OS file cache is warm and Python's bytecode cache written, which is what a user typing commands sees from the second
command on (``PYTHONDONTWRITEBYTECODE`` is removed from the children's environment: with it, every run would
compile the modules it imports that have no ``.pyc`` yet, and measure the compiler). Reported per command: the median, min and max wall time and
the median CPU time (user + system of the child; less sensitive than wall time to other load on a shared machine),
plus the load average before and after, and which heavy libraries the root's help imported (none is the point).
There is no eager baseline to compare with: the eager root no longer exists, so the figures stand against the
target.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TARGET_HELP_SECONDS = 0.5
#: Libraries a command group may need but the root's help must not import.
HEAVY = (
    "polars",
    "sqlalchemy",
    "fastapi",
    "pydantic_settings",
    "numpy",
    "lodeline.store",
    "lodeline.services",
)


def _lodeline() -> str:
    """The ``lodeline`` console script of the running environment."""
    script = Path(sys.executable).with_name("lodeline")
    if not script.is_file():
        raise SystemExit(
            f"bench_startup: no lodeline script next to {sys.executable} (install the project first)"
        )
    return str(script)


#: The children's environment: the caller's, with the bytecode cache allowed.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _time(argv: list[str], runs: int) -> dict[str, Any]:
    walls: list[float] = []
    cpus: list[float] = []
    subprocess.run(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, env=ENV
    )  # warm-up
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False, env=ENV)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if done.returncode != 0:
            raise SystemExit(f"bench_startup: {argv} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    return {
        "median_seconds": round(statistics.median(walls), 3),
        "min_seconds": round(min(walls), 3),
        "max_seconds": round(max(walls), 3),
        "median_cpu_seconds": round(statistics.median(cpus), 3),
        "runs": runs,
    }


def _heavy_imports_of_help() -> list[str]:
    """The HEAVY modules in ``sys.modules`` after the root's help is printed (through the real entry point)."""
    probe = (
        "import sys\n"
        "from lodeline.cli.main import main\n"
        "sys.argv = ['lodeline', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True, env=ENV
    )
    line = done.stderr.decode().strip().splitlines()[-1] if done.stderr.strip() else ""
    return [m for m in line.split(",") if m]


def run(quick: bool = False) -> dict[str, Any]:
    runs = 5 if quick else 15
    lodeline = _lodeline()
    commands = {
        "lodeline --help": [lodeline, "--help"],
        "lodeline version": [lodeline, "version"],
        "lodeline market --help": [lodeline, "market", "--help"],
        'python -c "import lodeline"': [sys.executable, "-c", "import lodeline"],
    }
    load_before = os.getloadavg()
    timings = {
        name: _time(argv, runs if "market" not in name else max(3, runs // 3))
        for name, argv in commands.items()
    }
    load_after = os.getloadavg()
    help_median = timings["lodeline --help"]["median_seconds"]
    return {
        "commands": timings,
        "help_imports_heavy": _heavy_imports_of_help(),
        "load_average_1min": {"before": round(load_before[0], 2), "after": round(load_after[0], 2)},
        "targets": {"lodeline --help median_seconds": f"< {TARGET_HELP_SECONDS}"},
        "help_meets_target": help_median < TARGET_HELP_SECONDS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
