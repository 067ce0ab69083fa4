"""The deals register (issue 17) for the CLI, the API and the dashboard: agreements, export-control measures and
disputes; coverage of the alliance's gap; restrictions in force; the producer-country view; adding and amending rows.

The base register is read from the bundled ``policy_facts`` files (validated at ``data build`` too, dataset
``policy_facts_deals``); the members' and the secretariat's rows are versions in the store (``store/deals.py``)
applied on top. Every added or amended row is validated by the same parser as the bundled rows and must state its
source (``source_url``, ``source_type``)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import policy_deals as parser
from lodeline.data.sources import policy_deals_measures as measures_parser
from lodeline.deals import register as reg
from lodeline.deals.coverage import coverage as coverage_table
from lodeline.deals.money import listing
from lodeline.deals.restrictions import restrictions as restrictions_table
from lodeline.deals.timeline import partners as partners_table
from lodeline.deals.timeline import timeline as timeline_table
from lodeline.domain.countries import country_name, resolve_country
from lodeline.domain.groups import resolve_alliance
from lodeline.domain.minerals import resolve_mineral, resolve_stage
from lodeline.errors import DataFormatError, InvalidArgumentError, NotFoundError, UnknownCountryError
from lodeline.market.trade import prefer_complete_coverage
from lodeline.risk.governance import rescale_wgi
from lodeline.services import market
from lodeline.services.results import MarketResult, Provenance
from lodeline.store import deals as store
from lodeline.store.canonical import read_table

METHOD = "docs/deals.md"
METHOD_COVERAGE = "docs/methods/deals-coverage.md"
DATASET = "policy_facts_deals"
REGISTERS = tuple(reg.KEYS)
HEADERS = {
    "agreements": (*parser.AGREEMENT_HEADER, "status", "status_date"),
    "measures": (*measures_parser.MEASURE_HEADER, "source_url", "source_type", "source_detail"),
    "disputes": parser.DISPUTE_HEADER,
}
_VALIDATE = {
    "agreements": parser.agreement,
    "measures": measures_parser.measure,
    "disputes": parser.dispute,
}
SOURCE_NOTE = (
    "rows citing a briefing document are shown as secondary (shown_source_type); empty = not stated, never absent; "
    "money is shown per row in its own currency and nature and never summed"
)


@lru_cache(maxsize=4)
def _bundled(folder: Path) -> dict[str, list[dict[str, Any]]]:
    return {
        "agreements": parser.read_agreements(folder),
        "measures": measures_parser.read_measures(folder),
        "disputes": parser.read_disputes(folder),
    }


def bundled(folder: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    return _bundled((folder or RAW_DATA_DIR / "policy_facts").resolve())


def _check_register(register: str) -> str:
    if register not in REGISTERS:
        raise InvalidArgumentError(f"unknown register {register!r}; expected one of: {', '.join(REGISTERS)}")
    return register


def _parse_version(register: str, version: dict[str, Any]) -> dict[str, Any]:
    rec = _VALIDATE[register](_full(register, version["cells"]), file=f"deal version {version['id']}", row=1)
    if register == "measures":
        rec["hs6_from_customs_file"] = False
    return rec | {
        "_cells": version["cells"], "_version": version["version"], "_action": version["action"],
        "_author": version["author"], "_at": version["created_at"],
    }  # fmt: skip


def current(engine: Engine, register: str) -> list[dict[str, Any]]:
    """The register as it stands: bundled rows with the store's versions applied."""
    _check_register(register)
    versions = [_parse_version(register, v) for v in store.all_versions(engine, register)]
    return reg.apply_versions(bundled()[register], versions, reg.KEYS[register])


def revision(engine: Engine) -> int:
    return store.revision(engine)


def _provenance(notes: list[str] | None = None, method: str = METHOD, unit: str | None = None) -> Provenance:
    spec = parser.DATASET
    source = {"id": spec.id, "title": spec.title, "edition": spec.edition, "licence": spec.licence}
    return Provenance(sources=[source], method=method, unit=unit, notes=[SOURCE_NOTE, *(notes or [])])


def _date(on: dt.date | None) -> dt.date:
    return on or dt.date.today()


def _mineral(mineral: str | None) -> str | None:
    return resolve_mineral(mineral) if mineral else None


