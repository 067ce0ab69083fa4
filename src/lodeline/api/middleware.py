"""Pure ASGI middleware: security headers, request-size limit, the credential guard, audit of writes.

Pure ASGI (not BaseHTTPMiddleware) so responses stream untouched and the read path stays cheap.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import anyio
from sqlalchemy import Engine
from starlette.requests import Request

from lodeline.api.errors import database_unavailable, error_response, unavailable_body
from lodeline.api.limits import AuthThrottle, AuthThrottledError, account_key, client_key
from lodeline.store.accounts import Principal, record_audit, token_id_of
from lodeline.store.throttle import Failure

log = logging.getLogger("lodeline.api")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: No inline scripts anywhere (every script is a static file). plotly.js sets inline *styles* on its SVG,
#: hence style-src 'unsafe-inline'; images may be data: URIs (plotly's mode bar icons, CSV download links).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
_STATIC_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _is_tls(scope: Scope) -> bool:
    # uvicorn sets scheme from X-Forwarded-Proto when run with --proxy-headers behind a trusted proxy.
    return scope.get("scheme") == "https"


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [*_STATIC_HEADERS, _HSTS] if _is_tls(scope) else _STATIC_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *(h for h in extra if h[0] not in present),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _json_error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"code": code, "message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyTooLargeError(Exception):
    pass


class BodySizeLimitMiddleware:
    """Reject bodies above ``max_bytes`` with 413: up front from Content-Length, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int, route_limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.route_limits = route_limits or {}  # "METHOD /exact/path" -> a bound of its own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.route_limits.get(f"{scope.get('method')} {scope.get('path')}", self.max_bytes)
        message = f"request body larger than the limit of {limit} bytes"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _json_error(send, 400, "invalid-request", "malformed Content-Length header")
                    return
                if declared > limit:
                    await _json_error(send, 413, "body-too-large", message)
                    return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError
            return msg

        async def tracking_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLargeError:
            if not started:
                await _json_error(send, 413, "body-too-large", message)


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return f"{client[0]}" if client else None


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


#: Fetch metadata values of a write this service accepts from a browser: its own pages, or no page at all.
_ACCEPTED_FETCH_SITES = frozenset({"same-origin", "none"})


class CredentialGuardMiddleware:
    """Before any credential is looked at: refuse what must neither be checked nor counted.

    - A write a browser marks as coming from another site (``Sec-Fetch-Site: cross-site`` or ``same-site``):
      403, not counted. Browsers set the header and pages cannot forge it, so another site cannot make a
      visitor's browser burn that visitor's failure budget (or sign them in: login CSRF).
    - A request with a credential (``Authorization``) or a write, from a client address or naming an account
      the sign-in throttle has blocked: 429 with ``Retry-After``, without checking anything and without a write.
    """

    def __init__(
        self, app: ASGIApp, throttle_getter: Callable[[], AuthThrottle], retry_getter: Callable[[], int]
    ):
        self.app = app
        self.throttle_getter = throttle_getter
        self.retry_getter = retry_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unsafe = scope.get("method") in UNSAFE_METHODS
        authorization = _header(scope, b"authorization")
        if not unsafe and authorization is None:
            await self.app(scope, receive, send)  # the public read path: nothing to check
            return
        request = Request(scope)
        site = _header(scope, b"sec-fetch-site")
        if unsafe and site is not None and site not in _ACCEPTED_FETCH_SITES:
            body = {"code": "cross-site-request", "message": f"writes from another site are refused ({site})"}
            await error_response(request, 403, body)(scope, receive, send)
            return
        keys = [client_key(_client(scope))]
        scheme, _, value = (authorization or "").partition(" ")
        token_id = token_id_of(value.strip()) if scheme.lower() == "bearer" else None
        if token_id:
            keys.append(account_key(token_id))
        try:
            await anyio.to_thread.run_sync(self.throttle_getter().check, keys)
        except AuthThrottledError as exc:
            headers = {"retry-after": str(max(1, round(exc.retry_after)))}
            await error_response(request, 429, exc.to_dict(), headers)(scope, receive, send)
            return
        except Exception as exc:
            reason = database_unavailable(exc)
            if reason is None:
                raise
            retry = self.retry_getter()
            response = error_response(
                request, 503, unavailable_body(reason, retry), {"retry-after": str(retry)}
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class AuditWritesMiddleware:
    """Record every write (POST/PUT/PATCH/DELETE) with its outcome in the audit log.

    A signed-in caller's write is one row. A write without valid credentials is a failed sign-in of its client
    address: counted in the shared throttle and aggregated (one row per address and window), unless the route
    already counted it (a bad token at /login or in ``Authorization``) or it changed nothing (sign-out without
    a session).
    """

    def __init__(
        self, app: ASGIApp, engine_getter: Callable[[], Engine], throttle_getter: Callable[[], AuthThrottle]
    ):
        self.app = app
        self.engine_getter = engine_getter
        self.throttle_getter = throttle_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in UNSAFE_METHODS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, capture)
        except BodyTooLargeError:
            status = 413
            raise
        finally:
            try:
                await anyio.to_thread.run_sync(self._record, scope, status)
            except AuthThrottledError:
                pass  # this refused write was one past the limit; the next is refused before it runs
            except Exception as exc:
                # The response is on its way (or the request already failed): an audit row that cannot be
                # written is logged, never turned into a second error for the client.
                reason = database_unavailable(exc)
                if reason is None:
                    log.exception("audit row for %s %s not written", scope.get("method"), scope.get("path"))
                else:
                    log.error("audit row for %s %s not written: store %s", scope.get("method"),
                              scope.get("path"), reason)  # fmt: skip

    def _record(self, scope: Scope, status: int) -> None:
        state = scope.get("state", {})
        principal = state.get("principal")
        method, path, client = scope.get("method"), scope.get("path"), _client(scope)
        if isinstance(principal, Principal) and principal.authenticated:
            record_audit(self.engine_getter(), "write", principal=principal, method=method, path=path,
                         status=status, client=client)  # fmt: skip
        elif not state.get("audit_recorded"):
            failure = Failure(
                method, path, status, client, None, f"write without valid credentials ({status})"
            )
            self.throttle_getter().record(client, None, failure)
