"""The stress-test API on SQLite and PostgreSQL: the public scenario library, jobs started on one application and
polled on another (two ``serve`` workers on one database), results as JSON, CSV and the HTML report, the caller's
own jobs only, bad uploads answered 4xx naming the problem, a dead worker's job read as failed, the queue limit.

Figures come from docs/examples/worked-example.yaml, whose shortfalls are worked out by hand in
docs/methods/stress-test.md ("Worked example"): USA 50 t and DEU 20 t over the three months.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, update

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services.jobs import JobLimits, JobRunner
from lodeline.sim.scenario import library_scenarios
from lodeline.store import jobs as job_store
from lodeline.store.accounts import authenticate_token, create_token
from lodeline.store.engine import make_engine

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

REPO = Path(__file__).resolve().parents[2]
WORKED = (REPO / "docs" / "examples" / "worked-example.yaml").read_text(encoding="utf-8")
EXERCISE = (REPO / "docs" / "examples" / "exercise-rare-earths.yaml").read_text(encoding="utf-8")


def _client(engine: Engine) -> TestClient:
    settings = ApiSettings(rate_per_second=0, anonymous_rate_per_second=0)  # type: ignore[call-arg]
    return TestClient(create_app(engine, settings), base_url="https://testserver")


def _auth(engine: Engine, name: str, role: str = "member", org: str | None = "DEU") -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(engine, name, role, org)[1]}"}


def _poll(client: TestClient, job_id: str, headers: dict[str, str], timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(f"/api/v1/sim/jobs/{job_id}", headers=headers).json()
        if job["status"] in ("done", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


@pytest.fixture
def two_workers(store: tuple[str, Engine]) -> Iterator[tuple[Engine, TestClient, TestClient]]:
    """Two applications, each with its own engine (connection pool) and job runner, on one database."""
    url, engine = store
    other = make_engine(url)
    with _client(engine) as first, _client(other) as second:
        yield engine, first, second
    other.dispose()


def test_scenario_library_is_public(engine: Engine) -> None:
    with _client(engine) as client:
        listed = client.get("/api/v1/sim/scenarios")
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert [r["name"] for r in body["data"]] == sorted(library_scenarios())
        assert body["provenance"]["method"] == "docs/methods/stress-test.md"
        one = client.get("/api/v1/sim/scenarios/cn-rare-earths-magnets-2025").json()["data"][0]
        assert (
            one["mineral"] == "rare-earths"
            and one["yaml"] == library_scenarios()["cn-rare-earths-magnets-2025"]
        )
        missing = client.get("/api/v1/sim/scenarios/no-such-scenario")
        assert missing.status_code == 404 and "cn-graphite-2023" in missing.json()["message"]
        csv = client.get("/api/v1/sim/scenarios?format=csv")
        assert csv.headers["content-type"].startswith("text/csv") and "cn-graphite-2023" in csv.text


def test_a_job_started_on_one_worker_is_answered_by_another(
    two_workers: tuple[Engine, TestClient, TestClient],
) -> None:
    engine, first, second = two_workers
    member = _auth(engine, "deu-analyst")
    started = first.post("/api/v1/sim/jobs", headers=member, json={"kind": "run", "scenario_yaml": WORKED})
    assert started.status_code == 202, started.text
    job_id = started.json()["id"]
    assert started.json()["status"] in ("queued", "running", "done")
    job = _poll(second, job_id, member)  # the second application never ran it: it reads the store
    assert job["status"] == "done" and job["progress"] == 1.0, job

    result = second.get(f"/api/v1/sim/jobs/{job_id}/result", headers=member)
    assert result.status_code == 200, result.text
    data = result.json()["data"]
    by = {r["country"]: r for r in data["members"]}
    assert by["USA"]["shortfall_t"] == pytest.approx(50.0) and by["DEU"]["shortfall_t"] == pytest.approx(20.0)
    assert data["assumptions"] == [
        {"kind": "inline network", "text": "inline network from the scenario file (t/month)"}
    ]
    assert result.json()["provenance"]["method"] == "docs/methods/stress-test.md"

    csv = second.get(f"/api/v1/sim/jobs/{job_id}/result?format=csv", headers=member)
    header, *lines = csv.text.strip().splitlines()
    assert header.split(",")[:3] == ["month", "country", "shortfall_t"]
    usa = [float(line.split(",")[2]) for line in lines if line.split(",")[1] == "USA"]
    assert len(usa) == 3 and sum(usa) == pytest.approx(50.0)  # the monthly rows add up to the horizon's total

    report = first.get(f"/api/v1/sim/jobs/{job_id}/report", headers=member)
    assert report.headers["content-type"].startswith("text/html")
    assert "attachment" in report.headers["content-disposition"]
    assert "Assumptions" in report.text and "inline network" in report.text

    # the caller's own jobs only: another member's account, the public, an unknown id
    other = _auth(engine, "fra-analyst", org="FRA")
    assert second.get(f"/api/v1/sim/jobs/{job_id}", headers=other).status_code == 404
    assert second.get(f"/api/v1/sim/jobs/{job_id}").status_code == 401
    assert second.get(f"/api/v1/sim/jobs/{'0' * 32}", headers=member).status_code == 404
    assert (
        second.get(f"/api/v1/sim/jobs/{job_id}", headers=_auth(engine, "root", "admin", None)).status_code
        == 200
    )


def test_montecarlo_and_exercise_jobs(store: tuple[str, Engine]) -> None:
    engine = store[1]
    member = _auth(engine, "deu-analyst")
    with _client(engine) as client:
        body = {"kind": "montecarlo", "scenario_yaml": WORKED, "samples": 2000, "seed": 7}
        job = _poll(client, client.post("/api/v1/sim/jobs", headers=member, json=body).json()["id"], member)
        assert job["status"] == "done", job
        data = client.get(f"/api/v1/sim/jobs/{job['id']}/result", headers=member).json()["data"]
        assert data["samples"] == 2000 and {r["country"] for r in data["members"]} == {"USA", "DEU"}
        # no sample loses more than a member consumes over 3 months: USA 40 t/month (30 CHN + 10 JPN) = 120 t,
        # DEU 60 t/month (30 + 30) = 180 t; and the CHN ban (p = 0.3) leaves a shortfall in the worst 5 %
        by = {r["country"]: r for r in data["members"]}
        assert 0 < by["USA"]["cvar95_shortfall_t"] <= 120 and 0 < by["DEU"]["cvar95_shortfall_t"] <= 180
        # an exercise names a library scenario: only a built store has its network, so here it fails cleanly
        started = client.post(
            "/api/v1/sim/jobs", headers=member, json={"kind": "exercise", "scenario_yaml": EXERCISE}
        )
        assert started.status_code == 202, started.text
        failed = _poll(client, started.json()["id"], member)
        assert failed["status"] == "failed" and "data build" in failed["message"]
        assert client.get(f"/api/v1/sim/jobs/{failed['id']}/result", headers=member).status_code == 409


BAD_UPLOADS = [
    ({"kind": "run", "scenario_yaml": "name: x\nmineral: [unclosed"}, 400, "line 2"),
    ({"kind": "run", "scenario_yaml": WORKED.replace("cut: 1.0", "cut: 1.5")}, 400, "disruptions.0.cut"),
    ({"kind": "run", "scenario_yaml": "- just\n- a list\n"}, 400, "mapping"),
    ({"kind": "run", "scenario_yaml": "a: " + "[" * 40 + "]" * 40}, 400, "nested deeper"),
    ({"kind": "run", "scenario": "no-such-scenario"}, 404, "no library scenario"),
    ({"kind": "run", "scenario": "cn-graphite-2023", "scenario_yaml": WORKED}, 400, "exactly one"),
    ({"kind": "run"}, 400, "exactly one"),
    ({"kind": "exercise", "scenario": "cn-graphite-2023"}, 400, "script"),
    ({"kind": "montecarlo", "scenario_yaml": WORKED, "samples": 10**9}, 422, "samples"),
    ({"kind": "bake", "scenario_yaml": WORKED}, 422, "kind"),
]


@pytest.mark.parametrize(("body", "status", "words"), BAD_UPLOADS)
def test_bad_requests_name_the_problem(engine: Engine, body: dict[str, Any], status: int, words: str) -> None:
    member = _auth(engine, "deu-analyst")
    with _client(engine) as client:
        response = client.post("/api/v1/sim/jobs", headers=member, json=body)
        assert response.status_code == status, response.text
        assert words in response.json()["message"], response.json()
        assert job_store.count_active(engine) == 0  # nothing was queued


def test_starting_work_needs_a_signed_in_caller(engine: Engine) -> None:
    with _client(engine) as client:
        response = client.post("/api/v1/sim/jobs", json={"kind": "run", "scenario_yaml": WORKED})
        assert response.status_code == 401 and response.json()["code"] == "unauthenticated"
        for role, org in (("participant", "acme"), ("auditor", None), ("admin", None)):
            headers = _auth(engine, f"{role}-1", role, org)
            started = client.post(
                "/api/v1/sim/jobs", headers=headers, json={"kind": "run", "scenario_yaml": WORKED}
            )
            assert started.status_code == 202, (role, started.text)
            assert _poll(client, started.json()["id"], headers)["status"] == "done"


def test_a_dead_workers_job_reads_failed_not_running(store: tuple[str, Engine]) -> None:
    engine = store[1]
    member_token = create_token(engine, "deu-analyst", "member", "DEU")[1]
    member = authenticate_token(engine, member_token)
    assert member is not None
    # a job a worker took and then died with: running, its heartbeat 10 minutes old
    job_store.insert_job(engine, "d" * 32, "run", "orphan", {}, member.account_id, member.name, "gone:1:x")
    assert job_store.set_running(engine, "d" * 32)
    with engine.begin() as conn:
        conn.execute(update(job_store.sim_jobs).values(heartbeat_at=job_store.now() - timedelta(minutes=10)))
    with _client(engine) as client:
        job = client.get(
            f"/api/v1/sim/jobs/{'d' * 32}", headers={"Authorization": f"Bearer {member_token}"}
        ).json()
    assert job["status"] == "failed" and "no heartbeat" in job["message"], job


def test_a_full_queue_answers_429_with_retry_after(engine: Engine) -> None:
    member = _auth(engine, "deu-analyst")
    with _client(engine) as client:
        client.app.state.sim_jobs = JobRunner(engine, JobLimits(max_running=1, queue_limit=1))  # type: ignore[attr-defined]
        body = {"kind": "montecarlo", "scenario_yaml": WORKED, "samples": 200_000}
        first = client.post("/api/v1/sim/jobs", headers=member, json=body)
        assert first.status_code == 202, first.text
        refused = client.post("/api/v1/sim/jobs", headers=member, json=body)
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "sim-queue-full" and "retry in 10 s" in refused.json()["message"]
        assert refused.headers["retry-after"] == "10"
        assert _poll(client, first.json()["id"], member)["status"] == "done"
        assert (
            client.post("/api/v1/sim/jobs", headers=member, json={**body, "samples": 10}).status_code == 202
        )
