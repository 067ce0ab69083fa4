"""Background jobs: long stress tests run off the web server's event loop, their state in the store.

``lodeline serve --workers N`` runs N processes. Each has one :class:`JobRunner`: a small thread pool (bounded
concurrency), a bound on the jobs it holds (queued + running; beyond it a submission is refused with
:class:`JobQueueFullError`, answered 429 with Retry-After), and a heartbeat thread. Job state lives in the
``sim_jobs`` table (:mod:`lodeline.store.jobs`), so a status poll answered by any worker sees the same job, and
a job whose worker died (no heartbeat within ``stale_after_seconds``) reads ``failed`` with that reason instead
of ``running`` for ever. Results are JSON, bounded by ``max_result_bytes``.

At application shutdown (the lifespan of :func:`lodeline.api.app.create_api_app`) :meth:`JobRunner.shutdown`
stops taking jobs, fails the queued ones, gives a running job ``shutdown_grace_seconds`` to finish, then stops it
at its next progress report and marks it failed with the reason, and joins the threads: no row stays ``running``
behind a process that is gone.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from lodeline.errors import LodelineError
from lodeline.store import jobs as store

log = logging.getLogger("lodeline.jobs")

Progress = Callable[[float, str], None]
Work = Callable[[Progress], dict[str, Any]]


@dataclass(frozen=True)
class JobLimits:
    #: Jobs one process runs at once (the machine's cores are shared with the web server).
    max_running: int = 1
    #: Jobs one process holds (queued + running) before it refuses new ones.
    queue_limit: int = 4
    #: How often a running process refreshes its jobs' heartbeat.
    heartbeat_seconds: float = 5.0
    #: A queued or running job without a heartbeat for this long has lost its worker.
    stale_after_seconds: float = 60.0
    #: The largest result (JSON) a job may store.
    max_result_bytes: int = 8 * 1024 * 1024
    #: What a refused caller is told to wait.
    retry_after_seconds: int = 10
    #: Progress is written at most this often (the last update always is).
    progress_interval_seconds: float = 0.2
    #: At shutdown, how long a running job may go on before it is stopped (at its next progress report).
    shutdown_grace_seconds: float = 20.0
    #: At shutdown, how long a stopped job's thread is waited for before the runner gives up on it.
    shutdown_join_seconds: float = 10.0


#: Why a job still queued or running when the server stops reads ``failed``.
SHUTDOWN_REASON = "the server shut down before this job finished; start it again"


class JobQueueFullError(LodelineError):
    code = "sim-queue-full"
    http_status = 429

    def __init__(self, held: int, retry_after: int) -> None:
        super().__init__(
            f"this server is already running or queueing {held} stress tests; retry in {retry_after} s",
            retry_after_seconds=retry_after,
        )
        self.retry_after = retry_after


class JobRunnerClosedError(LodelineError):
    code = "sim-shutting-down"
    http_status = 503

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"this server is shutting down and takes no new stress tests; retry in {retry_after} s",
            retry_after_seconds=retry_after,
        )
        self.retry_after = retry_after


class _Interrupted(LodelineError):
    """Raised inside a running job's progress report once shutdown's grace time is over."""

    code = "sim-interrupted"


class JobRunner:
    """One per process: accepts jobs, runs them on a bounded thread pool, keeps their heartbeat."""

    def __init__(self, engine: Engine, limits: JobLimits | None = None) -> None:
        self.engine = engine
        self.limits = limits or JobLimits()
        self.worker = f"{socket.gethostname()[:80]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._pool = ThreadPoolExecutor(
            max_workers=self.limits.max_running, thread_name_prefix="lodeline-job"
        )
        self._held = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interrupt = threading.Event()
        self._closing = False
        self._futures: dict[Future[None], str] = {}
        self._beat: threading.Thread | None = None

    # ------------------------------------------------------------------------------------ submitting
    def submit(
        self,
        kind: str,
        title: str,
        params: dict[str, Any],
        work: Work,
        *,
        owner_account: int | None,
        owner_name: str | None,
    ) -> str:
        """Record the job as queued and hand it to the pool; its id. Refused when this process holds too many."""
        with self._lock:
            if self._closing:
                raise JobRunnerClosedError(self.limits.retry_after_seconds)
            if self._held >= self.limits.queue_limit:
                raise JobQueueFullError(self._held, self.limits.retry_after_seconds)
            self._held += 1
        job_id = secrets.token_hex(16)
        try:
            store.insert_job(self.engine, job_id, kind, title, params, owner_account, owner_name, self.worker)
        except BaseException:
            self._release()
            raise
        try:
            self._start_heartbeat()
            with self._lock:
                if self._closing:  # shutdown began while the row was written
                    raise JobRunnerClosedError(self.limits.retry_after_seconds)
                future = self._pool.submit(self._run, job_id, work)
                self._futures[future] = job_id
        except BaseException:
            self._release()
            store.finish(self.engine, job_id, error=SHUTDOWN_REASON)
            raise
        future.add_done_callback(self._forget)
        return job_id

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.pop(future, None)

    def _release(self) -> None:
        with self._lock:
            self._held -= 1

    def _run(self, job_id: str, work: Work) -> None:
        try:
            if not store.set_running(self.engine, job_id):
                return  # no longer queued (marked stale by a reader): nothing to do
            last = [0.0]

            def progress(fraction: float, message: str) -> None:
                if self._interrupt.is_set():
                    raise _Interrupted(SHUTDOWN_REASON)
                moment = time.monotonic()
                if fraction >= 1.0 or moment - last[0] >= self.limits.progress_interval_seconds:
                    last[0] = moment
                    store.set_progress(self.engine, job_id, fraction, message)

            result = json.dumps(work(progress), default=str, allow_nan=False)
            if len(result) > self.limits.max_result_bytes:
                store.finish(
                    self.engine,
                    job_id,
                    error=f"the result is {len(result):,} bytes, over the limit of "
                    f"{self.limits.max_result_bytes:,}; use the CLI for a run this large",
                )
            else:
                store.finish(self.engine, job_id, result=result)
        except LodelineError as exc:
            store.finish(self.engine, job_id, error=exc.message)
        except Exception:
            log.exception("job %s failed", job_id)
            store.finish(
                self.engine, job_id, error="unexpected error while running the job; it has been logged"
            )
        finally:
            self._release()

    # ------------------------------------------------------------------------------------ heartbeat
    def _start_heartbeat(self) -> None:
        with self._lock:
            if self._beat is not None:
                return
            self._beat = threading.Thread(target=self._heartbeat, name="lodeline-job-heartbeat", daemon=True)
            self._beat.start()

    def _heartbeat(self) -> None:
        while not self._stop.wait(self.limits.heartbeat_seconds):
            if self._held == 0:
                continue
            try:
                store.heartbeat(self.engine, self.worker)
            except Exception:  # the store is briefly unavailable: the next beat tries again
                log.warning("job heartbeat failed", exc_info=True)

    # ------------------------------------------------------------------------------------ reading
    def status(self, job_id: str, *, with_result: bool = False) -> dict[str, Any] | None:
        """The job as stored (any worker's), after marking it failed if its worker stopped beating."""
        store.fail_stale(self.engine, timedelta(seconds=self.limits.stale_after_seconds), job_id)
        return store.get_job(self.engine, job_id, with_result=with_result)

    def held(self) -> int:
        with self._lock:
            return self._held

    def shutdown(self) -> list[str]:
        """Stop for good, leaving no job of this runner ``queued`` or ``running``; the ids of the jobs failed.

        New submissions are refused (:class:`JobRunnerClosedError`, 503). Queued jobs are cancelled and marked
        failed. A running job has ``shutdown_grace_seconds`` to finish; then it is stopped at its next progress
        report and marked failed with :data:`SHUTDOWN_REASON`. The pool's threads and the heartbeat are joined
        (a job that reports no progress for ``shutdown_join_seconds`` more is marked failed and left behind:
        its late result cannot overwrite the failure, :func:`lodeline.store.jobs.finish` only ends active jobs).
        """
        with self._lock:
            self._closing = True
            futures = dict(self._futures)
        stopped = []
        for future, job_id in futures.items():
            if future.cancel():  # still queued: it never runs, so its ``finally`` never releases it
                self._release()
                stopped.append(job_id)
        running = [f for f in futures if not f.cancelled()]
        _done, overran = wait_futures(running, timeout=self.limits.shutdown_grace_seconds)
        late: set[Future[None]] = set()
        if overran:
            self._interrupt.set()  # the job's next progress report raises, and _run marks it failed
            _done, late = wait_futures(overran, timeout=self.limits.shutdown_join_seconds)
        stopped += [futures[f] for f in overran]
        for job_id in stopped:  # a no-op for a job _run has already ended
            store.finish(self.engine, job_id, error=SHUTDOWN_REASON)
        self._stop.set()
        beat = self._beat
        if beat is not None:
            beat.join(timeout=self.limits.shutdown_join_seconds)
        self._pool.shutdown(wait=not late, cancel_futures=True)
        if late:
            log.warning(
                "jobs %s did not stop within the shutdown time; marked failed", [futures[f] for f in late]
            )
        return stopped

    def close(self) -> None:
        """:meth:`shutdown` (kept for callers of the older name)."""
        self.shutdown()


def wait(runner: JobRunner, job_id: str, timeout: float = 60.0) -> dict[str, Any] | None:
    """Poll until the job is done or failed (for tests and scripts); the job as last read."""
    deadline = time.monotonic() + timeout
    job = runner.status(job_id)
    while job is not None and job["status"] in store.ACTIVE and time.monotonic() < deadline:
        time.sleep(0.05)
        job = runner.status(job_id)
    return job
