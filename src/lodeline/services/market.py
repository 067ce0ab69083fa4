"""Market intelligence for the CLI, the API and the reports: load from the store, compute, attach provenance."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.countries import resolve_country
from lodeline.domain.groups import CountryGroup, country_groups, get_group, is_group, resolve_alliance
from lodeline.domain.minerals import minerals, resolve_mineral, resolve_stage
from lodeline.errors import (
    InvalidArgumentError,
    NotFoundError,
    StoreNotBuiltError,
    UnknownCountryError,
    UnknownGroupError,
)
from lodeline.market.concentration import concentration as concentration_table
from lodeline.market.concentration import prefer_newest_source, published_shares, supply_shares
from lodeline.market.dependency import (
    apparent_consumption_dependency,
    production_dependency,
    trade_dependency,
    with_targets,
)
from lodeline.market.prices import price_indicators
from lodeline.market.scope import measured_name
from lodeline.market.series import primary_series
from lodeline.market.targets import target_table
from lodeline.market.trade import import_shares, prefer_complete_coverage
from lodeline.market.value_creation import local_value_creation
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import catalog, is_built, read_table

METHOD_MARKET = "docs/methods/market-indicators.md"
METHOD_DEPENDENCY = "docs/methods/dependency.md"
METHOD_TARGETS = "docs/methods/targets.md"


def require_built(engine: Engine) -> None:
    """Raise StoreNotBuiltError unless ``lodeline data build`` has filled the store (for other services too)."""
    if not is_built(engine):
        raise StoreNotBuiltError()


def provenance(
    engine: Engine,
    frame: pl.DataFrame,
    *,
    method: str,
    unit: str | None = None,
    notes: list[str] | None = None,
    extra_sources: tuple[str, ...] = (),
) -> Provenance:
    """The provenance of a market frame: the catalog entries of the sources its ``source`` column names (plus
    ``extra_sources``), its flags, method, unit and notes (for other services too)."""
    used = set(frame["source"].drop_nulls().unique().to_list()) if "source" in frame.columns else set()
    used |= set(extra_sources)
    sources = [
        {"id": d["id"], "title": d["title"], "edition": d["edition"], "licence": d["licence"]}
        for d in _catalog(engine)
        if d["id"] in used
    ]
    flags = sorted(frame["flag"].drop_nulls().unique().to_list()) if "flag" in frame.columns else []
    return Provenance(sources=sources, flags=flags, method=method, unit=unit, notes=notes or [])


# The names the functions of this module call them by.
_require_built, _provenance = require_built, provenance


def _catalog(engine: Engine) -> list[dict[str, Any]]:
    return catalog(engine)


def _check_year(year: int | None) -> None:
    if year is not None and not 1900 <= year <= 2100:
        raise InvalidArgumentError(f"invalid year {year}: expected 1900–2100")


def load_primary(engine: Engine, mineral: str | None = None) -> pl.DataFrame:
    _require_built(engine)
    production = read_table(engine, "production", mineral=mineral, measure="production", is_primary=True)
    return primary_series(production)


def market_shares(engine: Engine, mineral: str | None = None) -> pl.DataFrame:
    """Country shares per mineral × stage × year from the newest source of each stage: production tonnages
    (USGS, IEA) or, where it runs later, a share-only source (BGS refined shares; e.g. germanium refining)."""
    production = supply_shares(load_primary(engine, mineral))
    published = published_shares(read_table(engine, "stage_shares", mineral=mineral))
    return prefer_newest_source(production, published)


def shares(engine: Engine, mineral: str, stage: str, year: int | None = None) -> MarketResult:
    """Each country's share of a mineral × stage in ``year`` (default: the latest year with at least one
    known share)."""
    mineral_id, stage_id = resolve_mineral(mineral), resolve_stage(stage).value
    _check_year(year)
    table = market_shares(engine, mineral_id).filter(pl.col("stage") == stage_id)
    if table.is_empty():
        raise NotFoundError(f"no {stage_id} production data for {mineral_id} in the bundled sources")
    years = sorted(table["year"].unique().to_list())
    known = sorted(table.filter(pl.col("share").is_not_null())["year"].unique().to_list())
    if year is None and not known:
        raise NotFoundError(f"no {stage_id} shares for {mineral_id}: every year is withheld or not available")
    chosen = year if year is not None else known[-1]
    if chosen not in years:
        raise NotFoundError(f"no {stage_id} data for {mineral_id} in {chosen}; years with data: {years}")
    frame = table.filter(pl.col("year") == chosen).drop("total")
    unit = frame["unit"].drop_nulls().first() if frame.height else None
    return MarketResult(
        frame, _provenance(engine, frame, method=METHOD_MARKET, unit=str(unit) if unit else None)
    )


def concentration(engine: Engine, mineral: str, stage: str | None = None) -> MarketResult:
    mineral_id = resolve_mineral(mineral)
    rows = market_shares(engine, mineral_id)
    if stage is not None:
        rows = rows.filter(pl.col("stage") == resolve_stage(stage).value)
    if rows.is_empty():
        raise NotFoundError(f"no production data for {mineral_id}" + (f" at stage {stage}" if stage else ""))
    frame = concentration_table(rows)
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_MARKET))


def dependency_frame(engine: Engine, members: frozenset[str], mineral: str | None = None) -> pl.DataFrame:
    """Every basis of the single-supplier dependency for one mineral (or all, ``mineral=None``): the pure
    functions group by mineral × stage × year, so one pass over all minerals equals the per-mineral passes."""
    parts = []
    rows = market_shares(engine, mineral)
    if not rows.is_empty():
        parts.append(production_dependency(rows, members))
    trade = read_table(engine, "trade", mineral=mineral)
    if not trade.is_empty():
        parts.append(trade_dependency(trade, members, measure="value_usd"))
        with_qty = trade.filter(pl.col("quantity_t").is_not_null())
        if not with_qty.is_empty():
            parts.append(trade_dependency(with_qty, members, measure="quantity_t"))
            if not rows.is_empty():
                parts.append(apparent_consumption_dependency(rows, with_qty, members))
    if not parts:
        raise NotFoundError(f"no production or trade data for {mineral or 'any mineral'}")
    return pl.concat(parts, how="vertical_relaxed").sort(["mineral", "stage", "basis", "year"])


_dependency_frame = dependency_frame


def _alliance_note(group: CountryGroup) -> str:
    return f"alliance {group.id}: {len(group.members)} countries ({group.description})"


def dependency(engine: Engine, mineral: str, alliance: str = "G7+") -> MarketResult:
    """Per stage and year: the largest supplier outside the alliance, its share, the target and the gap.
    ``alliance`` is a group id or a comma-separated list of ISO3 codes (:func:`resolve_alliance`)."""
    mineral_id = resolve_mineral(mineral)
    group = resolve_alliance(alliance)
    _require_built(engine)
    frame = _dependency_frame(engine, group.members, mineral_id).sort(["stage", "basis", "year"])
    targets = read_table(engine, "targets")
    frame = with_targets(frame, targets).with_columns(alliance=pl.lit(group.id))
    notes = [
        _alliance_note(group),
        "share_of names each figure's denominator: world production, or the alliance's imports from outside the "
        "alliance (trade between members is left out); flag top6-truncated marks years from the truncated "
        "top-6 BACI series",
    ]
    return MarketResult(
        frame,
        _provenance(
            engine, frame, method=METHOD_DEPENDENCY, notes=notes, extra_sources=("policy_facts_targets",)
        ),
    )


def targets(engine: Engine, alliance: str = "G7+") -> MarketResult:
    """For every mineral × stage × basis with a figure: the latest single-supplier dependency of the alliance
    against the G7 60 % test and 50 % ambition (a G7 target for rare earths and magnets, the same yardstick as a
    comparison elsewhere) and, for the EU27, the CRMA 65 % benchmark; gaps in percentage points and since when."""
    group = resolve_alliance(alliance)
    _require_built(engine)
    eu27 = is_group(group, "EU27")
    frame = target_table(
        _dependency_frame(engine, group.members), read_table(engine, "targets"), crma=eu27
    ).with_columns(alliance=pl.lit(group.id))
    notes = [
        _alliance_note(group),
        "gap_pp = (dependency - threshold) x 100 in percentage points: positive = misses by that much, "
        "negative = headroom; the 60 % test is strict (exactly 60 % misses)",
        "yardstick: the G7 target names rare earths and permanent magnets; other minerals are measured with the "
        "same yardstick as a comparison only",
        "since: first year of the unbroken run of misses up to the latest year, over the years with a figure; "
        "'since at least' where the earliest year with data already misses or the year before has no figure",
        "EU CRMA benchmark (Regulation (EU) 2024/1252, Art. 1(2)): at most 65 % of annual consumption from one "
        "third country by 2030; shown for the EU27 only"
        + ("" if eu27 else " (this alliance is not the EU27: crma columns are empty)"),
    ]
    return MarketResult(
        frame,
        _provenance(
            engine, frame, method=METHOD_TARGETS, notes=notes, extra_sources=("policy_facts_targets",)
        ),
    )


def trade_flows(engine: Engine, mineral: str, year: int | None = None, alliance: str = "G7+") -> MarketResult:
    """Bilateral flows into alliance members from outside it (the trade Sankey)."""
    mineral_id = resolve_mineral(mineral)
    _check_year(year)
    group = resolve_alliance(alliance)
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


def resolve_importer(importer: str) -> CountryGroup:
    """A country group (G7+, EU27 …; looked up first), a comma-separated list of ISO3 codes, or one country (ISO3
    code or name), as a group of importers."""
    try:
        return get_group(importer)
    except UnknownGroupError:
        pass
    if "," in importer:
        return resolve_alliance(importer)
    try:
        iso3 = resolve_country(importer)
    except UnknownCountryError:
        raise InvalidArgumentError(
            f"importer {importer!r} is neither a country group ({', '.join(sorted(country_groups()))}) "
            "nor a country (ISO 3166 alpha-3 code or name) nor a comma-separated list of ISO3 codes"
        ) from None
    return CountryGroup(iso3, iso3, frozenset({iso3}))


def imports_by_origin(engine: Engine, mineral: str, importer: str = "G7+") -> MarketResult:
    """Import shares by origin for a country group or one country (groups resolve first)."""
    mineral_id = resolve_mineral(mineral)
    group = resolve_importer(importer)
    _require_built(engine)
    frame = import_shares(read_table(engine, "trade", mineral=mineral_id), group.members)
    notes = [
        f"importer {group.id}: {group.description}"
        + (" (intra-group trade excluded)" if len(group.members) > 1 else "")
    ]
    return MarketResult(
        frame, _provenance(engine, frame, method=METHOD_MARKET, notes=notes, extra_sources=("cepii_baci",))
    )


def value_creation(engine: Engine, mineral: str | None = None) -> MarketResult:
    mineral_id = resolve_mineral(mineral) if mineral else None
    primary = load_primary(engine, mineral_id)
    frame = local_value_creation(primary)
    sources = tuple(frame["mined_source"].unique().to_list() + frame["refined_source"].unique().to_list())
    notes = [
        "refined_to_mined is refined ÷ mined in tonnes; it is left empty where comparable is false "
        "(comparable_note says why)"
    ]
    return MarketResult(
        frame, _provenance(engine, frame, method=METHOD_MARKET, notes=notes, extra_sources=sources)
    )


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
    """One row per mineral with data. Every figure of a row comes from one stage and one year, given in the
    ``stage`` and ``year`` columns: the stage where the alliance's single-supplier dependency (production basis)
    is highest in that stage's latest year with known shares. ``name`` names what that stage's series measures."""
    group = resolve_alliance(alliance)
    shares_all = market_shares(engine)
    keys = ["mineral", "stage"]
    conc = concentration_table(shares_all)
    dep = production_dependency(shares_all, group.members).select(
        *keys, "year", "top_external_supplier", "top_external_share", "alliance_share", "alliance_share_flag"
    )
    per_year = conc.join(dep, on=[*keys, "year"], how="left")
    first = (
        conc.sort("year").group_by(keys).agg(hhi_first=pl.col("hhi").first(), since=pl.col("year").first())
    )
    latest = (
        per_year.sort("year")
        .group_by(keys)
        .last()
        .join(first, on=keys)
        .with_columns(
            hhi_change=pl.when(pl.col("year") > pl.col("since")).then(pl.col("hhi") - pl.col("hhi_first"))
        )
    )
    stages = latest.group_by("mineral").agg(stages=pl.col("stage").sort().str.join(","))
    frame = (
        latest.sort(
            ["mineral", "top_external_share", "stage"], descending=[False, True, False], nulls_last=True
        )
        .group_by("mineral", maintain_order=True)
        .first()
        .join(stages, on="mineral")
        .with_columns(
            name=measured_name(
                pl.col("mineral"),
                pl.col("series"),
                pl.col("mineral").replace_strict(_mineral_names(), default=pl.col("mineral")),
            ),
            dependency_basis=pl.lit("production: share of world production"),
        )
        .select(
            "mineral",
            "name",
            "stages",
            "stage",
            "year",
            "series",
            "hhi",
            "top_supplier",
            "top1_share",
            alliance_dependency=pl.col("top_external_share"),
            top_external_supplier=pl.col("top_external_supplier"),
            alliance_share=pl.col("alliance_share"),
            alliance_share_flag=pl.col("alliance_share_flag"),
            dependency_basis=pl.col("dependency_basis"),
            hhi_change=pl.col("hhi_change"),
            since=pl.col("since"),
            unit=pl.col("unit"),
            source=pl.col("source"),
            edition=pl.col("edition"),
        )
        .sort("mineral")
    )
    notes = [
        "each row's figures (HHI, top supplier and share, alliance dependency) come from its stage and year; "
        "hhi_change is the change since the stage's first year (since)"
    ]
    return MarketResult(frame, _provenance(engine, frame, method=METHOD_MARKET, notes=notes))


def sources(engine: Engine) -> MarketResult:
    rows = [
        {k: d[k] for k in ("id", "title", "publisher", "edition", "licence", "rows", "sha256")}
        for d in _catalog(engine)
    ]
    frame = pl.DataFrame(rows) if rows else pl.DataFrame()
    return MarketResult(frame, Provenance(sources=[], method="docs/data.md"))
