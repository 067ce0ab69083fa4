"""Stress tests over HTTP: the scenario library (public), and runs, Monte Carlo ensembles and exercises as
background jobs (signed-in callers) with status, progress, result (JSON or CSV) and the HTML report.

The routes validate what is asked (a bad uploaded scenario is a 400 naming the field) and hand the work to the
process's :class:`lodeline.services.jobs.JobRunner`; nothing long runs on a request.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Annotated, Any, Literal

import polars as pl
from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from pydantic import BaseModel, ConfigDict, Field

from lodeline.api.access import Action, Role
from lodeline.api.deps import Allowed, EngineDep
from lodeline.api.envelope import (
    READ_RESPONSES,
    Envelope,
    ErrorBody,
    OutputFormat,
    ProvenanceModel,
    provenance_dict,
    render_page,
    respond,
    wants_csv,
)
from lodeline.api.limits import RateLimitedError
from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.services import sim as service
from lodeline.services.jobs import JobQueueFullError, JobRunner
from lodeline.services.results import Provenance
from lodeline.sim.shaping import shortfall_by_country_month
from lodeline.store.accounts import Principal

router = APIRouter(prefix="/api/v1/sim", tags=["stress tests"])

Published = Depends(Allowed(Action.READ_PUBLISHED))
RunSim = Annotated[Principal, Depends(Allowed(Action.RUN_SIM))]
#: The most Monte Carlo samples one API job may ask for (the CLI allows more, on the caller's own machine).
MAX_API_SAMPLES = 200_000
JOB_ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 409, 422, 429, 503)
}
ScenarioName = Annotated[
    str,
    Path(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9-]*$", description="Library scenario name"),
]
JobId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The id POST /api/v1/sim/jobs returned")]
_runner_lock = threading.Lock()


class SimQueueFullError(RateLimitedError):
    """429 with Retry-After (the error handler adds the header for every RateLimitedError)."""

    code = "sim-queue-full"

    def __init__(self, exc: JobQueueFullError) -> None:
        LodelineError.__init__(self, exc.message, retry_after_seconds=exc.retry_after)
        self.retry_after = exc.retry_after


class JobNotFinishedError(LodelineError):
    code = "job-not-finished"
    http_status = 409


class JobIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["run", "montecarlo", "exercise"] = Field(
        description="run: one deterministic run; montecarlo: sampled disruptions; exercise: play a script"
    )
    scenario: str | None = Field(
        default=None,
        min_length=1,
        max_length=80,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="A library scenario name (GET /api/v1/sim/scenarios); run and montecarlo",
    )
    scenario_yaml: str | None = Field(
        default=None,
        min_length=1,
        max_length=service.MAX_UPLOAD_BYTES,
        description="An uploaded scenario (or, for kind=exercise, an exercise script) as YAML text",
    )
    samples: int = Field(default=10_000, ge=1, le=MAX_API_SAMPLES, description="Monte Carlo samples")
    seed: int = Field(default=0, ge=0, le=2**32 - 1, description="Monte Carlo seed (same seed, same result)")


class JobOut(BaseModel):
    id: str
    kind: str
    title: str
    status: Literal["queued", "running", "done", "failed"]
    progress: float = Field(description="0 to 1")
    message: str = Field(description="What the job is doing, or why it failed")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime
    links: dict[str, str] = Field(description="status, result (JSON; ?format=csv for the table) and report")


class JobResultOut(BaseModel):
    job: JobOut
    data: dict[str, Any] = Field(description="The run report, Monte Carlo summary or after-action report")
    provenance: ProvenanceModel


def runner(request: Request) -> JobRunner:
    """This process's job runner (one per application, made on first use)."""
    state = request.app.state
    with _runner_lock:
        found: JobRunner | None = getattr(state, "sim_jobs", None)
        if found is None:
            found = state.sim_jobs = JobRunner(state.engine)
    return found


RunnerDep = Annotated[JobRunner, Depends(runner)]


