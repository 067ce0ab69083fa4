"""The last pure step before a stress-test result is shown: numerical noise to zero, assumptions pulled out.

The engine works in float64 on flows of 10^2–10^6 t/month, so quantities that are zero on paper come out as
1e-17 … 1e-11 (a member with no trade of its own, a stock drawn down to "empty", two solvers agreeing). Printed
as they are they read as real numbers (``6.6e-16 t`` of demand, a ``29 %`` shortfall of nothing). Every figure
the CLI, the API, the Stress-test page and the HTML report show goes through :func:`clean_report` (or
:func:`clean_rows`), so all four agree. The tolerance is documented in docs/methods/stress-test.md.
"""

from __future__ import annotations

import math
from typing import Any

#: Values whose magnitude is below this are reported as 0. For tonnes it is one gram; the same floor applies to
#: the figures derived from tonnes (percentages, days of cover, duals, the engine-vs-LP check).
NOISE_TOLERANCE = 1e-6

#: Substrings of network notes that are assumptions (shown on screen, not only in the HTML report), with a label.
_ASSUMPTION_KINDS = (
    ("PLACEHOLDER ASSUMPTION", "placeholder stocks"),
    ("re-export hubs", "re-export hubs"),
    ("PROXY", "trade proxy"),
    ("no capacity data", "capacity = output"),
    ("no production data", "output from exports"),
    ("no ore/intermediate trade", "upstream flows inferred"),
    ("merged into ROW", "small producers merged"),
    ("exports capped at output", "exports capped"),
    ("inline network", "inline network"),
)


def tolerance_text(tolerance: float = NOISE_TOLERANCE) -> str:
    """The tolerance written out for people ("0.000001"): never in exponent notation, which reads as noise."""
    return f"{tolerance:.12f}".rstrip("0").rstrip(".")


def clean_number(value: Any) -> Any:
    """``value`` with noise (|x| < :data:`NOISE_TOLERANCE`) set to 0.0; other values unchanged."""
    if isinstance(value, float) and math.isfinite(value) and abs(value) < NOISE_TOLERANCE:
        return 0.0
    return value


def clean_value(value: Any) -> Any:
    """Every float inside ``value`` (dicts and lists walked) cleaned by :func:`clean_number`."""
    if isinstance(value, dict):
        return {k: clean_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_value(v) for v in value]
    return clean_number(value)


def clean_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [clean_value(r) for r in rows]


def _member_row(row: dict[str, Any]) -> dict[str, Any]:
    """A per-country row: a ratio whose denominator is noise is not a figure. With no demand, the shortfall
    percentages are 0 and the days of cover undefined (None, as the engine reports for a real zero demand)."""
    out = clean_value(row)
    if out.get("demand_t") == 0.0:
        for key in ("shortfall_pct", "worst_month_shortfall_pct"):
            if key in out:
                out[key] = 0.0
        for key in ("days_of_cover_start", "days_of_cover_end"):
            if key in out:
                out[key] = None
    return out


def assumptions(notes: list[str]) -> list[dict[str, str]]:
    """The notes that are modelling assumptions, each with a short label (placeholder stocks, re-export hubs …)."""
    found = []
    for note in notes:
        for needle, label in _ASSUMPTION_KINDS:
            if needle in note:
                found.append({"kind": label, "text": note})
                break
    return found


def clean_report(report: dict[str, Any]) -> dict[str, Any]:
    """A run report (``RunReport.to_dict()``) with noise zeroed, rows of nothing dropped, assumptions listed."""
    out = clean_value(report)
    out["members"] = [_member_row(r) for r in report["members"]]
    out["binding_nodes"] = [
        r for r in out["binding_nodes"] if r["output_lost_t"] != 0.0 or r["exports_withheld_t"] != 0.0
    ]
    out["duals"] = [d for d in out["duals"] if d["value_per_tonne"] != 0.0]
    out["assumptions"] = assumptions(list(report["notes"]))
    out["noise_tolerance"] = NOISE_TOLERANCE
    return out


def shortfall_by_country_month(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The members' shortfall, stock draw and end stock per month (the table behind the page's heatmap)."""
    rows = []
    for month in report["monthly"]:
        for country, values in month["by_member"].items():
            rows.append({"month": month["month"], "country": country, **values})
    return rows
