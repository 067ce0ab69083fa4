"""The Deals page's data: agreements and restrictive measures as dated events on one time axis, and the partner
countries of an alliance coloured by agreement type.

Every event keeps its entry's source (``source_url``, else the measure's ``instrument_source``; ``None`` = not
stated) and its ``shown_source_type`` (briefing-document rows are secondary). An entry without any stated date is one
row with ``event = "no date stated"`` and no date: it is listed, never placed on the axis at a made-up date.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from lodeline.deals.lifecycle import RECORDED, agreement_status, measure_status

#: When a partner is party to agreements of several types, the map colours it by the first type in this order
#: (the most committing form first; a plurilateral forum commits least to one partner). The hover text lists all.
TYPE_ORDER = ("FTA chapter", "strategic partnership", "framework", "MoU", "offtake", "plurilateral")

TIMELINE_SCHEMA = {
    "register": pl.String, "entry_id": pl.String, "title": pl.String, "who": pl.String, "type": pl.String,
    "event": pl.String, "date": pl.Date, "date_stated": pl.String, "end": pl.Date, "status": pl.String,
    "minerals": pl.String, "general": pl.Boolean, "source": pl.String, "shown_source_type": pl.String,
}  # fmt: skip
PARTNER_SCHEMA = {
    "country": pl.String, "shown_type": pl.String, "types": pl.String, "agreements": pl.String,
    "secondary_only": pl.Boolean,
}  # fmt: skip


def source_of(rec: dict[str, Any]) -> str | None:
    """The row's own source: its URL (or briefing-document citation), else a measure's instrument; None = not stated."""
    return rec.get("source_url") or rec.get("instrument_source") or None


def _row(rec: dict[str, Any], **cells: Any) -> dict[str, Any]:
    base = {
        "minerals": ";".join(rec.get("minerals") or []) or None,
        "general": bool(rec.get("general")),
        "source": source_of(rec),
        "shown_source_type": rec.get("shown_source_type"),
        "end": None,
    }
    return base | cells


def _agreement_events(rec: dict[str, Any], on: dt.date) -> list[dict[str, Any]]:
    common = {"register": "agreements", "entry_id": rec["agreement_id"], "title": rec.get("title"),
              "who": ";".join(rec.get("parties") or []), "type": rec.get("type"),
              "status": agreement_status(rec, on)}  # fmt: skip
    events = [("signed", rec.get("signed_start"), rec.get("signed_date")),
              ("in force", rec.get("in_force_start"), rec.get("in_force_date"))]  # fmt: skip
    status, status_date = rec.get("status"), rec.get("status_date")
    if status in RECORDED and status_date:
        events.append((str(status), dt.date.fromisoformat(str(status_date)[:10]), str(status_date)))
    rows = [_row(rec, **common, event=e, date=d, date_stated=s) for e, d, s in events if d is not None]
    return rows or [_row(rec, **common, event="no date stated", date=None, date_stated=None)]


def _measure_events(rec: dict[str, Any], on: dt.date) -> list[dict[str, Any]]:
    common = {"register": "measures", "entry_id": rec["measure_id"], "title": rec.get("kind"),
              "who": rec.get("jurisdiction"), "type": rec.get("kind"), "status": measure_status(rec, on)}  # fmt: skip
    s_from, s_until = rec.get("suspended_from"), rec.get("suspended_until")
    rows = [_row(rec, **common, event=e, date=d, date_stated=s)
            for e, d, s in (("announced", rec.get("announced_start"), rec.get("announced_date")),
                            ("effective", rec.get("effective_start"), rec.get("effective_date")))
            if d is not None]  # fmt: skip
    if s_from is not None:
        stated = f"{s_from.isoformat()} to {s_until.isoformat() if s_until else 'not stated'}"
        rows.append(
            _row(rec, **common, event="suspended", date=s_from, date_stated=stated) | {"end": s_until}
        )
    return rows or [_row(rec, **common, event="no date stated", date=None, date_stated=None)]


def timeline(agreements: list[dict[str, Any]], measures: list[dict[str, Any]], on: dt.date) -> pl.DataFrame:
    """Agreements (signed, in force, a recorded implemented/lapsed/terminated) and the *restrictive* measures
    (announced, effective, suspension window) as one frame of events, oldest first, undated entries last."""
    rows = [row for rec in agreements for row in _agreement_events(rec, on)]
    rows += [row for rec in measures if rec.get("restrictive") for row in _measure_events(rec, on)]
    frame = pl.DataFrame(rows, schema=TIMELINE_SCHEMA)
    return frame.sort(["date", "register", "entry_id"], nulls_last=True)


def partners(agreements: list[dict[str, Any]], alliance: frozenset[str]) -> pl.DataFrame:
    """The countries outside ``alliance`` that are party to at least one agreement, with the type the map colours
    them by (``TYPE_ORDER``), all their agreement types and ids, and whether every one of them is secondary."""
    found: dict[str, list[dict[str, Any]]] = {}
    for rec in agreements:
        for iso3 in rec.get("countries") or []:
            if iso3 not in alliance:
                found.setdefault(iso3, []).append(rec)
    rows = []
    for iso3, recs in sorted(found.items()):
        types = sorted({str(r.get("type")) for r in recs}, key=_type_rank)
        rows.append({
            "country": iso3, "shown_type": types[0], "types": ";".join(types),
            "agreements": ";".join(sorted(r["agreement_id"] for r in recs)),
            "secondary_only": all(r.get("shown_source_type") == "secondary" for r in recs),
        })  # fmt: skip
    return pl.DataFrame(rows, schema=PARTNER_SCHEMA)


def _type_rank(kind: str) -> tuple[int, str]:
    return (TYPE_ORDER.index(kind) if kind in TYPE_ORDER else len(TYPE_ORDER), kind)