def list_entries(
    engine: Engine, register: str = "agreements", *, mineral: str | None = None, on: dt.date | None = None
) -> MarketResult:
    """A register's rows (agreements with their status on ``on``; measures with theirs), optionally those that name
    ``mineral`` (agreements on critical minerals in general included, ``general`` says so)."""
    records = current(engine, register)
    mineral_id = _mineral(mineral)
    if mineral_id:
        records = reg.mentions(records, mineral_id, general=register == "agreements")
    day = _date(on)
    if register == "agreements":
        frame = reg.agreements_frame(records, day)
    elif register == "measures":
        frame = reg.measures_frame(records, day)
    else:
        frame = reg.disputes_frame(records)
    return MarketResult(frame, _provenance([f"status on {day.isoformat()}"]))


def show(engine: Engine, entry_id: str) -> dict[str, Any]:
    """One entry of any register, as it stands, with its register name and the number of versions; an agreement
    also lists the register's projects it names or covers (``projects``, each with the rule and why). An id of
    the financing ledger (``fin-…``) shows that commitment and the projects it finances."""
    for register in REGISTERS:
        for rec in current(engine, register):
            if rec[reg.KEYS[register]] == entry_id:
                out = {k: v for k, v in rec.items() if not k.startswith("_")}
                if register == "agreements":  # the projects it names or covers (docs/deals.md, "Projects")
                    from lodeline.services import project_links

                    out["projects"] = project_links.deal_projects(rec, engine)
                return {"register": register, **_jsonable(out)}
    from lodeline.services import project_links

    commitment = project_links.commitment_projects(
        entry_id, engine
    )  # a financing commitment: the projects it finances
    if commitment is not None:
        return {"register": "financing commitments", **commitment}
    raise NotFoundError(
        f"no agreement, measure, dispute or financing commitment {entry_id!r} in the register"
    )


def _jsonable(d: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in d.items()}


def timeline(engine: Engine, mineral: str | None = None, *, on: dt.date | None = None) -> MarketResult:
    """Agreements and restrictive measures as dated events on one time axis (the Deals page's timeline), optionally
    those naming ``mineral`` (agreements on critical minerals in general included, ``general`` says so)."""
    mineral_id = _mineral(mineral)
    agreements, measures = current(engine, "agreements"), current(engine, "measures")
    if mineral_id:
        agreements = reg.mentions(agreements, mineral_id)
        measures = reg.mentions(measures, mineral_id, general=False)
    day = _date(on)
    notes = [
        f"status on {day.isoformat()}",
        "measures: the restrictive ones only; undated entries have no date",
    ]
    return MarketResult(timeline_table(agreements, measures, day), _provenance(notes))


def partners(engine: Engine, mineral: str | None = None, alliance: str = "G7+") -> MarketResult:
    """The countries outside the alliance party to an agreement (naming ``mineral`` or critical minerals in
    general), with the agreement type the Deals page's map colours them by."""
    mineral_id = _mineral(mineral)
    group = resolve_alliance(alliance)
    agreements = current(engine, "agreements")
    if mineral_id:
        agreements = reg.mentions(agreements, mineral_id)
    notes = [f"alliance {group.id}: its members are not partners",
             "shown_type: the most committing type (FTA chapter, strategic partnership, framework, MoU, offtake, "
             "plurilateral); types lists all"]  # fmt: skip
    return MarketResult(partners_table(agreements, group.members), _provenance(notes))


def financing(engine: Engine) -> MarketResult:
    """Every stated financing figure on its own row (amount, currency, nature): no totals, by design."""
    frame = pl.DataFrame(
        listing(current(engine, "agreements")),
        schema={"agreement_id": pl.String, "amount": pl.Float64, "currency": pl.String, "nature": pl.String},
    )
    return MarketResult(frame, _provenance(["figures of different nature or currency are never added"]))


def coverage(
    engine: Engine, mineral: str | None = None, stage: str | None = None, alliance: str = "G7+"
) -> MarketResult:
    """Which agreements cover the alliance's single-supplier gap per mineral × stage (docs/methods/deals-coverage.md)."""
    mineral_id = _mineral(mineral)
    stage_id = resolve_stage(stage).value if stage else None
    group = resolve_alliance(alliance)
    shares = market.market_shares(engine, mineral_id)
    dependency = market.dependency_frame(engine, group.members, mineral_id).filter(
        pl.col("basis") == "production"
    )
    if stage_id:
        dependency = dependency.filter(pl.col("stage") == stage_id)
    if dependency.is_empty():
        raise NotFoundError(
            f"no production-basis dependency for {mineral_id or 'any mineral'} at {stage_id or 'any stage'}"
        )
    frame = coverage_table(current(engine, "agreements"), shares, dependency, group.members)
    notes = [
        f"alliance {group.id}: {len(group.members)} countries",
        "replaceable_* = min(sum of partner shares, top external share) / top external share: an upper bound "
        "(all partner output redirected); partners without a share figure are not counted",
    ]
    prov = _provenance(notes, METHOD_COVERAGE, unit="share of world production (0-1)")
    used = market.provenance(engine, shares, method=METHOD_COVERAGE).sources
    return MarketResult(
        frame, Provenance([*prov.sources, *used], prov.flags, prov.method, prov.unit, prov.notes)
    )


