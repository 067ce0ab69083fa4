"""The registry's profile of EPCIS 2.0: what a schema-valid document must also satisfy before the registry will
consider it, checked without a store (``lodeline trace validate`` reports it too).

- **Quantities.** Every ``quantity`` of a quantity list is a finite, positive, normal (not subnormal) number.
  A mass (a UN/CEFACT unit of ``units_kg`` in materials.yaml) is at least :data:`MIN_KG` and at most
  :data:`MAX_KG` once converted to kilograms; any other unit (or none: a count) at most :data:`MAX_COUNT`.
  The maximum keeps every sum the ledger forms finite: 10¹² kg per line, even summed over a million lines,
  is 10¹⁸ kg, far from the float limit (1.8 × 10³⁰⁸). The minimum is a thousand times the ledger's rounding
  tolerance (10⁻⁶ kg), so the tolerance can never be used to draw material that is not there.
- **Registry attributes.** ``lodeline:metalFraction`` (ILMD) and ``lodeline:declaredYield`` (event) are finite
  normal numbers in (0, 1]; ``lodeline:material`` (ILMD) and ``lodeline:process`` are strings;
  ``lodeline:recycled`` is ``pre-consumer`` or ``post-consumer``; ``lodeline:openingStock`` (ILMD) is a
  non-empty reason of at most 240 characters.
- **Identifier lengths.** Identifiers the registry stores in bounded columns fit them (in their canonical
  Digital Link form): EPCs and classes ≤ 240 characters, locations ≤ 200, ``bizStep`` ≤ 120, ``eventID`` ≤ 240.

- **Documents at capture.** Validation accepts both document types of the schema; capture takes an
  ``EPCISDocument`` only (:data:`CAPTURE_DOCUMENT_TYPES`): an ``EPCISQueryDocument`` is another repository's
  answer to a query, whose events a partner re-sends in an ``EPCISDocument`` to have them captured. (A document
  with no event is refused by validation already, ``epcis-no-events``: stricter than the schema, which allows an
  empty list, because the registry has nothing to record from one.)

Codes: ``ledger-bad-quantity``, ``ledger-bad-value``, ``identifier-too-long``, ``epcis-not-document``. Pure
module: no I/O.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from lodeline.trace.errors import EventIssue
from lodeline.trace.identifiers import canonical_id
from lodeline.trace.ledger import NS, reference_data

MAX_KG = 1e12  # per quantity line, after conversion to kg
MIN_KG = 1e-3  # per quantity line: one gram
MAX_COUNT = 1e12  # per quantity line in a unit that is not a mass (or no unit)
MAX_REASON_CHARS = 240  # lodeline:openingStock
#: Longest identifier per kind (the widths of the columns that store them).
MAX_ID = {"epc": 240, "location": 200, "bizStep": 120, "eventID": 240}
RECYCLED = ("pre-consumer", "post-consumer")
#: The document types capture takes (validation also accepts an EPCISQueryDocument).
CAPTURE_DOCUMENT_TYPES = ("EPCISDocument",)

_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_SMALLEST_NORMAL = sys.float_info.min


def quantity_problem(quantity: Any, uom: Any) -> str | None:
    """Why a quantity cannot be accepted, or None."""
    if isinstance(quantity, bool) or not isinstance(quantity, int | float):
        return "must be a number"
    try:
        value = float(quantity)
    except OverflowError:  # an integer beyond the float range
        value = math.inf
    if math.isnan(value):
        return "must be a finite number"
    if value <= 0:
        return f"must be positive, got {value:g}"
    if math.isinf(value):
        return "must be a finite number (it overflows to infinity)"
    if value < _SMALLEST_NORMAL:
        return f"{value:g} is subnormal (smaller than any normal double); quantities must be normal numbers"
    factor = reference_data()["units_kg"].get(uom) if isinstance(uom, str) else None
    if factor is None:
        if value > MAX_COUNT:
            return f"must be at most {MAX_COUNT:g} per line, got {value:g}"
        return None
    kg = value * factor
    if kg > MAX_KG:
        return f"must be at most {MAX_KG:g} kg per line, got {kg:g} kg"
    if kg < MIN_KG:
        return f"must be at least {MIN_KG:g} kg (1 g) per line, got {kg:g} kg"
    return None


def fraction_problem(value: Any) -> str | None:
    """Why a fraction (metal fraction, yield) cannot be accepted, or None: it must be a number in (0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"must be a number in (0, 1], got {type(value).__name__}"
    try:
        x = float(value)
    except OverflowError:
        x = math.inf
    if not math.isfinite(x) or not 0 < x <= 1:
        return "must be a finite number in (0, 1]"
    if x < _SMALLEST_NORMAL:
        return f"{x:g} is subnormal; must be a normal number in (0, 1]"
    return None


def _string_problem(value: Any, allowed: tuple[str, ...] | None = None, longest: int = 64) -> str | None:
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if allowed is not None and value not in allowed:
        return f"must be one of {', '.join(allowed)}"
    if not value.strip():
        return "must not be empty"
    if len(value) > longest:
        return f"must be at most {longest} characters"
    return None


# Canonicalising an identifier lengthens it by at most 11 characters (an SGLN URN with an extension becomes a
# Digital Link with /254/; a Digital Link on a one-letter domain becomes id.gs1.org): only identifiers this close
# to a limit are canonicalised to measure them.
_CANONICAL_GROWTH = 32
_FRACTIONS = (("ilmd", "metalFraction"), (None, "declaredYield"))
_STRINGS = (
    ("ilmd", "material", None, 64),
    ("ilmd", "recycled", RECYCLED, 64),
    ("ilmd", "openingStock", None, MAX_REASON_CHARS),
    (None, "process", None, 64),
)


def _too_long(kind: str, raw: Any) -> int | None:
    """The identifier's length if it exceeds its kind's limit (canonical form for EPCs and locations)."""
    if type(raw) is not str:
        return None
    limit = MAX_ID[kind]
    if len(raw) + _CANONICAL_GROWTH <= limit:
        return None
    value = canonical_id(raw) if kind in ("epc", "location") else raw
    return len(value) if len(value) > limit else None


_FRACTION_KEYS = tuple((where, NS + key, f"{'ilmd.' if where else ''}{NS}{key}") for where, key in _FRACTIONS)
_STRING_KEYS = tuple(
    (where, NS + key, f"{'ilmd.' if where else ''}{NS}{key}", allowed, longest)
    for where, key, allowed, longest in _STRINGS
)
_EVENT_KEYS = frozenset(NS + key for where, key, *_ in (*_FRACTIONS, *_STRINGS) if where is None)
_EXACT_INT = 2**53  # integers below this convert to float exactly (and never overflow)


def event_issues(index: int, ev: dict[str, Any], factors: dict[str, float] | None = None) -> list[EventIssue]:
    """The profile problems of one (schema-valid) event. This runs for every captured event: the common case
    (plain numbers in range, short identifiers) takes one comparison per value."""
    found: list[tuple[str, str, str]] = []  # (code, reason, field)
    get = ev.get
    if factors is None:
        factors = reference_data()["units_kg"]
    for key in _QUANTITY_LISTS:
        entries = get(key)
        if not entries:
            continue
        for j, q in enumerate(entries):
            if type(q) is not dict:
                continue
            cls = q.get("epcClass")
            if type(cls) is str and len(cls) > _EPC_LIMIT:
                n = _too_long("epc", cls)
                if n:
                    found.append(("identifier-too-long", _length_reason(n, "epc"), f"{key}[{j}].epcClass"))
            if "quantity" not in q:
                continue
            x, factor = q["quantity"], factors.get(q.get("uom"))  # type: ignore[arg-type]
            tx = type(x)
            if (
                factor is not None
                and (tx is float or (tx is int and -_EXACT_INT < x < _EXACT_INT))
                and MIN_KG <= x * factor <= MAX_KG
            ):
                continue  # the common case; nan, inf and subnormals all fail the comparison
            why = quantity_problem(x, q.get("uom"))
            if why:
                found.append(("ledger-bad-quantity", f"quantity {why}", f"{key}[{j}].quantity"))
    ilmd = get("ilmd")
    if type(ilmd) is not dict:
        ilmd = {}
    if ilmd or not _EVENT_KEYS.isdisjoint(ev):
        for where, name, field in _FRACTION_KEYS:
            holder = ilmd if where else ev
            if name in holder:
                why = fraction_problem(holder[name])
                if why:
                    found.append(("ledger-bad-value", f"{name} {why}", field))
        for where, name, field, allowed, longest in _STRING_KEYS:
            holder = ilmd if where else ev
            if name in holder:
                why = _string_problem(holder[name], allowed, longest)
                if why:
                    found.append(("ledger-bad-value", f"{name} {why}", field))
    for kind, field, raw in _long_identifiers(ev):
        n = _too_long(kind, raw)
        if n:
            found.append(("identifier-too-long", _length_reason(n, kind), field))
    if not found:
        return []
    eid = get("eventID") if type(get("eventID")) is str else None
    return [EventIssue(code=c, reason=r, index=index, event_id=eid, field=f) for c, r, f in found]


def _length_reason(n: int, kind: str) -> str:
    return f"{n} characters (canonical form); the registry keeps at most {MAX_ID[kind]}"


_EPC_LIMIT = MAX_ID["epc"] - _CANONICAL_GROWTH
_LOCATION_LIMIT = MAX_ID["location"] - _CANONICAL_GROWTH
_PLAIN_LIMITS = (
    ("bizStep", MAX_ID["bizStep"] - _CANONICAL_GROWTH),
    ("eventID", MAX_ID["eventID"] - _CANONICAL_GROWTH),
)


def _long_identifiers(ev: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(kind, field, raw value) of the identifiers of an event the registry stores (quantity classes apart) that
    are long enough to need measuring in canonical form; usually none."""
    out: list[tuple[str, str, Any]] = []
    get = ev.get
    for key in _EPC_LISTS:
        values = get(key)
        if values:
            for j, value in enumerate(values):
                if type(value) is str and len(value) > _EPC_LIMIT:
                    out.append(("epc", f"{key}[{j}]", value))
    parent = get("parentID")
    if type(parent) is str and len(parent) > _EPC_LIMIT:
        out.append(("epc", "parentID", parent))
    for key in ("readPoint", "bizLocation"):
        loc = get(key)
        if type(loc) is dict:
            ident = loc.get("id")
            if type(ident) is str and len(ident) > _LOCATION_LIMIT:
                out.append(("location", f"{key}.id", ident))
    for key, member in (("sourceList", "source"), ("destinationList", "destination")):
        entries = get(key)
        if entries:
            for j, entry in enumerate(entries):
                value = entry.get(member) if type(entry) is dict else None
                if type(value) is str and len(value) > _LOCATION_LIMIT:
                    out.append(("location", f"{key}[{j}].{member}", value))
    for key, limit in _PLAIN_LIMITS:
        value = get(key)
        if type(value) is str and len(value) > limit:
            out.append((key, key, value))
    return out


def profile_issues(events: list[Any]) -> list[EventIssue]:
    """The profile problems of a schema-valid document's events, in event order."""
    out: list[EventIssue] = []
    factors = reference_data()["units_kg"]
    for i, ev in enumerate(events):
        if type(ev) is dict:
            issues = event_issues(i, ev, factors)
            if issues:
                out.extend(issues)
    return out


def capture_document_issue(doc: dict[str, Any]) -> EventIssue | None:
    """Why capture refuses a valid document of another type than :data:`CAPTURE_DOCUMENT_TYPES`."""
    kind = doc.get("type")
    if kind in CAPTURE_DOCUMENT_TYPES:
        return None
    reason = (
        f"capture takes an EPCISDocument, not an {str(kind)[:80]}: a query document is the answer to a query; "
        "send its events (epcisBody.queryResults.resultsBody.eventList) as the eventList of an EPCISDocument"
    )
    return EventIssue(code="epcis-not-document", reason=reason, field="type")
