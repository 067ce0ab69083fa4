"""The composition root of the HTTP server: the API application with the dashboard installed into it.

``lodeline.api`` builds the API and never imports ``lodeline.web``; the dashboard imports the API's access layer
(one direction). This module is the one place that knows both, so ``lodeline serve``, uvicorn's workers and the
tests all build the same application through :func:`create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import Engine

from lodeline.api.app import create_api_app
from lodeline.api.settings import ApiSettings
from lodeline.store.engine import get_engine
from lodeline.trace import signer
from lodeline.web.pages import install_web


def create_app(engine: Engine | None = None, settings: ApiSettings | None = None) -> FastAPI:
    """The API (OpenAPI at /openapi.json) and the dashboard (/, docs at /docs) on ``engine`` (default: the
    configured store, migrated)."""
    app = create_api_app(engine, settings)
    install_web(app)
    return app


def check_signer() -> None:
    """Refuse to start when the store does not extend what the registry's signer signed (a restored or swapped
    database): raises ``registry-signer-refused`` naming the sizes and roots."""
    signer.check(get_engine())


def app_factory() -> FastAPI:
    """Entry point for uvicorn's workers (``lodeline.server:app_factory``, factory mode): each process checks the
    signer and builds its own app and engine, however it was started."""
    check_signer()
    return create_app()
