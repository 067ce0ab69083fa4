"""Typed dependencies: the store engine, the settings, and the caller (token or browser session).

Authentication lives here; authorisation lives in :mod:`lodeline.api.access`. ``Allowed(action)`` joins
the two: it resolves the caller, applies the caller's rate limit and asks the access layer. A failed credential
is counted in the shared sign-in throttle (:mod:`lodeline.api.limits`).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy import Engine

from lodeline.api.access import POLICY, Action, Role, authorise
from lodeline.api.limits import AuthThrottle, RateLimiter
from lodeline.api.settings import ApiSettings
from lodeline.errors import LodelineError
from lodeline.store.accounts import Principal, check_token, session_principal
from lodeline.store.throttle import Failure

#: ``__Host-``: the browser only accepts it Secure, for Path=/ and without Domain, so no other host (a sibling
#: subdomain, a plain-HTTP man in the middle) can set or overwrite it (RFC 6265bis §4.1.3.2).
SESSION_COOKIE = "__Host-lodeline_session"
CSRF_HEADER = "x-csrf-token"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="bearerAuth",
    description="An API token, `Authorization: Bearer ll_<id>_<secret>` (created by `lodeline admin token create`). "
    "The scopes listed on an operation are the roles allowed to call it.",
)
session_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="sessionCookie",
    description="The browser session set by signing in at /login (HttpOnly: a browser sends it by itself). "
    "Writes with it also need the session's CSRF token in `X-CSRF-Token`.",
)


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


def record_failure(request: Request, token_id: str | None, status: int, detail: str) -> None:
    """Count a failed sign-in of this client (and of the account ``token_id``) in the shared throttle.

    The audit middleware is told the attempt is accounted for, so it is not counted twice as a refused write.
    """
    request.state.audit_recorded = True
    throttle: AuthThrottle = request.app.state.auth_throttle
    client = client_address(request)
    failure = Failure(request.method, request.url.path, status, client, token_id, detail)
    throttle.record(client, token_id, failure)


def resolve_principal(request: Request, engine: Engine) -> Principal:
    """The caller: a bearer token, else a browser session (with CSRF on writes), else anonymous.

    A blocked client or account was refused before this (ThrottleMiddleware); a failed token is counted.
    """
    token = _bearer(request)
    if token is not None:
        checked = check_token(engine, token) if token else None
        if checked is None or checked.principal is None:
            reason = "not a bearer token" if checked is None else f"bearer token rejected ({checked.reason})"
            record_failure(request, checked.token_id if checked else None, 401, reason)
            raise InvalidCredentialsError()
        principal = checked.principal
    else:
        found = session_from_cookie(request, engine)
        if found is None:
            principal = Principal.anonymous()
        else:
            principal, csrf = found
            if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_matches(
                csrf, request.headers.get(CSRF_HEADER)
            ):
                request.state.principal = principal  # the refused write is audited under its session
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
    """Dependency: the caller, rate-limited and authorised for ``action`` (401/403/429 otherwise).

    An action that needs a signed-in caller declares both security schemes in the OpenAPI document, with the
    roles allowed as their scopes, so /docs offers "Authorize" and clients see who may call what.
    """
    if Role.PUBLIC in POLICY[action]:

        async def public(request: Request, principal: PrincipalDep) -> Principal:
            return check_allowed(request, principal, action)

        public.__name__ = f"allowed_{action.name.lower()}"
        return public
    roles = sorted(role.value for role in POLICY[action])

    async def signed_in(
        request: Request,
        principal: PrincipalDep,
        # defaults, not Annotated: ``roles`` is local and annotations are strings (``from __future__``)
        _bearer: object = Security(bearer_scheme, scopes=roles),
        _session: object = Security(session_scheme, scopes=roles),
    ) -> Principal:
        return check_allowed(request, principal, action)

    signed_in.__name__ = f"allowed_{action.name.lower()}"
    return signed_in
