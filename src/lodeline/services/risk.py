"""Criticality, sensitivity and geopolitical risk for the CLI, the API and the dashboard.

Each function reads the store (through :mod:`lodeline.risk.loader`), runs the pure risk computation and
returns a :class:`RiskResult`: the frame, its provenance (the datasets named in the catalog) and the one-line
citation the charts print. Nothing here prints, parses options or knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.countries import resolve_country
from lodeline.domain.groups import MAX_ALLIANCE_LENGTH, CountryGroup, resolve_alliance
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.risk import EU_STAGES
from lodeline.risk.assessment import CompiledAssessment, assessment_table, compile_assessment
from lodeline.risk.economic_importance import economic_importance, merge_ei
from lodeline.risk.eu_comparison import compare_with_official_list, method_deviations
from lodeline.risk.geopol import geopolitical_supply_risk
from lodeline.risk.governance import WGI_DIMENSIONS, governance_matrix
from lodeline.risk.loader import RiskInputs, domestic_production_tonnes, load_risk_inputs
from lodeline.risk.sensitivity import sensitivity_summary, tornado
from lodeline.services.results import MarketResult, Provenance
from lodeline.store.canonical import catalog

METHOD = "docs/methods/criticality.md"
#: Where the EU criticality inputs come from (the ``criticality_inputs`` rows carry no per-row source id).
EU_INPUTS_SOURCE = "eu_crm_2023"
STAGES = ("extraction", "processing")
SR_NOTE = "SR computed by Lodeline from the bundled data (not the EC's published SR)"
EI_NOTE = "EI published by the EC in 2023 unless computed from supplied end uses and value added"


class NoTradeRowsError(NotFoundError):
    """The importer has no trade rows under the filters (never an empty answer that reads as "no risk")."""


@dataclass(frozen=True)
class RiskResult(MarketResult):
    """A result frame with provenance, plus the citation line the charts print under the figure."""

    source_line: str = ""


@dataclass(frozen=True)
class SensitivityResult:
    summary: RiskResult  # per material: base SR, draw statistics, P(SR >= 1), P(critical)
    tornado: RiskResult  # per material and factor: the SR range that factor alone produces


@dataclass(frozen=True)
class EIFiles:
    """Optional end-use shares ``[material, sector, share]`` and value added ``[sector, value_added]``."""

    end_uses: pl.DataFrame | None = None
    value_added: pl.DataFrame | None = None


def _check_years(years: int) -> None:
    if years < 1:
        raise InvalidArgumentError(f"years must be at least 1, got {years}")


def load_inputs(engine: Engine, *, years: int = 5, importers: Sequence[str] = ()) -> RiskInputs:
    _check_years(years)
    return load_risk_inputs(engine, years=years, importers=frozenset(importers))


def compile_inputs(
    inputs: RiskInputs, stage: str | None = None, wgi_year: int | None = None
) -> CompiledAssessment:
    """``stage`` None = each material at the EC's bottleneck stage; extraction/processing = that stage only."""
    if stage is not None and stage not in STAGES:
        raise InvalidArgumentError(f"stage must be one of {', '.join(STAGES)} (or none), got {stage!r}")
    return compile_assessment(
        inputs.params,
        inputs.shares,
        inputs.trade_factors,
        inputs.governance,
        wgi_year=wgi_year,
        extra_provenance=inputs.provenance,
        stage=stage,
    )


def ei_frame(inputs: RiskInputs, files: EIFiles | None = None) -> pl.DataFrame:
    """The published EC 2023 EI, replaced material by material by EI computed from supplied end uses."""
    if files is None or (files.end_uses is None and files.value_added is None):
        return inputs.ei_published
    if files.end_uses is None or files.value_added is None:
        raise InvalidArgumentError("EI needs both --end-uses and --value-added")
    si_ei = inputs.params.select("material", "si_ei").unique("material")
    return merge_ei(inputs.ei_published, economic_importance(files.end_uses, files.value_added, si_ei))


def source_line(inputs: RiskInputs) -> str:
    return (
        "EC (2017) CRM method; "
        + "; ".join(inputs.provenance)
        + "; shares: bundled production, BGS refined shares and BACI trade"
        + "; SR computed by Lodeline (not the EC's published SR); EI published (EC 2023) unless computed"
    )


def _provenance(engine: Engine, source_ids: set[str], notes: list[str], flags: list[str]) -> Provenance:
    sources = [
        {"id": d["id"], "title": d["title"], "edition": d["edition"], "licence": d["licence"]}
        for d in catalog(engine)
        if d["id"] in source_ids
    ]
    return Provenance(sources=sources, flags=flags, method=METHOD, notes=notes)


def _assessment_sources(inputs: RiskInputs) -> set[str]:
    used = {EU_INPUTS_SOURCE}
    for frame in (inputs.shares, inputs.trade_factors, inputs.governance):
        if "source" in frame.columns:
            used |= set(frame["source"].drop_nulls().unique().to_list())
    return used


def _result(engine: Engine, inputs: RiskInputs, frame: pl.DataFrame, notes: list[str]) -> RiskResult:
    # The data caveats are sentences per material (the frame's ``flags`` column), not flag codes: they stay there.
    provenance = _provenance(engine, _assessment_sources(inputs), [*notes, *inputs.provenance], [])
    return RiskResult(frame, provenance, source_line(inputs))


def criticality(
    engine: Engine,
    *,
    stage: str | None = None,
    years: int = 5,
    wgi_year: int | None = None,
    ei_files: EIFiles | None = None,
) -> RiskResult:
    """SR, EI and the critical verdict of every EU-assessed material, highest SR first."""
    inputs = load_inputs(engine, years=years)
    table = assessment_table(compile_inputs(inputs, stage, wgi_year), ei_frame(inputs, ei_files))
    table = table.sort("sr", descending=True, nulls_last=True)
    return _result(engine, inputs, table, [SR_NOTE, EI_NOTE])


