"""Market benchmark: `lodeline data build` from raw files, all indicators from the store, pandas baseline."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

from lodeline.config import get_settings
from lodeline.data.build import build
from lodeline.domain.groups import get_group
from lodeline.market.indicators import compute_all
from lodeline.store.canonical import read_table
from lodeline.store.engine import make_engine, upgrade

# How read_table gets the rows (store/columnar.py): SQLite only ever through Python's sqlite3 (docs/durability.md).
STORE_READ = {
    "sqlite": "sqlite3 cursor fetchall -> Polars rows",
    "postgresql": "ADBC libpq -> Arrow -> Polars",
}


def _best_of(fn: Any, repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def run_market_bench(repeat: int = 3, database_url: str | None = None) -> dict[str, Any]:
    """Build into a fresh store, then time indicators (Polars, incl. reading the store) against pandas."""
    import pandas as pd  # dev dependency: the baseline

    from lodeline.bench.market_baseline import pandas_indicators

    alliance = get_group(get_settings().alliance).members
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        engine = make_engine(url)
        backend = engine.dialect.name
        upgrade(engine)
        start = time.perf_counter()
        report = build(engine, get_settings().raw_dir, force=True)
        build_seconds = time.perf_counter() - start

        def load() -> dict[str, Any]:
            return {name: read_table(engine, name) for name in ("production", "trade", "prices", "targets")}

        load_seconds, frames = _best_of(load, repeat)

        def polars_all() -> Any:
            f = load()
            return compute_all(f["production"], f["trade"], f["prices"], f["targets"], alliance)

        indicators_seconds, result = _best_of(polars_all, repeat)
        pdf = {name: frames[name].to_pandas() for name in ("production", "trade")}

        def pandas_all() -> Any:
            return pandas_indicators(pdf["production"], pdf["trade"], alliance)

        baseline_seconds, _ = _best_of(pandas_all, max(1, repeat - 1))
        engine.dispose()
    return {
        "build_seconds": round(build_seconds, 3),
        "build_rows": report.rows,
        "load_seconds": round(load_seconds, 4),
        "indicators_seconds": round(indicators_seconds, 4),
        "baseline_seconds": round(baseline_seconds, 4),
        "ratio": round(baseline_seconds / indicators_seconds, 1) if indicators_seconds else None,
        "rows": {
            "shares": result.shares.height,
            "concentration": result.concentration.height,
            "dependency": result.dependency.height,
        },
        "pandas_version": pd.__version__,
        "store_read": STORE_READ.get(backend, backend),
        "note": "indicators_seconds includes reading production/trade/prices/targets from the store; "
        "baseline_seconds is the pandas groupby/apply computation on frames already in memory",
    }
