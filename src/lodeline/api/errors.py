"""Map every failure to a 4xx/5xx JSON body ``{"code", "message"}`` (HTML pages get an HTML page).

No stack trace ever reaches a client; unexpected errors are logged server-side and answered with a
generic 500 that names no internals.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from lodeline.api.limits import RateLimitedError
from lodeline.errors import LodelineError

log = logging.getLogger("lodeline.api")


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/openapi.json", "/health", "/ready", "/static/")):
        return False
    return "text/html" in request.headers.get("accept", "")


def _respond(
    request: Request, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> Response:
    if _wants_html(request):
        templates = request.app.state.templates
        return HTMLResponse(
            templates.get_template("error.html").render(request=request, status=status, error=body),
            status_code=status,
            headers=headers,
        )
    return JSONResponse(body, status_code=status, headers=headers)


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
        return _respond(request, exc.http_status, exc.to_dict(), headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        return _respond(request, 422, {"code": "invalid-request", "message": _describe_validation(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such page or endpoint: {request.url.path}"
        return _respond(request, exc.status_code, {"code": code, "message": message}, exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return _respond(
            request, 500, {"code": "internal-error", "message": "unexpected server error; it has been logged"}
        )