def restrictions(
    engine: Engine,
    mineral: str | None = None,
    *,
    on: dt.date | None = None,
    alliance: str = "G7+",
    include_inactive: bool = False,
) -> MarketResult:
    """Restrictive measures on ``mineral`` in force on ``on`` (default today), by supplier, with the affected share
    of the alliance's imports (BACI, where the trade tables hold the measure's HS codes)."""
    mineral_id = _mineral(mineral)
    group = resolve_alliance(alliance)
    market.require_built(engine)
    trade = prefer_complete_coverage(read_table(engine, "trade"), ["hs6", "year"])
    day = _date(on)
    frame = restrictions_table(
        current(engine, "measures"),
        day,
        trade,
        group.members,
        mineral=mineral_id,
        include_inactive=include_inactive,
    )
    notes = [
        f"status on {day.isoformat()}; alliance {group.id}",
        "affected_share = alliance imports of the measure's HS codes from its jurisdiction / alliance imports of "
        "those codes from outside the alliance (USD, latest year); hs6_without_trade_data lists codes the bundled "
        "BACI extract does not hold",
    ]
    prov = _provenance(notes, unit="share of alliance external imports (0-1)")
    baci = market.provenance(engine, trade.head(1), method=METHOD).sources
    return MarketResult(frame, Provenance([*prov.sources, *baci], [], prov.method, prov.unit, prov.notes))


def _governance(engine: Engine, iso3: str) -> pl.DataFrame:
    rows = read_table(engine, "governance", country=iso3).filter(pl.col("estimate").is_not_null())
    if rows.is_empty():
        return pl.DataFrame(schema={"indicator": pl.String, "year": pl.Int64, "estimate": pl.Float64,
                                    "scaled_0_10_worse": pl.Float64})  # fmt: skip
    latest = rows.sort("year").group_by("indicator", maintain_order=True).last().sort("indicator")
    return latest.select("indicator", "year", "estimate").with_columns(
        scaled_0_10_worse=pl.Series([float(rescale_wgi(e)) for e in latest["estimate"].to_list()])
    )


def resolve_producer(country: str) -> str:
    try:
        return resolve_country(country)
    except UnknownCountryError as exc:
        raise NotFoundError(exc.message) from None


def country(engine: Engine, country: str, *, on: dt.date | None = None) -> dict[str, Any]:
    """The producer-country view: its agreements, local value created (refined ÷ mined), WGI governance, its
    export measures and the disputes it hosts — each a result with provenance."""
    iso3 = resolve_producer(country)
    day = _date(on)
    market.require_built(engine)
    value = market.value_creation(engine)
    local = (
        value.frame.filter(pl.col("country") == iso3)
        if "country" in value.frame.columns
        else value.frame.head(0)
    )
    parts = {
        "agreements": MarketResult(
            reg.agreements_frame(reg.for_country(current(engine, "agreements"), iso3, "agreements"), day),
            _provenance(),
        ),
        "value_creation": MarketResult(local, value.provenance),
        "governance": MarketResult(
            _governance(engine, iso3),
            market.provenance(
                engine,
                read_table(engine, "governance", country=iso3).head(1),
                method="docs/methods/risk.md",
                notes=["scaled_0_10_worse: the EU method's 0-10 scale, 10 = worst"],
            ),
        ),
        "measures": MarketResult(
            reg.measures_frame(reg.for_country(current(engine, "measures"), iso3, "measures"), day),
            _provenance(),
        ),
        "disputes": MarketResult(
            reg.disputes_frame(reg.for_country(current(engine, "disputes"), iso3, "disputes")), _provenance()
        ),
    }
    return {"country": iso3, "name": country_name(iso3), "on": day.isoformat(), "parts": parts}


# --- writes ---------------------------------------------------------------------------------------------------


