"""``create_api_app()``: the FastAPI application that serves the API and its OpenAPI document.

The API never imports the dashboard (``lodeline.web``): the web imports the API's access layer, so the one place
that puts both into one application is the composition root, :func:`lodeline.server.create_app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from lodeline import __version__
from lodeline.api.cache import ResultCache
from lodeline.api.errors import install_error_handlers
from lodeline.api.limits import AuthThrottle, RateLimiter
from lodeline.api.middleware import (
    AuditWritesMiddleware,
    BodySizeLimitMiddleware,
    CredentialGuardMiddleware,
    SecurityHeadersMiddleware,
)
from lodeline.api.routes import alerts as alert_routes
from lodeline.api.routes import (
    comply,
    deals,
    market,
    registry,
    release,
    risk,
    sim,
    stocks,
    submissions,
    system,
    trends,
)
from lodeline.api.routes import outlook as outlook_routes
from lodeline.api.routes import passports as passport_routes
from lodeline.api.routes import projects as projects_routes
from lodeline.api.routes.alerts_scan import router as alerts_scan_router
from lodeline.api.settings import ApiSettings
from lodeline.store.engine import get_engine

DESCRIPTION = """Critical-mineral market intelligence with provenance.

Every read answers JSON `{data, provenance, page, data_version}` by default and CSV with `Accept: text/csv` or
`?format=csv`. Pages are cut with stable cursors (`next_cursor`); reads carry ETags. Sign in with
`Authorization: Bearer <token>` (tokens: `lodeline admin token create`). See docs/web.md.
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Nothing to start (the job runner is made on first use); at shutdown, stop this process's stress-test jobs
    (:meth:`lodeline.services.jobs.JobRunner.shutdown`: no new job, running ones finish or are marked failed with
    the reason, threads joined) so no job row reads ``running`` behind a process that is gone. The stopped runner
    is then dropped, so an app served again (a new lifespan, as tests do) makes a fresh one on first use."""
    yield
    runner = getattr(app.state, "sim_jobs", None)
    if runner is not None:
        await run_in_threadpool(runner.shutdown)  # blocking joins, off the event loop
        app.state.sim_jobs = None


def create_api_app(engine: Engine | None = None, settings: ApiSettings | None = None) -> FastAPI:
    """Build the API application on ``engine`` (default: the configured store, migrated), without the dashboard
    (:func:`lodeline.server.create_app` installs it)."""
    store = engine if engine is not None else get_engine()
    api_settings = settings if settings is not None else ApiSettings()
    app = FastAPI(
        title="Lodeline",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,  # served by lodeline.web.pages (installed by lodeline.server) with vendored Swagger UI (no CDN, no inline script)
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.engine = store
    app.state.api_settings = api_settings
    app.state.result_cache = ResultCache(store, api_settings.cache_check_seconds)
    app.state.token_limiter = RateLimiter(api_settings.rate_per_second, api_settings.rate_burst)
    app.state.anonymous_limiter = RateLimiter(
        api_settings.anonymous_rate_per_second, api_settings.anonymous_rate_burst
    )
    throttle = app.state.auth_throttle = AuthThrottle(store, api_settings)

    install_error_handlers(app)
    app.include_router(system.router)
    app.include_router(market.router)
    app.include_router(trends.router)
    app.include_router(risk.router)
    app.include_router(submissions.router)
    app.include_router(registry.router)
    app.include_router(sim.router)
    app.include_router(stocks.router)
    app.include_router(release.router)
    app.include_router(alert_routes.router)
    app.include_router(comply.router)
    app.include_router(deals.router)
    app.include_router(projects_routes.router)
    app.include_router(outlook_routes.router)
    app.include_router(passport_routes.router)
    app.include_router(alerts_scan_router)

    # Starlette builds the middleware stack at the first request, so it wraps the dashboard installed after this.
    # Added innermost first: audit sees the final status; the credential guard refuses blocked callers before
    # the audit (no write) and before any credential is checked; the size limit runs before any body is read;
    # security headers wrap everything, errors included.
    app.add_middleware(AuditWritesMiddleware, engine_getter=lambda: store, throttle_getter=lambda: throttle)
    app.add_middleware(
        CredentialGuardMiddleware,
        throttle_getter=lambda: throttle,
        retry_getter=lambda: api_settings.unavailable_retry_after_seconds,
    )
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    passport_posts = ("POST /api/v1/passports", "POST /api/v1/passports/verify")
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=api_settings.max_body_bytes,
        route_limits=dict.fromkeys(passport_posts, api_settings.passport_max_body_bytes),
    )
    app.add_middleware(SecurityHeadersMiddleware)
    return app