def _job_out(job: dict[str, Any]) -> JobOut:
    base = f"/api/v1/sim/jobs/{job['id']}"
    return JobOut(
        **{k: job[k] for k in JobOut.model_fields if k != "links"},
        links={"status": base, "result": f"{base}/result", "report": f"{base}/report"},
    )


def _visible_job(
    jobs: JobRunner, job_id: str, principal: Principal, *, with_result: bool = False
) -> dict[str, Any]:
    """The job if the caller started it (admins: any job); 404 otherwise (another account's job is not leaked)."""
    job = jobs.status(job_id, with_result=with_result)
    if job is None or (principal.role != Role.ADMIN and job["owner_account"] != principal.account_id):
        raise NotFoundError(f"no stress-test job {job_id} visible to this account")
    return job


def _finished(job: dict[str, Any]) -> dict[str, Any]:
    if job["status"] == "failed":
        raise JobNotFinishedError(f"job {job['id']} failed: {job['message']}", status="failed")
    if job["status"] != "done":
        raise JobNotFinishedError(
            f"job {job['id']} is {job['status']} ({100 * job['progress']:.0f}%); poll its status until done",
            status=job["status"],
        )
    import json

    result: dict[str, Any] = json.loads(job["result"])
    return result


# ------------------------------------------------------------------------------------------- scenarios
@router.get(
    "/scenarios",
    response_model=Envelope,
    dependencies=[Published],
    responses=READ_RESPONSES,
    summary="Scenarios",
)
def scenarios(
    request: Request, fmt: Annotated[OutputFormat | None, Query(alias="format")] = None
) -> Response:
    """The shipped scenario library: name, mineral, title, horizon, disruptions and the source of each."""
    frame = pl.DataFrame(service.list_scenarios())
    provenance = Provenance(sources=[], method=service.METHOD, notes=["bundled scenario library"])
    return respond(
        request,
        render_page(
            request,
            frame,
            provenance,
            data_version=request.app.state.result_cache.version(),
            limit=max(frame.height, 1),
            cursor=None,
            csv=wants_csv(request, fmt),
            name="sim-scenarios",
        ),
    )


@router.get(
    "/scenarios/{name}",
    response_model=Envelope,
    dependencies=[Published],
    responses=READ_RESPONSES,
    summary="One scenario",
)
def scenario(request: Request, name: ScenarioName) -> Response:
    """One library scenario: summary, validated specification and the YAML as shipped (one row)."""
    frame = pl.DataFrame([service.scenario_detail(name)])
    provenance = Provenance(sources=[], method=service.METHOD, notes=["bundled scenario library"])
    return respond(
        request,
        render_page(
            request,
            frame,
            provenance,
            data_version=request.app.state.result_cache.version(),
            limit=1,
            cursor=None,
            csv=False,
            name=f"sim-scenario-{name}",
        ),
    )


# ------------------------------------------------------------------------------------------- jobs
def _work(body: JobIn, engine: Any) -> tuple[str, dict[str, Any], Any]:
    """Validate the request now (a bad scenario is a 400 before any job exists); the title, params and work."""
    if body.kind == "exercise":
        if body.scenario_yaml is None or body.scenario is not None:
            raise InvalidArgumentError("an exercise needs its script as scenario_yaml (and no scenario name)")
        data = service.decode_upload(body.scenario_yaml, "upload")
        from lodeline.sim.exercise import parse_script

        script, _ = parse_script(data, "upload")  # validates now; the job plays it
        params: dict[str, Any] = {"kind": "exercise", "script_yaml": body.scenario_yaml}
        return (
            script.name,
            params,
            lambda progress: service.exercise(data, "upload", engine=engine, progress=progress),
        )
    if (body.scenario is None) == (body.scenario_yaml is None):
        raise InvalidArgumentError(
            "give exactly one of scenario (a library name) or scenario_yaml (uploaded text)"
        )
    if body.scenario is not None:
        where, chosen = body.scenario, service.library(body.scenario)
        params = {"kind": body.kind, "scenario": body.scenario}
    else:
        where, chosen = "upload", service.scenario_from_upload(body.scenario_yaml or "", "upload")
        params = {"kind": body.kind, "scenario_yaml": body.scenario_yaml}
    if body.kind == "run":
        return (
            chosen.name,
            params,
            lambda progress: service.run(chosen, where, engine=engine, progress=progress),
        )
    params.update(samples=body.samples, seed=body.seed)
    return (
        chosen.name,
        params,
        lambda progress: service.montecarlo(
            chosen, where, samples=body.samples, seed=body.seed, engine=engine, progress=progress
        ),
    )


