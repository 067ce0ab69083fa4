"""The deals register (issue 17) from ``policy_facts``: partnerships and agreements, ISDS cases and incidents;
export-control measures are in :mod:`policy_deals_measures`. Rules from ``PROVENANCE.txt`` ("Added 2026-12"):

* an empty cell is *not stated*, never "absent" (``None``, never ``False`` or 0);
* ``source_type`` is ``primary`` or ``secondary``; a row whose facts come from a *briefing document* (the
  ``source_detail`` or a clause says so) is shown as secondary whatever its ``source_type`` (``shown_source_type``);
* money stays in the currency the source states, with its *nature* (pledge, pipeline value, technical assistance or
  unknown nature): it is never converted and never summed across rows (:mod:`lodeline.deals.money`).

Every check raises :class:`DataFormatError` naming the file, the row (header = 1) and the column. The same row
validators check the rows members and the secretariat add or amend (``file`` = ``request body``), so a bundled row
and an added row obey one set of rules.

Parties: ISO 3166 alpha-3 codes; the groups the project knows (``EU`` = EU27, ``G7``, ``MSP partners`` = MSP);
a few named non-state parties (development banks, a company: :data:`NAMED_PARTIES`). Anything else is an unknown
country code and the row is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources._files import label, read_csv
from lodeline.domain.countries import AGGREGATE_CODES, countries
from lodeline.domain.groups import country_groups
from lodeline.domain.minerals import Stage, resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

AGREEMENTS_FILE = "partnerships_agreements.csv"
DISPUTES_FILE = "isds_and_incidents.csv"

AGREEMENT_HEADER = (
    "agreement_id", "parties", "type", "title", "signed_date", "in_force_date", "minerals", "stages", "binding",
    "clause_local_processing", "clause_export_tax", "clause_offtake", "clause_isds", "financing_amount",
    "financing_currency", "source_url", "source_type", "source_detail", "note",
)  # fmt: skip
DISPUTE_HEADER = (
    "case_id", "date", "date_refers_to", "host_country_iso3", "parties", "mineral", "type", "forum_or_legal_basis",
    "status", "status_date", "amount_claimed", "amount_currency", "source_url", "source_type", "source_detail",
    "note",
)  # fmt: skip

AGREEMENT_TYPES = (
    "MoU", "framework", "strategic partnership", "FTA chapter", "offtake", "joint venture", "plurilateral",
)  # fmt: skip
#: Dispute types (the text before any " (qualifier)" must be one of these).
DISPUTE_TYPES = (
    "ISDS", "WTO dispute", "nationalisation", "export ban", "licence revocation", "community conflict",
    "FPIC dispute", "litigation",
)  # fmt: skip
SOURCE_TYPES = ("primary", "secondary")
BINDING = ("yes", "no", "unknown")
#: Party spellings that are country groups the project knows (domain/data/country_groups.csv).
GROUP_PARTIES = {"EU": "EU27", "G7": "G7", "MSP partners": "MSP"}
#: Named parties that are neither countries nor groups the project defines (kept as named parties).
NAMED_PARTIES = {
    "AfDB": "African Development Bank",
    "AFC": "Africa Finance Corporation",
    "World Bank": "World Bank Group",
    "Tesla": "Tesla, Inc. (company)",
}
#: Mineral phrases that name no specific mineral: the agreement covers critical minerals in general.
GENERAL_MINERALS = (
    "critical minerals", "critical raw materials", "raw materials", "critical and strategic raw materials",
    "refined materials", "solid minerals", "land-based raw materials",
)  # fmt: skip
#: Stage words in the agreements' ``stages`` column → the platform's stage (others stay as stated only).
STAGE_WORDS = {
    "mining": Stage.MINING, "extraction": Stage.MINING, "exploration": Stage.MINING, "production": Stage.MINING,
    "processing": Stage.REFINING, "refining": Stage.REFINING, "separation": Stage.REFINING,
    "deep processing": Stage.REFINING, "manufacturing": Stage.COMPONENT, "recycling": Stage.RECYCLING,
    "e-waste recovery": Stage.RECYCLING,
}  # fmt: skip
FINANCING_NATURES = ("pledge", "pipeline value", "technical assistance", "unknown nature")
BRIEFING = "briefing document"

_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?(?:\s*-\s*(\d{4}))?(?:\s*\((.+)\))?$")
_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")


@dataclass(frozen=True)
class PartialDate:
    """A date as a source states it: day, month or year precision, or a period of years; ``start`` is its first day
    (the value comparisons use), ``qualifier`` what the source adds in parentheses (``scheduled`` …)."""

    raw: str
    start: dt.date
    end: dt.date
    precision: str  # day | month | year | period
    qualifier: str | None


def parse_date(raw: str, *, file: str, row: int, column: str) -> PartialDate | None:
    text = raw.strip()
    if not text:
        return None
    m = _DATE.match(text)
    if m is None:
        raise DataFormatError(
            file, f"not a date: {raw!r} (expected YYYY, YYYY-MM or YYYY-MM-DD)", row=row, column=column
        )
    y, mo, d, y2, qualifier = m.groups()
    try:
        if y2 is not None:
            if mo is not None or int(y2) < int(y):
                raise ValueError
            return PartialDate(text, dt.date(int(y), 1, 1), dt.date(int(y2), 12, 31), "period", qualifier)
        if d is not None:
            day = dt.date(int(y), int(mo), int(d))
            return PartialDate(text, day, day, "day", qualifier)
        if mo is not None:
            first = dt.date(int(y), int(mo), 1)
            nxt = dt.date(int(y) + (int(mo) == 12), int(mo) % 12 + 1, 1)
            return PartialDate(text, first, nxt - dt.timedelta(days=1), "month", qualifier)
        return PartialDate(text, dt.date(int(y), 1, 1), dt.date(int(y), 12, 31), "year", qualifier)
    except ValueError:
        raise DataFormatError(file, f"not a valid date: {raw!r}", row=row, column=column) from None


def check_order(
    first: PartialDate | None, then: PartialDate | None, *, file: str, row: int, column: str, what: str
) -> None:
    """``then`` may not end before ``first`` begins (an end before its start)."""
    if first is not None and then is not None and then.end < first.start:
        raise DataFormatError(file, f"{what} {then.raw} is before {first.raw}", row=row, column=column)


def choice(
    raw: str, allowed: tuple[str, ...], *, file: str, row: int, column: str, required: bool = True
) -> str:
    text = raw.strip()
    if not text and not required:
        return ""
    if text not in allowed:
        raise DataFormatError(
            file, f"unknown {column} {raw!r}; expected one of: {', '.join(allowed)}", row=row, column=column
        )
    return text


def entry_id(raw: str, *, file: str, row: int, column: str) -> str:
    text = raw.strip()
    if not _ID.match(text):
        raise DataFormatError(
            file,
            f"bad id {raw!r}: lower-case letters, digits, '.', '_' and '-', at most 80",
            row=row,
            column=column,
        )
    return text


def resolve_parties(raw: str, *, file: str, row: int, column: str = "parties") -> dict[str, Any]:
    """Parties as stated, with the countries they stand for (groups expanded), the groups and named parties."""
    stated = [p.strip() for p in raw.split(";") if p.strip()]
    if not stated:
        raise DataFormatError(file, "no parties stated", row=row, column=column)
    known, groups = countries(), country_groups()
    out: dict[str, Any] = {"parties": stated, "countries": [], "groups": [], "named": []}
    for party in stated:
        if party in GROUP_PARTIES:
            gid = GROUP_PARTIES[party]
            out["groups"].append(gid)
            out["countries"].extend(sorted(groups[gid].members))
        elif party in NAMED_PARTIES:
            out["named"].append(party)
        elif party in known and party not in AGGREGATE_CODES:
            out["countries"].append(party)
        else:
            raise DataFormatError(
                file,
                f"unknown country code {party!r}: parties are ISO 3166 alpha-3 codes, the groups "
                f"{', '.join(GROUP_PARTIES)} or the named parties {', '.join(NAMED_PARTIES)}",
                row=row,
                column=column,
            )
    out["countries"] = list(dict.fromkeys(out["countries"]))
    return out


def country_code(raw: str, *, file: str, row: int, column: str, required: bool) -> str | None:
    code = raw.strip()
    if not code:
        if required:
            raise DataFormatError(file, "country code is missing", row=row, column=column)
        return None
    if code not in countries() or code in AGGREGATE_CODES:
        raise DataFormatError(
            file, f"unknown country code {raw!r} (ISO 3166 alpha-3)", row=row, column=column
        )
    return code


def minerals(raw: str) -> dict[str, Any]:
    """Minerals named (resolved ids), whether the row covers critical minerals in general, and what else it names
    (batteries, hydrogen, gold …: kept as stated). A qualifier in parentheses does not change the head phrase."""
    ids: list[str] = []
    other: list[str] = []
    general = False
    for part in (p.strip() for p in raw.split(";")):
        if not part:
            continue
        head = part.split("(")[0].strip()
        if head.lower() in GENERAL_MINERALS:
            general = True
            continue
        try:
            mineral = resolve_mineral(head)
        except UnknownMineralError:
            other.append(part)
            continue
        if mineral not in ids:
            ids.append(mineral)
    return {"minerals": ids, "general": general, "other_subjects": other}


def stages(raw: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in raw.split(";")):
        stage = STAGE_WORDS.get(part.split("(")[0].strip().lower())
        if stage is not None and stage.value not in out:
            out.append(stage.value)
    return out


def amount(raw: str, *, file: str, row: int, column: str) -> float | None:
    text = raw.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise DataFormatError(file, f"not a number: {raw!r}", row=row, column=column) from None
    if not value >= 0 or value == float("inf"):
        raise DataFormatError(
            file, f"an amount must be a finite number >= 0, found {raw!r}", row=row, column=column
        )
    return value


def currency(raw: str, *, file: str, row: int, column: str) -> str | None:
    text = raw.strip().upper()
    if not text:
        return None
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise DataFormatError(file, f"not an ISO 4217 currency code: {raw!r}", row=row, column=column)
    return text


def financing_nature(note: str, kind: str) -> str:
    """What a financing figure is, read conservatively from the row's note: technical assistance, a pledge, or the
    value of a project pipeline / private investment (not public money); anything else is ``unknown nature``."""
    text = f"{note} {kind}".lower()
    if "technical assistance" in text:
        return "technical assistance"
    if "pledge" in text:
        return "pledge"
    if "unlock" in text or "private investment" in text or "of projects" in text:
        return "pipeline value"
    return "unknown nature"


def shown_source_type(source_type: str, *texts: str) -> str:
    """A row citing a briefing document is second-hand: shown as secondary even if recorded as primary."""
    return "secondary" if any(BRIEFING in t.lower() for t in texts) else source_type


def _source(cells: Mapping[str, str], *, file: str, row: int) -> dict[str, Any]:
    url = cells["source_url"].strip()
    if not url.startswith(("http://", "https://", f"{BRIEFING}:")):
        raise DataFormatError(
            file, f"source_url must be an http(s) address or '{BRIEFING}: <name>', found {url!r}", row=row,
            column="source_url",
        )  # fmt: skip
    return {
        "source_url": url,
        "source_type": choice(cells["source_type"], SOURCE_TYPES, file=file, row=row, column="source_type"),
        "source_detail": cells["source_detail"].strip() or None,
    }


def agreement(cells: Mapping[str, str], *, file: str, row: int) -> dict[str, Any]:
    """One agreement row, validated (also used for rows added through the API and CLI)."""
    where: dict[str, Any] = {"file": file, "row": row}
    signed = parse_date(cells["signed_date"], column="signed_date", **where)
    in_force = parse_date(cells["in_force_date"], column="in_force_date", **where)
    check_order(signed, in_force, column="in_force_date", what="in_force_date", **where)
    kind = choice(cells["type"], AGREEMENT_TYPES, column="type", **where)
    clauses = {c: cells[c].strip() or None for c in AGREEMENT_HEADER if c.startswith("clause_")}
    money = amount(cells["financing_amount"], column="financing_amount", **where)
    source = _source(cells, **where)
    texts = [source["source_url"], source["source_detail"] or "", *(v for v in clauses.values() if v)]
    return {
        "agreement_id": entry_id(cells["agreement_id"], column="agreement_id", **where),
        **resolve_parties(cells["parties"], **where),
        "type": kind,
        "title": cells["title"].strip() or None,
        "signed_date": signed.raw if signed else None,
        "signed_start": signed.start if signed else None,
        "in_force_date": in_force.raw if in_force else None,
        "in_force_start": in_force.start if in_force else None,
        "minerals_stated": cells["minerals"].strip() or None,
        **minerals(cells["minerals"]),
        "stages_stated": cells["stages"].strip() or None,
        "stages": stages(cells["stages"]),
        "binding": choice(cells["binding"], BINDING, column="binding", **where, required=False) or None,
        **clauses,
        "financing_amount": money,
        "financing_currency": currency(cells["financing_currency"], column="financing_currency", **where),
        "financing_nature": financing_nature(cells["note"], kind) if money is not None else None,
        **source,
        "shown_source_type": shown_source_type(source["source_type"], *texts),
        "note": cells["note"].strip() or None,
        "status": (cells.get("status") or "").strip() or None,
        "status_date": (cells.get("status_date") or "").strip() or None,
    }


def dispute(cells: Mapping[str, str], *, file: str, row: int) -> dict[str, Any]:
    where: dict[str, Any] = {"file": file, "row": row}
    date = parse_date(cells["date"], column="date", **where)
    status_date = parse_date(cells["status_date"], column="status_date", **where)
    check_order(date, status_date, column="status_date", what="status_date", **where)
    kind = cells["type"].strip()
    choice(kind.split(" (")[0], DISPUTE_TYPES, column="type", **where)
    source = _source(cells, **where)
    subjects = minerals(cells["mineral"])
    return {
        "case_id": entry_id(cells["case_id"], column="case_id", **where),
        "date": date.raw if date else None,
        "date_start": date.start if date else None,
        "date_refers_to": cells["date_refers_to"].strip() or None,
        "host_country": country_code(
            cells["host_country_iso3"], column="host_country_iso3", required=False, **where
        ),
        "parties": cells["parties"].strip() or None,
        "mineral_stated": cells["mineral"].strip() or None,
        "minerals": subjects["minerals"],
        "type": kind,
        "forum_or_legal_basis": cells["forum_or_legal_basis"].strip() or None,
        "status": cells["status"].strip() or None,
        "status_date": status_date.raw if status_date else None,
        "amount_claimed": amount(cells["amount_claimed"], column="amount_claimed", **where),
        "amount_currency": currency(cells["amount_currency"], column="amount_currency", **where),
        **source,
        "shown_source_type": shown_source_type(
            source["source_type"], source["source_url"], source["source_detail"] or ""
        ),
        "note": cells["note"].strip() or None,
    }


def _unique(records: list[dict[str, Any]], key: str, lines: list[int], file: str) -> None:
    seen: dict[str, int] = {}
    for rec, line in zip(records, lines, strict=True):
        if rec[key] in seen:
            raise DataFormatError(
                file, f"duplicate {key} {rec[key]!r} (first on row {seen[rec[key]]})", row=line, column=key
            )
        seen[rec[key]] = line


def read_agreements(folder: Path) -> list[dict[str, Any]]:
    name = label(folder, AGREEMENTS_FILE)
    rows = read_csv(folder, AGREEMENTS_FILE, header=AGREEMENT_HEADER)
    records = [
        agreement(r.cells, file=name, row=r.line) | {"_file": name, "_row": r.line, "_cells": r.cells}
        for r in rows
    ]
    _unique(records, "agreement_id", [r.line for r in rows], name)
    return records


def read_disputes(folder: Path) -> list[dict[str, Any]]:
    name = label(folder, DISPUTES_FILE)
    rows = read_csv(folder, DISPUTES_FILE, header=DISPUTE_HEADER)
    records = [
        dispute(r.cells, file=name, row=r.line) | {"_file": name, "_row": r.line, "_cells": r.cells}
        for r in rows
    ]
    _unique(records, "case_id", [r.line for r in rows], name)
    return records


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    """Validate the register's files at ``data build`` (a bad row stops the build naming file, row and column).

    The register is read from the bundled files by :mod:`lodeline.services.deals` (members' additions and
    amendments live in the store as versions on top); no canonical table is loaded, so this returns nothing but
    the dataset still enters the catalog with its files' sha256."""
    from lodeline.data.sources.policy_deals_measures import read_measures

    read_agreements(folder)
    read_disputes(folder)
    read_measures(folder)
    return {}


DATASET = DatasetSpec(
    id="policy_facts_deals",
    title="Partnerships and agreements, export-control measures, ISDS cases and incidents on critical minerals",
    publisher="Compiled from official instruments and press (see PROVENANCE.txt; source_type per row)",
    edition="2026-12",
    licence="Facts from official instruments and public reporting; cite the row's source",
    folder="policy_facts",
    files=(
        AGREEMENTS_FILE,
        DISPUTES_FILE,
        "export_controls_measures.csv",
        "export_controls_cn_customs_codes_long.csv",
    ),
    parse=parse,
)
