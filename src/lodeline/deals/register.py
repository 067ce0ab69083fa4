"""The register as it stands: the bundled rows (version 0) with the members' and the secretariat's versions on top
(the newest version of an entry replaces it; an added entry has no bundled row), and its tables as frames."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import polars as pl

from lodeline.deals.lifecycle import agreement_status, measure_status

#: register name → the id column of its entries.
KEYS = {"agreements": "agreement_id", "measures": "measure_id", "disputes": "case_id"}


def apply_versions(
    bundled: list[dict[str, Any]], versions: Iterable[dict[str, Any]], key: str
) -> list[dict[str, Any]]:
    """``versions``: parsed records with ``_version``, ``_action``, ``_author``, ``_at`` (any order). The newest
    version of each entry wins; ``origin`` says bundled, added or amended."""
    current = {rec[key]: rec | {"version": 0, "origin": "bundled"} for rec in bundled}
    base = set(current)
    for ver in sorted(versions, key=lambda v: v["_version"]):
        origin = "amended" if ver[key] in base else "added"
        current[ver[key]] = ver | {"version": ver["_version"], "origin": origin}
    return sorted(current.values(), key=lambda r: str(r[key]))


def _join(value: Any) -> Any:
    if isinstance(value, list):
        return ";".join(str(v) for v in value) or None
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...]) -> pl.DataFrame:
    rows = [{c: _join(r.get(c)) for c in columns} for r in records]
    schema = {c: (pl.Boolean if c in _BOOL else pl.Float64 if c in _FLOAT else pl.Int64 if c == "version" else pl.String)
              for c in columns}  # fmt: skip
    return pl.DataFrame(rows, schema=schema)


_BOOL = {"general", "restrictive"}
_FLOAT = {"financing_amount", "amount_claimed", "affected_share"}
AGREEMENT_COLUMNS = (
    "agreement_id", "parties", "countries", "groups", "named", "type", "title", "status", "signed_date",
    "in_force_date", "minerals", "general", "other_subjects", "minerals_stated", "stages", "stages_stated", "binding",
    "clause_local_processing", "clause_export_tax", "clause_offtake", "clause_isds", "financing_amount",
    "financing_currency", "financing_nature", "source_url", "source_type", "shown_source_type", "source_detail",
    "note", "version", "origin",
)  # fmt: skip
MEASURE_COLUMNS = (
    "measure_id", "jurisdiction", "kind", "measure_type", "restrictive", "direction", "status", "minerals",
    "materials_tracked", "materials_other_as_stated", "targets", "announced_date", "effective_date",
    "suspended_from", "suspended_until", "hs6", "instrument_source", "clause", "cn_control_list_numbers",
    "source_url", "source_type", "shown_source_type", "note", "version", "origin",
)  # fmt: skip
DISPUTE_COLUMNS = (
    "case_id", "date", "date_refers_to", "host_country", "parties", "minerals", "mineral_stated", "type",
    "forum_or_legal_basis", "status", "status_date", "amount_claimed", "amount_currency", "source_url",
    "source_type", "shown_source_type", "source_detail", "note", "version", "origin",
)  # fmt: skip


def agreements_frame(records: list[dict[str, Any]], on: dt.date) -> pl.DataFrame:
    return _frame([r | {"status": agreement_status(r, on)} for r in records], AGREEMENT_COLUMNS)


def measures_frame(records: list[dict[str, Any]], on: dt.date) -> pl.DataFrame:
    return _frame([r | {"status": measure_status(r, on)} for r in records], MEASURE_COLUMNS)


def disputes_frame(records: list[dict[str, Any]]) -> pl.DataFrame:
    return _frame(records, DISPUTE_COLUMNS)


def for_country(records: list[dict[str, Any]], iso3: str, register: str) -> list[dict[str, Any]]:
    """The entries that concern a country: a party (agreements), the jurisdiction (measures), the host (disputes)."""
    if register == "agreements":
        return [r for r in records if iso3 in r["countries"]]
    if register == "measures":
        return [r for r in records if r["jurisdiction"] == iso3]
    return [r for r in records if r["host_country"] == iso3]


def mentions(records: list[dict[str, Any]], mineral: str, *, general: bool = True) -> list[dict[str, Any]]:
    return [r for r in records if mineral in r["minerals"] or (general and r.get("general"))]
