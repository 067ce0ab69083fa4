"""Server-rendered dashboard pages (Jinja + htmx). Charts are drawn by static/js/charts.js from the API.

Pages read through the same cached services as the API and never decide access themselves: the data they
show is published (``Action.READ_PUBLISHED``), which the access layer grants to everyone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import plotly
import polars as pl
from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action
from lodeline.api.deps import (
    SESSION_COOKIE,
    EngineDep,
    PrincipalDep,
    check_allowed,
    client_address,
    csrf_matches,
    record_failure,
    session_from_cookie,
)
from lodeline.api.limits import AuthThrottle, AuthThrottledError, account_key
from lodeline.domain.groups import MAX_ALLIANCE_LENGTH, CountryGroup, country_groups, resolve_alliance
from lodeline.domain.minerals import minerals, resolve_mineral, resolve_stage
from lodeline.errors import InvalidArgumentError, LodelineError
from lodeline.services import market, outlook
from lodeline.services.results import MarketResult
from lodeline.store.accounts import (
    check_token,
    create_session,
    end_session,
    record_audit,
    service_secret,
    token_id_of,
)
from lodeline.web import (
    alerts_page,
    deals_page,
    projects_page,
    registry_page,
    risk_page,
    sim_page,
    stocks_page,
)

WEB_DIR = Path(__file__).resolve().parent
PLOTLY_JS = Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"
#: The pre-session cookie the login form's CSRF token is bound to (``__Host-``: see api/deps.SESSION_COOKIE).
LOGIN_COOKIE = "__Host-lodeline_login"
_NONCE = re.compile(r"^[A-Za-z0-9_-]{43}$")
#: The alliance a page shows when none is chosen (the same default as the API).
ALLIANCE = "G7+"
#: The dashboard's alliance selector: a group id or a comma-separated list of ISO3 codes.
AllianceParam = Annotated[str, Query(min_length=1, max_length=MAX_ALLIANCE_LENGTH)]

router = APIRouter(include_in_schema=False)


def _cached(request: Request, key: tuple[Any, ...], compute: Any) -> MarketResult:
    result: MarketResult = request.app.state.result_cache.get(key, compute)
    return result


def _authorise_page(request: Request, principal: Any) -> None:
    check_allowed(request, principal, Action.READ_PUBLISHED)


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.templates
    session = session_from_cookie(request, request.app.state.engine)
    context.setdefault("principal", session[0] if session else None)
    context.setdefault("csrf_token", session[1] if session else "")
    return templates.TemplateResponse(request, template, context, status_code=status)


def _alliance_context(group: CountryGroup) -> dict[str, Any]:
    """What the alliance selector (templates/_alliance_picker.html) needs: the chosen alliance and the groups."""
    groups = [{"id": g.id, "description": g.description} for g in country_groups().values()]
    return {"alliance": group.id, "alliance_description": group.description, "alliance_groups": groups}


def _overview(request: Request, engine: Any, group: CountryGroup) -> MarketResult:
    # the cache key holds the resolved member set: "USA,JPN" and "JPN,USA" are one alliance
    return _cached(request, ("overview", group.members), lambda: market.minerals_overview(engine, group.id))


def _percent(value: Any) -> str:
    return "—" if value is None else f"{100 * float(value):.1f}%"


def _number(value: Any, digits: int = 0) -> str:
    return "—" if value is None else f"{float(value):,.{digits}f}"


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, engine: EngineDep, principal: PrincipalDep, alliance: AllianceParam = ALLIANCE
) -> HTMLResponse:
    _authorise_page(request, principal)
    group = resolve_alliance(alliance)
    result = _overview(request, engine, group)
    return _render(
        request,
        "overview.html",
        rows=result.frame.to_dicts(),
        source_line=result.provenance.source_line(),
        **_alliance_context(group),
    )


@router.get("/minerals", response_class=HTMLResponse)
def mineral_redirect(
    mineral: Annotated[str, Query(max_length=64)], alliance: AllianceParam = ALLIANCE
) -> RedirectResponse:
    """The no-JavaScript mineral picker submits here (the chosen alliance goes along)."""
    group = resolve_alliance(alliance)
    query = "" if group.id == ALLIANCE else "?" + urlencode({"alliance": group.id})
    return RedirectResponse(f"/minerals/{resolve_mineral(mineral)}{query}", status_code=303)


def _stage_years(conc: pl.DataFrame) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for stage, year in conc.select("stage", "year").unique().sort("stage", "year").iter_rows():
        out.setdefault(stage, []).append(int(year))
    return out


@router.get("/minerals/{mineral}", response_class=HTMLResponse)
def mineral_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    mineral: str,
    stage: Annotated[str | None, Query(max_length=32)] = None,
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
    alliance: AllianceParam = ALLIANCE,
) -> Response:
    _authorise_page(request, principal)
    group = resolve_alliance(alliance)
    mineral_id = resolve_mineral(mineral)
    if mineral_id != mineral:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/minerals/{mineral_id}{query}", status_code=307)
    conc = _cached(
        request, ("concentration", mineral_id, None), lambda: market.concentration(engine, mineral_id)
    )
    stage_years = _stage_years(conc.frame)
    chosen_stage = resolve_stage(stage).value if stage else next(iter(stage_years))
    if chosen_stage not in stage_years:
        raise InvalidArgumentError(
            f"no {chosen_stage} data for {mineral_id}; stages with data: {', '.join(stage_years)}"
        )
    years = stage_years[chosen_stage]
    chosen_year = year if year is not None else years[-1]
    if chosen_year not in years:
        raise InvalidArgumentError(f"no {chosen_stage} data for {mineral_id} in {chosen_year}")
    overview_rows = _overview(request, engine, group)
    with_data = overview_rows.frame.select("mineral", "name").to_dicts()
    return _render(
        request,
        "mineral.html",
        mineral=minerals()[mineral_id],
        minerals_with_data=with_data,
        stage_years=stage_years,
        stage=chosen_stage,
        years=years,
        year=chosen_year,
        **_alliance_context(group),
    )


@router.get("/fragments/shares", response_class=HTMLResponse)
def shares_fragment(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    mineral: Annotated[str, Query(max_length=64)],
    stage: Annotated[str, Query(max_length=32)],
    year: Annotated[int | None, Query(ge=1900, le=2100)] = None,
) -> HTMLResponse:
    """The accessible table behind the map (htmx swaps it in when the stage or year changes)."""
    _authorise_page(request, principal)
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    result = _cached(
        request,
        ("shares", mineral_id, stage_id, year),
        lambda: market.shares(engine, mineral_id, stage_id, year),
    )
    return _render(
        request,
        "_shares_table.html",
        rows=result.frame.head(15).to_dicts(),
        total=result.frame.height,
        mineral_id=mineral_id,
        stage=stage_id,
        year=year,
        unit=result.provenance.unit,
    )


@router.get("/targets", response_class=HTMLResponse)
def targets_page(
    request: Request, engine: EngineDep, principal: PrincipalDep, alliance: AllianceParam = ALLIANCE
) -> HTMLResponse:
    """Which minerals miss the 60 % test (and the 50 % ambition, and for the EU27 the CRMA 65 %), by how much
    and since when: the same service as ``lodeline market targets`` and ``GET /api/v1/targets``."""
    _authorise_page(request, principal)
    group = resolve_alliance(alliance)
    result = _cached(request, ("targets", group.members), lambda: market.targets(engine, group.id))
    frame = result.frame
    misses = frame.filter(pl.col("target_verdict") == "misses").sort(
        ["yardstick", "target_gap_pp"], descending=[False, True]
    )
    names = {m.id: m.name for m in minerals().values()}
    projected = _cached(
        request,
        ("outlook-overview", group.members, outlook.pipeline_version(engine)),
        lambda: outlook.overview(engine, group.id),
    )
    return _render(
        request,
        "targets.html",
        outlook_rows=projected.frame.to_dicts(),
        outlook_notes=projected.provenance.notes,
        misses=misses.to_dicts(),
        rows=frame.height,
        meets=frame.filter(pl.col("target_verdict") == "meets").height,
        crma=frame["crma_verdict"].drop_nulls().len() > 0,
        names=names,
        notes=result.provenance.notes,
        source_line=result.provenance.source_line(),
        **_alliance_context(group),
    )


# ------------------------------------------------------------------------------------- sign in / out
def _login_nonce(request: Request) -> str:
    """The browser's pre-session nonce: reused while its cookie lives (two open forms both work), else new."""
    current = request.cookies.get(LOGIN_COOKIE, "")
    return current if _NONCE.match(current) else secrets.token_urlsafe(32)


