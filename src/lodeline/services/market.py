"""Market intelligence for the CLI, the API and the reports: load from the store, compute, attach provenance."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.groups import get_group
from lodeline.domain.minerals import minerals, resolve_mineral, resolve_stage
from lodeline.errors import InvalidArgumentError, NotFoundError, StoreNotBuiltError
from lodeline.market.concentration import concentration as concentration_table
from lodeline.market.concentration import supply_shares
from lodeline.market.dependency import production_dependency, trade_dependency, with_targets
from lodeline.market.prices import price_indicators
from lodeline.market.series import primary_series
from lodeline.market.trade import import_shares, prefer_complete_coverage
from lodeline.market.value_creation import local_value_creation
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import catalog, is_built, read_table

METHOD_MARKET = "docs/methods/market-indicators.md"
METHOD_DEPENDENCY = "docs/methods/dependency.md"


def _require_built(engine: Engine) -> None:
    if not is_built(engine):
        raise StoreNotBuiltError()


def _provenance(
    engine: Engine,
    frame: pl.DataFrame,
    *,
    method: str,
    unit: str | None = None,
    notes: list[str] | None = None,
    extra_sources: tuple[str, ...] = (),
) -> Provenance:
    used = set(frame["source"].drop_nulls().unique().to_list()) if "source" in frame.columns else set()
    used |= set(extra_sources)
    sources = [
        {"id": d["id"], "title": d["title"], "edition": d["edition"], "licence": d["licence"]}
        for d in _catalog(engine)
        if d["id"] in used
    ]
    flags = sorted(frame["flag"].drop_nulls().unique().to_list()) if "flag" in frame.columns else []
    return Provenance(sources=sources, flags=flags, method=method, unit=unit, notes=notes or [])


def _catalog(engine: Engine) -> list[dict[str, Any]]:
    return catalog(engine)


def _check_year(year: int | None) -> None:
    if year is not None and not 1900 <= year <= 2100:
        raise InvalidArgumentError(f"invalid year {year}: expected 1900–2100")


def load_primary(engine: Engine, mineral: str | None = None) -> pl.DataFrame:
    _require_built(engine)
    production = read_table(engine, "production", mineral=mineral, measure="production", is_primary=True)
    return primary_series(production)


def shares(engine: Engine, mineral: str, stage: str, year: int | None = None) -> MarketResult:
    """Each country's share of a mineral × stage in ``year`` (default: the latest year with data)."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    _check_year(year)
    rows = load_primary(engine, mineral_id).filter(pl.col("stage") == stage_id)
    if rows.is_empty():
        raise NotFoundError(f"no {stage_id} production data for {mineral_id} in the bundled sources")
    table = supply_shares(rows)
    years = sorted(table["year"].unique().to_list())
    chosen = year if year is not None else years[-1]
    if chosen not in years:
        raise NotFoundError(f"no {stage_id} data for {mineral_id} in {chosen}; years with data: {years}")
    frame = table.filter(pl.col("year") == chosen).drop("total")
    unit = frame["unit"].drop_nulls().first() if frame.height else None
    return MarketResult(
        frame, _provenance(engine, frame, method=METHOD_MARKET, unit=str(unit) if unit else None)
    )


def concentration(engine: Engine, mineral: str, stage: str | None = None) -> MarketResult:
    mineral_id = resolve_mineral(mineral)
    rows = load_primary(engine, mineral_id)
    if stage is not None:
        rows = rows.filter(pl.col("stage") == resolve_stage(stage).value)
    if rows.is_empty():
        raise NotFoundError(f"no production data for {mineral_id}" + (f" at stage {stage}" if stage else ""))
    frame = concentration_table(supply_shares(rows))
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_MARKET))


def dependency(engine: Engine, mineral: str, alliance: str = "G7+") -> MarketResult:
    """Per stage and year: the largest supplier outside the alliance, its share, the target and the gap."""
    mineral_id = resolve_mineral(mineral)
    group = get_group(alliance)
    parts = []
    rows = load_primary(engine, mineral_id)
    if not rows.is_empty():
        parts.append(production_dependency(supply_shares(rows), group.members))
    trade = read_table(engine, "trade", mineral=mineral_id)
    if not trade.is_empty():
        parts.append(trade_dependency(trade, group.members, measure="value_usd"))
        with_qty = trade.filter(pl.col("quantity_t").is_not_null())
        if not with_qty.is_empty():
            parts.append(trade_dependency(with_qty, group.members, measure="quantity_t"))
    if not parts:
        raise NotFoundError(f"no production or trade data for {mineral_id}")
    frame = pl.concat(parts, how="vertical_relaxed").sort(["stage", "basis", "year"])
    targets = read_table(engine, "targets")
    frame = with_targets(frame, targets).with_columns(alliance=pl.lit(group.id))
    notes = [f"alliance {group.id}: {len(group.members)} countries ({group.description})"]
    return MarketResult(
        frame,
        _provenance(
            engine, frame, method=METHOD_DEPENDENCY, notes=notes, extra_sources=("policy_facts_targets",)
        ),
    )


