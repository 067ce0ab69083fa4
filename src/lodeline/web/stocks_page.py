"""The Stocks page: a period's published stockpile aggregates with their ``:c`` marks, a chart of published tonnes by
mineral, the history of periods, the release plan for a bundled scenario, and, for a signed-in member, its own
submitted figures beside the aggregate.

The aggregates come from :mod:`lodeline.services.stock_aggregates` (the service the CLI and the API call); the
member's own rows from :mod:`lodeline.services.stocks`, scoped by the one access layer
(``api.access.stocks_scope``): a member sees its own rows only, and the page never shows anyone another member's
figure (the secretariat reads submissions through the API, where each read is audited). The release plan is run
by the page's script against ``POST /api/v1/stocks/release-plan`` (signed-in, as the API requires). Data for the
chart travel as JSON in a ``<script type="application/json">`` block that static/js/stocks.js reads (no inline
script: the CSP forbids it).
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action, Role, can, stocks_scope
from lodeline.api.deps import EngineDep, PrincipalDep, check_allowed, session_from_cookie
from lodeline.errors import LodelineError
from lodeline.services import release as release_service
from lodeline.services import sim as sim_service
from lodeline.services import stock_aggregates, stock_cover
from lodeline.services import stocks as service
from lodeline.stockpiles.demo import is_demo_form
from lodeline.stockpiles.submission import check_period
from lodeline.store.accounts import Principal

router = APIRouter(include_in_schema=False)
ALL = "ALL"


def _script_safe(text: str) -> str:
    """JSON that cannot end its ``<script>`` block early (``</`` is written ``<\\/``, still the same JSON)."""
    return text.replace("</", "<\\/")


def _periods(engine: Any) -> list[str]:
    """The periods with at least one submission, newest first (periods only: no member, no figure)."""
    return sorted({s["period"] for s in service.list_submissions(engine, None)}, reverse=True)


def _own_rows(engine: Any, principal: Principal, period: str) -> list[dict[str, Any]] | None:
    """A member's own latest rows for ``period`` (None when the caller is not a member)."""
    if Role(principal.role) is not Role.MEMBER or not can(principal, Action.READ_STOCKS):
        return None
    scope = stocks_scope(principal)
    found = [s for s in service.list_submissions(engine, scope) if s["period"] == period]
    if not found:
        return []
    return list(service.show(engine, found[0]["id"], scope)["rows"])


def _aggregates(engine: Any, period: str, by: str, member: str | None) -> dict[str, Any]:
    """The published table (with the member's own tonnes beside each cell when ``member`` is the caller)."""
    group = stock_aggregates.GROUP_COLUMN[by]
    try:
        if member is not None:
            result = stock_aggregates.own_vs_aggregate(engine, period, member, by=by)
        else:
            result = stock_aggregates.published(engine, period, by=by)
    except LodelineError as exc:
        return {"error": exc.message}
    frame = result.frame.rename({group: "group"})
    # Structural zeros (a mineral never held in that form) are left out of the page's table, not hidden: the CSV
    # download has the full table.
    shown = frame.filter(pl.col("tonnes").is_null() | (pl.col("tonnes") != 0))
    by_mineral = frame.filter(
        (pl.col("mineral") != ALL) & (pl.col("group") == ALL) & (pl.col("form") == ALL)
    ).sort("mineral")
    chart = by_mineral.filter(pl.col("tonnes").is_not_null())
    return {
        "rows": shown.to_dicts(),
        "notes": result.provenance.notes,
        "demo": any(is_demo_form(f) for f in frame["form"].to_list()),
        "suppressed_minerals": by_mineral.filter(pl.col("tonnes").is_null())["mineral"].to_list(),
        "chart_json": _script_safe(
            json.dumps({"mineral": chart["mineral"].to_list(), "tonnes": chart["tonnes"].to_list()})
        ),
    }


def _cover(engine: Any, period: str) -> dict[str, Any]:
    try:
        result = stock_cover.cover(engine, period)
    except LodelineError as exc:
        return {"error": exc.message}
    return {"rows": result.frame.to_dicts(), "notes": result.provenance.notes}


@router.get("/stocks", response_class=HTMLResponse)
def stocks_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    period: str | None = Query(None, max_length=16, description="Reporting period, e.g. 2026-Q3"),
    by: str = Query("holder-type", pattern="^(holder-type|member-group)$", description="Group dimension"),
) -> HTMLResponse:
    check_allowed(request, principal, Action.READ_PUBLISHED)
    periods = _periods(engine)
    error = None
    if period is not None:
        try:
            period = check_period(period)
        except ValueError as exc:
            error, period = f"period: {exc}", None
    if period is None and periods:
        period = periods[0]
    member = principal.org if Role(principal.role) is Role.MEMBER and principal.org else None
    aggregates = _aggregates(engine, period, by, member) if period else {}
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        "active": "stocks",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "periods": periods,
        "period": period,
        "error": error or aggregates.get("error"),
        "agg": aggregates,
        "by": by,
        "group_label": "Member group" if by == "member-group" else "Holder type",
        "cover": _cover(engine, period) if period else None,
        "own": _own_rows(engine, principal, period) if period else None,
        "member": member,
        "may_plan": can(principal, Action.RUN_SIM),
        "may_submit": Role(principal.role) is Role.MEMBER and can(principal, Action.SUBMIT_STOCKS),
        "scenarios": sim_service.list_scenarios(),
        "rules": release_service.list_rules(),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "stocks.html", context)
