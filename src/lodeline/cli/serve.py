"""``lodeline serve``: run the API and dashboard with uvicorn (building the bundled data first if needed)."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(stderr=True)
#: How long uvicorn's supervisor waits for a worker to answer its health check before killing and replacing it.
#: uvicorn's default (5 s) is shorter than a worker's start on a busy machine (it imports the API, the dashboard
#: and the registry, several seconds at load 6 on two cores), which killed every worker of `--workers N` again and
#: again.
WORKER_HEALTHCHECK_SECONDS = 60


def ensure_built() -> None:
    """On an empty store, build the bundled data before serving (a no-op when already built)."""
    from lodeline.config import get_settings
    from lodeline.data.build import build
    from lodeline.store.canonical import is_built
    from lodeline.store.engine import get_engine

    engine = get_engine()
    if is_built(engine):
        return
    settings = get_settings()
    console.print(f"the store is empty: building the bundled data into {settings.resolved_database_url()} …")
    report = build(engine, settings.raw_dir)
    console.print(
        f"[green]built[/] {report.rows:,} rows from {len(report.datasets)} datasets in {report.seconds:.1f} s"
    )


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 for every interface)"),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port to listen on"),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Worker processes"),
    proxy_headers: bool = typer.Option(
        False,
        "--proxy-headers",
        metavar="",
        help="Trust X-Forwarded-Proto/For from --forwarded-allow-ips (TLS proxy)",
    ),
    forwarded_allow_ips: str = typer.Option(
        "127.0.0.1",
        "--forwarded-allow-ips",
        help="Comma-separated proxy addresses whose X-Forwarded-* headers are trusted",
    ),
    graceful_timeout: int = typer.Option(
        20, "--graceful-timeout", min=0, help="Seconds to let in-flight requests finish on SIGTERM/SIGINT"
    ),
) -> None:
    """Serve the API (OpenAPI at /openapi.json, docs at /docs) and the dashboard."""
    import uvicorn

    from lodeline.server import check_signer

    check_signer()
    ensure_built()
    console.print(f"serving on http://{host}:{port}  (dashboard /, API /api/v1, docs /docs)")
    # uvicorn stops accepting, drains in-flight requests (bounded by timeout_graceful_shutdown) and runs
    # the lifespan shutdown on SIGTERM/SIGINT, for one process or for each worker.
    uvicorn.run(
        "lodeline.server:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_graceful_shutdown=graceful_timeout,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
        server_header=False,
        log_level="info",
    )


def register(app: typer.Typer) -> None:
    """Add ``serve`` as a top-level command (it is one command, not a group)."""
    app.command("serve")(serve)
