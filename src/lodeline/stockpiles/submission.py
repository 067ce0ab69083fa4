"""Member stockpile submissions: the record, its validation and its canonical form (pure, no I/O).

One record per reporting period, member, mineral and form, with the reporting items of the EU Critical Raw
Materials Act, Art. 22 (Regulation (EU) 2024/1252): mineral, chemical form and purity, quantity in tonnes (gross
and contained), holder type, location country, the share of annual national consumption covered (and the days of
cover computed from it), five-year trend, and the member's release, allocation and distribution rules (text, plus a
free machine-readable rule id ``release_rule``). See docs/stocks.md for the columns and the rules below.

- **Withholding.** A member may withhold any item in :data:`WITHHOLDABLE` on security grounds by writing
  ``withheld: <reason>`` in its cell (CSV, xlsx or JSON alike). The value is then absent and the withholding
  (field and reason) is part of the record.
- **Share of consumption.** A fraction in [0, 1] (``0.25``) or a percentage with its sign (``25%``). A bare number
  above 1 is refused rather than guessed to be a percentage.
- **Days of cover** = share × 365 (a stock covering a quarter of a year's national consumption lasts 91.25 days
  at that consumption rate, with no other supply); absent when the share is withheld or absent.
- **Errors** name the row (1-based data row; in a CSV or xlsx file the header is row 1, so data row 1 is line 2:
  the ``row`` given is the file's line/row number), the field and the reason; :func:`validate_rows` checks every
  row and raises one :class:`SubmissionRejected` listing them all, so a file with any bad row is refused whole.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from lodeline.domain.countries import is_known, resolve_country
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import LodelineError

#: The columns of a submission file, in template order.
COLUMNS: tuple[str, ...] = (
    "period",
    "member",
    "mineral",
    "form",
    "purity_pct",
    "quantity_gross_t",
    "quantity_contained_t",
    "holder_type",
    "location_country",
    "consumption_share",
    "trend_5y",
    "release_rules",
    "allocation_rules",
    "distribution_rules",
    "release_rule",
)
REQUIRED: frozenset[str] = frozenset({"period", "member", "mineral", "form", "holder_type"})
#: Items a member may withhold on security grounds (the record's key and holder type may not be withheld).
WITHHOLDABLE: frozenset[str] = frozenset(COLUMNS) - REQUIRED
HOLDER_TYPES: tuple[str, ...] = ("public_strategic", "obligated_industry", "voluntary_industry")
TRENDS: tuple[str, ...] = ("rising", "stable", "falling")
DAYS_PER_YEAR = 365
#: No single stock is larger than this (world mine output of iron ore is ~2.5e9 t; a typo is far likelier).
MAX_TONNES = Decimal("1e9")
MAX_TEXT = 2000
MAX_SHORT_TEXT = 120
MAX_ROWS = 5000
PERIOD_RE = re.compile(r"^(\d{4})-Q([1-4])$")
WITHHELD_RE = re.compile(r"^\s*withheld\s*:\s*(.*)$", re.IGNORECASE | re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Leaf data prefix of a stock submission version in the registry's Merkle log (docs/stocks.md, "Log leaf").
LEAF_PREFIX = "lodeline-stocks/v1:"

EXAMPLE_ROW: dict[str, str] = {
    "period": "2026-Q3",
    "member": "DEU",
    "mineral": "cobalt",
    "form": "cobalt metal cathode",
    "purity_pct": "99.8",
    "quantity_gross_t": "1200",
    "quantity_contained_t": "1197.6",
    "holder_type": "public_strategic",
    "location_country": "DEU",
    "consumption_share": "12.5%",
    "trend_5y": "rising",
    "release_rules": "Released by ministerial order on a declared supply emergency.",
    "allocation_rules": "Pro rata to the previous year's purchases of the applicants.",
    "distribution_rules": "Sold at the average price of the previous quarter.",
    "release_rule": "",
}


@dataclass(frozen=True)
class FieldError:
    row: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.reason}"


class SubmissionRejected(LodelineError):
    """A submission with at least one bad row; nothing of it is stored. ``errors`` name row, field and reason."""

    code = "stocks-submission-rejected"
    http_status = 422

    def __init__(self, errors: Sequence[FieldError], source: str = "submission") -> None:
        shown = "; ".join(str(e) for e in errors[:20])
        more = f" (and {len(errors) - 20} more)" if len(errors) > 20 else ""
        super().__init__(
            f"{source}: {len(errors)} error(s), nothing was stored: {shown}{more}",
            errors=[{"row": e.row, "field": e.field, "reason": e.reason} for e in errors],
        )
        self.errors = list(errors)


@dataclass(frozen=True)
class StockRecord:
    """One validated row. Quantities are exact decimals (the canonical form keeps them as written)."""

    period: str
    member: str
    mineral: str
    form: str
    holder_type: str
    purity_pct: Decimal | None = None
    quantity_gross_t: Decimal | None = None
    quantity_contained_t: Decimal | None = None
    location_country: str | None = None
    consumption_share: Decimal | None = None
    trend_5y: str | None = None
    release_rules: str | None = None
    allocation_rules: str | None = None
    distribution_rules: str | None = None
    release_rule: str | None = None
    withheld: Mapping[str, str] = field(default_factory=dict)

    @property
    def days_of_cover(self) -> Decimal | None:
        """share × 365 (see the module doc); None when the share is withheld or not given."""
        return None if self.consumption_share is None else self.consumption_share * DAYS_PER_YEAR

    def canonical(self) -> dict[str, Any]:
        """The record as JSON-able plain values: decimals as strings exactly as normalised, absent items as null."""
        out: dict[str, Any] = {}
        for name in COLUMNS:
            value = getattr(self, name)
            out[name] = _decimal_text(value) if isinstance(value, Decimal) else value
        days = self.days_of_cover
        out["days_of_cover"] = None if days is None else _decimal_text(days)
        out["withheld"] = dict(sorted(self.withheld.items()))
        return out


def _decimal_text(value: Decimal) -> str:
    """Fixed-point text without exponent or trailing zeros (``1197.60`` -> ``1197.6``, ``1E+3`` -> ``1000``)."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def check_period(value: str) -> str:
    """``YYYY-Qn`` with a year in 2000–2100; raise ValueError naming the reason."""
    text = value.strip().upper()
    found = PERIOD_RE.match(text)
    if not found:
        raise ValueError(f"{value!r} is not a reporting period like 2026-Q3")
    if not 2000 <= int(found.group(1)) <= 2100:
        raise ValueError(f"year {found.group(1)} is outside 2000–2100")
    return text


