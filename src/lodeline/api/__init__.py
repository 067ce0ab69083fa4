"""The HTTP API and the dashboard host: ``create_app()`` builds the FastAPI application."""

from lodeline.api.app import create_app

__all__ = ["create_app"]
