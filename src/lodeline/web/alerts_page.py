"""The Alerts page: the current level of every mineral as a heat strip, the selected mineral's explanation and
indicator charts with their threshold lines, and the backtest chart (episodes as shaded bands, the fused level as
a line). Everything comes from :mod:`lodeline.services.alerts` (the service the CLI and the API call).

:func:`page_data` assembles the page's context; the lifecycle (issue 14, part B) can add its history section by
extending the dict it returns. Chart data travel as JSON in a ``<script type="application/json">`` block that
static/js/alerts.js reads (no inline script: the CSP forbids it).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import polars as pl
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import Engine

from lodeline.alerts.model import Level
from lodeline.alerts.thresholds import spec
from lodeline.api.access import Action, check_alerts_readable
from lodeline.api.deps import ApiSettingsDep, EngineDep, PrincipalDep, check_allowed, session_from_cookie
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import LodelineError
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.services import alerts as service

router = APIRouter(include_in_schema=False)
COLOURS = {"normal": "#e8f0e8", "watch": "#f6d36b", "warning": "#e8833a", "alert": "#b0172a"}
#: The charts start here (the backtest's span; the 1960s-70s fixed-price years of the Pink Sheet dwarf the rest).
CHART_FROM = dt.date(2000, 1, 1)
CHARTED = (
    "price-zscore",
    "price-volatility",
    "price-change-point",
    "dependency",
    "trade-break",
    "export-control",
    "hhi-rise",
)


def _script_safe(text: str) -> str:
    return text.replace("</", "<\\/")


def _thresholds(indicator: str) -> dict[str, float]:
    if indicator == "export-control":
        return {}
    s = spec(indicator)
    return {
        lv.value: t for lv in (Level.WATCH, Level.WARNING, Level.ALERT) if (t := s.threshold(lv)) is not None
    }


def _charts(engine: Engine, mineral: str, as_of: dt.date) -> list[dict[str, Any]]:
    """Per indicator of the mineral: its readings since 2000 published by ``as_of`` (the latest key of each)."""
    tl = service.scan_timelines(engine)
    rows = tl.frame.filter(
        (pl.col("mineral") == mineral) & (pl.col("published") <= as_of) & (pl.col("observed") >= CHART_FROM)
    )
    out = []
    for indicator in CHARTED:
        part = rows.filter(pl.col("indicator") == indicator)
        if part.is_empty():
            continue
        key = part.sort("published")["key"][-1]
        part = part.filter(pl.col("key") == key).sort("observed")
        out.append(
            {
                "indicator": indicator,
                "key": key,
                "unit": spec(indicator).unit,
                "x": [d.isoformat() for d in part["observed"].to_list()],
                "y": part["value"].to_list(),
                "level": part["level"].to_list(),
                "thresholds": _thresholds(indicator),
            }
        )
    return out


def _backtest(engine: Engine, mineral: str) -> dict[str, Any]:
    report = service.backtest(engine)
    levels = report.levels.filter(pl.col("mineral") == mineral).sort("date")
    episodes = [
        {"id": r["episode"], "start": r["start"].isoformat(), "end": None, "detected": r["detected"]}
        for r in report.rows
        if r["mineral"] == mineral
    ]
    from lodeline.alerts.backtest import episodes as all_episodes

    ends = {e.id: e.end.isoformat() for e in all_episodes()}
    for e in episodes:
        e["end"] = ends.get(e["id"])
    return {
        "x": [d.isoformat() for d in levels["date"].to_list()],
        "rank": levels["rank"].to_list(),
        "episodes": episodes,
        "rows": report.rows,
        "summary": report.summary,
        "false_alarms": report.false_alarms,
    }


def page_data(engine: Engine, as_of: dt.date, mineral: str | None) -> dict[str, Any]:
    """The page's context (extend the returned dict to add sections)."""
    alerts = service.scan(engine, as_of)
    strip = [{"mineral": a.mineral, "level": a.level.value, "colour": COLOURS[a.level.value]} for a in alerts]
    chosen = mineral or (alerts[0].mineral if alerts else None)
    selected = next((a for a in alerts if a.mineral == chosen), None)
    charts = _charts(engine, chosen, as_of) if chosen else []
    backtest = _backtest(engine, chosen) if chosen else {}
    return {
        "as_of": as_of.isoformat(),
        "strip": sorted(strip, key=lambda s: s["mineral"]),
        "mineral": chosen,
        "selected": selected,
        "backtest": backtest,
        "chart_json": _script_safe(
            json.dumps(
                {
                    "charts": charts,
                    "backtest": backtest and {k: backtest[k] for k in ("x", "rank", "episodes")},
                }
            )
        ),
    }


#: recorded alerts shown on the page (newest first); the API pages through all of them
HISTORY_ROWS = 50


def _history(
    engine: Engine, principal: Any, published: bool, mineral: str | None
) -> list[dict[str, Any]] | None:
    """The mineral's recorded alerts with their events (the lifecycle, docs/alerts-delivery.md), or None when the
    caller may not read recorded alerts (the public, unless the alliance publishes them)."""
    try:
        check_alerts_readable(principal, published)
    except LodelineError:
        return None
    return lifecycle.history(engine, mineral)[:HISTORY_ROWS] if mineral else []


@router.get("/alerts", response_class=HTMLResponse)
def alerts_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    settings: ApiSettingsDep,
    as_of: str | None = Query(None, max_length=10, description="YYYY-MM-DD"),
    mineral: str | None = Query(None, max_length=64),
) -> HTMLResponse:
    check_allowed(request, principal, Action.READ_ALLIANCE)
    error = None
    day = dt.date.today()
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            error = f"as_of: expected a date YYYY-MM-DD, got {as_of!r}"
    chosen = None
    if mineral:
        try:
            chosen = resolve_mineral(mineral)
        except LodelineError as exc:
            error = exc.message
    try:
        data = page_data(engine, day, chosen)
    except LodelineError as exc:
        data, error = {"strip": [], "as_of": day.isoformat()}, exc.message
    session = session_from_cookie(request, request.app.state.engine)
    data["history"] = _history(engine, principal, settings.alerts_public, data.get("mineral") or chosen)
    data.setdefault("mineral", chosen)
    context = {
        "active": "alerts",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "error": error,
        **data,
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "alerts.html", context)