def _login_csrf(request: Request, nonce: str) -> str:
    """The form's CSRF token: an HMAC of the pre-session nonce under the service's secret (kept in the store).

    Knowing a valid (nonce, token) pair of one's own is useless against someone else: the nonce travels only in
    a ``__Host-`` cookie, which no other site, sibling subdomain or plain-HTTP attacker can plant.
    """
    state = request.app.state
    key = getattr(state, "login_csrf_key", None)
    if key is None:
        key = state.login_csrf_key = service_secret(state.engine, "login-csrf")
    return hmac.new(key, b"lodeline login-csrf v1\x00" + nonce.encode(), hashlib.sha256).hexdigest()


def _insecure_origin(request: Request) -> bool:
    """Plain HTTP to a host that is not loopback: browsers drop Secure cookies there, so sign-in cannot work."""
    host = request.url.hostname or ""
    return request.url.scheme != "https" and host not in ("127.0.0.1", "::1", "localhost")


def _login_form(request: Request, error: str | None = None, status: int = 200) -> HTMLResponse:
    nonce = _login_nonce(request)
    response = _render(
        request,
        "login.html",
        status=status,
        login_csrf=_login_csrf(request, nonce),
        error=error,
        insecure_origin=_insecure_origin(request),
    )
    response.set_cookie(
        LOGIN_COOKIE, nonce, max_age=1800, path="/", secure=True, httponly=True, samesite="strict"
    )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return _login_form(request)


