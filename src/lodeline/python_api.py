"""The Python API: every capability as a function that returns a :class:`Result` (a Polars frame and its provenance).

Reached as ``from lodeline import dependency, …`` (``lodeline/__init__.py`` loads this module on first use, so
``import lodeline`` stays fast). The functions call the same services as the CLI, the API and the dashboard; they
add nothing but opening the store. What is public and stable is listed in :data:`__all__` and in
``docs/python.md``.

>>> import lodeline
>>> result = lodeline.dependency("rare-earths", alliance="G7")   # doctest: +SKIP
>>> result.frame.filter(stage="refining")                         # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.services.results import Provenance

__all__ = [
    "Provenance",
    "Result",
    "Store",
    "StressTest",
    "concentration",
    "criticality",
    "dependency",
    "geopolitical",
    "imports",
    "open_store",
    "overview",
    "prices",
    "scenarios",
    "sensitivity",
    "shares",
    "sources",
    "stress_test",
    "targets",
    "trade_flows",
    "trend",
    "value_creation",
]

METHOD_CRITICALITY = "docs/methods/criticality.md"
METHOD_STRESS_TEST = "docs/methods/stress-test.md"


@dataclass(frozen=True)
class Store:
    """An open Lodeline store (SQLite file or PostgreSQL database) with the bundled data built into it."""

    url: str
    engine: Engine = field(repr=False)


@dataclass(frozen=True)
class Result:
    """A result frame with where it comes from.

    ``frame`` is a :class:`polars.DataFrame`; ``provenance`` names the sources (id, title, edition, licence), the
    data-quality flags present in the rows, the method document, the unit and notes. ``title`` says what the
    frame is. Write it with :meth:`to_csv`, :meth:`to_parquet` or :meth:`to_xlsx` (with a provenance sheet)."""

    frame: pl.DataFrame
    provenance: Provenance
    title: str = ""

    def to_csv(self, path: str | Path) -> Path:
        """Write the rows as CSV (the provenance is not in a CSV: keep :attr:`provenance` or use xlsx)."""
        target = _out_path(path)
        self.frame.write_csv(target)
        return target

    def to_parquet(self, path: str | Path) -> Path:
        """Write the rows as Parquet, with the provenance as JSON in the file's key-value metadata
        (key ``lodeline.provenance``)."""
        target = _out_path(path)
        self.frame.write_parquet(
            target, metadata={"lodeline.provenance": json.dumps(self.provenance.to_dict(), default=str)}
        )
        return target

    def to_xlsx(self, path: str | Path) -> Path:
        """Write an Excel workbook: a ``data`` sheet with the rows and a ``provenance`` sheet (sources, editions,
        licences, flags, method, notes, generated-at)."""
        from lodeline.export import write_xlsx

        return write_xlsx(
            _out_path(path), self.frame, self.provenance.to_dict(), title=self.title or "Lodeline"
        )

    def _repr_html_(self) -> str:  # a notebook shows the frame and its source line
        html = self.frame._repr_html_()
        from html import escape

        return f"<p><b>{escape(self.title)}</b></p>{html}<p><small>{escape(self.provenance.source_line())}</small></p>"


@dataclass(frozen=True)
class StressTest(Result):
    """A stress-test run: ``frame`` has one row per consumer (member or not) over the horizon; ``monthly`` one
    row per month; ``report`` is the full run report (binding nodes, LP duals, notes) as the CLI prints it."""

    monthly: pl.DataFrame = field(default_factory=pl.DataFrame)
    report: dict[str, Any] = field(default_factory=dict)


def _out_path(path: str | Path) -> Path:
    """The output path, its folder checked (a missing folder is an error naming it; nothing is created)."""
    from lodeline.export import check_out_path

    target = Path(path)
    check_out_path(target, "path")
    return target


_stores: dict[str, Store] = {}


def open_store(url: str | None = None, *, build: bool = True) -> Store:
    """Open the store at ``url`` (default: ``LODELINE_DATABASE_URL``, else the SQLite file in the user data
    folder), migrated to the newest schema; on an empty store, build the bundled data first (as ``lodeline
    serve`` does) unless ``build`` is false. Opening the same URL again returns the same store."""
    from lodeline.config import get_settings
    from lodeline.store.canonical import is_built
    from lodeline.store.engine import get_engine, normalise_database_url

    resolved = normalise_database_url(url) if url else get_settings().resolved_database_url()
    engine = get_engine(resolved)
    if build and not is_built(engine):
        from lodeline.data.build import build as build_store

        build_store(engine, get_settings().raw_dir)
    return _stores.setdefault(resolved, Store(resolved, engine))


def _engine(store: Store | None) -> Engine:
    return (store or open_store()).engine


def _alliance(alliance: str | None) -> str:
    from lodeline.config import get_settings

    return get_settings().alliance if alliance is None else alliance


def _result(result: Any, title: str) -> Result:
    return Result(result.frame, result.provenance, title)


# ------------------------------------------------------------------------------------------------ market
def shares(
    mineral: str, stage: str = "mining", year: int | None = None, *, store: Store | None = None
) -> Result:
    """Each country's share of a mineral × stage in ``year`` (default: the latest year with a known share).
    Same as ``lodeline market shares``; method: ``docs/methods/market-indicators.md``."""
    from lodeline.services import market

    return _result(market.shares(_engine(store), mineral, stage, year), f"{mineral} {stage} shares")


def concentration(mineral: str, stage: str | None = None, *, store: Store | None = None) -> Result:
    """HHI (0–10,000), top-1 and top-3 shares and the top supplier per stage and year
    (``lodeline market concentration``)."""
    from lodeline.services import market

    return _result(market.concentration(_engine(store), mineral, stage), f"{mineral} supply concentration")


def dependency(mineral: str, alliance: str | None = None, *, store: Store | None = None) -> Result:
    """The alliance's single-supplier dependency per stage, basis and year: the largest supplier outside the
    alliance, its share, the target and the gap (``lodeline market dependency``; ``docs/methods/dependency.md``).
    ``alliance`` is a country-group id (G7, G7+, EU27, MSP …; default ``LODELINE_ALLIANCE`` or G7+)."""
    from lodeline.services import market

    group = _alliance(alliance)
    return _result(
        market.dependency(_engine(store), mineral, group),
        f"{mineral}: dependency of {group} on a single supplier",
    )


def imports(mineral: str, importer: str = "G7+", *, store: Store | None = None) -> Result:
    """Import shares by origin for a country group or one country, intra-group trade excluded
    (``lodeline market imports``)."""
    from lodeline.services import market

    return _result(
        market.imports_by_origin(_engine(store), mineral, importer), f"{importer} imports of {mineral}"
    )


def trade_flows(
    mineral: str, year: int | None = None, alliance: str | None = None, *, store: Store | None = None
) -> Result:
    """Bilateral flows into alliance members from outside the alliance in ``year`` (default: the latest)."""
    from lodeline.services import market

    group = _alliance(alliance)
    return _result(
        market.trade_flows(_engine(store), mineral, year, group), f"{mineral} imports into {group} by flow"
    )


def prices(mineral: str, *, store: Store | None = None) -> Result:
    """Monthly prices with year-on-year change and 12-month rolling volatility (``lodeline market prices``)."""
    from lodeline.services import market

    return _result(market.prices(_engine(store), mineral), f"{mineral} prices")


def value_creation(mineral: str | None = None, *, store: Store | None = None) -> Result:
    """Refined ÷ mined output in tonnes per producing country (``lodeline market value-creation``)."""
    from lodeline.services import market

    return _result(market.value_creation(_engine(store), mineral), "Local value creation")


def overview(alliance: str | None = None, *, store: Store | None = None) -> Result:
    """One row per mineral: concentration, top supplier, the alliance's single-supplier dependency, each from
    the stage and year the row names (``lodeline market overview``)."""
    from lodeline.services import market

    return _result(market.minerals_overview(_engine(store), _alliance(alliance)), "Market overview")


def targets(alliance: str | None = None, *, store: Store | None = None) -> Result:
    """For every mineral, stage and basis: the alliance's latest single-supplier dependency against the G7 60% test
    and 50% ambition (a G7 target for rare earths and magnets, the same yardstick as a comparison elsewhere) and,
    for the EU27, the CRMA 65% benchmark; gaps in percentage points (positive = misses) and since when
    (``lodeline market targets``; ``docs/methods/targets.md``). ``alliance``: a group or an ISO3 list."""
    from lodeline.services import market

    group = _alliance(alliance)
    return _result(
        market.targets(_engine(store), group), f"{group}: single-supplier dependency against the targets"
    )


def trend(mineral: str, stage: str, alliance: str | None = None, *, store: Store | None = None) -> Result:
    """Per year, over the longest span the bundled sources allow: top supplier and share, top-3 share, HHI and the
    alliance's single-supplier dependency, each year with its source and the breaks between sources marked
    (``lodeline market trend``; ``docs/methods/trends.md``)."""
    from lodeline.services import trends

    group = _alliance(alliance)
    return _result(trends.trend(_engine(store), mineral, stage, group), f"{mineral} {stage}: trend")


def sources(*, store: Store | None = None) -> Result:
    """Every bundled dataset: publisher, edition, licence, rows and sha256 (``lodeline data sources``)."""
    from lodeline.services import market

    return _result(market.sources(_engine(store)), "Bundled datasets")


# -------------------------------------------------------------------------------------------------- risk
def criticality(stage: str = "all", years: int = 5, *, store: Store | None = None) -> Result:
    """Supply risk (SR), economic importance (EI, published EC 2023) and criticality of every EU-assessed
    material, EU 2017 method (``lodeline risk criticality``; ``docs/methods/criticality.md``). ``stage`` is
    ``all`` (each material at the EC's bottleneck stage), ``extraction`` or ``processing``."""
    from lodeline.errors import InvalidArgumentError
    from lodeline.services import risk as risk_service

    if stage not in ("all", "extraction", "processing"):
        raise InvalidArgumentError(f"stage {stage!r}: expected all, extraction or processing")
    if years < 1:
        raise InvalidArgumentError(f"years {years}: expected 1 or more")
    result = risk_service.criticality(_engine(store), stage=None if stage == "all" else stage, years=years)
    frame, provenance = result.frame, result.provenance
    return Result(frame, provenance, "Criticality, eu2017 method")


def sensitivity(
    materials: Sequence[str] = (), draws: int = 1000, seed: int = 0, *, store: Store | None = None
) -> Result:
    """Monte Carlo over the SR inputs: per material the SR distribution, P(SR >= 1) and P(critical)
    (``lodeline risk sensitivity``; ``docs/methods/criticality.md``). ``draws`` 1 to 10,000."""
    from lodeline.errors import InvalidArgumentError
    from lodeline.services import risk as risk_service

    if not 1 <= draws <= 10_000:
        raise InvalidArgumentError(f"draws {draws}: expected 1 to 10,000")
    result = risk_service.sensitivity(_engine(store), draws=draws, seed=seed, materials=list(materials))
    return Result(result.summary.frame, result.summary.provenance, f"Supply-risk sensitivity ({draws} draws)")


def geopolitical(
    importer: str = "G7+", mineral: str | None = None, year: int | None = None, *, store: Store | None = None
) -> Result:
    """Governance-weighted import risk (GeoPolRisk-style) of an importer or alliance per mineral and stage
    (``lodeline risk geopol``)."""
    from lodeline.services import risk as risk_service

    result = risk_service.geopolitical(_engine(store), importer, mineral=mineral, year=year)
    return Result(result.frame, result.provenance, f"GeoPolRisk-style supply risk for {importer}")


# --------------------------------------------------------------------------------------------------- sim
def scenarios() -> Result:
    """The shipped stress-test scenario library (``lodeline sim scenarios``)."""
    from lodeline.services import sim as sim_service

    rows = sim_service.list_scenarios()
    return Result(pl.DataFrame(rows), Provenance(sources=[], method=METHOD_STRESS_TEST), "Scenario library")


def stress_test(
    scenario: str | Path, alliance: str | None = None, *, store: Store | None = None
) -> StressTest:
    """Run a stress-test scenario month by month (``lodeline sim run``): per consumer the shortfall, the stock
    drawn and the days of cover; per month the alliance's shortfall and stocks. ``scenario`` is a library name
    (see :func:`scenarios`) or a YAML file; ``alliance`` (a country-group id) replaces the scenario's own. Stocks are the PLACEHOLDER assumptions of
    ``sim/data/stockpile_assumptions.csv`` (the notes say so); method: ``docs/methods/stress-test.md``."""
    from lodeline.inputs import is_file, read_yaml
    from lodeline.services import sim as sim_service

    where = str(scenario)
    path = Path(scenario)
    spec = (
        sim_service.parse_data(read_yaml(path, "scenario"), where)
        if is_file(path)
        else sim_service.library(where)
    )
    if alliance is not None:
        spec = sim_service.parse_data({**spec.model_dump(mode="json"), "alliance": alliance}, where)
    engine = None if spec.network is not None else _engine(store)
    report = sim_service.run(spec, where, engine=engine)
    members = pl.DataFrame(report["members"])
    monthly = pl.DataFrame([{k: v for k, v in m.items() if k != "by_member"} for m in report["monthly"]])
    provenance = sim_service.provenance(spec, list(report["notes"]), engine)
    return StressTest(
        members, provenance, f"{spec.name} ({report['mineral']}, {report['months']} months)", monthly, report
    )
