"""The Deals page's data (deals/timeline.py) and figures (deals/chart.py) on constructed records: events keep their
stated dates and their own source, undated entries are listed without a date, non-restrictive measures are left off
the timeline, and a partner with several agreement types is coloured by the most committing one."""

from __future__ import annotations

import datetime as dt
import json

from lodeline.deals.chart import partner_map_figure, timeline_figure
from lodeline.deals.timeline import partners, timeline

ON = dt.date(2025, 6, 1)
D = dt.date


def _agreement(aid: str, countries: list[str], kind: str, **extra: object) -> dict[str, object]:
    return {"agreement_id": aid, "parties": countries, "countries": countries, "type": kind, "title": aid,
            "minerals": [], "general": True, "signed_date": None, "signed_start": None, "in_force_date": None,
            "in_force_start": None, "status": None, "status_date": None, "source_url": None,
            "shown_source_type": "primary"} | extra  # fmt: skip


def _measure(mid: str, restrictive: bool, **extra: object) -> dict[str, object]:
    return {"measure_id": mid, "jurisdiction": "CHN", "kind": "licence", "restrictive": restrictive,
            "minerals": ["gallium"], "announced_date": "2023-07-03", "announced_start": D(2023, 7, 3),
            "effective_date": "2023-08-01", "effective_start": D(2023, 8, 1), "suspended_from": None,
            "suspended_until": None, "source_url": None, "instrument_source": "src-mofcom-23",
            "shown_source_type": "primary"} | extra  # fmt: skip


def test_timeline_events_sources_and_gaps() -> None:
    """a1 signed 2024-03 (month precision: placed on its first day, stated as written) and in force 2025-01-01;
    a2 has no date at all; m1 restrictive with a suspension 2025-11-10 … 2026-11-10; m2 not restrictive (absent)."""
    agreements = [
        _agreement("a1", ["USA", "CHL"], "MoU", signed_date="2024-03", signed_start=D(2024, 3, 1),
                   in_force_date="2025-01-01", in_force_start=D(2025, 1, 1), source_url="https://example.org/a1"),
        _agreement("a2", ["DEU", "NAM"], "strategic partnership", source_url="briefing document: X",
                   shown_source_type="secondary"),
    ]  # fmt: skip
    measures = [
        _measure("m1", True, suspended_from=D(2025, 11, 10), suspended_until=D(2026, 11, 10)),
        _measure("m2", False),
    ]
    frame = timeline(agreements, measures, ON)
    rows = [(r["entry_id"], r["event"], r["date"], r["date_stated"]) for r in frame.to_dicts()]
    assert rows == [
        ("m1", "announced", D(2023, 7, 3), "2023-07-03"),
        ("m1", "effective", D(2023, 8, 1), "2023-08-01"),
        ("a1", "signed", D(2024, 3, 1), "2024-03"),
        ("a1", "in force", D(2025, 1, 1), "2025-01-01"),
        ("m1", "suspended", D(2025, 11, 10), "2025-11-10 to 2026-11-10"),
        ("a2", "no date stated", None, None),
    ]
    by = {(r["entry_id"], r["event"]): r for r in frame.to_dicts()}
    assert by[("a1", "signed")]["status"] == "in force"  # status on ON
    assert by[("m1", "effective")]["source"] == "src-mofcom-23"  # a measure's instrument is its source
    assert by[("a2", "no date stated")]["source"] == "briefing document: X"
    assert by[("a2", "no date stated")]["shown_source_type"] == "secondary"
    assert by[("m1", "suspended")]["end"] == D(2026, 11, 10)
    fig = json.loads(timeline_figure(frame, ON, "Source: test").to_json())
    drawn = {y for t in fig["data"] for y in t["y"]}
    assert drawn == {"a1", "m1"}  # a2 has no date: listed in the page's table, never drawn
    a2_dated = timeline([agreements[1] | {"signed_date": "2025", "signed_start": D(2025, 1, 1)}], [], ON)
    fig = json.loads(timeline_figure(a2_dated, ON, "Source: test").to_json())
    assert fig["data"][0]["marker"]["symbol"] == ["circle-open"]  # a secondary row is drawn hollow


def test_partners_exclude_alliance_and_rank_types() -> None:
    """CHL is in an MoU and an FTA chapter (→ FTA chapter); NAM only in a secondary strategic partnership; USA and
    DEU are alliance members, so not partners."""
    agreements = [
        _agreement("a1", ["USA", "CHL"], "MoU"),
        _agreement("a2", ["DEU", "CHL"], "FTA chapter"),
        _agreement("a3", ["DEU", "NAM"], "strategic partnership", shown_source_type="secondary"),
    ]
    frame = partners(agreements, frozenset({"USA", "DEU"}))
    assert frame.to_dicts() == [
        {"country": "CHL", "shown_type": "FTA chapter", "types": "FTA chapter;MoU", "agreements": "a1;a2",
         "secondary_only": False},
        {"country": "NAM", "shown_type": "strategic partnership", "types": "strategic partnership",
         "agreements": "a3", "secondary_only": True},
    ]  # fmt: skip
    fig = json.loads(partner_map_figure(frame, "Source: test").to_json())
    assert {t["name"]: t["locations"] for t in fig["data"]} == {
        "FTA chapter": ["CHL"],
        "strategic partnership": ["NAM"],
    }
