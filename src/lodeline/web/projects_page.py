"""The Projects page: the pipeline listed (a sortable table) and mapped (projects per country; a marker where a
record states coordinates), and the compare view (capital intensity against time to production, bubble = contained
capacity), every figure with its source or "not stated".

Everything comes from :mod:`lodeline.services.projects` (the service the CLI and the API call); confidential fields
of member projects are emptied unless the one access layer (``api.access.project_viewer``) says the caller owns
them or is the secretariat. Data for the map and the chart travel as JSON in ``<script type="application/json">``
blocks that static/js/projects.js reads (no inline script: the CSP forbids it).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action, project_viewer
from lodeline.api.deps import EngineDep, PrincipalDep, check_allowed, session_from_cookie
from lodeline.domain.countries import country_name, iso2_to_iso3
from lodeline.errors import LodelineError
from lodeline.projects.schema import Project, ProjectStage
from lodeline.services import projects as service

router = APIRouter(include_in_schema=False)
NOT_STATED = "not stated"
#: the chart's one y-axis currency; other currencies are not converted (no sourced exchange rate)
CHART_CURRENCY = "EUR"


def _script_safe(text: str) -> str:
    """JSON that cannot end its ``<script>`` block early (``</`` is written ``<\\/``, still the same JSON)."""
    return text.replace("</", "<\\/")


def _iso3(code: str) -> str | None:
    try:
        return iso2_to_iso3(code)
    except LodelineError:
        return None


def _map_data(projects: list[Project]) -> dict[str, Any]:
    per_country: Counter[str] = Counter()
    unmapped: set[str] = set()
    for p in projects:
        for code in p.countries:
            iso3 = _iso3(code)
            if iso3 is None:
                unmapped.add(code)
            else:
                per_country[iso3] += 1
    points = [
        {"lat": p.latitude, "lon": p.longitude, "name": p.name, "id": p.project_id}
        for p in projects
        if p.latitude is not None and p.longitude is not None
    ]
    iso3s = sorted(per_country)
    return {
        "iso3": iso3s,
        "names": [country_name(c) for c in iso3s],
        "count": [per_country[c] for c in iso3s],
        "points": points,
        "unmapped": sorted(unmapped),
        "without_country": sum(1 for p in projects if not p.countries),
    }


def _chart_data(rows: list[dict[str, Any]]) -> dict[str, Any]:
    both = [
        r
        for r in rows
        if r["capital_intensity_per_t_yr"] is not None
        and r["years_to_production"] is not None
        # one axis, one currency: figures are not converted (no sourced exchange rate)
        and r["capex_currency"] == CHART_CURRENCY
    ]
    return {
        "x": [r["years_to_production"] for r in both],
        "y": [r["capital_intensity_per_t_yr"] for r in both],
        "size": [r["capacity_contained_t_per_year"] for r in both],
        "text": [f"{r['name']} ({r['years_basis']})" for r in both],
        "ids": [r["project_id"] for r in both],
    }


@router.get("/projects", response_class=HTMLResponse)
def projects_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    mineral: str | None = Query(None, max_length=60),
    stage: str | None = Query(None, max_length=30),
) -> HTMLResponse:
    check_allowed(request, principal, Action.READ_PUBLISHED)
    org, all_orgs = project_viewer(principal)
    viewer = service.Viewer(org=org, all_orgs=all_orgs)
    error = None
    projects = service.load_projects(engine, viewer=viewer)
    try:
        chosen = service.select(projects, mineral=mineral, stage=stage)
    except LodelineError as exc:
        error, chosen = exc.message, projects
    compared = service.compare([p.project_id for p in chosen], engine, viewer=viewer)
    rows = compared.frame.to_dicts()
    summary = {
        "projects": len(chosen),
        "with_capacity": sum(1 for p in chosen if p.capacity is not None),
        "with_contained": sum(
            1 for p in chosen if p.capacity and p.capacity.contained_t_per_year is not None
        ),
        "with_capex": sum(1 for p in chosen if p.capex is not None),
        "with_start": sum(1 for p in chosen if p.expected_start_year or p.production_start),
    }
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        "active": "projects",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        "error": error,
        "mineral": mineral or "",
        "stage": stage or "",
        "stages": [s.value for s in ProjectStage],
        "rows": rows,
        "summary": summary,
        "source_line": compared.provenance.source_line(),
        "notes": compared.provenance.notes,
        "not_stated": NOT_STATED,
        "map_json": _script_safe(json.dumps(_map_data(chosen))),
        "chart_json": _script_safe(json.dumps(_chart_data(rows))),
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, "projects.html", context)
