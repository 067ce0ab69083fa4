"""Long trends of concentration and alliance dependency for the CLI, the API and the dashboard.

Loads every production source and the published shares of one mineral × stage from the store, stitches them with
:func:`lodeline.market.trends.trend` and lists every source used (the picked ones and the runners-up kept for the
overlap comparison) with its edition.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.groups import get_group
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.errors import NotFoundError, StoreNotBuiltError
from lodeline.market.trends import TREND_PRECEDENCE
from lodeline.market.trends import trend as stitch_trend
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import catalog, is_built, read_table

METHOD_TRENDS = "docs/methods/trends.md"


def _stages_with_data(production: pl.DataFrame, stage_shares: pl.DataFrame) -> list[str]:
    stages = set(production["stage"].unique().to_list()) | set(stage_shares["stage"].unique().to_list())
    return sorted(stages)


def trend(engine: Engine, mineral: str, stage: str, alliance: str = "G7+") -> MarketResult:
    """One row per year with data: the source picked for it, top supplier and share, top-3 share, HHI and the
    alliance's single-supplier dependency (production basis), with breaks between sources marked."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    group = get_group(alliance)
    if not is_built(engine):
        raise StoreNotBuiltError()
    production = read_table(engine, "production", mineral=mineral_id, measure="production", is_primary=True)
    published = read_table(engine, "stage_shares", mineral=mineral_id)
    result = stitch_trend(
        production.filter(pl.col("stage") == stage_id),
        published.filter(pl.col("stage") == stage_id),
        group.members,
    )
    frame = result.series
    if frame.is_empty():
        stages = _stages_with_data(production, published)
        raise NotFoundError(
            f"no {stage_id} production data for {mineral_id} in the bundled sources; "
            f"stages with data: {', '.join(stages) if stages else 'none'}"
        )
    frame = frame.with_columns(alliance=pl.lit(group.id))
    return MarketResult(frame, _provenance(engine, frame, group.id, group.description, len(group.members)))


def _provenance(
    engine: Engine, frame: pl.DataFrame, alliance: str, description: str, size: int
) -> Provenance:
    used = set(frame["source"].to_list()) | set(frame["alt_source"].drop_nulls().to_list())
    sources: list[dict[str, Any]] = [
        {"id": d["id"], "title": d["title"], "edition": d["edition"], "licence": d["licence"]}
        for d in catalog(engine)
        if d["id"] in used
    ]
    spans = (
        frame.group_by("source", "edition", "kind", "measures", "basis", "series", "scope_note")
        .agg(first=pl.col("year").min(), last=pl.col("year").max(), years=pl.len())
        .sort("first")
    )
    notes = [
        "precedence where sources overlap: "
        + " > ".join(TREND_PRECEDENCE)
        + "; within production tonnages the "
        "newest USGS MCS edition, then the older one, then the IEA (the runner-up is kept in the alt_* columns)",
        f"alliance {alliance}: {size} countries ({description}); alliance_dependency is the largest non-member "
        "producer's share of world production",
        "years without a row are gaps: nothing is interpolated",
    ]
    for s in spans.iter_rows(named=True):
        measured = f"{s['measures']}, {s['series']}" + (f", {s['basis']} basis" if s["basis"] else "")
        scope = f" ({s['scope_note']})" if s["scope_note"] else ""
        notes.append(
            f"{s['source']} ({s['edition']}): {s['first']}–{s['last']} ({s['years']} years), {s['kind']}; "
            f"measures {measured}{scope}"
        )
    for b in frame.filter(pl.col("break")).iter_rows(named=True):
        jump = (
            f"; at the overlap year {b['overlap_year']} HHI {b['jump_hhi']:+,.0f}"
            if b["overlap_year"] is not None and b["jump_hhi"] is not None
            else "; no common year to compare"
        )
        notes.append(f"source changes in {b['year']}: {b['break_from']} → {b['source']}{jump}")
    units = frame["unit"].drop_nulls().unique().to_list()  # world_total's unit, when every source uses one
    return Provenance(
        sources=sources, method=METHOD_TRENDS, unit=units[0] if len(units) == 1 else None, notes=notes
    )