@router.post(
    "/jobs",
    response_model=JobOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses=JOB_ERRORS,
    summary="Start a stress test",
)
def start_job(body: JobIn, engine: EngineDep, principal: RunSim, jobs: RunnerDep) -> JobOut:
    """Start a run, a Monte Carlo ensemble or an exercise in the background; poll the returned status link.
    A scenario that does not validate is a 400 naming the field; a busy server is a 429 with Retry-After."""
    title, params, work = _work(body, engine)
    try:
        job_id = jobs.submit(
            body.kind, title, params, work, owner_account=principal.account_id, owner_name=principal.name
        )
    except JobQueueFullError as exc:
        raise SimQueueFullError(exc) from None
    return _job_out(_visible_job(jobs, job_id, principal))


@router.get("/jobs/{job_id}", response_model=JobOut, responses=JOB_ERRORS, summary="Job status")
def job_status(job_id: JobId, principal: RunSim, jobs: RunnerDep) -> JobOut:
    """Status (queued, running, done, failed), progress 0–1 and a message; any server worker answers."""
    return _job_out(_visible_job(jobs, job_id, principal))


@router.get(
    "/jobs/{job_id}/result",
    response_model=JobResultOut,
    responses={**JOB_ERRORS, 200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="Job result",
)
def job_result(
    request: Request,
    job_id: JobId,
    principal: RunSim,
    jobs: RunnerDep,
    fmt: Annotated[OutputFormat | None, Query(alias="format", description="json (default) or csv")] = None,
) -> Response:
    """The finished result with its provenance (JSON); as CSV, the table: shortfall by member and month for a
    run, the per-member summary for Monte Carlo, the member comparison for an exercise. 409 until done."""
    job = _visible_job(jobs, job_id, principal, with_result=True)
    result = _finished(job)
    prov = result.get("provenance") or {"sources": [], "method": service.METHOD, "unit": "t", "notes": []}
    provenance = Provenance(
        sources=prov["sources"], method=prov["method"], unit=prov.get("unit"), notes=prov.get("notes", [])
    )
    if wants_csv(request, fmt):
        if job["kind"] == "run":
            rows = shortfall_by_country_month(result)
        elif job["kind"] == "montecarlo":
            rows = result["members"]
        else:
            rows = result["comparison"]
        frame = pl.DataFrame(rows) if rows else pl.DataFrame()
        page = render_page(
            request, frame, provenance, data_version=job_id, limit=max(frame.height, 1), cursor=None, csv=True,
            name=f"sim-{job['kind']}-{job_id[:8]}",
        )  # fmt: skip
        return respond(request, page)
    out = JobResultOut(
        job=_job_out(job), data=result, provenance=ProvenanceModel(**provenance_dict(provenance))
    )
    return Response(content=out.model_dump_json(), media_type="application/json")


@router.get(
    "/jobs/{job_id}/report",
    response_class=Response,
    responses={**JOB_ERRORS, 200: {"content": {"text/html": {"schema": {"type": "string"}}}}},
    summary="Job report (HTML)",
)
def job_report(job_id: JobId, principal: RunSim, jobs: RunnerDep) -> Response:
    """The HTML report of a finished job (charts embedded, works offline), as a download."""
    job = _visible_job(jobs, job_id, principal, with_result=True)
    html = service.report_html(job["kind"], _finished(job))
    return Response(
        content=html,
        media_type="text/html; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="lodeline-stress-test-{job_id[:8]}.html"'},
    )
