"""Map every failure to a 4xx/5xx JSON body ``{"code", "message"}`` (HTML pages get an HTML page).

No stack trace ever reaches a client; unexpected errors are logged server-side and answered with a
generic 500 that names no internals. A database that is unreachable, was lost mid-request or stayed locked past
its busy timeout is not a bug of the request: it answers 503 ``store-unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from lodeline.api.limits import RateLimitedError
from lodeline.errors import LodelineError

log = logging.getLogger("lodeline.api")


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/openapi.json", "/health", "/ready", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def error_response(
    request: Request, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` as JSON, or as the HTML error page for a browser asking for a page."""
    if _wants_html(request):
        templates = request.app.state.templates
        return HTMLResponse(
            templates.get_template("error.html").render(request=request, status=status, error=body),
            status_code=status,
            headers=headers,
        )
    return JSONResponse(body, status_code=status, headers=headers)


#: SQLite errors that mean "busy or unreachable, try again" (the rest, e.g. "no such table", are bugs: 500).
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file",
                       "disk i/o error")  # fmt: skip
#: Driver exceptions that are not wrapped by SQLAlchemy when a driver is used directly.
_RAW_DRIVER_ERRORS: tuple[type[BaseException], ...] = (psycopg.OperationalError, psycopg.InterfaceError,
                                                       sqlite3.OperationalError)  # fmt: skip


def database_unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` means the store cannot answer now (``locked``, ``unreachable``), or None for any other error.

    SQLAlchemy's OperationalError / InterfaceError / DisconnectionError / pool TimeoutError, psycopg's
    OperationalError / InterfaceError (connection refused or lost, database gone, admin shutdown, serialisation
    failure), and SQLite's "database is locked" after the busy timeout. ADBC drivers' DB-API errors of the same
    names count too. The cause chain is followed so a wrapped driver error is recognised.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return "unreachable"
        if isinstance(current, sa_exc.DisconnectionError | sa_exc.TimeoutError):
            return "unreachable"
        if isinstance(current, sqlite3.OperationalError) or (
            isinstance(current, sa_exc.DBAPIError) and isinstance(current.orig, sqlite3.Error)
        ):
            text = str(current.orig if isinstance(current, sa_exc.DBAPIError) else current).lower()
            return (
                "locked"
                if "locked" in text
                else ("unreachable" if text.startswith(_SQLITE_UNAVAILABLE) else None)
            )
        if isinstance(current, psycopg.OperationalError | psycopg.InterfaceError):
            return "unreachable"
        if isinstance(current, sa_exc.OperationalError | sa_exc.InterfaceError):
            return "unreachable"
        name, module = type(current).__name__, type(current).__module__
        if module.startswith("adbc_driver") and name in ("OperationalError", "InterfaceError"):
            return "unreachable"
        current = current.__cause__ or current.__context__
    return None


def unavailable_body(reason: str, retry_after: int) -> dict[str, Any]:
    what = "busy (locked by another writer)" if reason == "locked" else "unreachable"
    return {
        "code": "store-unavailable",
        "message": f"the database is {what}; nothing was changed by this request, retry in {retry_after} s",
        "reason": reason,
    }


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        if err.get("type") == "json_invalid":
            parts.append(f"{where}: malformed JSON ({err.get('ctx', {}).get('error', 'cannot parse')})")
        else:
            parts.append(f"{where}: {err.get('msg', 'invalid value')}")
    return "; ".join(parts) or "invalid request"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LodelineError)
    async def lodeline_error(request: Request, exc: LodelineError) -> Response:
        headers = (
            {"retry-after": str(max(1, round(exc.retry_after)))}
            if isinstance(exc, RateLimitedError)
            else None
        )
        if exc.http_status in (401,):
            headers = {**(headers or {}), "www-authenticate": 'Bearer realm="lodeline"'}
        return error_response(request, exc.http_status, exc.to_dict(), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return error_response(request, 422, {"code": "invalid-request", "message": _describe_validation(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {400: "invalid-request", 404: "not-found", 405: "method-not-allowed"}.get(
            exc.status_code, "http-error"
        )
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path}"
        if exc.status_code == 400 and message == "There was an error parsing the body":
            # FastAPI's answer to a body its JSON or form parser rejects (RecursionError and too-long integer
            # literals included): name what can be wrong
            message = "the request body cannot be parsed: malformed JSON or form data, nesting too deep, or a number too long"
        return error_response(request, exc.status_code, {"code": code, "message": message}, exc.headers)

    async def store_error(request: Request, exc: Exception) -> Response:
        reason = database_unavailable(exc)
        if reason is None:
            return await unexpected(request, exc)
        retry_after = request.app.state.api_settings.unavailable_retry_after_seconds
        log.warning("store unavailable (%s) on %s %s: %s", reason, request.method, request.url.path, exc)
        return error_response(
            request, 503, unavailable_body(reason, retry_after), {"retry-after": str(retry_after)}
        )

    for error_class in (
        sa_exc.DBAPIError,
        sa_exc.DisconnectionError,
        sa_exc.TimeoutError,
        *_RAW_DRIVER_ERRORS,
    ):
        app.add_exception_handler(error_class, store_error)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        reason = database_unavailable(exc)  # e.g. an ADBC driver's error, or one raised through a wrapper
        if reason is not None:
            return await store_error(request, exc)
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(
            request, 500, {"code": "internal-error", "message": "unexpected server error; it has been logged"}
        )