def _only_materials(inputs: RiskInputs, materials: Sequence[str]) -> RiskInputs:
    if not materials:
        return inputs
    known = {m.casefold(): m for m in inputs.params["material"].unique().to_list()}
    missing = [m for m in materials if m.casefold() not in known]
    if missing:
        raise InvalidArgumentError(f"unknown EU material(s) {missing}; see `lodeline risk criticality`")
    chosen = [known[m.casefold()] for m in materials]
    return replace(inputs, params=inputs.params.filter(pl.col("material").is_in(chosen)))


def sensitivity(
    engine: Engine,
    *,
    draws: int = 1000,
    seed: int = 0,
    materials: Sequence[str] = (),
    years: int = 5,
    ei_files: EIFiles | None = None,
) -> SensitivityResult:
    """Monte Carlo SR distribution per material and the one-at-a-time tornado (docs/methods §4)."""
    if draws < 1:
        raise InvalidArgumentError(f"draws must be at least 1, got {draws}")
    inputs = _only_materials(load_inputs(engine, years=years), materials)
    compiled = compile_inputs(inputs)
    ei = dict(ei_frame(inputs, ei_files).select("material", "ei").iter_rows())
    summary = sensitivity_summary(compiled.model, draws, seed, ei)
    notes = [f"{draws} draws, seed {seed}: the same inputs give the same figures", SR_NOTE]
    return SensitivityResult(
        summary=_result(engine, inputs, summary.sort("sr_base", descending=True, nulls_last=True), notes),
        tornado=_result(engine, inputs, tornado(compiled.model), [SR_NOTE]),
    )


def resolve_importer(name: str) -> CountryGroup:
    """The importer as a group of countries: what :func:`~lodeline.domain.groups.resolve_alliance` accepts (a
    country group id such as G7+/EU27/MSP, or a comma-separated list of ISO3 codes; one ISO3 code is a group of
    one), else one country by name (``Germany``). A bad list is the alliance's ``invalid-argument`` error naming
    the entry; a single name that is no group and no country is ``unknown-country`` (with suggestions)."""
    try:
        return resolve_alliance(name)
    except InvalidArgumentError:
        text = name.strip()
        if not text or "," in text or len(text) > MAX_ALLIANCE_LENGTH:
            raise
        iso3 = resolve_country(text)  # a country name; raises UnknownCountryError naming it
        return CountryGroup(iso3, iso3, frozenset({iso3}))


def wgi_dimensions(text: str) -> tuple[str, ...]:
    dims = tuple(d.strip().lower() for d in text.split(",") if d.strip())
    if not dims or any(d not in WGI_DIMENSIONS for d in dims):
        raise InvalidArgumentError(
            f"WGI dimensions (--wgi, ?wgi=) must be a comma-separated list from {', '.join(WGI_DIMENSIONS)}, got {text!r}"
        )
    return dims


def geopolitical(
    engine: Engine,
    importer: str,
    *,
    mineral: str | None = None,
    year: int | None = None,
    dimensions: str = "pv",
) -> RiskResult:
    """Governance-weighted import risk (GeoPolRisk-style) of an importer or alliance per mineral and stage.

    No trade row for the importer under the filters is :class:`NoTradeRowsError`."""
    group = resolve_importer(importer)
    dims = wgi_dimensions(dimensions)
    mineral_id = resolve_mineral(mineral) if mineral is not None else None
    if year is not None and not 1900 <= year <= 2100:
        raise InvalidArgumentError(f"invalid year {year}: expected 1900–2100")
    inputs = load_inputs(engine, importers=sorted(group.members))
    trade = inputs.trade
    if mineral_id is not None:
        trade = trade.filter(pl.col("mineral") == mineral_id)
    if year is not None:
        trade = trade.filter(pl.col("year") == year)
    global_shares = inputs.shares.filter(pl.col("scope") == "global").with_columns(
        pl.col("stage").replace(EU_STAGES)
    )
    gov = governance_matrix(
        inputs.governance, None, extra_countries=tuple(trade["exporter"].unique().to_list())
    )
    frame = geopolitical_supply_risk(
        trade,
        global_shares,
        gov,
        group.members,
        importer_name=group.id,
        domestic_production=domestic_production_tonnes(inputs.production, group.members),
        dimensions=dims,
    )
    if frame.is_empty():
        raise NoTradeRowsError(f"no trade rows for importer {group.id} with these filters")
    used = {"wgi", *trade["source"].drop_nulls().unique().to_list()}
    used |= set(global_shares["source"].drop_nulls().unique().to_list())
    notes = [
        f"importer {group.id}: {len(group.members)} countries; trade between its members is left out",
        f"governance g_j: mean of WGI {', '.join(dims)} on 0-1 (1 = worst)",
    ]
    provenance = _provenance(engine, used, notes, [])
    return RiskResult(frame, provenance, source_line(inputs))


def official_list_comparison(criticality_result: RiskResult) -> RiskResult:
    """Each material's verdict here against the official EU 2023 list (Regulation (EU) 2024/1252, Annex II)."""
    frame = compare_with_official_list(criticality_result.frame)
    return replace(criticality_result, frame=frame)


def deviations(criticality_result: RiskResult) -> RiskResult:
    """The deviations from the EC method that apply to the bundled assessment, with the materials affected."""
    return replace(criticality_result, frame=method_deviations(criticality_result.frame))
