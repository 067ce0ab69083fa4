"""The Risk page: the SR-vs-EI criticality chart (labels placed without collisions), the sensitivity tornado,
and, beside the chart, the deviations from the EU method and the comparison with the official 2023 list.

Everything comes from :mod:`lodeline.services.risk` (the service the CLI and the API call), cached per data
build. The figures travel as plotly JSON in ``<script type="application/json">`` blocks that
static/js/risk.js draws with the vendored plotly.js (no inline script, no network).
"""

from __future__ import annotations

from typing import Any

import polars as pl
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action
from lodeline.api.deps import EngineDep, PrincipalDep, check_allowed, session_from_cookie
from lodeline.risk import EI_THRESHOLD, SR_THRESHOLD
from lodeline.risk.chart import PAGE_CHART_SIZE, criticality_figure, tornado_figure
from lodeline.risk.eu_comparison import VERDICTS
from lodeline.services import risk

router = APIRouter(include_in_schema=False)
#: The page's sensitivity: the CLI's default draws and seed, so the figures equal ``lodeline risk sensitivity``.
PAGE_DRAWS, PAGE_SEED = 1000, 0


def _cached(request: Request, key: tuple[Any, ...], compute: Any) -> Any:
    return request.app.state.result_cache.get(key, compute)


def _script_safe(text: str) -> str:
    """JSON that cannot end its ``<script>`` block early (``</`` is written ``<\\/``, still the same JSON)."""
    return text.replace("</", "<\\/")


def _page_data(request: Request, engine: Any) -> dict[str, Any]:
    # Same cache keys as the API routes: a page view and an API read share one computation.
    crit: risk.RiskResult = _cached(
        request, ("risk-criticality", None, 5), lambda: risk.criticality(engine, stage=None, years=5)
    )
    sens: risk.SensitivityResult = _cached(
        request,
        ("risk-sensitivity", PAGE_DRAWS, PAGE_SEED, (), 5),
        lambda: risk.sensitivity(engine, draws=PAGE_DRAWS, seed=PAGE_SEED),
    )
    comparison = risk.official_list_comparison(crit).frame
    counts = {v: comparison.filter(pl.col("verdict") == v).height for v in VERDICTS}
    chart = criticality_figure(crit.frame, source_line=crit.source_line, size=PAGE_CHART_SIZE)
    bars = tornado_figure(sens.tornado.frame, source_line=sens.tornado.source_line)
    return {
        "sr_threshold": SR_THRESHOLD,
        "ei_threshold": EI_THRESHOLD,
        "chart_json": _script_safe(chart.to_json()),
        "chart_size": PAGE_CHART_SIZE,
        "tornado_json": _script_safe(bars.to_json()),
        "deviations": risk.deviations(crit).frame.to_dicts(),
        # Where this run and the official list differ: listed but not critical or without SR, critical but unlisted.
        "disagreements": comparison.filter(
            pl.col("verdict").is_in([VERDICTS[2], VERDICTS[3], VERDICTS[4]])
        ).to_dicts(),
        "counts": counts,
        "classified": sum(counts[v] for v in VERDICTS[:4]),
        "agree": counts[VERDICTS[0]] + counts[VERDICTS[1]],
        "summary": sens.summary.frame.filter(pl.col("status") == "ok").to_dicts(),
        "draws": PAGE_DRAWS,
        "source_line": crit.provenance.source_line(),
    }


@router.get("/risk", response_class=HTMLResponse)
def risk_page(request: Request, engine: EngineDep, principal: PrincipalDep) -> HTMLResponse:
    check_allowed(request, principal, Action.READ_PUBLISHED)
    # The figures' JSON is cached with the data build too: a page view then costs one template render.
    data: dict[str, Any] = _cached(request, ("risk-page",), lambda: _page_data(request, engine))
    templates: Jinja2Templates = request.app.state.templates
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        **data,
        "active": "risk",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
    }
    return templates.TemplateResponse(request, "risk.html", context)
