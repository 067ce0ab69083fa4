"""EPCIS 2.0 JSON/JSON-LD documents: parse and validate against the official GS1 JSON Schema (draft-07).

Validation is schema-only (no store). Every error is reported per event with its index, eventID, the JSON path
of the field and a stable code, so one pass tells the submitter everything that is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from lodeline.trace.errors import EventIssue, TraceError
from lodeline.trace.schema_fast import compile_schema

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
SCHEMA_FILE = STANDARDS_DIR / "EPCIS-JSON-Schema.json"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)

# jsonschema only checks ``format`` when a checker for it is registered. The optional rfc3339/rfc3987 packages are
# not dependencies, so we register the two formats the EPCIS schema uses ourselves.
_formats = FormatChecker(formats=())


@_formats.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value or not (value.endswith("Z") or value[-6] in "+-"):
        raise ValueError("not an RFC 3339 date-time with a time zone")
    datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@_formats.checks("uri", raises=ValueError)
def _is_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.path) or any(c in value for c in ' \t\n<>"{}|\\^`'):
        raise ValueError("not an absolute URI (EPC URN or GS1 Digital Link URI expected)")
    return True


@lru_cache(maxsize=1)
def validator() -> Draft7Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft7Validator.check_schema(schema)
    return Draft7Validator(schema, format_checker=_formats)


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
def fast_validator() -> Any:
    """The compiled yes/no validator (see schema_fast); jsonschema explains the failures."""
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    return compile_schema(schema, {"date-time": _format_ok(_is_date_time), "uri": _format_ok(_is_uri)})


def parse_document(data: bytes | str, *, file: str | None = None) -> dict[str, Any]:
    """Decode a JSON document; an EPCIS document must be a JSON object."""
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TraceError([EventIssue(code="epcis-not-json", reason=str(exc))], file=file) from exc
    if not isinstance(doc, dict):
        raise TraceError(
            [EventIssue(code="epcis-not-json", reason="top level is not a JSON object")], file=file
        )
    return doc


def event_list(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of an EPCISDocument (empty if absent; validation reports that)."""
    body = doc.get("epcisBody")
    events = body.get("eventList") if isinstance(body, dict) else None
    return [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []


def _issue(error: ValidationError, events: list[Any]) -> EventIssue:
    path = list(error.absolute_path)
    index: int | None = None
    if len(path) >= 3 and path[0] == "epcisBody" and path[1] == "eventList" and isinstance(path[2], int):
        index, path = path[2], path[3:]
    event_id = None
    if index is not None and index < len(events) and isinstance(events[index], dict):
        eid = events[index].get("eventID")
        event_id = eid if isinstance(eid, str) else None
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
    return EventIssue(code=code, reason=error.message, index=index, event_id=event_id, field=field)


def _leaf_errors(errors: Iterator[ValidationError]) -> Iterator[ValidationError]:
    # anyOf/oneOf wrap the real cause; report the deepest branch that got furthest, not "is not valid under any".
    for err in errors:
        if err.context:
            deepest = max(err.context, key=lambda e: len(e.absolute_path))
            yield from _leaf_errors(iter([deepest]))
        else:
            yield err


def validate_document(doc: dict[str, Any]) -> list[EventIssue]:
    """Every schema problem of ``doc``, ordered by event then field. Empty means valid."""
    events = doc.get("epcisBody", {}).get("eventList", []) if isinstance(doc.get("epcisBody"), dict) else []
    issues: list[EventIssue] = []
    if doc.get("type") != "EPCISDocument":
        issues.append(
            EventIssue(code="epcis-not-document", reason="type must be EPCISDocument", field="type")
        )
    seen: set[tuple[Any, ...]] = set()
    errors = iter(()) if fast_validator()(doc) else validator().iter_errors(doc)
    for err in _leaf_errors(errors):
        issue = _issue(err, events if isinstance(events, list) else [])
        key = (issue.index, issue.field, issue.reason)
        if key not in seen:
            seen.add(key)
            issues.append(issue)
    if not issues and not event_list(doc):
        issues.append(EventIssue(code="epcis-no-events", reason="epcisBody.eventList is empty"))
    for i, ev in enumerate(event_list(doc)):
        if ev.get("type") not in EVENT_TYPES:
            issues.append(
                EventIssue(
                    code="epcis-bad-value",
                    reason=f"unsupported event type {ev.get('type')!r}; expected one of {', '.join(EVENT_TYPES)}",
                    index=i,
                    field="type",
                )
            )
    issues.sort(key=lambda i: (-1 if i.index is None else i.index, i.field or ""))
    return issues


def load_and_validate(data: bytes | str, *, file: str | None = None) -> dict[str, Any]:
    """Parse and validate; raise TraceError listing every issue when the document is not valid EPCIS 2.0."""
    doc = parse_document(data, file=file)
    issues = validate_document(doc)
    if issues:
        raise TraceError(issues, file=file)
    return doc
