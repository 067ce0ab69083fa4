"""Registry benchmark: capture throughput and origin latency on temporary SQLite stores.

Capture is timed end to end — JSON Schema validation, event hashing, signature verification, mass balance and
the Merkle log append, committed — on synthetic chains from :mod:`lodeline.trace.synthetic`. The documents are
generated and signed first (the submitters' work, not timed). Two runs over the same documents, each into its
own fresh store:

- **pipeline** (the registry's capture path for a stream of documents,
  :func:`lodeline.trace.capture_pipeline.capture_many`): documents are prepared in a worker process while the
  writer commits. Wall time from the first submission to the last commit; ``capture_events_per_s``.
- **sequential** baseline: :func:`lodeline.trace.capture.capture` one document after the other in one process
  (what a single API request does). ``capture_sequential_events_per_s`` and the pipeline's ratio to it.

"Sustained" is checked by the slowest stretch: the lowest throughput over any run of consecutive documents
holding a tenth of the events (``capture_min_window_events_per_s``), so a store that slows down as it grows
shows up. Origin latency is measured after the pipeline run, for a lot whose upstream graph has 6 levels and
1,092 ancestor lots.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from lodeline.store import trace as db
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace import keys
from lodeline.trace.capture import capture
from lodeline.trace.capture_pipeline import Submission, capture_many, default_workers
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.origin import origin_report
from lodeline.trace.synthetic import deep_tree, synthetic_chain

TARGET_EVENTS_PER_S = 5000


def run_benchmark(
    events: int = 20_000,
    origin_runs: int = 40,
    workdir: Path | None = None,
    *,
    workers: int | None = None,
    sequential: bool = True,
) -> dict[str, Any]:
    units = max(1, events // 8)
    chain, docs = synthetic_chain(units)
    pool_size = default_workers() if workers is None else workers
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        engine = _store(Path(tmp) / "pipeline.sqlite")
        private = register(engine, chain)
        signed = [Submission(d, pid, keys.sign(private[pid], d)) for pid, d in _bytes(docs)]
        piped = _timed(lambda: _pipeline(engine, signed, pool_size))
        origin = _origin(engine, private, origin_runs)
        with engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(db.events)).scalar_one()
        engine.dispose()
        base: dict[str, Any] = {}
        if sequential:
            seq_engine = _store(Path(tmp) / "sequential.sqlite")
            register(seq_engine, chain)
            base = _timed(lambda: _sequential(seq_engine, signed))
            seq_engine.dispose()
    rate = piped["rate"]
    result: dict[str, Any] = {
        "events": piped["events"],
        "documents": len(signed),
        "capture_seconds": round(piped["seconds"], 3),
        "capture_events_per_s": round(rate, 1),
        "capture_min_window_events_per_s": round(piped["min_window"], 1),
        "capture_target_events_per_s": TARGET_EVENTS_PER_S,
        "capture_workers": pool_size,
        # CPU of the writer process (SQLite runs in it); preparation runs in the worker(s).
        "capture_writer_cpu_seconds": round(piped["cpu"], 3),
    }
    if base:
        result |= {
            "capture_sequential_events_per_s": round(base["rate"], 1),
            "capture_sequential_min_window_events_per_s": round(base["min_window"], 1),
            "capture_sequential_cpu_seconds": round(base["cpu"], 3),
            "pipeline_vs_sequential_ratio": round(rate / base["rate"], 2),
        }
    return (
        result
        | origin
        | {
            "store_events": stored,
            "backend": "sqlite",
            # Baselines named in the issue (published figures, not re-measured here): Trillian on MySQL ~1,190
            # writes/s, Tessera on POSIX ~2,900 writes/s.
            "baseline_trillian_mysql_writes_per_s": 1190,
            "ratio_vs_trillian": round(rate / 1190, 2),
            "baseline_tessera_posix_writes_per_s": 2900,
            "ratio_vs_tessera": round(rate / 2900, 2),
        }
    )


def _store(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def _bytes(docs: Any) -> Iterator[tuple[str, bytes]]:
    for pid, doc in docs:
        yield pid, document_bytes(doc)


def _pipeline(engine: Engine, signed: list[Submission], workers: int) -> Iterator[int]:
    for outcome in capture_many(engine, signed, workers=workers):
        if outcome.report is None:
            raise RuntimeError(f"benchmark document rejected: {outcome.error}")
        yield len(outcome.report.accepted)


def _sequential(engine: Engine, signed: list[Submission]) -> Iterator[int]:
    for sub in signed:
        yield len(capture(engine, sub.data, participant=sub.participant, signature=sub.signature).accepted)


def _timed(run: Callable[[], Iterator[int]]) -> dict[str, float]:
    """Run a capture loop (yielding events per committed document); wall rate, CPU and slowest stretch."""
    marks: list[tuple[float, int]] = []
    start, start_cpu = time.perf_counter(), time.process_time()
    total = 0
    for accepted in run():
        total += accepted
        marks.append((time.perf_counter() - start, total))
    seconds, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {
        "events": total,
        "seconds": seconds,
        "cpu": cpu,
        "rate": total / seconds if seconds else 0.0,
        "min_window": min_window_rate(marks, max(1, total // 10)),
    }


def min_window_rate(marks: list[tuple[float, int]], window_events: int) -> float:
    """Lowest throughput over consecutive documents holding at least ``window_events`` events.

    ``marks`` are (seconds since start, cumulative events) after each document."""
    points = [(0.0, 0), *marks]
    rates = []
    j = 0
    for i in range(1, len(points)):
        while j + 1 < i and points[i][1] - points[j + 1][1] >= window_events:
            j += 1
        if points[i][1] - points[j][1] >= window_events and points[i][0] > points[j][0]:
            rates.append((points[i][1] - points[j][1]) / (points[i][0] - points[j][0]))
    if not rates and len(points) > 1 and points[-1][0] > 0:
        rates.append(points[-1][1] / points[-1][0])
    return min(rates) if rates else 0.0


def _origin(engine: Engine, private: dict[str, Any], runs: int) -> dict[str, Any]:
    tree = deep_tree()
    pid, doc = tree.documents[0]
    data = document_bytes(doc)
    capture(engine, data, participant=pid, signature=keys.sign(private[pid], data))
    root = tree.lots["root"]
    report = origin_report(engine, root)  # warm the connection pool and caches once
    timings, cpu_timings = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        report = origin_report(engine, root)
        timings.append((time.perf_counter() - start) * 1000)
        cpu_timings.append((time.process_time() - start_cpu) * 1000)
    return {
        "origin_p95_ms": round(_p95(timings), 2),
        "origin_median_ms": round(statistics.median(timings), 2),
        "origin_cpu_p95_ms": round(_p95(cpu_timings), 2),
        "origin_target_ms": 100,
        "origin_upstream_lots": report["upstream_lots"],
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
