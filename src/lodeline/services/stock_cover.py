"""Days of cover of the pooled stockpiles against the alliance's consumption (CLI ``lodeline stocks cover``,
``GET /api/v1/stocks/cover``, the Stocks page). Method: docs/methods/stock-days-of-cover.md.

Pooled contained tonnes are the PUBLISHED mineral totals of the contained-tonnes table
(:func:`lodeline.services.stock_aggregates.published`, disclosure-controlled: a suppressed total stays ``:c`` and
gives no cover); consumption is the alliance's apparent consumption (production + imports − exports, t) from the
market tables (:func:`lodeline.services.market.dependency`, basis "apparent consumption"), taken only at the
refining stage, where production and trade both measure the refined metal (a contained-metal basis); the latest
year with a figure. Everyone sees the same table: no member's figure is in it.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.groups import resolve_alliance
from lodeline.errors import LodelineError
from lodeline.services import market as market_service
from lodeline.services import stock_aggregates
from lodeline.services.results import MarketResult, Provenance
from lodeline.stockpiles.cover import cover_table

METHOD = "docs/methods/stock-days-of-cover.md"
#: Stages whose apparent consumption is on a contained-metal basis (refined metal; mining-stage series of the
#: apparent-consumption list, bauxite and baryte, are gross ore weight and are not used).
CONTAINED_STAGES = ("refining",)


def _consumption(
    engine: Engine, minerals: list[str], alliance: str
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    """Per mineral, the latest year's apparent consumption on a contained basis (or nothing: a gap)."""
    rows: list[dict[str, Any]] = []
    sources: dict[str, dict[str, Any]] = {}
    for mineral in minerals:
        try:
            result = market_service.dependency(engine, mineral, alliance)
        except LodelineError:
            continue  # unknown mineral, store not built or no market data: a gap, said per row
        found = result.frame.filter(
            (pl.col("basis") == "apparent consumption")
            & pl.col("stage").is_in(CONTAINED_STAGES)
            & pl.col("denominator").is_not_null()
        ).sort("year")
        if found.is_empty():
            continue
        last = found.row(-1, named=True)
        rows.append(
            {
                "mineral": mineral,
                "consumption_t": float(last["denominator"]),
                "year": int(last["year"]),
                "basis": f"apparent consumption, {last['stage']} stage (refined metal = contained), t/year",
                "source": last["source"],
                "flag": last["flag"],
            }
        )
        for s in result.provenance.sources:
            sources[s["id"]] = s
    schema = {
        "mineral": pl.Utf8,
        "consumption_t": pl.Float64,
        "year": pl.Int64,
        "basis": pl.Utf8,
        "source": pl.Utf8,
        "flag": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema), list(sources.values())


def cover(engine: Engine, period: str, alliance: str = "G7+") -> MarketResult:
    """Per mineral of ``period``'s published contained table: pooled contained tonnes (or ``:c``), the alliance's
    annual apparent consumption (year, source, basis) and days of cover = contained / consumption × 365."""
    group = resolve_alliance(alliance)

    def totals(measure: str) -> pl.DataFrame:
        frame = stock_aggregates.published(engine, period, measure=measure).frame
        return frame.filter(
            (pl.col("mineral") != "ALL") & (pl.col("holder_type") == "ALL") & (pl.col("form") == "ALL")
        )

    # every mineral submitted (either measure), with its published contained total where there is one
    contained = totals("contained").select("mineral", pl.col("tonnes").alias("contained_t"), "flag")
    minerals = pl.concat([totals("gross").select("mineral"), contained.select("mineral")]).unique()
    pooled = minerals.join(contained, on="mineral", how="left")
    consumption, sources = _consumption(engine, pooled["mineral"].to_list(), group.id)
    frame = cover_table(pooled, consumption).with_columns(alliance=pl.lit(group.id))
    notes = [
        f"{period}: pooled contained tonnes are the published totals of the disclosure-controlled contained table "
        "(a suppressed total stays :c and gives no cover)",
        f"consumption: alliance {group.id} ({len(group.members)} countries) apparent consumption = production + "
        "imports from outside − exports to outside, refining stage only (refined metal, i.e. contained), latest "
        "year with a figure; minerals without one are gaps, not zeros",
        "days_of_cover = contained_t / consumption_t × 365",
    ]
    flags = sorted(
        {f for f in frame["consumption_flag"].drop_nulls().to_list()}
        | ({":c"} if frame["contained_flag"].drop_nulls().len() else set())
    )
    provenance = Provenance(
        sources=sources, flags=flags, method=METHOD, unit="t contained; days", notes=notes
    )
    return MarketResult(frame, provenance)
