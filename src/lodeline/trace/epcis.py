"""EPCIS 2.0 JSON/JSON-LD documents: parse and validate against the official GS1 JSON Schema (draft-07), then
against the registry's profile (:mod:`lodeline.trace.profile`: quantities, attributes, identifier lengths).

Validation is store-free. Every error is reported per event with its index, eventID, the JSON path of the field
and a stable code. The work is bounded whatever the input: parsing is strict JSON (no ``NaN``/``Infinity``), the
nesting depth is capped (:data:`MAX_DEPTH`) before anything recursive touches the document, the detailed schema
report is built only for the events the compiled validator rejects, and it stops after :data:`MAX_ISSUES`
problems with a count of the rest.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from lodeline.trace.errors import MAX_ISSUES, EventIssue, TraceError, cap_issues
from lodeline.trace.profile import profile_issues
from lodeline.trace.schema_fast import Compiler, unique_items

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
SCHEMA_FILE = STANDARDS_DIR / "EPCIS-JSON-Schema.json"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
#: Deepest nesting of arrays and objects accepted (the document itself is level 1). EPCIS events need about 8;
#: the rest is room for extensions. Checked before anything recursive (schema, hash, storage) sees the document.
MAX_DEPTH = 32
#: Most entries accepted in an ``@context`` array (the document's or an event's). EPCIS documents name one to a
#: few contexts; the schema has no bound, and explaining a long one through jsonschema is slow (70,000 entries:
#: over 10 s), so a longer one is rejected before the schema is consulted.
MAX_CONTEXT_ENTRIES = 64
#: Longest reason kept per issue: schema messages quote the offending value, which may be huge.
MAX_REASON = 300
__all__ = [
    "MAX_CONTEXT_ENTRIES",
    "MAX_DEPTH",
    "MAX_ISSUES",
    "load_and_validate",
    "parse_document",
    "validate_document",
]

# jsonschema only checks ``format`` when a checker for it is registered. The optional rfc3339/rfc3987 packages are
# not dependencies, so we register the two formats the EPCIS schema uses ourselves.
_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value or not (value.endswith("Z") or (len(value) > 6 and value[-6] in "+-")):
        raise ValueError("not an RFC 3339 date-time with a time zone")
    try:
        # In UTC too: an offset can push year 1 or 9999 out of the representable range.
        datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("date-time out of range") from exc
    return True


@_formats.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path) or any(c in value for c in ' \t\n<>"{}|\\^`'):
        raise ValueError("not an absolute URI (EPC URN or GS1 Digital Link URI expected)")
    return True


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return schema


# jsonschema's uniqueItems compares every pair of unhashable items (quadratic: a long @context of objects took
# minutes); this one hashes them (schema_fast.unique_items), with the same notion of equality.
def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if unique and validator.is_type(instance, "array") and not unique_items(instance):
        yield ValidationError(f"array of {len(instance)} items has non-unique elements")


_Validator = validators.extend(Draft7Validator, {"uniqueItems": _unique_items})


@lru_cache(maxsize=1)
def validator() -> Any:
    """Draft 7 (jsonschema) with a linear uniqueItems: explains what the compiled validator rejects."""
    schema = _schema()
    Draft7Validator.check_schema(schema)
    return _Validator(schema, format_checker=_formats)


@lru_cache(maxsize=1)
def _event_validator() -> Any:
    """jsonschema for one event of an EPCISDocument's eventList (refs resolve against the whole schema)."""
    return validator().evolve(schema=_schema()["definitions"]["EPCIS-Document-Event"])


def _format_ok(check: Any) -> Any:
    # schema_fast only asks about strings, so the cache can be called directly (one call less per URI or time).
    @lru_cache(maxsize=65536)
    def cached(value: str) -> bool:
        try:
            return bool(check(value))
        except ValueError:
            return False

    return cached


@lru_cache(maxsize=1)
def _compiled() -> tuple[Any, Any]:
    schema = _schema()
    compiler = Compiler(schema, {"date-time": _format_ok(_is_date_time), "uri": _format_ok(_is_uri)})
    # One compiler: the document's check and the event's share the compiled event definitions.
    return compiler.compile(schema), compiler.ref("#/definitions/EPCIS-Document-Event")


def fast_validator() -> Any:
    """The compiled yes/no validator (see schema_fast); jsonschema explains the failures."""
    return _compiled()[0]


def fast_event_validator() -> Any:
    """The compiled yes/no validator of one event of an EPCISDocument's eventList."""
    return _compiled()[1]


# --- parsing ---------------------------------------------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6 allows only finite numbers)")


# A \uD800-\uDFFF escape: the only way JSON text decoded as strict UTF-8 can hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def parse_document(data: bytes | str, *, file: str | None = None) -> dict[str, Any]:
    """Decode a JSON document; an EPCIS document must be a JSON object of at most :data:`MAX_DEPTH` levels.

    Strict: UTF-8 (or the UTF-16/32 of RFC 8259 §8.1), no ``NaN``/``Infinity`` literals, no lone surrogates."""
    return _parse(data, file)[0]


