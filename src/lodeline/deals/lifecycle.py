"""Where a deal or a measure stands on a date, derived from its dates (and, for a deal, a status a member or the
secretariat recorded). Dates of month or year precision count from their first day (``*_start``).

Agreement: announced → signed → in force → implemented → lapsed / terminated. The bundled file has dates only, so
``implemented``, ``lapsed`` and ``terminated`` come from an amendment's ``status`` (with its ``status_date``).
Measure: announced → in force ⇄ suspended (a suspension window ``suspended_from`` … ``suspended_until``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

AGREEMENT_STAGES = ("announced", "signed", "in force", "implemented", "lapsed", "terminated")
RECORDED = ("implemented", "lapsed", "terminated")


def _on_or_before(value: Any, on: dt.date) -> bool:
    return value is not None and value <= on


def agreement_status(rec: dict[str, Any], on: dt.date) -> str:
    status = rec.get("status")
    status_date = rec.get("status_date")
    if status in RECORDED and (not status_date or str(status_date)[:10] <= on.isoformat()):
        return str(status)
    if _on_or_before(rec.get("in_force_start"), on):
        return "in force"
    if _on_or_before(rec.get("signed_start"), on):
        return "signed"
    if rec.get("signed_start") is not None:
        return "announced"  # signing date after `on`
    return "announced"  # no signing date stated


def measure_status(rec: dict[str, Any], on: dt.date) -> str:
    """``not announced`` (after `on`), ``announced`` (not yet effective, or no effective date stated),
    ``suspended`` (inside the suspension window), ``in force``."""
    announced, effective = rec.get("announced_start"), rec.get("effective_start")
    if announced is not None and announced > on and (effective is None or effective > on):
        return "not announced"
    if effective is None or effective > on:
        return "announced"
    s_from, s_until = rec.get("suspended_from"), rec.get("suspended_until")
    if s_from is not None and s_from <= on and (s_until is None or on <= s_until):
        return "suspended"
    return "in force"


def measure_note(rec: dict[str, Any], on: dt.date) -> str | None:
    s_until = rec.get("suspended_until")
    if rec.get("suspended_from") is not None and s_until is not None and s_until < on:
        return f"suspension ended {s_until.isoformat()}; no later extension recorded in the register"
    return None
