"""EU CRMA strategic projects (``policy_facts/eu_crma_strategic_projects.csv``) parsed into checked rows.

Not a canonical-table source (not in ``SOURCE_MODULES``): ``services.projects`` parses the bundled file when it
builds the register, so no canonical table or migration is needed for public projects. Errors name file, row
and column. List-valued cells (``;``-separated) come back as JSON arrays; empty cells stay None.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources._files import label, read_csv_columns
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

FILE = "eu_crma_strategic_projects.csv"
_REQUIRED = (
    "designation_id", "list", "commission_decision", "commission_decision_date", "annex_entry_no",
    "project_name_as_stated", "promoter_holder_orgs", "country_iso2", "location_as_stated", "stages",
    "strategic_raw_materials", "other_materials_as_stated", "expected_capex_value", "expected_capex_currency",
    "expected_production_capacity", "expected_start_of_operation", "source_url", "source_type",
    "source_detail", "note",
)  # fmt: skip
STAGES = ("extraction", "processing", "separation", "refining", "recycling", "substitution")
_ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_ISO2 = re.compile(r"^[A-Z]{2}$")
_CAPEX = re.compile(r"^(?P<lo>\d+(?:\.\d+)?)(?:-(?P<hi>\d+(?:\.\d+)?))?$")


def split_list(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(";") if p.strip()]


def minerals_of(raw: str, *, file: str, row: int, column: str) -> list[str]:
    out: list[str] = []
    for part in split_list(raw):
        try:
            mineral = resolve_mineral(part)
        except UnknownMineralError as exc:
            raise DataFormatError(file, exc.message, row=row, column=column) from None
        if mineral not in out:
            out.append(mineral)
    return out


def _stages(raw: str, *, file: str, row: int) -> tuple[list[str], str | None]:
    out: list[str] = []
    qualifier = None
    for part in split_list(raw):
        word = part.split("(")[0].strip().lower()
        if "(" in part:
            qualifier = part
        if word not in STAGES:
            raise DataFormatError(
                file, f"unknown stage {word!r}; expected one of {STAGES}", row=row, column="stages"
            )
        out.append(word)
    return out, qualifier


def _capex(raw: str, *, file: str, row: int) -> tuple[float | None, float | None]:
    raw = raw.strip()
    if not raw:
        return None, None
    m = _CAPEX.match(raw)
    if m is None:
        raise DataFormatError(
            file, f"not an amount or range: {raw!r}", row=row, column="expected_capex_value"
        )
    return float(m["lo"]), (float(m["hi"]) if m["hi"] else None)


def first_year(raw: str) -> int | None:
    """The first year a start-of-operation statement names; None when it dates something else (an investment
    decision: "FID expected end 2027" is not a start of operation)."""
    if re.search(r"\bFID\b|investment decision", raw, re.IGNORECASE):
        return None
    m = re.search(r"\b(19|20)\d{2}\b", raw)
    return int(m.group(0)) if m else None


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    name = label(folder, FILE)
    read = [(r.line, r.cells) for r in read_csv_columns(folder, FILE, required=_REQUIRED, encoding="utf-8")]
    rows = []
    seen: set[str] = set()
    for line, rec in read:
        pid = rec["designation_id"].strip()
        if not pid:
            raise DataFormatError(name, "empty designation_id", row=line, column="designation_id")
        if pid in seen:
            raise DataFormatError(
                name, f"duplicate designation_id {pid!r}", row=line, column="designation_id"
            )
        seen.add(pid)
        date = rec["commission_decision_date"].strip()
        if date and not _ISO_DATE.match(date):
            raise DataFormatError(
                name, f"not an ISO date: {date!r}", row=line, column="commission_decision_date"
            )
        countries = split_list(rec["country_iso2"])
        bad = [c for c in countries if not _ISO2.match(c)]
        if bad:
            raise DataFormatError(name, f"not ISO 3166 alpha-2: {bad}", row=line, column="country_iso2")
        stages, stage_qualifier = _stages(rec["stages"], file=name, row=line)
        lo, hi = _capex(rec["expected_capex_value"], file=name, row=line)
        currency = rec["expected_capex_currency"].strip() or None
        if lo is not None and currency is None:
            raise DataFormatError(
                name, "capex without a currency", row=line, column="expected_capex_currency"
            )
        source_type = rec["source_type"].strip() or None
        if source_type not in (None, "primary", "secondary"):
            raise DataFormatError(name, f"source_type {source_type!r} is not primary/secondary", row=line,
                                  column="source_type")  # fmt: skip
        start = rec["expected_start_of_operation"].strip()
        rows.append(
            {
                "project_id": pid,
                "name": rec["project_name_as_stated"].strip() or None,
                "list": rec["list"].strip(),
                "decision": rec["commission_decision"].strip() or None,
                "decision_date": date or None,
                "annex_entry_no": rec["annex_entry_no"].strip() or None,
                "promoters": json.dumps(split_list(rec["promoter_holder_orgs"])),
                "countries": json.dumps(countries),
                "location": rec["location_as_stated"].strip() or None,
                "stages": json.dumps(stages),
                "stage_qualifier": stage_qualifier,
                "minerals": json.dumps(
                    minerals_of(
                        rec["strategic_raw_materials"], file=name, row=line, column="strategic_raw_materials"
                    )
                ),
                "other_materials": rec["other_materials_as_stated"].strip() or None,
                "capex_value": lo,
                "capex_value_high": hi,
                "capex_currency": currency,
                "capacity_raw": rec["expected_production_capacity"].strip() or None,
                "start_raw": start or None,
                "start_year": first_year(start) if start else None,
                "source_url": rec["source_url"].strip() or None,
                "source_type": source_type,
                "source_detail": rec["source_detail"].strip() or None,
                "note": rec["note"].strip() or None,
                "_file": name,
                "_row": line,
            }
        )
    return {"projects": pl.DataFrame(rows, infer_schema_length=None)}


DATASET = DatasetSpec(
    id="policy_facts_projects",
    title="EU Critical Raw Materials Act strategic projects (60 designations, 2025)",
    publisher="Compiled from the Commission decisions and press (see PROVENANCE.txt)",
    edition="2026-12",
    licence="Facts from official instruments and press; cite the sources per row",
    folder="policy_facts",
    files=(FILE,),
    parse=parse,
)