def _parse(data: bytes | str, file: str | None) -> tuple[dict[str, Any], bool]:
    """The document, and whether it holds a number that is not finite (``1e400`` parses to infinity)."""

    def bad(reason: str, code: str = "epcis-not-json") -> TraceError:
        return TraceError([EventIssue(code=code, reason=reason)], file=file)

    try:
        text = data if isinstance(data, str) else data.decode(json.detect_encoding(data))
        doc = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise bad(f"nested deeper than {MAX_DEPTH} levels", "epcis-too-deep") from None
    except (UnicodeError, ValueError) as exc:  # JSONDecodeError, int digit limit, NaN/Infinity
        raise bad(str(exc)[:MAX_REASON]) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise bad("a \\u escape encodes a lone UTF-16 surrogate, which is not a character") from None
    if not isinstance(doc, dict):
        raise bad("top level is not a JSON object")
    too_deep, non_finite = _shape(doc)
    if too_deep:
        raise bad(f"nested deeper than {MAX_DEPTH} levels", "epcis-too-deep")
    return doc, non_finite


def _shape(doc: Any) -> tuple[bool, bool]:
    """(arrays/objects nest deeper than MAX_DEPTH, a float is not finite) in one iterative walk: no recursion on
    hostile input, and about 1.5 µs per event."""
    stack: list[tuple[Any, int]] = [(doc, 1)]
    pop, push = stack.pop, stack.append
    non_finite = False
    while stack:
        node, depth = pop()
        if depth > MAX_DEPTH:
            return True, non_finite
        for v in node.values() if type(node) is dict else node:
            t = type(v)
            if t is dict or t is list:
                push((v, depth + 1))
            elif t is float and v - v != 0.0:  # inf - inf and nan - nan are nan
                non_finite = True
    return False, non_finite


