"""Policy targets and commitments (G7 2026 declaration, EU CRMA, EU Battery Regulation) from ``policy_facts``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.flags import parse_flagged_number
from lodeline.data.sources._files import label, read_csv_columns
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

FILE = "targets_and_commitments.csv"
#: Scope phrases that name no specific mineral: the target applies to a class, kept as an empty list.
GENERIC_SCOPES = (
    "other critical minerals",
    "critical minerals",
    "selected critical minerals",
    "strategic raw materials",
    "each strategic raw material",
)
_REQUIRED = (
    "target_id",
    "body",
    "instrument",
    "date",
    "scope_minerals",
    "scope_stage",
    "metric",
    "comparator",
    "value",
    "unit",
    "deadline",
    "ambition_value",
    "note",
)


def _minerals(scope: str, *, row: int) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in scope.split(";")):
        if not part or part.lower() in GENERIC_SCOPES:
            continue
        try:
            mineral = resolve_mineral(part)
        except UnknownMineralError as exc:
            raise DataFormatError(
                f"policy_facts/{FILE}", exc.message, row=row, column="scope_minerals"
            ) from None
        if mineral not in out:
            out.append(mineral)
    return out


def _year(raw: str, *, row: int, column: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isdigit():
        raise DataFormatError(f"policy_facts/{FILE}", f"not a year: {raw!r}", row=row, column=column)
    return int(raw)


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    name = label(folder, FILE)
    read = [(r.line, r.cells) for r in read_csv_columns(folder, FILE, required=_REQUIRED, encoding="utf-8")]
    rows = []
    for line, rec in read:
        value, flag = parse_flagged_number(rec["value"], file=name, row=line, column="value")
        ambition, _ = parse_flagged_number(
            rec["ambition_value"], file=name, row=line, column="ambition_value"
        )
        rows.append(
            {
                "target_id": rec["target_id"],
                "body": rec["body"],
                "instrument": rec["instrument"],
                "year_adopted": _year(rec["date"], row=line, column="date"),
                "minerals": json.dumps(_minerals(rec["scope_minerals"], row=line)),
                "scope_raw": rec["scope_minerals"],
                "stage_scope": rec["scope_stage"],
                "metric": rec["metric"],
                "comparator": rec["comparator"],
                "value": value,
                "unit": rec["unit"],
                "deadline": _year(rec["deadline"], row=line, column="deadline"),
                "ambition_value": ambition,
                "note": rec["note"] or None,
                "source": DATASET.id,
                "edition": DATASET.edition,
                "flag": flag,
                "_file": name,
                "_row": line,
            }
        )
    return {"targets": pl.DataFrame(rows, infer_schema_length=None)}


DATASET = DatasetSpec(
    id="policy_facts_targets",
    title="Targets and commitments on critical minerals (G7 2026 declaration, EU CRMA, EU Battery Regulation)",
    publisher="Compiled from the official instruments (see PROVENANCE.txt)",
    edition="2026",
    licence="Facts from official instruments; cite the instruments",
    folder="policy_facts",
    files=(FILE,),
    parse=parse,
)