def check_member(value: str) -> str:
    """A member is a country delegation: an ISO 3166 alpha-3 code (names are resolved)."""
    text = value.strip()
    code = text.upper()
    if is_known(code):
        return code
    try:
        return resolve_country(text)
    except LodelineError:
        raise ValueError(f"{value!r} is not a known country (ISO 3166 alpha-3)") from None


def _cell_text(value: Any) -> str | None:
    """A cell as stripped text, None when empty. Numbers from xlsx/JSON become their shortest text."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a true/false value is not valid here")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("not a finite number")
        text = repr(value)
    elif isinstance(value, str):
        text = value
    else:
        raise ValueError(f"expected text or a number, got {type(value).__name__}")
    text = text.strip()
    if _CONTROL.search(text):
        raise ValueError("contains control characters")
    return text or None


def _decimal(text: str, *, low: Decimal, high: Decimal, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"{text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{text!r} is not a finite number")
    if value < low:
        raise ValueError(f"{what} {text} is below {low}" if low else f"{what} {text} is negative")
    if value > high:
        raise ValueError(f"{what} {text} is above {high}")
    return value


def parse_share(text: str) -> Decimal:
    """``0.25`` or ``25%`` -> Decimal('0.25'); a bare number above 1 is refused (fraction or percent? say which)."""
    if text.endswith("%"):
        pct = _decimal(text[:-1].strip(), low=Decimal(0), high=Decimal(100), what="share")
        return pct / 100
    value = _decimal(text, low=Decimal(0), high=Decimal(1_000_000), what="share")
    if value > 1:
        raise ValueError(
            f"share {text} is above 1: give a fraction in 0–1, or a percentage with its sign (12.5%)"
        )
    return value


def _text(text: str, limit: int) -> str:
    if len(text) > limit:
        raise ValueError(f"longer than {limit} characters")
    return text


_PARSERS: dict[str, Any] = {
    "purity_pct": lambda t: _decimal(t, low=Decimal(0), high=Decimal(100), what="purity"),
    "quantity_gross_t": lambda t: _decimal(t, low=Decimal(0), high=MAX_TONNES, what="quantity"),
    "quantity_contained_t": lambda t: _decimal(t, low=Decimal(0), high=MAX_TONNES, what="quantity"),
    "consumption_share": parse_share,
    "location_country": check_member,
    "period": check_period,
    "member": check_member,
    "mineral": lambda t: resolve_mineral(t),
    "form": lambda t: _text(t, MAX_SHORT_TEXT),
    "release_rule": lambda t: _text(t, MAX_SHORT_TEXT),
    "release_rules": lambda t: _text(t, MAX_TEXT),
    "allocation_rules": lambda t: _text(t, MAX_TEXT),
    "distribution_rules": lambda t: _text(t, MAX_TEXT),
}


def _choice(options: Sequence[str]) -> Any:
    def parse(text: str) -> str:
        key = text.strip().lower().replace("-", "_").replace(" ", "_")
        if key not in options:
            raise ValueError(f"{text!r} is not one of {', '.join(options)}")
        return key

    return parse


_PARSERS["holder_type"] = _choice(HOLDER_TYPES)
_PARSERS["trend_5y"] = _choice(TRENDS)


def validate_row(
    raw: Mapping[str, Any], row: int, *, member: str | None = None, period: str | None = None
) -> tuple[StockRecord | None, list[FieldError]]:
    """Validate one row (a mapping of column -> cell). ``member``/``period``: what the submitter declared; a row
    naming another member or period is refused (a member submits only for itself)."""
    errors: list[FieldError] = []
    for name in raw:
        if name not in COLUMNS and name not in ("days_of_cover",):
            errors.append(FieldError(row, str(name)[:60], f"unknown column; expected {', '.join(COLUMNS)}"))
    values: dict[str, Any] = {}
    withheld: dict[str, str] = {}
    for name in COLUMNS:
        try:
            text = _cell_text(raw.get(name))
        except ValueError as exc:
            errors.append(FieldError(row, name, str(exc)))
            continue
        if text is None:
            if name in REQUIRED:
                errors.append(FieldError(row, name, "missing (this item is required)"))
            continue
        held = WITHHELD_RE.match(text)
        if held:
            reason = held.group(1).strip()
            if name not in WITHHOLDABLE:
                errors.append(FieldError(row, name, "this item cannot be withheld"))
            elif not reason:
                errors.append(FieldError(row, name, "withheld without a reason: write 'withheld: <reason>'"))
            elif len(reason) > MAX_TEXT:
                errors.append(FieldError(row, name, f"withholding reason longer than {MAX_TEXT} characters"))
            else:
                withheld[name] = reason
            continue
        parser = _PARSERS.get(name)
        try:
            values[name] = parser(text) if parser else text
        except (ValueError, LodelineError) as exc:
            reason = exc.message if isinstance(exc, LodelineError) else str(exc)
            errors.append(FieldError(row, name, reason))
    if member is not None and values.get("member") not in (None, member):
        errors.append(
            FieldError(row, "member", f"row is for {values['member']}, but the submitter is {member}")
        )
    if period is not None and values.get("period") not in (None, period):
        errors.append(
            FieldError(row, "period", f"row is for {values['period']}, but the submission is {period}")
        )
    gross, contained = values.get("quantity_gross_t"), values.get("quantity_contained_t")
    if gross is not None and contained is not None and contained > gross:
        errors.append(
            FieldError(row, "quantity_contained_t", f"contained {contained} t is above gross {gross} t")
        )
    if errors:
        return None, errors
    return StockRecord(**values, withheld=withheld), []


def validate_rows(
    rows: Iterable[tuple[int, Mapping[str, Any]]],
    *,
    member: str,
    period: str,
    source: str = "submission",
) -> list[StockRecord]:
    """Every row validated (``(row number, cells)``); raise :class:`SubmissionRejected` listing every error.

    At least one row; at most :data:`MAX_ROWS`; one row per mineral and form."""
    try:
        member = check_member(member)
    except ValueError as exc:
        raise SubmissionRejected([FieldError(0, "member", str(exc))], source) from None
    try:
        period = check_period(period)
    except ValueError as exc:
        raise SubmissionRejected([FieldError(0, "period", str(exc))], source) from None
    records: list[StockRecord] = []
    errors: list[FieldError] = []
    seen: dict[tuple[str, str], int] = {}
    count = 0
    for number, raw in rows:
        count += 1
        if count > MAX_ROWS:
            errors.append(FieldError(number, "*", f"more than {MAX_ROWS} rows"))
            break
        record, found = validate_row(raw, number, member=member, period=period)
        errors.extend(found)
        if record is not None:
            key = (record.mineral, record.form.casefold())
            if key in seen:
                errors.append(
                    FieldError(
                        number, "form", f"{record.mineral} / {record.form!r} is already in row {seen[key]}"
                    )
                )
            else:
                seen[key] = number
                records.append(record)
    if count == 0:
        errors.append(FieldError(0, "*", "no rows"))
    if errors:
        raise SubmissionRejected(errors, source)
    return records


def canonical_document(member: str, period: str, records: Sequence[StockRecord], salt: str) -> bytes:
    """The exact bytes whose SHA-256 a log leaf holds: UTF-8 JSON with sorted keys, no whitespace, decimals as
    strings (so no number formatting differs between languages), rows sorted by mineral and form, and a random
    ``salt`` (hex) so the digest of a guessable submission cannot be confirmed by trial (docs/stocks.md)."""
    rows = sorted((r.canonical() for r in records), key=lambda r: (r["mineral"], r["form"]))
    doc = {"format": "lodeline-stocks/v1", "member": member, "period": period, "rows": rows, "salt": salt}
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def leaf_data(document: bytes) -> bytes:
    """The log leaf of a submission version: ``lodeline-stocks/v1:`` + hex SHA-256 of its canonical document."""
    return (LEAF_PREFIX + hashlib.sha256(document).hexdigest()).encode("ascii")


def is_stock_leaf(data: bytes) -> bool:
    """A well-formed stock-submission leaf (prefix and 64 lowercase hex digits)."""
    return re.fullmatch(rb"lodeline-stocks/v1:[0-9a-f]{64}", data) is not None
