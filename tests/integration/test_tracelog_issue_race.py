"""Checkpoint issuing is atomic on both backends: many threads and processes asking for the checkpoint while the
log grows get exactly one checkpoint per tree size, issued in increasing size order (one chain)."""

from __future__ import annotations

import multiprocessing
import threading

from sqlalchemy import Engine, func, select

from lodeline.store import tracelog as tables
from lodeline.store.engine import make_engine, write_transaction
from lodeline.trace import log, registry_service

ROUNDS = 25


def _grow_and_ask(engine: Engine, tag: str, rounds: int, barrier: threading.Barrier | None = None) -> None:
    if barrier is not None:
        barrier.wait()
    for i in range(rounds):
        with write_transaction(engine) as conn:
            log.append_leaves(conn, [f"ni:///sha-256;{tag}-{i}?ver=CBV2.0".encode()])
        for _ in range(2):  # two askers per growth: both must get the same checkpoint, never two rows
            registry_service.current_checkpoint(engine)


def _process_main(url: str, tag: str, rounds: int) -> None:
    engine = make_engine(url)
    try:
        _grow_and_ask(engine, tag, rounds)
    finally:
        engine.dispose()


def _assert_one_checkpoint_per_size(engine: Engine) -> int:
    c = tables.tracelog_checkpoints.c
    with engine.connect() as conn:
        duplicated = conn.execute(
            select(c.tree_size, func.count()).group_by(c.tree_size).having(func.count() > 1)
        ).all()
        sizes = [int(s) for s in conn.execute(select(c.tree_size).order_by(c.checkpoint_id)).scalars()]
    assert duplicated == [], f"sizes with more than one checkpoint: {duplicated}"
    assert sizes == sorted(sizes), "checkpoints were not issued in increasing size order"
    return len(sizes)


def test_threads_issue_one_checkpoint_per_size(store: tuple[str, Engine]) -> None:
    _, engine = store
    workers = 8
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(n: int) -> None:
        try:
            _grow_and_ask(engine, f"t{n}", ROUNDS, barrier)
        except BaseException as exc:  # reported below: a thread's failure must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _assert_one_checkpoint_per_size(engine) > ROUNDS  # the race was exercised many times


def test_processes_issue_one_checkpoint_per_size(store: tuple[str, Engine]) -> None:
    url, engine = store
    context = multiprocessing.get_context("spawn")  # fresh interpreters: separate pools, separate signers
    procs = [context.Process(target=_process_main, args=(url, f"p{n}", ROUNDS)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * len(procs)
    assert _assert_one_checkpoint_per_size(engine) > ROUNDS
