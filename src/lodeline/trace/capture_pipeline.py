"""Bulk capture: prepare documents in parallel, commit them in order through one writer.

Capture has a pure half (parse, EPCIS schema validation, event hash IDs, ledger operations, stored rows:
:func:`lodeline.trace.capture.prepare`) and a store half (signature, replay and duplicate checks, mass balance,
log append, commit: :func:`lodeline.trace.capture.commit_prepared`). The store half must be serial — the log
and the balances have one writer — but the pure half of the next documents can run on other cores meanwhile.
:func:`capture_many` does exactly that with a process pool, so a stream of documents is captured at the speed
of the slower half instead of the sum of both.

Every document stays atomic and independent: a rejected document is reported (with the same TraceError a
single capture raises) and the stream goes on. Results come back in submission order, and a document is
committed only after every document before it, so the log order is the submission order.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from lodeline.errors import LodelineError
from lodeline.trace.capture import CaptureReport, PreparedDocument, commit_prepared, prepare
from lodeline.trace.epcis import fast_validator
from lodeline.trace.errors import EventIssue, TraceError
from lodeline.trace.ledger import reference_data


@dataclass(frozen=True)
class Submission:
    """One signed document to capture."""

    data: bytes
    participant: str
    signature: str
    file: str | None = None


@dataclass
class Outcome:
    """What happened to one submission: a report, or the error that rejected it (nothing of it was written)."""

    submission: Submission
    report: CaptureReport | None = None
    error: LodelineError | None = None


def default_workers() -> int:
    """Preparation processes: one core is left to the writer."""
    return max(1, (os.cpu_count() or 1) - 1)


def capture_many(
    engine: Engine,
    submissions: Iterable[Submission],
    *,
    workers: int | None = None,
    at: datetime | None = None,
) -> Iterator[Outcome]:
    """Capture every submission (each atomically), yielding outcomes in submission order.

    ``workers`` preparation processes (default :func:`default_workers`); 0 prepares in this process, one
    document at a time (the same as calling :func:`lodeline.trace.capture.capture` in a loop).
    """
    count = default_workers() if workers is None else workers
    if count <= 0:
        for sub in submissions:
            yield _commit(engine, sub, _prepare(sub.data, sub.file), at)
        return
    # Enough documents in flight to keep every worker busy while the writer commits; bounded, so memory
    # stays flat however long the stream is.
    lookahead = 2 * count + 1
    # spawn: the writer holds open database connections and maybe threads, which a fork must not inherit.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_warm, initargs=(os.getpid(),)) as pool:
        pending: deque[tuple[Submission, Future[PreparedDocument | TraceError]]] = deque()
        for sub in submissions:
            pending.append((sub, pool.submit(_prepare, sub.data, sub.file)))
            if len(pending) >= lookahead:
                sub0, fut = pending.popleft()
                yield _commit(engine, sub0, fut.result(), at)
        while pending:
            sub0, fut = pending.popleft()
            yield _commit(engine, sub0, fut.result(), at)


def _warm(writer_pid: int) -> None:
    """Worker start-up: leave with the writer, then compile the schema validator and load the reference data."""
    threading.Thread(target=_exit_with, args=(writer_pid,), name="exit-with-writer", daemon=True).start()
    fast_validator()
    reference_data()
    # Preparing builds a JSON tree per document and frees it by reference counting (it holds no cycles), so the
    # cyclic collector's frequent passes over it are wasted: ~15 % of preparation. The long-lived state just loaded
    # is frozen out of its scans, and it runs less often. Only this worker process is tuned.
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


def _exit_with(writer_pid: int) -> None:
    """End this worker once the writer is gone. A writer killed outright (SIGKILL, OOM killer) cannot shut its
    pool down, and a worker blocked on the task queue never sees end-of-file (it holds the queue's other end
    too), so without this it would live on, holding its memory, for good."""
    while os.getppid() == writer_pid:
        time.sleep(0.5)
    os._exit(0)


def _prepare(data: bytes, file: str | None) -> PreparedDocument | TraceError:
    # A rejection is returned as a value, rebuilt in the writer: exceptions with keyword-only constructors do
    # not survive pickling between processes.
    try:
        return prepare(data, file=file)
    except TraceError as exc:
        return _Rejected(exc.issues, file)


class _Rejected(TraceError):
    """A TraceError that pickles (its issues and file are its constructor arguments)."""

    def __init__(self, issues: list[EventIssue], file: str | None) -> None:
        super().__init__(issues, file=file)
        self._args = (issues, file)

    def __reduce__(self) -> tuple[type, tuple[list[EventIssue], str | None]]:
        return (_Rejected, self._args)


def _commit(
    engine: Engine, sub: Submission, prepared: PreparedDocument | TraceError, at: datetime | None
) -> Outcome:
    if isinstance(prepared, TraceError):
        return Outcome(sub, error=prepared)
    try:
        report = commit_prepared(
            engine, prepared, sub.data, participant=sub.participant, signature=sub.signature, at=at
        )
    except LodelineError as exc:
        return Outcome(sub, error=exc)
    return Outcome(sub, report=report)