def trade_flows(engine: Engine, mineral: str, year: int | None = None, alliance: str = "G7+") -> MarketResult:
    """Bilateral flows into alliance members from outside it (the trade Sankey)."""
    mineral_id = resolve_mineral(mineral)
    _check_year(year)
    group = get_group(alliance)
    trade = read_table(engine, "trade", mineral=mineral_id)
    if trade.is_empty():
        raise NotFoundError(f"no trade data for {mineral_id}")
    chosen = year if year is not None else int(trade["year"].max())  # type: ignore[arg-type]
    frame = (
        trade.filter(
            (pl.col("year") == chosen)
            & pl.col("importer").is_in(list(group.members))
            & ~pl.col("exporter").is_in(list(group.members))
        )
        .pipe(prefer_complete_coverage, ["mineral", "stage", "year"])
        .group_by("exporter", "importer", "stage", "coverage", "source", "edition")
        .agg(pl.col("value_usd").sum(), pl.col("quantity_t").sum())
        .sort("value_usd", descending=True)
    )
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_DEPENDENCY, unit="USD"))


def imports_by_origin(engine: Engine, mineral: str, importer: str = "G7+") -> MarketResult:
    mineral_id = resolve_mineral(mineral)
    members = (
        get_group(importer).members
        if not (len(importer) == 3 and importer.isupper())
        else frozenset({importer})
    )
    frame = import_shares(read_table(engine, "trade", mineral=mineral_id), members)
    return MarketResult(
        frame, _provenance(engine, frame, method=METHOD_MARKET, extra_sources=("cepii_baci",))
    )


def value_creation(engine: Engine, mineral: str | None = None) -> MarketResult:
    mineral_id = resolve_mineral(mineral) if mineral else None
    frame = local_value_creation(load_primary(engine, mineral_id))
    sources = tuple(load_primary(engine, mineral_id)["source"].unique().to_list())
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_MARKET, extra_sources=sources))


def prices(engine: Engine, mineral: str) -> MarketResult:
    mineral_id = resolve_mineral(mineral)
    _require_built(engine)
    raw = read_table(engine, "prices", mineral=mineral_id)
    if raw.is_empty():
        raise NotFoundError(f"no price series for {mineral_id} in the bundled sources")
    frame = price_indicators(raw)
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_MARKET))


@lru_cache(maxsize=1)
def _mineral_names() -> dict[str, str]:
    return {m.id: m.name for m in minerals().values()}


def minerals_overview(engine: Engine, alliance: str = "G7+") -> MarketResult:
    """One row per mineral with data: its stages, latest year, concentration, top supplier and the
    alliance's single-supplier dependency (latest year, the stage with the highest dependency)."""
    group = get_group(alliance)
    primary = load_primary(engine)
    conc = concentration_table(supply_shares(primary))
    dep = production_dependency(supply_shares(primary), group.members)
    latest = conc.sort("year").group_by("mineral", "stage").last()
    # trend: HHI change over the latest five years of the mineral × stage
    first = (
        conc.sort("year")
        .group_by("mineral", "stage")
        .agg(hhi_first=pl.col("hhi").first(), year_first=pl.col("year").first())
    )
    latest = latest.join(first, on=["mineral", "stage"]).with_columns(
        hhi_change=pl.col("hhi") - pl.col("hhi_first")
    )
    dep_latest = (
        dep.sort("year")
        .group_by("mineral", "stage")
        .last()
        .select("mineral", "stage", "top_external_supplier", "top_external_share")
    )
    rows = latest.join(dep_latest, on=["mineral", "stage"], how="left")
    frame = (
        rows.sort("top_external_share", descending=True, nulls_last=True)
        .group_by("mineral", maintain_order=True)
        .agg(
            stages=pl.col("stage").sort().str.join(","),
            latest_year=pl.col("year").max(),
            hhi=pl.col("hhi").first(),
            hhi_stage=pl.col("stage").first(),
            top_supplier=pl.col("top_supplier").first(),
            top1_share=pl.col("top1_share").first(),
            alliance_dependency=pl.col("top_external_share").first(),
            top_external_supplier=pl.col("top_external_supplier").first(),
            hhi_change=pl.col("hhi_change").first(),
            since=pl.col("year_first").first(),
            source=pl.col("source").first(),
        )
        .with_columns(name=pl.col("mineral").replace_strict(_mineral_names(), default=pl.col("mineral")))
        .sort("mineral")
    )
    return MarketResult(frame, _provenance(engine, primary, method=METHOD_MARKET))


def sources(engine: Engine) -> MarketResult:
    rows = [
        {k: d[k] for k in ("id", "title", "publisher", "edition", "licence", "rows", "sha256")}
        for d in _catalog(engine)
    ]
    frame = pl.DataFrame(rows) if rows else pl.DataFrame()
    return MarketResult(frame, Provenance(sources=[], method="docs/data.md"))
