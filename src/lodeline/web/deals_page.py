"""The Deals page and the Country page (producer view) of the deals register (docs/deals.md).

Deals page: the timeline of agreements and restrictive export measures on one time axis (filterable by mineral), a
map of the alliance's partner countries coloured by agreement type, and the coverage table for a chosen mineral and
stage. Country page: a country's agreements, the local value it creates (refined ÷ mined), its WGI governance, its
export measures and the disputes it hosts.

Everything comes from :mod:`lodeline.services.deals` (the service the CLI and the API call), cached per register
revision. Each row names its own source or says "not stated"; rows whose source is second-hand are marked
secondary. Figures travel as plotly JSON in ``<script type="application/json">`` blocks that static/js/deals.js
draws with the vendored plotly.js and the vendored world TopoJSON (no inline script, no network).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

import polars as pl
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from lodeline.api.access import Action
from lodeline.api.deps import EngineDep, PrincipalDep, check_allowed, session_from_cookie
from lodeline.deals.chart import TYPE_COLOURS, partner_map_figure, timeline_figure
from lodeline.deals.timeline import TYPE_ORDER
from lodeline.domain.countries import country_name
from lodeline.domain.groups import MAX_ALLIANCE_LENGTH, country_groups, resolve_alliance
from lodeline.domain.minerals import minerals, resolve_mineral, resolve_stage
from lodeline.errors import LodelineError
from lodeline.risk.governance import WGI_DIMENSIONS
from lodeline.services import deals as service

router = APIRouter(include_in_schema=False)
ALLIANCE = "G7+"
STAGES = ("mining", "refining", "component", "recycling")
WGI_NAMES = {
    "va": "Voice and accountability", "pv": "Political stability and absence of violence",
    "ge": "Government effectiveness", "rq": "Regulatory quality", "rl": "Rule of law", "cc": "Control of corruption",
}  # fmt: skip
MineralParam = Annotated[str | None, Query(max_length=64)]
StageParam = Annotated[str | None, Query(max_length=32)]
OnParam = Annotated[dt.date | None, Query(description="Status on this date (default: today)")]
AllianceParam = Annotated[str, Query(min_length=1, max_length=MAX_ALLIANCE_LENGTH)]


def _script_safe(text: str) -> str:
    """JSON that cannot end its ``<script>`` block early (``</`` is written ``<\\/``, still the same JSON)."""
    return text.replace("</", "<\\/")


def _cached(request: Request, key: tuple[Any, ...], compute: Any) -> Any:
    revision = service.revision(request.app.state.engine)
    return request.app.state.result_cache.get(("deals-page", revision, *key), compute)


def _render(request: Request, template: str, context: dict[str, Any]) -> HTMLResponse:
    session = session_from_cookie(request, request.app.state.engine)
    context = {
        "active": "deals",
        "principal": session[0] if session else None,
        "csrf_token": session[1] if session else "",
        **context,
    }
    templates: Jinja2Templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context)


def _sources(engine: Any, on: dt.date) -> dict[str, dict[str, Any]]:
    """Each agreement's own source and shown source type, for the coverage table's links."""
    frame = service.list_entries(engine, "agreements", on=on).frame
    return {
        r["agreement_id"]: r
        for r in frame.select("agreement_id", "title", "source_url", "shown_source_type").to_dicts()
    }


def _coverage(engine: Any, mineral: str | None, stage: str, alliance: str) -> dict[str, Any]:
    if mineral is None:
        return {"rows": [], "message": "Choose a mineral to see which agreements cover the alliance's gap."}
    try:
        result = service.coverage(engine, mineral, stage, alliance)
    except LodelineError as exc:
        return {"rows": [], "message": exc.message}
    rows = result.frame.sort(
        ["partner_share", "partner"], descending=[True, False], nulls_last=True
    ).to_dicts()
    for row in rows:
        row["agreement_ids"] = (row["agreements"] or "").split(";")
    return {"rows": rows, "head": rows[0] if rows else None, "source_line": result.provenance.source_line(),
            "notes": result.provenance.notes, "message": None if rows else "No agreement covers this gap."}  # fmt: skip


def _page_data(engine: Any, mineral: str | None, stage: str, alliance: str, on: dt.date) -> dict[str, Any]:
    events = service.timeline(engine, mineral, on=on)
    partners = service.partners(engine, mineral, alliance)
    source_line = events.provenance.source_line()
    frame = events.frame
    entries = (
        frame.group_by("register", "entry_id", maintain_order=True)
        .agg(
            pl.col(
                "title", "who", "type", "status", "minerals", "general", "source", "shown_source_type"
            ).first(),
            pl.col("event"),
            pl.col("date_stated"),
        )
        .to_dicts()
    )
    for entry in entries:
        dated = [(e, d) for e, d in zip(entry["event"], entry["date_stated"], strict=True) if d is not None]
        entry["events"] = "; ".join(f"{e} {d}" for e, d in dated) or "no date stated"
    counts = {k: partners.frame.filter(pl.col("shown_type") == k).height for k in TYPE_ORDER}
    return {
        "timeline_json": _script_safe(timeline_figure(frame, on, source_line).to_json()),
        "map_json": _script_safe(partner_map_figure(partners.frame, source_line).to_json()),
        "entries": entries,
        "undated": [e for e in entries if e["events"] == "no date stated"],
        "partners": partners.frame.to_dicts(),
        "type_counts": counts,
        "source_line": source_line,
        "partner_notes": partners.provenance.notes,
        "coverage": _coverage(engine, mineral, stage, alliance),
        "agreement_sources": _sources(engine, on),
    }


@router.get("/deals", response_class=HTMLResponse)
def deals_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    mineral: MineralParam = None,
    stage: StageParam = None,
    alliance: AllianceParam = ALLIANCE,
    on: OnParam = None,
) -> HTMLResponse:
    check_allowed(request, principal, Action.READ_PUBLISHED)
    mineral_id = resolve_mineral(mineral) if mineral else None
    stage_id = resolve_stage(stage).value if stage else "refining"
    group = resolve_alliance(alliance)
    day = on or dt.date.today()
    data = _cached(
        request,
        ("deals", mineral_id, stage_id, group.members, day),
        lambda: _page_data(engine, mineral_id, stage_id, group.id, day),
    )
    context = {
        **data,
        "mineral": mineral_id,
        "stage": stage_id,
        "stages": STAGES,
        "on": day.isoformat(),
        "minerals": sorted(minerals().values(), key=lambda m: m.name),
        "type_colours": TYPE_COLOURS,
        "alliance": group.id,
        "alliance_description": group.description,
        "alliance_groups": [{"id": g.id, "description": g.description} for g in country_groups().values()],
        "alliance_action": "/deals",
        "alliance_keep": {k: v for k, v in (("mineral", mineral_id), ("stage", stage_id)) if v},
        "csv_query": urlencode({k: v for k, v in (("mineral", mineral_id), ("on", day.isoformat())) if v}),
    }
    return _render(request, "deals.html", context)


@router.get("/deals/countries")
def country_redirect(country: Annotated[str, Query(min_length=1, max_length=80)]) -> RedirectResponse:
    """The no-JavaScript country picker submits here."""
    return RedirectResponse(f"/deals/countries/{service.resolve_producer(country)}", status_code=303)


def _governance(frame: pl.DataFrame) -> list[dict[str, Any]]:
    by_code = {r["indicator"]: r for r in frame.to_dicts()}
    return [{"indicator": c, "name": WGI_NAMES[c], **by_code.get(c, {"year": None, "estimate": None,
             "scaled_0_10_worse": None})} for c in WGI_DIMENSIONS]  # fmt: skip


def _country_data(engine: Any, iso3: str, on: dt.date) -> dict[str, Any]:
    view = service.country(engine, iso3, on=on)
    parts = view["parts"]
    return {
        "iso3": view["country"],
        "name": view["name"],
        "agreements": parts["agreements"].frame.to_dicts(),
        "value": parts["value_creation"].frame.sort(["mineral", "year"]).to_dicts(),
        "governance": _governance(parts["governance"].frame),
        "measures": parts["measures"].frame.to_dicts(),
        "disputes": parts["disputes"].frame.to_dicts(),
        "sources": {k: r.provenance.source_line() for k, r in parts.items()},
        "notes": {k: r.provenance.notes for k, r in parts.items()},
    }


@router.get("/deals/countries/{country}", response_class=HTMLResponse)
def country_page(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    country: Annotated[str, Path(min_length=1, max_length=80)],
    on: OnParam = None,
) -> Response:
    check_allowed(request, principal, Action.READ_PUBLISHED)
    iso3 = service.resolve_producer(country)
    if iso3 != country:
        query = f"?{request.url.query}" if request.url.query else ""
        return RedirectResponse(f"/deals/countries/{iso3}{query}", status_code=307)
    day = on or dt.date.today()
    data = _cached(request, ("country", iso3, day), lambda: _country_data(engine, iso3, day))
    return _render(
        request, "deal_country.html", {**data, "on": day.isoformat(), "country_name": country_name}
    )
