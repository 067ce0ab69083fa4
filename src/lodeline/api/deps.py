"""Typed dependencies: the store engine, the settings, and the caller (token or browser session).

Authentication lives here; authorisation lives in :mod:`lodeline.api.access`. ``Allowed(action)`` joins
the two: it resolves the caller, applies the caller's rate limit and asks the access layer.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine

from lodeline.api.access import Action, authorise
from lodeline.api.limits import RateLimiter
from lodeline.api.settings import ApiSettings
from lodeline.errors import LodelineError
from lodeline.store.accounts import Principal, authenticate_token, record_audit, session_principal

SESSION_COOKIE = "lodeline_session"
CSRF_HEADER = "x-csrf-token"


class InvalidCredentialsError(LodelineError):
    code = "invalid-credentials"
    http_status = 401

    def __init__(self) -> None:
        super().__init__("the API token is unknown, malformed or revoked")


class CsrfError(LodelineError):
    code = "csrf-failed"
    http_status = 403

    def __init__(self) -> None:
        super().__init__(
            "a write from a browser session needs the session's CSRF token in the X-CSRF-Token header "
            "(or the csrf_token form field)"
        )


# Cheap dependencies are ``async def``: FastAPI runs sync dependencies in the thread pool, and a thread hop per
# dependency would dominate the cost of a cached read. Anything that touches the store goes to the pool.
async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_api_settings(request: Request) -> ApiSettings:
    settings: ApiSettings = request.app.state.api_settings
    return settings


EngineDep = Annotated[Engine, Depends(get_engine)]
ApiSettingsDep = Annotated[ApiSettings, Depends(get_api_settings)]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""  # present but unusable: a failed login, not an anonymous call
    return value.strip()


def session_from_cookie(request: Request, engine: Engine) -> tuple[Principal, str] | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    return session_principal(engine, cookie) if cookie else None


def csrf_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(expected.encode(), (presented or "").encode())


def resolve_principal(request: Request, engine: Engine) -> Principal:
    """The caller: a bearer token, else a browser session (with CSRF on writes), else anonymous."""
    token = _bearer(request)
    if token is not None:
        principal = authenticate_token(engine, token) if token else None
        if principal is None:
            record_audit(
                engine,
                "login.failed",
                method=request.method,
                path=request.url.path,
                status=401,
                client=client_address(request),
                detail="bearer token rejected",
            )
            raise InvalidCredentialsError()
    else:
        found = session_from_cookie(request, engine)
        if found is None:
            principal = Principal.anonymous()
        else:
            principal, csrf = found
            if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_matches(
                csrf, request.headers.get(CSRF_HEADER)
            ):
                raise CsrfError()
    request.state.principal = principal
    return principal


async def get_principal(request: Request, engine: EngineDep) -> Principal:
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    if _bearer(request) is None and SESSION_COOKIE not in request.cookies:
        anonymous = Principal.anonymous()  # the common public read: no store access at all
        request.state.principal = anonymous
        return anonymous
    return await run_in_threadpool(resolve_principal, request, engine)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def check_allowed(request: Request, principal: Principal, action: Action) -> Principal:
    """Rate-limit the caller and ask the access layer (401/403/429 otherwise)."""
    _rate_limit(request, principal)
    return authorise(principal, action)


def _rate_limit(request: Request, principal: Principal) -> None:
    limiter: RateLimiter
    if principal.token_id:
        limiter, key = request.app.state.token_limiter, principal.token_id
    else:
        limiter, key = request.app.state.anonymous_limiter, client_address(request)
    limiter.hit(key)


def Allowed(action: Action) -> Callable[..., Awaitable[Principal]]:
    """Dependency: the caller, rate-limited and authorised for ``action`` (401/403/429 otherwise)."""

    async def dependency(request: Request, principal: PrincipalDep) -> Principal:
        return check_allowed(request, principal, action)

    dependency.__name__ = f"allowed_{action.name.lower()}"
    return dependency