def _full(register: str, cells: dict[str, Any]) -> dict[str, str]:
    header = HEADERS[register]
    unknown = sorted(set(cells) - set(header))
    if unknown:
        raise DataFormatError(
            "request body", f"unknown field(s) {unknown}; the fields are {list(header)}", row=1
        )
    out: dict[str, str] = {}
    for column in header:
        value = cells.get(column)
        if value is None:
            out[column] = ""
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            out[column] = str(value)
        else:
            raise DataFormatError("request body", "must be text or a number", row=1, column=column)
    return out


def _check_provenance(cells: dict[str, str]) -> None:
    for column in ("source_url", "source_type"):
        if not cells.get(column, "").strip():
            raise DataFormatError(
                "request body", f"{column} is required on every added or amended row", row=1, column=column
            )


def _reason(reason: str) -> str:
    text = reason.strip()
    if not text or len(text) > 500:
        raise InvalidArgumentError(
            "reason is required (1-500 characters): say why the row is added or changed"
        )
    return text


def add(engine: Engine, register: str, cells: dict[str, Any], *, reason: str, author: str, role: str,
        org: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Add a new entry (its id must be new): validated like a bundled row, stored as version 1."""
    _check_register(register)
    full = _full(register, cells)
    _check_provenance(full)
    rec = _VALIDATE[register](full, file="request body", row=1)
    key = reg.KEYS[register]
    if any(r[key] == rec[key] for r in current(engine, register)):
        raise InvalidArgumentError(f"{register} entry {rec[key]!r} exists already: amend it instead")
    row = store.insert_version(engine, register=register, entry_id=rec[key], action="add", cells=full,
                               reason=_reason(reason), author=author, author_role=role, author_org=org)  # fmt: skip
    return _written(row)


def amend(engine: Engine, register: str, entry_id: str, changes: dict[str, Any], *, reason: str, author: str,
          role: str, org: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Amend an entry: ``changes`` on top of its current cells, validated whole, stored as its next version. The
    amendment states its own source (``source_url``, ``source_type``): provenance is never inherited."""
    _check_register(register)
    key = reg.KEYS[register]
    found = [r for r in current(engine, register) if r[key] == entry_id]
    if not found:
        raise NotFoundError(f"no {register} entry {entry_id!r}")
    if changes.get(key, entry_id) != entry_id:
        raise InvalidArgumentError(f"{key} cannot be changed by an amendment")
    _check_provenance({c: str(changes.get(c) or "") for c in ("source_url", "source_type")})
    base = {c: v for c, v in found[0]["_cells"].items() if c in HEADERS[register]}
    full = _full(register, base | changes)
    _VALIDATE[register](full, file="request body", row=1)
    row = store.insert_version(engine, register=register, entry_id=entry_id, action="amend", cells=full,
                               reason=_reason(reason), author=author, author_role=role, author_org=org)  # fmt: skip
    return _written(row)


def _written(row: dict[str, Any]) -> dict[str, Any]:
    created = row["created_at"]
    return {k: v for k, v in row.items() if k != "cells"} | {
        "created_at": created.isoformat() if isinstance(created, dt.datetime) else created
    }


def history(engine: Engine, entry_id: str) -> MarketResult:
    """An entry's versions: the bundled row (version 0, if any) and every stored version, oldest first."""
    rows: list[dict[str, Any]] = []
    for register in REGISTERS:
        key = reg.KEYS[register]
        for rec in bundled()[register]:
            if rec[key] == entry_id:
                rows.append({"register": register, "version": 0, "action": "bundled", "author": "policy_facts",
                             "author_role": None, "created_at": None, "reason": f"{rec['_file']} row {rec['_row']}",
                             "source_url": rec["_cells"].get("source_url"),
                             "source_type": rec["_cells"].get("source_type") or rec["source_type"]})  # fmt: skip
        for ver in store.entry_versions(engine, register, entry_id):
            rows.append({"register": register, "version": ver["version"], "action": ver["action"],
                         "author": ver["author"], "author_role": ver["author_role"], "created_at": ver["created_at"],
                         "reason": ver["reason"], "source_url": ver["cells"].get("source_url"),
                         "source_type": ver["cells"].get("source_type")})  # fmt: skip
    if not rows:
        raise NotFoundError(f"no agreement, measure or dispute {entry_id!r} in the register")
    return MarketResult(pl.DataFrame(rows, infer_schema_length=None), _provenance())