def _refuse(request: Request, token_id: str | None, status: int, detail: str, message: str) -> HTMLResponse:
    """Count a failed sign-in (429 instead when it was one past the limit) and show the form again."""
    try:
        record_failure(request, token_id, status, detail)
    except AuthThrottledError as exc:
        message, status = f"Too many failed sign-in attempts. Try again in {round(exc.retry_after)} s.", 429
    return _login_form(request, message, status=status)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    engine: EngineDep,
    token: Annotated[str, Form(max_length=200)],
    csrf_token: Annotated[str, Form(max_length=100)],
) -> Response:
    """Exchange an API token for a browser session (``__Host-`` cookie: HttpOnly, Secure, SameSite=Strict).

    The client address was checked against the sign-in throttle before this ran (CredentialGuardMiddleware);
    the account the token names is checked here, before the token is.
    """
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    if not _NONCE.match(nonce) or not csrf_matches(_login_csrf(request, nonce), csrf_token):
        why = "login CSRF check failed" + ("" if nonce else " (no pre-session cookie)")
        message = (
            "This page was reached over plain HTTP at a network address, where browsers refuse the secure "
            "sign-in cookies. Use https, or http://127.0.0.1 on this machine."
            if _insecure_origin(request)
            else "The form expired. Please try again."
        )
        return _refuse(request, None, 403, why, message)
    throttle: AuthThrottle = request.app.state.auth_throttle
    token = token.strip()
    token_id = token_id_of(token)
    if token_id:
        throttle.check([account_key(token_id)])  # 429 (error page) before the token is looked at
    checked = check_token(engine, token)
    if checked.principal is None:
        detail = f"browser sign-in with a bad token ({checked.reason})"
        return _refuse(request, checked.token_id, 401, detail, "That token is unknown or revoked.")
    principal = checked.principal
    request.state.principal = principal
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        end_session(engine, previous)  # a new sign-in never keeps an old (possibly planted) session id
    lifetime = dt.timedelta(hours=request.app.state.api_settings.session_hours)
    session_id, _csrf = create_session(engine, principal, lifetime)
    record_audit(engine, "login.ok", principal=principal, method="POST", path="/login", status=303,
                 client=client_address(request))  # fmt: skip
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(lifetime.total_seconds()),
        path="/",
        secure=True,
        httponly=True,
        samesite="strict",
    )
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, engine: EngineDep, csrf_token: Annotated[str, Form(max_length=100)]) -> Response:
    found = session_from_cookie(request, engine)
    if found is None:
        request.state.audit_recorded = True  # nothing to end: not a write, not a failure
    else:
        principal, expected = found
        request.state.principal = principal
        if not csrf_matches(expected, csrf_token):
            raise LodelineError("sign-out needs the session's CSRF token")
        end_session(engine, request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


# -------------------------------------------------------------------------------------- assets, docs
@router.get("/static/plotly/plotly.min.js")
def plotly_js() -> FileResponse:
    """plotly.js from the installed plotly wheel (never a CDN)."""
    return FileResponse(
        PLOTLY_JS, media_type="text/javascript", headers={"cache-control": "public, max-age=86400"}
    )


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    """Swagger UI from the vendored swagger-ui-dist, initialised by a static script (CSP-compatible)."""
    return _render(request, "docs.html")


def install_web(app: FastAPI) -> None:
    """Install the dashboard into the API application ``app`` (the composition root :mod:`lodeline.server` calls
    this; the API never imports the web): templates, the pages' routes, then the static assets (after the routes, so
    ``/static/plotly/plotly.min.js`` is served from the plotly wheel, not looked up in ``static/``)."""
    templates = Jinja2Templates(directory=WEB_DIR / "templates")
    templates.env.filters["percent"] = _percent
    templates.env.filters["number"] = _number
    app.state.templates = templates
    app.include_router(router)
    app.include_router(registry_page.router)
    app.include_router(sim_page.router)
    app.include_router(risk_page.router)
    app.include_router(stocks_page.router)
    app.include_router(deals_page.router)
    app.include_router(projects_page.router)
    app.include_router(alerts_page.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
