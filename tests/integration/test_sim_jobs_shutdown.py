"""Application shutdown stops this process's stress-test jobs (``api.app.lifespan`` → ``JobRunner.shutdown``): no
new job is taken, a queued job and a running job past the grace time are marked failed with the reason, a job that
finishes within the grace time is done, and the runner's threads are joined. Nothing is left ``running``.

The jobs are real Monte Carlo runs of the worked example (docs/examples/worked-example.yaml) through
``services.sim.montecarlo``: 10,000,000 samples (the CLI's most; ~4,000 chunks, each a progress report) run for
seconds, long enough to be caught running; 20,000 samples finish at once.
"""

from __future__ import annotations

import threading
import time
import warnings
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import sim as sim_service
from lodeline.services.jobs import SHUTDOWN_REASON, JobLimits, JobRunner, JobRunnerClosedError, Progress
from lodeline.store import jobs as job_store

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

WORKED = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml").read_text(
    "utf-8"
)
LONG, SHORT = 10_000_000, 20_000


def _work(samples: int) -> Any:
    scenario = sim_service.scenario_from_upload(WORKED, "upload")

    def work(progress: Progress) -> dict[str, Any]:
        return sim_service.montecarlo(scenario, "upload", samples=samples, progress=progress)

    return work


def _submit(runner: JobRunner, samples: int) -> str:
    return runner.submit(
        "montecarlo",
        "worked example",
        {"samples": samples},
        _work(samples),
        owner_account=None,
        owner_name=None,
    )


def _wait_running(engine: Engine, job_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_store.get_job(engine, job_id)
        assert job is not None
        if job["status"] == "running" and job["progress"] > 0.05:  # sampling, past building the network
            return
        assert job["status"] in job_store.ACTIVE, job
        time.sleep(0.02)
    raise AssertionError(f"job {job_id} never ran")


def _job_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("lodeline-job") and t.is_alive()]


def _app(engine: Engine, limits: JobLimits) -> tuple[TestClient, JobRunner]:
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    runner = app.state.sim_jobs = JobRunner(engine, limits)
    return TestClient(app, base_url="https://testserver"), runner


def test_shutdown_stops_a_running_and_a_queued_job(engine: Engine) -> None:
    assert not _job_threads()
    client, runner = _app(engine, JobLimits(max_running=1, queue_limit=2, shutdown_grace_seconds=0.2))
    with client:
        running = _submit(runner, LONG)
        queued = _submit(runner, SHORT)  # waits for the one thread
        _wait_running(engine, running)
        assert job_store.get_job(engine, queued)["status"] == "queued"  # type: ignore[index]
        stopping = time.monotonic()
    took = time.monotonic() - stopping  # the lifespan's shutdown ran as the client closed
    for job_id in (running, queued):
        job = job_store.get_job(engine, job_id)
        assert job is not None and job["status"] == "failed" and job["message"] == SHUTDOWN_REASON, job
        assert job["finished_at"] is not None
    assert job_store.count_active(engine, runner.worker) == 0
    assert took < 10, took  # stopped at a progress report, not after the whole run (seconds)
    assert not _job_threads() and runner.held() == 0
    with pytest.raises(JobRunnerClosedError) as refused:
        _submit(runner, SHORT)
    assert refused.value.code == "sim-shutting-down" and refused.value.http_status == 503
    assert job_store.count_active(engine) == 0  # the refused job left no row behind either


def test_a_job_that_finishes_within_the_grace_time_is_done(engine: Engine) -> None:
    client, runner = _app(engine, JobLimits(shutdown_grace_seconds=60))
    with client:
        job_id = _submit(runner, SHORT)
    job = job_store.get_job(engine, job_id, with_result=True)
    assert job is not None and job["status"] == "done" and job["result"], job
    assert not _job_threads() and job_store.count_active(engine) == 0
