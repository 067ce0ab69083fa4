"""Public financing commitments (``policy_facts/public_financing_commitments_partial.csv``) parsed into rows.

Each row keeps its ``relationship`` resolved to explicit ids: ``parent_id`` (the row it is a part of; the
ledger never sums a parent and its parts) and ``drawn_from`` (the envelope or authority it draws on). A short
reference (``part_of package``) resolves to the row marked ``parent`` sharing the longest id prefix; none is an
error naming the row. Not a canonical-table source: ``services.projects`` parses it when it builds the ledger.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources._files import label, read_csv_columns
from lodeline.data.sources.policy_projects import split_list
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

FILE = "public_financing_commitments_partial.csv"
_REQUIRED = (
    "commitment_id", "provider_jurisdiction", "provider", "instrument", "value_role", "amount", "currency",
    "amount_qualifier", "recipient", "project", "country_iso2", "stages", "materials", "first_fin_status",
    "first_fin_status_date", "latest_fin_status", "latest_fin_status_date", "relationship", "note",
)  # fmt: skip
#: names in the file that are rare-earth elements or products, not separate minerals of the register
_REE = {"dysprosium", "terbium", "neodymium", "praseodymium", "samarium"}
_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


def _materials(raw: str) -> tuple[list[str], list[str]]:
    found: list[str] = []
    unresolved: list[str] = []
    for part in split_list(raw):
        word = part.strip("() ")
        try:
            mineral = "rare-earths" if word.lower() in _REE else resolve_mineral(word)
        except UnknownMineralError:
            unresolved.append(part)
            continue
        if mineral not in found:
            found.append(mineral)
    return found, unresolved


def _date(raw: str) -> str | None:
    m = _DATE.search(raw)
    return m.group(0) if m else None


def _common(a: str, b: str) -> int:
    """Length of the common prefix of two ids."""
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _relationship(raw: str, cid: str, ids: set[str], parents: list[str], *, file: str, row: int) -> tuple[str | None, str | None]:  # fmt: skip
    parent = drawn = None
    for clause in (c.strip() for c in raw.split(";") if c.strip()):
        if clause == "parent":
            continue
        kind, _, ref = clause.partition(" ")
        ref = ref.replace("(implied)", "").strip()
        if kind not in ("part_of", "drawn_from") or not ref:
            raise DataFormatError(file, f"unreadable relationship {clause!r}", row=row, column="relationship")
        if kind == "drawn_from":
            drawn = ref
            continue
        if ref in ids:
            parent = ref
            continue
        best = max(parents, key=lambda p: _common(p, cid), default=None)
        if best is None or best == cid or _common(best, cid) < len("fin-xx-"):
            raise DataFormatError(file, f"no parent row matches {ref!r}", row=row, column="relationship")
        parent = best
    return parent, drawn


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    name = label(folder, FILE)
    records = [
        (r.line, r.cells) for r in read_csv_columns(folder, FILE, required=_REQUIRED, encoding="utf-8")
    ]
    ids = {rec["commitment_id"].strip() for _, rec in records}
    if len(ids) != len(records):
        raise DataFormatError(name, "duplicate commitment_id", column="commitment_id")
    parents = [r["commitment_id"] for _, r in records if "parent" in split_list(r["relationship"])]
    rows = []
    for line, rec in records:
        cid = rec["commitment_id"].strip()
        raw_amount = rec["amount"].strip()
        try:
            amount = float(raw_amount) if raw_amount else None
        except ValueError:
            raise DataFormatError(name, f"not a number: {raw_amount!r}", row=line, column="amount") from None
        if amount is not None and amount < 0:
            raise DataFormatError(name, f"negative amount {raw_amount}", row=line, column="amount")
        currency = rec["currency"].strip() or None
        if amount is not None and currency is None:
            raise DataFormatError(name, "amount without a currency", row=line, column="currency")
        parent, drawn = _relationship(rec["relationship"], cid, ids, parents, file=name, row=line)
        minerals, unresolved = _materials(rec["materials"])
        rows.append(
            {
                "commitment_id": cid,
                "provider_jurisdiction": rec["provider_jurisdiction"].strip() or None,
                "provider": rec["provider"].strip() or None,
                "instrument": rec["instrument"].strip() or None,
                "value_role": rec["value_role"].strip() or None,
                "amount": amount,
                "currency": currency,
                "amount_qualifier": rec["amount_qualifier"].strip() or None,
                "recipient": rec["recipient"].strip() or None,
                "project": rec["project"].strip() or None,
                "countries": json.dumps(split_list(rec["country_iso2"])),
                "stages": json.dumps(split_list(rec["stages"])),
                "minerals": json.dumps(minerals),
                "materials_unresolved": json.dumps(unresolved),
                "first_status": rec["first_fin_status"].strip() or None,
                "first_status_date": _date(rec["first_fin_status_date"]),
                "latest_status": rec["latest_fin_status"].strip() or None,
                "latest_status_date": _date(rec["latest_fin_status_date"]),
                "latest_status_date_raw": rec["latest_fin_status_date"].strip() or None,
                "is_parent": cid in parents,
                "parent_id": parent,
                "drawn_from": drawn,
                "relationship_raw": rec["relationship"].strip() or None,
                "note": rec["note"].strip() or None,
                "_file": name,
                "_row": line,
            }
        )
    return {"commitments": pl.DataFrame(rows, infer_schema_length=None)}


DATASET = DatasetSpec(
    id="policy_facts_commitments",
    title="Public financing commitments for critical-mineral projects (partial, 70 rows)",
    publisher="Compiled from provider releases and press (see PROVENANCE.txt)",
    edition="2026-10",
    licence="Facts from official releases; cite the sources",
    folder="policy_facts",
    files=(FILE,),
    parse=parse,
)
