"""Export-control measures on critical minerals (``export_controls_measures.csv``) and the Chinese customs
reference codes with their derived HS6 (``export_controls_cn_customs_codes_long.csv``), from ``policy_facts``.

``jurisdiction`` is ISO 3166 alpha-2 in the file (``CN``) and alpha-3 here (``CHN``). ``materials_tracked`` uses
the tracker's slugs; each maps to a Lodeline mineral (``ndfeb-magnets``, ``terbium`` … → ``rare-earths``). HS codes
come from the customs-codes file where it lists the measure, else from ``hs6_codes_derived``; customs codes are
reference codes only (the announcement's item descriptions govern the legal scope).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lodeline.data.sources._files import label, read_csv
from lodeline.data.sources.policy_deals import check_order, choice, entry_id, parse_date
from lodeline.domain.countries import iso2_to_iso3
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownCountryError, UnknownMineralError

MEASURES_FILE = "export_controls_measures.csv"
CODES_FILE = "export_controls_cn_customs_codes_long.csv"
MEASURE_HEADER = (
    "measure_id", "jurisdiction", "instrument_source", "measure_type", "direction", "clause", "materials_tracked",
    "materials_other_as_stated", "targets", "announced_date", "effective_date", "suspended_from", "suspended_until",
    "n_cn_customs_codes", "hs6_codes_derived", "cn_customs_codes_10digit", "cn_control_list_numbers", "note",
)  # fmt: skip
CODES_HEADER = ("measure_id", "effective_date", "cn_customs_code_10", "hs6", "hs4", "code_role")

MEASURE_TYPES = (
    "export_licensing", "export_prohibition", "extraterritorial_licensing", "end_use_restriction",
    "domestic_production_control", "customs_enforcement", "export_quota", "export_tax", "decontrol", "suspension",
    "trade_investigation", "trade_negotiation", "investment_divestiture", "contractual_ownership_covenant",
)  # fmt: skip
#: Measure types that restrict supply while in force; the others lift, pause, investigate or concern investment.
RESTRICTIVE_TYPES = frozenset(MEASURE_TYPES[:8])
#: The kind of restriction in plain words (licence, ban, quota, tax …).
KIND = {
    "export_licensing": "licence", "extraterritorial_licensing": "licence (extraterritorial)",
    "export_prohibition": "ban", "export_quota": "quota", "export_tax": "tax",
    "end_use_restriction": "end-use restriction", "domestic_production_control": "production control",
    "customs_enforcement": "customs enforcement",
}  # fmt: skip
DIRECTIONS = ("export", "re_export", "domestic", "import", "inbound_investment")
#: Tracker slugs that are not Lodeline mineral names.
MATERIAL_SLUGS = {
    "rare-earth-elements": "rare-earths", "ndfeb-magnets": "rare-earths", "terbium": "rare-earths",
    "dysprosium": "rare-earths", "praseodymium": "rare-earths", "neodymium": "rare-earths",
    "samarium": "rare-earths", "gadolinium": "rare-earths", "lutetium": "rare-earths", "yttrium": "rare-earths",
    "scandium": "rare-earths",
}  # fmt: skip
_HS6 = re.compile(r"^\d{6}$")


def _materials(raw: str, *, file: str, row: int, column: str) -> list[str]:
    out: list[str] = []
    for part in (p.strip() for p in raw.split(";")):
        if not part:
            continue
        mineral = MATERIAL_SLUGS.get(part.lower())
        if mineral is None:
            try:
                mineral = resolve_mineral(part)
            except UnknownMineralError as exc:
                raise DataFormatError(file, exc.message, row=row, column=column) from None
        if mineral not in out:
            out.append(mineral)
    return out


def _other_materials(raw: str) -> list[str]:
    """Minerals among the materials 'as stated' that Lodeline knows (the rest stay in the stated text)."""
    out: list[str] = []
    for part in (p.strip() for p in raw.split(";")):
        slug = MATERIAL_SLUGS.get(part.lower())
        try:
            mineral = slug or resolve_mineral(part)
        except UnknownMineralError:
            continue
        if mineral not in out:
            out.append(mineral)
    return out


def _codes(raw: str, *, file: str, row: int, column: str) -> list[str]:
    codes = [c.strip() for c in raw.split(";") if c.strip()]
    bad = [c for c in codes if not _HS6.match(c)]
    if bad:
        raise DataFormatError(file, f"not six-digit HS codes: {bad[:3]}", row=row, column=column)
    return list(dict.fromkeys(codes))


def measure(cells: Mapping[str, str], *, file: str, row: int) -> dict[str, Any]:
    """One export-control measure, validated (also used for rows added through the API and CLI)."""
    where: dict[str, Any] = {"file": file, "row": row}
    try:
        jurisdiction = (
            iso2_to_iso3(cells["jurisdiction"]) if len(cells["jurisdiction"].strip()) == 2 else None
        )
    except UnknownCountryError:
        jurisdiction = None
    if jurisdiction is None:
        raise DataFormatError(
            file,
            f"unknown country code {cells['jurisdiction']!r} (ISO 3166 alpha-2)",
            row=row,
            column="jurisdiction",
        )
    announced = parse_date(cells["announced_date"], column="announced_date", **where)
    effective = parse_date(cells["effective_date"], column="effective_date", **where)
    s_from = parse_date(cells["suspended_from"], column="suspended_from", **where)
    s_until = parse_date(cells["suspended_until"], column="suspended_until", **where)
    check_order(announced, effective, column="effective_date", what="effective_date", **where)
    check_order(s_from, s_until, column="suspended_until", what="suspended_until", **where)
    kind = choice(cells["measure_type"], MEASURE_TYPES, column="measure_type", **where)
    tracked = _materials(cells["materials_tracked"], column="materials_tracked", **where)
    other = [m for m in _other_materials(cells["materials_other_as_stated"]) if m not in tracked]
    detail = cells.get("source_detail", "").strip() or None
    return {
        "measure_id": entry_id(cells["measure_id"], column="measure_id", **where),
        "jurisdiction": jurisdiction,
        "instrument_source": cells["instrument_source"].strip() or None,
        "measure_type": kind,
        "kind": KIND.get(kind, kind.replace("_", " ")),
        "restrictive": kind in RESTRICTIVE_TYPES,
        "direction": choice(cells["direction"], DIRECTIONS, column="direction", **where),
        "clause": cells["clause"].strip() or None,
        "minerals": tracked + other,
        "materials_tracked": cells["materials_tracked"].strip() or None,
        "materials_other_as_stated": cells["materials_other_as_stated"].strip() or None,
        "targets": cells["targets"].strip() or None,
        "announced_date": announced.raw if announced else None,
        "announced_start": announced.start if announced else None,
        "effective_date": effective.raw if effective else None,
        "effective_start": effective.start if effective else None,
        "suspended_from": s_from.start if s_from else None,
        "suspended_until": s_until.end if s_until else None,
        "hs6": _codes(cells["hs6_codes_derived"], column="hs6_codes_derived", **where),
        "cn_control_list_numbers": cells["cn_control_list_numbers"].strip() or None,
        "note": cells["note"].strip() or None,
        # The measures file is compiled from the issuing authorities' announcements (PROVENANCE: checked against
        # the instruments before mid-2025); an added row states its own source.
        "source_url": cells.get("source_url", "").strip() or None,
        "source_type": cells.get("source_type", "").strip() or "primary",
        "source_detail": detail,
        "shown_source_type": cells.get("source_type", "").strip() or "primary",
    }


def read_codes(folder: Path) -> dict[str, list[str]]:
    """measure_id → the HS6 codes its customs reference codes map to (file order, no repeats)."""
    name = label(folder, CODES_FILE)
    out: dict[str, list[str]] = {}
    for r in read_csv(folder, CODES_FILE, header=CODES_HEADER):
        hs6 = r.cells["hs6"].strip()
        code = r.cells["cn_customs_code_10"].strip()
        if not _HS6.match(hs6):
            raise DataFormatError(name, f"not a six-digit HS code: {hs6!r}", row=r.line, column="hs6")
        if not (code.isdigit() and len(code) == 10 and code.startswith(hs6)):
            raise DataFormatError(
                name, f"customs code {code!r} is not ten digits starting with its HS6 {hs6}", row=r.line,
                column="cn_customs_code_10",
            )  # fmt: skip
        codes = out.setdefault(r.cells["measure_id"].strip(), [])
        if hs6 not in codes:
            codes.append(hs6)
    return out


def read_measures(folder: Path) -> list[dict[str, Any]]:
    name = label(folder, MEASURES_FILE)
    rows = read_csv(folder, MEASURES_FILE, header=MEASURE_HEADER)
    codes = read_codes(folder)
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for r in rows:
        rec = measure(r.cells, file=name, row=r.line)
        if rec["measure_id"] in seen:
            raise DataFormatError(
                name, f"duplicate measure_id {rec['measure_id']!r} (first on row {seen[rec['measure_id']]})",
                row=r.line, column="measure_id",
            )  # fmt: skip
        seen[rec["measure_id"]] = r.line
        customs = codes.get(rec["measure_id"])
        if customs:
            rec["hs6"] = list(dict.fromkeys([*customs, *rec["hs6"]]))
        rec["hs6_from_customs_file"] = bool(customs)
        out.append(rec | {"_file": name, "_row": r.line, "_cells": r.cells})
    unknown = sorted(set(codes) - set(seen))
    if unknown:
        raise DataFormatError(
            label(folder, CODES_FILE),
            f"customs codes for unknown measure(s) {unknown[:3]}",
            column="measure_id",
        )
    return out