def _non_finite(doc: Any) -> Iterator[tuple[int | None, str]]:
    """(event index, field path) of every number that is not finite (1e400 parses to infinity)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(doc, ())]
    while stack:
        node, path = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for k, v in items:
            t = type(v)
            if t is dict or t is list:
                stack.append((v, (*path, k)))
            elif t is float and not math.isfinite(v):
                yield _locate([*path, k])


def _locate(path: list[Any]) -> tuple[int | None, str]:
    index = None
    if len(path) >= 3 and path[0] == "epcisBody" and path[1] == "eventList" and isinstance(path[2], int):
        index, path = path[2], path[3:]
    return index, ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")


# --- validation ------------------------------------------------------------------------------------------------


def event_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument (empty if absent; validation reports that)."""
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _issue(error: ValidationError, events: list[Any], offset: int | None = None) -> EventIssue:
    path = list(error.absolute_path)
    index: int | None = offset
    if (
        offset is None
        and len(path) >= 3
        and path[:2] == ["epcisBody", "eventList"]
        and isinstance(path[2], int)
    ):
        index, path = path[2], path[3:]
    event_id = None
    if index is not None and index < len(events) and isinstance(events[index], dict):
        eid = events[index].get("eventID")
        event_id = eid[:MAX_REASON] if isinstance(eid, str) else None
    field = ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[") or None
    if error.validator == "required" and isinstance(error.message, str):
        missing = error.message.split("'")[1] if "'" in error.message else None
        if missing:
            field = f"{field}.{missing}" if field else missing
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        field = f"{field}.{error.instance}" if field else error.instance
    code = {
        "required": "epcis-missing-field",
        "type": "epcis-wrong-type",
        "format": "epcis-bad-format",
        "enum": "epcis-bad-value",
        "const": "epcis-bad-value",
        "pattern": "epcis-bad-value",
        "additionalProperties": "epcis-unknown-field",
    }.get(str(error.validator), "epcis-schema")
    reason = error.message if len(error.message) <= MAX_REASON else error.message[:MAX_REASON] + "…"
    if field and len(field) > MAX_REASON:
        field = field[:MAX_REASON] + "…"
    return EventIssue(code=code, reason=reason, index=index, event_id=event_id, field=field)


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    # anyOf/oneOf wrap the real cause; report the deepest branch that got furthest, not "is not valid under any".
    for err in errors:
        while err.context:
            err = max(err.context, key=lambda e: len(e.absolute_path))
        yield err


class _Report:
    """Issues found so far, deduplicated, with the number of problems left out past MAX_ISSUES."""

    def __init__(self, events: list[Any]) -> None:
        self.events = events
        self.issues: list[EventIssue] = []
        self.seen: set[tuple[Any, ...]] = set()
        self.untold = 0  # problems found but not listed
        self.unexamined = 0  # invalid events whose problems were not examined at all

    @property
    def full(self) -> bool:
        return len(self.issues) >= MAX_ISSUES

    def add(self, issue: EventIssue) -> None:
        key = (issue.index, issue.field, issue.reason)
        if key in self.seen:
            return
        self.seen.add(key)
        if self.full:
            self.untold += 1
        else:
            self.issues.append(issue)

    def explain(self, errors: Iterator[ValidationError], offset: int | None = None) -> None:
        # Lazily, and never more raw errors than a few times the cap (jsonschema may repeat a cause).
        for err in islice(_leaf_errors(errors), 4 * MAX_ISSUES):
            if self.full:
                break
            self.add(_issue(err, self.events, offset))


def validate_document(doc: dict[str, Any]) -> list[EventIssue]:
    """Every problem of ``doc`` (at most MAX_ISSUES, then one ``too-many-issues`` with the count of the rest),
    ordered by event then field. Empty means valid."""
    too_deep, non_finite = _shape(doc)
    if too_deep:
        return [EventIssue(code="epcis-too-deep", reason=f"nested deeper than {MAX_DEPTH} levels")]
    return _validate(doc, non_finite)


def _long_contexts(doc: dict[str, Any], events: list[Any]) -> list[EventIssue]:
    """An ``@context`` array (the document's, or any event's) longer than :data:`MAX_CONTEXT_ENTRIES`."""
    out: list[EventIssue] = []
    places = [(None, doc), *enumerate(events)]
    for index, holder in places:
        context = holder.get("@context") if isinstance(holder, dict) else None
        if isinstance(context, list) and len(context) > MAX_CONTEXT_ENTRIES:
            reason = f"@context has {len(context)} entries; at most {MAX_CONTEXT_ENTRIES} are accepted"
            out.append(EventIssue(code="epcis-bad-value", reason=reason, index=index, field="@context"))
            if len(out) >= MAX_ISSUES:
                break
    return out


def _validate(doc: dict[str, Any], non_finite: bool) -> list[EventIssue]:
    body = doc.get("epcisBody")
    raw_events = body.get("eventList") if isinstance(body, dict) else None
    events: list[Any] = raw_events if isinstance(raw_events, list) else []
    long_contexts = _long_contexts(doc, events)
    if long_contexts:  # the schema's explanation of such a document is slow; this is reason enough
        return long_contexts
    report = _Report(events)
    if doc.get("type") != "EPCISDocument":
        report.add(EventIssue(code="epcis-not-document", reason="type must be EPCISDocument", field="type"))
    if not fast_validator()(doc):
        _explain_schema(doc, body, raw_events, report)
    schema_valid = not report.issues
    if schema_valid and not events:
        report.add(EventIssue(code="epcis-no-events", reason="epcisBody.eventList is empty"))
    for i, ev in enumerate(event_list(doc)):
        if ev.get("type") not in EVENT_TYPES:
            report.add(
                EventIssue(
                    code="epcis-bad-value",
                    reason=f"unsupported event type {str(ev.get('type'))[:80]!r}; expected one of "
                    + ", ".join(EVENT_TYPES),
                    index=i,
                    field="type",
                )
            )
    if schema_valid:
        for issue in profile_issues(events):
            report.add(issue)
    for index, field in _non_finite(doc) if non_finite else ():
        if not _profile_field(field):
            report.add(EventIssue("epcis-bad-number", "not a finite number", index, None, field))
    issues = sorted(report.issues, key=lambda i: (-1 if i.index is None else i.index, i.field or ""))
    if report.untold or report.unexamined:
        issues.append(_summary(report.untold, report.unexamined))
    return issues


def _profile_field(field: str) -> bool:
    """Fields whose numbers the profile checks (and names) itself."""
    return field.endswith(".quantity") or "lodeline:" in field


def _explain_schema(doc: dict[str, Any], body: Any, raw_events: Any, report: _Report) -> None:
    """The schema problems of a document the compiled validator rejected: the document without its events
    first, then each event the compiled validator rejects (a document is valid exactly when both are, as
    eventList is an array of independent EPCIS-Document-Event items), until the report is full."""
    if not isinstance(raw_events, list):
        report.explain(validator().iter_errors(doc))
        return
    header = {**doc, "epcisBody": {**body, "eventList": []}}
    if not fast_validator()(header):
        report.explain(validator().iter_errors(header))
    event_ok = fast_event_validator()
    before = len(report.issues)
    for i, ev in enumerate(raw_events):
        if event_ok(ev):
            continue
        if report.full:
            report.unexamined += 1
        else:
            report.explain(_event_validator().iter_errors(ev), offset=i)
    if len(report.issues) == before == 0:  # cannot happen if the split is exact; never report "valid"
        report.explain(validator().iter_errors(doc))
        if not report.issues:
            report.add(EventIssue(code="epcis-schema", reason="the document does not match the EPCIS schema"))


def _summary(untold: int, unexamined: int) -> EventIssue:
    parts = []
    if untold:
        parts.append(f"{untold} more problem(s)")
    if unexamined:
        parts.append(f"{unexamined} more invalid event(s)")
    return EventIssue(
        code="too-many-issues",
        reason=f"only the first {MAX_ISSUES} problems are listed; {' and '.join(parts)} not listed",
    )


def load_and_validate(data: bytes | str, *, file: str | None = None) -> dict[str, Any]:
    """Parse and validate; raise TraceError listing every issue when the document is not valid EPCIS 2.0."""
    doc, non_finite = _parse(data, file)
    issues = _validate(doc, non_finite)
    if issues:
        raise TraceError(cap_issues(issues), file=file)
    return doc
