"""Normalised comparison metrics of projects (pure; docs/methods/projects.md).

- capital intensity: capex in its stated currency per tonne per year of contained capacity (never converted:
  the platform holds no exchange rate it can cite, so figures in different currencies are not compared as one);
- time to production: years from designation (or first status) to production start (actual) or the expected
  start year (flagged ``expected``);
- permitting: months from a complete permit application to the decision, against the CRMA caps for strategic
  projects (Regulation (EU) 2024/1252 Art. 11: 27 months for extraction, 15 months otherwise), only where both
  dates are stated;
- diversification: the points of single-supplier share the project's capacity would displace (see
  :func:`displacement`).
Every figure is None when an input is missing, with the reason in ``why``; nothing is filled with zero.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from lodeline.projects.schema import Project, ProjectStage

#: CRMA Art. 11(1) permit-granting time limits for strategic projects, months
PERMIT_CAP_MONTHS = {"extraction": 27, "other": 15}
#: project stage → the market stage the dependency figures use
MARKET_STAGE = {
    ProjectStage.EXTRACTION: "mining",
    ProjectStage.PROCESSING: "refining",
    ProjectStage.COMPONENTS: "component",
    ProjectStage.RECYCLING: "recycling",
}


def _date(text: str | None) -> dt.date | None:
    if not text:
        return None
    parts = [int(x) for x in text.split("-")]
    return dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)


def designation_date(p: Project) -> str | None:
    dates = [d.date for d in p.designations if d.date] or [e.date for e in p.status_history if e.date]
    return min(dates) if dates else None


def capital_intensity(p: Project) -> tuple[float | None, str | None]:
    """(capex currency units per t/yr contained, why None); the currency is ``p.capex.currency``."""
    if p.capex is None:
        return None, p.gaps.get("capex", "capex not stated")
    if p.capacity is None:
        return None, p.gaps.get("capacity", "capacity not stated")
    if p.capacity.contained_t_per_year is None:
        return None, p.capacity.factor_note or "capacity not convertible to contained metal"
    return p.capex.midpoint / p.capacity.contained_t_per_year, None


def time_to_production(p: Project) -> tuple[float | None, str | None, str | None]:
    """(years, basis 'actual' | 'expected', why None)."""
    start = _date(designation_date(p))
    if start is None:
        return None, None, "no designation or status date"
    if p.production_start:
        end, basis = _date(p.production_start), "actual"
    elif p.expected_start_year:
        end, basis = dt.date(p.expected_start_year, 7, 1), "expected"  # mid-year of the stated year
    else:
        return None, None, p.gaps.get("expected_start", "expected start not stated")
    assert end is not None
    return round((end - start).days / 365.25, 2), basis, None


def permitting(p: Project) -> dict[str, Any]:
    """Months from a complete application to the permit decision and the CRMA cap that applies."""
    cap = PERMIT_CAP_MONTHS["extraction" if ProjectStage.EXTRACTION in p.stages else "other"]
    applied, granted = _date(p.permit_applied), _date(p.permit_granted)
    if applied is None or granted is None:
        return {"permit_months": None, "permit_cap_months": cap, "within_cap": None,
                "permit_why": "permit application and decision dates not stated"}  # fmt: skip
    months = (
        (granted.year - applied.year) * 12
        + (granted.month - applied.month)
        + (granted.day - applied.day) / 30.4375
    )
    return {"permit_months": round(months, 1), "permit_cap_months": cap, "within_cap": months <= cap,
            "permit_why": None}  # fmt: skip


def displacement(share: float, denominator_t: float, capacity_t: float) -> float:
    """Points (0–1) of the top outside supplier's share displaced when ``capacity_t`` of alliance supply is
    added to a market of ``denominator_t`` in which that supplier holds ``share``: s − s·D / (D + C)."""
    if denominator_t <= 0:
        raise ValueError("denominator must be positive")
    return share - share * denominator_t / (denominator_t + capacity_t)


def _capex_text(p: Project) -> str:
    if p.capex is None:
        return "not stated"
    high = f"-{p.capex.value_high:,.0f}" if p.capex.value_high else ""
    return f"{p.capex.value:,.0f}{high} {p.capex.currency}"


def compare_row(p: Project) -> dict[str, Any]:
    """The comparison figures of one project, each with its source or the reason it is missing. Money stays in
    the currency the source states (``capex_currency``); nothing is converted."""
    intensity, intensity_why = capital_intensity(p)
    years, basis, years_why = time_to_production(p)
    cap = p.capacity
    sources = "; ".join(sorted({f"{s.list_name} ({s.source_type or 'not stated'})" for s in p.sources}))
    return {
        "project_id": p.project_id,
        "name": p.name,
        "countries": ";".join(p.countries),
        "minerals": ";".join(p.minerals),
        "stages": ";".join(s.value for s in p.stages),
        "capacity_contained_t_per_year": cap.contained_t_per_year if cap else None,
        "capacity_lce_t_per_year": cap.lce_t_per_year if cap else None,
        "capacity_stated": cap.raw if cap else "not stated",
        "capacity_factor": cap.factor_note if cap else None,
        "capex": p.capex.midpoint if p.capex else None,
        "capex_currency": p.capex.currency if p.capex else None,
        "capex_stated": _capex_text(p),
        "capital_intensity_per_t_yr": intensity,
        "capital_intensity_why": intensity_why,
        "designated": designation_date(p),
        "years_to_production": years,
        "years_basis": basis,
        "years_why": years_why,
        **permitting(p),
        "sources": sources,
    }
