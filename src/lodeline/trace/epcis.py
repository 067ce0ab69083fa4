"""EPCIS 2.0 JSON/JSON-LD documents: parse and validate against the official GS1 JSON Schema (draft-07) read with
its JSON-LD context (:mod:`lodeline.trace.epcis_schema`), then against the registry's profile
(:mod:`lodeline.trace.profile`: quantities, attributes, identifier lengths). Both document types of the schema
validate: an ``EPCISDocument`` and an ``EPCISQueryDocument`` (:func:`document_events` finds the events of
either); capture takes an ``EPCISDocument`` only (``load_and_validate(..., capture=True)``).

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
from itertools import islice
from typing import Any

from jsonschema.exceptions import ValidationError

from lodeline.trace.epcis_schema import SCHEMA_FILE, fast_event_validator, fast_validator, validator
from lodeline.trace.epcis_schema import event_validator as _event_validator
from lodeline.trace.errors import MAX_ISSUES, EventIssue, TraceError, cap_issues
from lodeline.trace.profile import capture_document_issue, profile_issues

#: The two document types of the schema: a capture document and the answer to a query (events under
#: ``epcisBody.queryResults.resultsBody.eventList``). Validation accepts both; capture takes EPCISDocument only.
DOCUMENT_TYPES = ("EPCISDocument", "EPCISQueryDocument")
_EVENT_PATHS = {
    "EPCISDocument": ("epcisBody", "eventList"),
    "EPCISQueryDocument": ("epcisBody", "queryResults", "resultsBody", "eventList"),
}
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
    "SCHEMA_FILE",
    "document_events",
    "fast_event_validator",
    "fast_validator",
    "load_and_validate",
    "parse_document",
    "validate_document",
    "validator",
]

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
    n = _event_prefix(path)
    if n:
        index, path = int(path[n]), path[n + 1 :]
    return index, ".".join(str(p) if not isinstance(p, int) else f"[{p}]" for p in path).replace(".[", "[")


def _event_prefix(path: list[Any]) -> int:
    """Length of the event list's path at the start of ``path`` when an event index follows it, else 0."""
    for prefix in _EVENT_PATHS.values():
        n = len(prefix)
        if len(path) > n and tuple(path[:n]) == prefix and isinstance(path[n], int):
            return n
    return 0


# --- validation ------------------------------------------------------------------------------------------------


def _raw_events(doc: dict[str, Any]) -> Any:
    """What stands where the document's type puts its event list (``None`` if nothing; not checked)."""
    node: Any = doc
    for key in _EVENT_PATHS.get(str(doc.get("type")), _EVENT_PATHS["EPCISDocument"]):
        node = node.get(key) if isinstance(node, dict) else None
    return node


def document_events(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument (``epcisBody.eventList``) or an EPCISQueryDocument
    (``epcisBody.queryResults.resultsBody.eventList``); empty if absent (validation reports that)."""
    events = _raw_events(doc)
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _issue(error: ValidationError, events: list[Any], offset: int | None = None) -> EventIssue:
    path = list(error.absolute_path)
    index: int | None = offset
    n = _event_prefix(path) if offset is None else 0
    if n:  # _event_prefix checked that an int follows the prefix
        index, path = int(path[n]), path[n + 1 :]
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
    if "propertyNames" in error.absolute_schema_path and isinstance(error.instance, str):
        # Whichever alternative jsonschema reports, the problem is the name: say so, and what would do.
        code = "epcis-unknown-field"
        name = error.instance[:80]
        reason = (
            f"{name!r} is not a field of this object in EPCIS 2.0, nor an IRI; "
            f"an extension field is named by an IRI or prefix:name (e.g. ex:{name})"
        )
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
    raw_events = _raw_events(doc)
    events: list[Any] = raw_events if isinstance(raw_events, list) else []
    long_contexts = _long_contexts(doc, events)
    if long_contexts:  # the schema's explanation of such a document is slow; this is reason enough
        return long_contexts
    report = _Report(events)
    wrong_type = _document_type_issue(doc)
    if wrong_type:  # the schema dispatches on the type: without the right one its explanation is noise
        return [wrong_type]
    if not fast_validator()(doc):
        _explain_schema(doc, raw_events, report)
    schema_valid = not report.issues
    if schema_valid and not events:  # the registry's profile: a document is there to carry events
        where = ".".join(_EVENT_PATHS[str(doc.get("type"))])
        report.add(EventIssue(code="epcis-no-events", reason=f"{where} is empty"))
    for i, ev in enumerate(document_events(doc)):
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


def _document_type_issue(doc: dict[str, Any]) -> EventIssue | None:
    """The document's ``type`` is missing or not one of :data:`DOCUMENT_TYPES`."""
    kind = doc.get("type")
    if kind in DOCUMENT_TYPES:
        return None
    expected = "EPCISDocument or EPCISQueryDocument"
    if "type" not in doc:
        draft = (
            " ('isA' is the key of pre-ratification drafts; EPCIS 2.0 uses 'type')" if "isA" in doc else ""
        )
        return EventIssue(
            code="epcis-missing-field", reason=f"type is missing: {expected} expected{draft}", field="type"
        )
    return EventIssue(
        code="epcis-not-document", reason=f"type must be {expected}, not {str(kind)[:80]!r}", field="type"
    )


def _profile_field(field: str) -> bool:
    """Fields whose numbers the profile checks (and names) itself."""
    return field.endswith(".quantity") or "lodeline:" in field


def _without_events(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with an empty event list in its place (copies only the objects on the way to it)."""
    path = _EVENT_PATHS.get(str(doc.get("type")), _EVENT_PATHS["EPCISDocument"])

    def rebuild(node: dict[str, Any], rest: tuple[str, ...]) -> dict[str, Any]:
        if len(rest) == 1:
            return {**node, rest[0]: []}
        return {**node, rest[0]: rebuild(node[rest[0]], rest[1:])}

    return rebuild(doc, path)


def _explain_schema(doc: dict[str, Any], raw_events: Any, report: _Report) -> None:
    """The schema problems of a document the compiled validator rejected: the document without its events
    first, then each event the compiled validator rejects (a document is valid exactly when both are, as
    eventList is an array of independent EPCIS-Document-Event items), until the report is full."""
    if not isinstance(raw_events, list):
        report.explain(validator().iter_errors(doc))
        return
    header = _without_events(doc)
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


def load_and_validate(data: bytes | str, *, file: str | None = None, capture: bool = False) -> dict[str, Any]:
    """Parse and validate; raise TraceError listing every issue when the document is not valid EPCIS 2.0. With
    ``capture``, a valid document must also be of a type capture takes (an EPCISDocument, not a query's answer)."""
    doc, non_finite = _parse(data, file)
    issues = _validate(doc, non_finite)
    if capture and not issues:
        refused = capture_document_issue(doc)
        issues = [refused] if refused else []
    if issues:
        raise TraceError(cap_issues(issues), file=file)
    return doc
