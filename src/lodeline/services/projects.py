"""The project register, comparison, commitments ledger and recycling monitor (CLI, API and web call these).

Public projects come from the bundled lists (parsed on first use, cached per raw folder); member projects from
the store. Who sees a member project's confidential fields is decided by the caller through the access layer
(``api/access.py::project_viewer``) and passed here as a ``Viewer``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline import inputs
from lodeline.config import get_settings
from lodeline.data.sources import policy_commitments, policy_projects, policy_targets
from lodeline.domain.groups import resolve_alliance
from lodeline.domain.minerals import resolve_mineral
from lodeline.domain.units import to_tonnes
from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.projects import fx
from lodeline.projects import recycling as recycling_calc
from lodeline.projects.commitments import ledger, tally
from lodeline.projects.document import to_project, validate_document
from lodeline.projects.metrics import MARKET_STAGE, compare_row, displacement
from lodeline.projects.recycling import battery_minimums, monitor, pipeline_capacity, with_supplement
from lodeline.projects.register import deduplicate, eu_projects, financed_projects
from lodeline.projects.returns import FINANCIAL_RATE, SOCIAL_RATE, Assumptions, SocialBenefits, returns
from lodeline.projects.schema import Project, ProjectStage, redact
from lodeline.services.results import MarketResult, Provenance
from lodeline.store import projects as db
from lodeline.store.accounts import data_version
from lodeline.store.canonical import read_table

METHOD = "docs/methods/projects.md"
MAX_IMPORT = 500


@dataclass(frozen=True)
class Viewer:
    """Whose confidential project fields the caller may read: ``org`` its own; ``all_orgs`` the secretariat."""

    org: str | None = None
    all_orgs: bool = False

    def sees(self, owner: str | None) -> bool:
        return owner is None or self.all_orgs or (self.org is not None and owner == self.org)


PUBLIC = Viewer()


def _raw(raw_dir: Path | None) -> Path:
    return (raw_dir or get_settings().raw_dir) / "policy_facts"


@lru_cache(maxsize=4)
def _public(folder: Path) -> tuple[Project, ...]:
    eu = eu_projects(policy_projects.parse(folder)["projects"])
    fin = financed_projects(policy_commitments.parse(folder)["commitments"])
    return tuple(deduplicate([*eu, *fin]))


def public_projects(raw_dir: Path | None = None) -> list[Project]:
    """The register built from the bundled lists only (EU CRMA designations + projects the financing ledger
    names), de-duplicated; every record carries its sources and, for each empty figure, the reason."""
    return list(_public(_raw(raw_dir)))


def check_org(org: str) -> None:
    """An organisation code as the register stores it: 1 to 64 printable characters."""
    if not org or len(org) > 64 or not org.isprintable():
        raise InvalidArgumentError(f"org: 1 to 64 printable characters, got {org[:40]!r}")


#: The deck's bounds, the API's too (api/routes/projects.py): (lowest, lowest allowed itself, highest).
DECK_BOUNDS = {"price": (0.0, False, 1e9), "opex": (0.0, True, 1e12), "rate": (-0.99, False, 1.0),
               "social_rate": (-0.99, False, 1.0)}  # fmt: skip


def check_deck(**values: float | None) -> None:
    """Refuse a deck value that is not finite or out of its bounds (NaN passes a range check), naming it."""
    for name, value in values.items():
        low, closed, high = DECK_BOUNDS[name]
        if value is not None and not (
            math.isfinite(value) and (low <= value if closed else low < value) and value <= high
        ):
            raise InvalidArgumentError(
                f"{name}: {value!r} is not in {'[' if closed else '('}{low:g}, {high:g}]"
            )


def add_projects(
    engine: Engine, documents: Any, *, owner_org: str, by: str | None = None, where: str = "projects"
) -> list[dict[str, Any]]:
    """Validate every document (a list, or one object) and store them as the owner's new versions in ONE
    transaction: one bad document refuses them all, naming its position and field.

    A document whose ``project_id`` is a public project's is the member's update of it: the register merges
    the two and the member's figures win, with the merge written in ``merge_note``.
    """
    check_org(owner_org)
    items = documents if isinstance(documents, list) else [documents]
    if not items:
        raise InvalidArgumentError(f"{where}: no project documents")
    if len(items) > MAX_IMPORT:
        raise InvalidArgumentError(f"{where}: {len(items)} documents; at most {MAX_IMPORT} per import")
    models = [
        validate_document(d, where=f"{where}[{i}]" if len(items) > 1 else where) for i, d in enumerate(items)
    ]
    ids = [m.project_id for m in models]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidArgumentError(f"{where}: project_id repeated: {dupes}")
    stored = [(m.project_id, m.model_dump(mode="json", exclude_defaults=True)) for m in models]
    versions = db.upsert_many(engine, owner_org, stored, by)
    public_ids = {p.project_id for p in public_projects()}
    out = []
    for model, version in zip(models, versions, strict=True):
        project = to_project(model, owner_org=owner_org)
        out.append(
            {
                "project_id": project.project_id,
                "owner": owner_org,
                "version": version,
                "updates_public_record": project.project_id in public_ids,
                "contained_t_per_year": project.capacity.contained_t_per_year if project.capacity else None,
                "gaps": project.gaps,
            }
        )
    return out


def load_projects(
    engine: Engine | None = None, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None
) -> list[Project]:
    """The whole register as ``viewer`` may see it: public records, then member records (store), de-duplicated
    (a member's update of a public project wins its conflicts and says so in ``merge_note``); confidential fields
    of projects the viewer does not own are emptied (``redact``)."""
    projects = public_projects(raw_dir)
    if engine is None:
        return projects
    members = []
    for r in db.list_projects(engine):
        doc = validate_document(r["document"], where=f"stored project {r['project_id']}")
        record = to_project(doc, owner_org=r["owner_org"])
        # redacted before the merge, so a public figure of the same project stays visible
        members.append(record if viewer.sees(record.owner_org) else redact(record))
    return deduplicate([*projects, *members])


def get_project(
    project_id: str, engine: Engine | None = None, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None
) -> Project:
    return _find(load_projects(engine, viewer=viewer, raw_dir=raw_dir), project_id)


def _find(projects: list[Project], project_id: str) -> Project:
    for p in projects:
        if p.project_id == project_id or project_id in p.merged_from:
            return p
    raise NotFoundError(f"no project {project_id!r} (see `lodeline projects list`)")


def provenance(notes: list[str] | None = None) -> Provenance:
    sources = [
        {"id": d.id, "title": d.title, "edition": d.edition, "licence": d.licence}
        for d in (policy_projects.DATASET, policy_commitments.DATASET)
    ]
    return Provenance(sources=sources, method=METHOD, notes=notes or [])


FRAME_COLUMNS = ("project_id", "name", "countries", "minerals", "stages", "designations", "capacity_t_per_year",
                 "capacity_product", "contained_t_per_year", "lce_t_per_year", "capex", "capex_currency",
                 "expected_start_year", "owner", "source_type", "gaps", "merged_from")  # fmt: skip


def projects_frame(projects: list[Project]) -> pl.DataFrame:
    """One row per project for listing: figures with their units, gaps as null with the reason beside."""
    rows = []
    for p in projects:
        cap = p.capacity
        rows.append(
            {
                "project_id": p.project_id,
                "name": p.name,
                "countries": ";".join(p.countries),
                "minerals": ";".join(p.minerals),
                "stages": ";".join(s.value for s in p.stages),
                "designations": ";".join(sorted({d.scheme for d in p.designations})),
                "capacity_t_per_year": cap.value if cap else None,
                "capacity_product": cap.product if cap else None,
                "contained_t_per_year": cap.contained_t_per_year if cap else None,
                "lce_t_per_year": cap.lce_t_per_year if cap else None,
                "capex": p.capex.midpoint if p.capex else None,
                "capex_currency": p.capex.currency if p.capex else None,
                "expected_start_year": p.expected_start_year,
                "owner": p.owner_org,
                "source_type": ";".join(sorted({s.source_type or "not stated" for s in p.sources})),
                "gaps": "; ".join(f"{k}: {v}" for k, v in sorted(p.gaps.items())),
                "merged_from": ";".join(p.merged_from),
            }
        )
    schema = {"capacity_t_per_year": pl.Float64, "contained_t_per_year": pl.Float64, "lce_t_per_year": pl.Float64,
              "capex": pl.Float64, "expected_start_year": pl.Int64}  # fmt: skip
    if not rows:  # no project matches: the same columns, no rows
        return pl.DataFrame(schema={c: schema.get(c, pl.String) for c in FRAME_COLUMNS})
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)


# ------------------------------------------------------------------------------------------------------ money
#: every money figure stays in the currency its source states: no exchange rate could be cited (see
#: docs/methods/projects.md, "Money and currencies"), so nothing is converted and sums never cross currencies
NOT_CONVERTED = (
    "amounts in the currency the source states; not converted: no sourced exchange rate (sums are per "
    "currency only; docs/methods/projects.md)"
)


# ------------------------------------------------------------------------------------------------- comparison
def compare(
    ids: list[str],
    engine: Engine | None = None,
    *,
    viewer: Viewer = PUBLIC,
    alliance: str = "G7+",
    raw_dir: Path | None = None,
) -> MarketResult:
    """The comparison table of ``ids`` (all projects when empty): capital intensity, time to production,
    permitting against the CRMA caps and, where the market data are built, the diversification contribution."""
    resolve_alliance(alliance)  # an unknown alliance is the caller's error, before any work
    projects = load_projects(engine, viewer=viewer, raw_dir=raw_dir)
    chosen = [_find(projects, i) for i in ids] if ids else projects
    rows = [compare_row(p) for p in chosen]
    notes = [NOT_CONVERTED, "capital intensity = capex (in capex_currency) / contained capacity (t/yr); a figure "
             "the source does not state is empty and *_why says why"]  # fmt: skip
    dep = _dependencies(engine, chosen, alliance)
    for row, p in zip(rows, chosen, strict=True):
        row.update(_diversification(p, dep))
    if dep is None:
        notes.append("diversification not computed: the market data are not built (`lodeline data build`)")
    frame = pl.DataFrame(rows, infer_schema_length=None)
    return MarketResult(frame, provenance(notes))


#: (database URL, data build, alliance, mineral) -> the mineral's production-basis dependency rows in tonnes; a new
#: data build changes the key, so nothing stale is read. Bounded: the oldest entries go first.
_DEPENDENCY_CACHE: dict[tuple[str, str, str, str], pl.DataFrame | None] = {}
_DEPENDENCY_CACHE_SIZE = 512


def _mineral_dependency(engine: Engine, version: str, mineral: str, alliance: str) -> pl.DataFrame | None:
    from lodeline.services import market

    key = (engine.url.render_as_string(hide_password=True), version, alliance, mineral)
    if key in _DEPENDENCY_CACHE:
        return _DEPENDENCY_CACHE[key]
    try:
        frame = market.dependency(engine, mineral, alliance).frame
    except LodelineError:
        found = None
    else:
        production = frame.filter(pl.col("basis") == "production")
        found = production.with_columns(denominator_t=to_tonnes(pl.col("denominator"), pl.col("unit")))
    while len(_DEPENDENCY_CACHE) >= _DEPENDENCY_CACHE_SIZE:
        _DEPENDENCY_CACHE.pop(next(iter(_DEPENDENCY_CACHE)))
    _DEPENDENCY_CACHE[key] = found
    return found


def _dependencies(engine: Engine | None, projects: list[Project], alliance: str) -> pl.DataFrame | None:
    """Latest production-basis single-supplier figures in tonnes for the projects' minerals (None: not built)."""
    if engine is None:
        return None
    version = data_version(engine)
    if not version:
        return None
    minerals = sorted({m for p in projects for m in p.minerals})
    parts = [f for m in minerals if (f := _mineral_dependency(engine, version, m, alliance)) is not None]
    if not parts:
        return None
    frame = pl.concat(parts, how="diagonal_relaxed")
    frame = frame.filter(pl.col("denominator_t").is_not_null() & pl.col("top_external_share").is_not_null())
    return frame.sort("year").group_by(["mineral", "stage"]).last()


def _diversification(p: Project, dep: pl.DataFrame | None) -> dict[str, Any]:
    cap = p.capacity
    if dep is None:
        return {"diversification_pp": None, "diversification_why": "market data not built"}
    if cap is None or cap.contained_t_per_year is None or cap.mineral is None:
        return {
            "diversification_pp": None,
            "diversification_why": "no capacity convertible to contained metal",
        }
    parts = []
    for stage in p.stages:
        market_stage = MARKET_STAGE.get(stage)
        row = dep.filter((pl.col("mineral") == cap.mineral) & (pl.col("stage") == market_stage))
        if row.is_empty():
            continue
        r = row.row(0, named=True)
        pp = 100 * displacement(r["top_external_share"], r["denominator_t"], cap.contained_t_per_year)
        parts.append(
            f"{market_stage} {r['year']}: -{pp:.2f} pp of {r['top_external_supplier']}'s "
            f"{100 * r['top_external_share']:.1f}% of world production ({r['denominator_t']:,.0f} t, {r['source']})"
        )
    if not parts:
        why = f"no world-production figure in tonnes for {cap.mineral} at the project's stages"
        return {"diversification_pp": None, "diversification_why": why}  # fmt: skip
    return {"diversification_pp": "; ".join(parts), "diversification_why": None}


# ------------------------------------------------------------------------------------------------- returns
def project_returns(
    project_id: str,
    *,
    price_per_t: float,
    opex_per_year: float | None = None,
    rate: float = FINANCIAL_RATE,
    social_rate: float = SOCIAL_RATE,
    construction_years: int = 2,
    operating_years: int = 20,
    engine: Engine | None = None,
    viewer: Viewer = PUBLIC,
    raw_dir: Path | None = None,
) -> dict[str, Any]:
    """NPV/IRR of one project on the caller's deck (price per t contained and opex, both in the project's capex
    currency: nothing is converted) and, where the project documents monetised local benefits in that currency,
    the social-dividend-adjusted return. Missing capex or capacity, or figures in another currency: refused."""
    p = get_project(project_id, engine, viewer=viewer, raw_dir=raw_dir)
    if p.capex is None or p.capacity is None or p.capacity.contained_t_per_year is None:
        missing = [k for k in ("capex", "capacity") if getattr(p, k) is None] or ["contained capacity"]
        raise InvalidArgumentError(
            f"project {p.project_id}: no return without {' and '.join(missing)} "
            f"({'; '.join(p.gaps.get(k, '') for k in missing if p.gaps.get(k))})"
        )
    currency = p.capex.currency
    if opex_per_year is None:
        if p.opex_per_year is None:
            raise InvalidArgumentError(
                f"project {p.project_id}: opex not stated; give --opex ({currency} per year)"
            )
        if p.opex_per_year.currency != currency:
            raise InvalidArgumentError(
                _other_currency(p.project_id, "opex", p.opex_per_year.currency, currency)
            )
        opex_per_year = p.opex_per_year.value
    a = Assumptions(price_per_t, opex_per_year, construction_years, operating_years, rate, social_rate)
    benefits = None
    s = p.social
    if s is not None and any(
        v is not None
        for v in (s.local_value_added_per_year, s.local_wages_per_year, s.community_payments_per_year)
    ):
        if (s.currency or "EUR") != currency:
            raise InvalidArgumentError(_other_currency(p.project_id, "social benefits", s.currency, currency))
        benefits = SocialBenefits(
            s.local_value_added_per_year or 0.0,
            s.local_wages_per_year or 0.0,
            s.community_payments_per_year or 0.0,
        )
    capex = p.capex.midpoint
    result = returns(capex, p.capacity.contained_t_per_year, a, benefits)
    return {
        "project_id": p.project_id,
        "currency": currency,
        "capex": capex,
        "capacity_contained_t_per_year": p.capacity.contained_t_per_year,
        "assumptions": a.__dict__,
        **result.to_dict(),
        "social_why": None if benefits else "no documented, monetised local benefits",
    }


def _other_currency(project_id: str, what: str, theirs: str | None, capex: str) -> str:
    return (f"project {project_id}: {what} in {theirs or 'EUR'} but capex in {capex}; not converted: no sourced "
            "exchange rate")  # fmt: skip


# ------------------------------------------------------------------------------------------------- commitments
G7_PROJECTS_ID = "g7-2026-projects-announced"
G7_INVESTMENT_ID = "g7-2026-projects-investment"


def read_rates(path: Path, to: str = "EUR") -> fx.RateTable:
    """A user's rates file (``currency,per_eur,date,source``), bounded; errors name the file, row and field."""
    return fx.parse_rates(inputs.read_bytes(path, "rates file", limit=fx.MAX_BYTES), str(path), to)


def commitments(raw_dir: Path | None = None, rates: fx.RateTable | None = None) -> MarketResult:
    """The financing ledger: every row with its stage and amount (stated currency), and whether the tally counts
    it; with user-stated ``rates``, each amount converted too (with the rate, date and source used)."""
    frame = policy_commitments.parse(_raw(raw_dir))["commitments"]
    out = ledger(frame) if rates is None else fx.convert_ledger(ledger(frame), rates)
    notes = [
        NOT_CONVERTED if rates is None else fx.stated_note(rates),
        "stage: pledged (announced) -> committed (decided, contracted, authorised, allocated) -> disbursed "
        "(partially or fully); a row part of another is counted at its top-most amount only",
    ]
    return MarketResult(out, provenance(notes))


def commitments_summary(raw_dir: Path | None = None, rates: fx.RateTable | None = None) -> dict[str, Any]:
    """The bottom-up tally beside the G7 headline (195 projects / EUR 64 bn since the start of 2026), with the
    difference explained; with user-stated ``rates`` (to EUR), the difference uses the converted total."""
    frame = commitments(raw_dir, rates).frame
    targets = policy_targets.parse(_raw(raw_dir))["targets"]
    by_id = {r["target_id"]: r for r in targets.iter_rows(named=True)}
    g7_projects = by_id[G7_PROJECTS_ID]["value"]
    g7_eur_bn = by_id[G7_INVESTMENT_ID]["value"]
    since_2026 = tally(frame, since="2026-01-01")
    all_time = tally(frame)
    counted_2026 = frame.filter(pl.col("counted") & (pl.col("first_date") >= "2026-01-01"))
    per_currency = (
        counted_2026.group_by("currency")
        .agg(amount_bn=(pl.col("amount").sum() / 1e9).round(3), commitments=pl.len())
        .sort("currency", nulls_last=True)
    )
    eur_rows = per_currency.filter(pl.col("currency") == "EUR")
    other = [c for c in per_currency["currency"].to_list() if c != "EUR"]
    bottom_projects = counted_2026["project"].n_unique()
    out = {
        "headline": {"source": G7_PROJECTS_ID, "projects": g7_projects, "investment_eur_bn": g7_eur_bn},
        "bottom_up_since_2026": {
            "commitments": counted_2026.height,
            "projects": bottom_projects,
            "amount_bn_by_currency": per_currency.to_dicts(),
            "by_stage": since_2026.to_dicts(),
        },
        "bottom_up_all_years": all_time.to_dicts(),
        "difference": {
            "projects": None if g7_projects is None else g7_projects - bottom_projects,
            # the headline is in EUR; a difference is only stated when every counted amount is in EUR too
            "investment_eur_bn": (
                round(g7_eur_bn - float(eur_rows["amount_bn"].sum() or 0.0), 3)
                if g7_eur_bn is not None and not other
                else None
            ),
            "investment_why": (
                f"not computed: counted amounts are in {', '.join(str(c) for c in other)}, not EUR, and are not "
                "converted (no sourced exchange rate)"
                if other
                else None
            ),
        },
        "explained": [
            "the G7 figure counts projects 'announced' by G7 and partner countries including equity participation "
            "and offtake agreements and private investment; the ledger holds only public financing rows found in "
            "accessible sources (a partial list of 70 rows: US, Canada, Australia, UK, Japan)",
            "the ledger counts each family of parent and sub-award rows once (at its top-most amount), and never "
            "counts envelopes, lending authorities or project pipelines as committed money",
            "offtakes, price floors and tax credits have no amount in the ledger and add nothing to its totals",
            "the G7 declaration gives no list of the 195 projects, so the two cannot be matched project by project",
        ],
        "currencies": NOT_CONVERTED,
    }
    return out if rates is None else fx.with_converted(out, frame, rates, g7_eur_bn)


# ------------------------------------------------------------------------------------------------- recycling
def recycling(engine: Engine, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None) -> MarketResult:
    """Per mineral: EoL recycling rates (UNEP 2011, EU CRM 2023 EoL-RIR), recycled content, the pipeline's
    recycling capacity against 25 % of EU27 apparent consumption, and the Battery Regulation minimums."""
    from lodeline.services import market

    rates = read_table(engine, "recycling_rates").select("mineral", "metric", "value_low", "value_high")
    crm = read_table(engine, "criticality_inputs", parameter="EoL_RIR_pct")
    eol_rir = crm.select(
        "mineral", metric=pl.lit("eol_rir"), value_low=pl.col("value"), value_high=pl.col("value")
    ).filter(pl.col("mineral").is_not_null())
    all_rates = pl.concat([rates, eol_rir], how="vertical_relaxed")
    consumption: dict[str, float] = {}
    pipeline = pipeline_capacity(load_projects(engine, viewer=viewer, raw_dir=raw_dir))
    for mineral in pipeline["mineral"].to_list():
        try:
            dep = market.dependency(engine, mineral, "EU27").frame
        except LodelineError:
            continue
        apparent = dep.filter(pl.col("basis") == "apparent consumption").sort("year")
        if not apparent.is_empty() and apparent["denominator"][-1] is not None:
            consumption[mineral] = float(apparent["denominator"][-1])
    minimums = battery_minimums(read_table(engine, "targets").with_columns(pl.col("minerals").str.json_decode(pl.List(pl.String))))  # fmt: skip
    minimums = with_supplement(minimums, battery_supplement())
    frame = monitor(all_rates, pipeline, consumption, minimums)
    notes = [
        "benchmark: EU CRMA Art. 5 — recycling capacity of at least 25 % of annual EU consumption by 2030; "
        "consumption = EU27 apparent consumption (production + imports - exports, t), latest year, where the "
        "market data measure it",
        "Battery Regulation (EU) 2023/1542 Art. 8 minimums: cobalt, lithium and nickel from the bundled targets "
        "file; lead from projects/data/battery_recycled_content.csv (Art. 8(2)(b), 85 % from 2031; the 2036 lead "
        "figure is empty: no stored source states it); battery_min_source names the provision. Cobalt, lithium "
        "and nickel are shares of the metal in active materials, lead a share of the lead in the battery",
    ]
    return MarketResult(frame, provenance(notes))


def battery_supplement(path: Path | None = None) -> pl.DataFrame:
    """The sourced Battery Regulation minimums the targets file lacks (``projects/data/``; PROVENANCE.txt)."""
    import csv

    path = path or Path(recycling_calc.__file__).parent / "data" / recycling_calc.SUPPLEMENT_FILE
    with path.open(encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    return recycling_calc.parse_supplement(records, path.name)


def select(
    projects: list[Project],
    *,
    mineral: str | None = None,
    stage: str | None = None,
    country: str | None = None,
) -> list[Project]:
    """The projects covering ``mineral`` (a name or alias), ``stage`` and ``country`` (ISO alpha-2)."""
    if mineral:
        mineral_id = resolve_mineral(mineral)
        projects = [p for p in projects if mineral_id in p.minerals]
    if stage:
        try:
            wanted = ProjectStage(stage.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in ProjectStage)
            raise InvalidArgumentError(f"unknown stage {stage!r}; expected one of: {choices}") from None
        projects = [p for p in projects if wanted in p.stages]
    if country:
        code = country.strip().upper()
        if not re.fullmatch("[A-Z]{2}", code):
            raise InvalidArgumentError(
                f"country: expected an ISO 3166 alpha-2 code such as FI, got {country[:40]!r}"
            )
        projects = [p for p in projects if code in p.countries]
    return projects
