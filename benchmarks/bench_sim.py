"""Benchmark: 100,000 Monte Carlo scenarios over the rare-earths network (the largest bundled one, three
producing stages) with shortfall allocation, in-process, against one HiGHS LP per scenario.

The store is built from the bundled data into a temporary SQLite file first (not timed).
"""

from __future__ import annotations

import json
import platform
import tempfile
from pathlib import Path
from typing import Any

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.sim.bench import run_benchmark
from lodeline.sim.montecarlo import make_task
from lodeline.sim.scenario import library_scenarios, scenario_from_text
from lodeline.sim.store import load_network, political_stability
from lodeline.store.engine import make_engine, upgrade

SCENARIO = "cn-rare-earths-magnets-2025"


def run(quick: bool = False) -> dict[str, Any]:
    samples, subsample = (5_000, 10) if quick else (100_000, 50)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        upgrade(engine)
        build(engine, RAW_DATA_DIR)
        scenario = scenario_from_text(library_scenarios()[SCENARIO], SCENARIO)
        network = load_network(engine, scenario.mineral, scenario.alliance_members())
        task, _ = make_task(network, scenario, political_stability(engine), SCENARIO)
        engine.dispose()
    out = run_benchmark(task, samples, subsample)
    out["scenario"] = SCENARIO
    out["machine"] = (
        f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip()
    )
    return out


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
