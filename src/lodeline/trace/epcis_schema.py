"""The GS1 EPCIS 2.0 JSON Schema as the registry applies it: the vendored schema (draft-07) read with its JSON-LD
context (:func:`overlay`), the formats it names (``date-time``, ``uri``) and the two the overlay adds (JSON-LD node
identifiers, extension property names), and the validators built from it: python-jsonschema, which explains a
failure, and the compiled yes/no check of :mod:`lodeline.trace.schema_fast`, which decides fast. Both use the same
schema and the same format checks, so they agree (tests/property/test_trace_schema_fast.py).

Pure: reads only the vendored standard files (``standards/``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError

from lodeline.trace.schema_fast import Compiler, unique_items

STANDARDS_DIR = Path(__file__).resolve().parent / "standards"
SCHEMA_FILE = STANDARDS_DIR / "EPCIS-JSON-Schema.json"
CONTEXT_FILE = STANDARDS_DIR / "epcis-context.jsonld"
__all__ = [
    "CONTEXT_FILE",
    "SCHEMA_FILE",
    "event_validator",
    "fast_event_validator",
    "fast_validator",
    "keyword_aliases",
    "overlay",
    "schema",
    "validator",
]

# jsonschema only checks ``format`` when a checker for it is registered. The optional rfc3339/rfc3987 packages are
# not dependencies, so we register the two formats the EPCIS schema uses ourselves, and the two the overlay adds.
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


# A JSON-LD blank node identifier (JSON-LD 1.1 §9.3 / RDF 1.1 Turtle BLANK_NODE_LABEL, simplified): "_:" and a
# label without white space. JSON-LD allows one wherever a node identifier (``@id``, aliased ``id``) goes.
_BLANK_NODE = re.compile(r"_:[^\s<>\"{}|\\^`]+")


@_formats.checks("jsonld-node-id", raises=ValueError)
def _is_node_id(value: object) -> bool:
    """A node identifier (``id``, the context's alias of ``@id``): an absolute IRI or a blank node identifier."""
    if isinstance(value, str) and _BLANK_NODE.fullmatch(value):
        return True
    try:
        return _is_uri(value)
    except ValueError:
        raise ValueError("neither an absolute URI nor a JSON-LD blank node identifier (_:name)") from None


@_formats.checks("jsonld-property", raises=ValueError)
def _is_property_name(value: object) -> bool:
    """An extension property name (the schema's ``vocab-uri`` in ``propertyNames``): an absolute or compact IRI
    (``prefix:name``), or an alias the EPCIS context gives a JSON-LD keyword (``id`` for ``@id``, ``type`` for
    ``@type``): a node's own identifier and type, which the schema does not list but every node may carry."""
    if not isinstance(value, str) or value in keyword_aliases():
        return True
    try:
        return _is_uri(value)
    except ValueError:
        raise ValueError(
            "not a field of this object, nor an IRI (an extension needs a prefix: ex:name)"
        ) from None


@lru_cache(maxsize=1)
def keyword_aliases() -> frozenset[str]:
    """Terms the EPCIS 2.0 JSON-LD context defines, at its top level, as aliases of JSON-LD keywords (``id`` →
    ``@id``, ``type`` → ``@type``)."""
    context = json.loads(CONTEXT_FILE.read_text(encoding="utf-8"))["@context"]
    aliases = set()
    for term, definition in context.items():
        target = definition.get("@id") if isinstance(definition, dict) else definition
        if not term.startswith("@") and isinstance(target, str) and target.startswith("@"):
            aliases.add(term)
    return frozenset(aliases)


def overlay(schema: dict[str, Any]) -> dict[str, Any]:
    """The GS1 schema read with its JSON-LD context, as GS1's own examples are (documented in docs/trace.md):

    - every ``propertyNames`` alternative ``vocab-uri`` (an extension property must be an IRI) also takes the
      context's aliases of ``@id`` and ``@type``: an event's, a sensor element's or a source's own ``id`` and
      ``type``, which JSON-LD allows on any node;
    - the document's ``id`` and an event's ``id`` are JSON-LD node identifiers: an absolute URI or a blank node
      identifier such as ``_:document1``. The schema leaves an event's ``id`` value unchecked; this checks it;
    - ``persistentDisposition`` is a field of aggregation, transaction and association events too (GS1's
      PersistentDisposition-example puts it on aggregation events; the context defines it for every event), with
      the shape the schema gives it on object and transformation events (``set``/``unset`` lists).
    Nothing else changes: a wrong type, a missing required field, a name the event type does not have (an
    ObjectEvent's ``childEPCs``) or a non-IRI extension name is still an error.
    """
    defs = schema["definitions"]
    defs["jsonld-property-name"] = {"type": "string", "format": "jsonld-property"}
    defs["jsonld-node-id"] = {"type": "string", "format": "jsonld-node-id"}
    vocab, name = {"$ref": "#/definitions/vocab-uri"}, {"$ref": "#/definitions/jsonld-property-name"}
    # Property-name checks: each propertyNames, and common-event-properties (the events' propertyNames use it).
    checks: list[Any] = [defs["common-event-properties"]]
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if isinstance(node.get("propertyNames"), dict):
                checks.append(node["propertyNames"])
            stack.extend(node.values())
    for check in checks:
        if vocab in check.get("anyOf", []):
            check["anyOf"] = [name if alt == vocab else alt for alt in check["anyOf"]]
    node_id = {"$ref": "#/definitions/jsonld-node-id"}
    for doc_def in ("epcisDocument", "epcisQueryDocument"):
        defs[doc_def]["properties"]["id"] = node_id
    defs["Event"]["properties"]["id"] = node_id
    for event_def in ("AggregationEvent", "TransactionEvent", "AssociationEvent"):
        own = next(part for part in defs[event_def]["allOf"] if "properties" in part)
        own["properties"].setdefault("persistentDisposition", {"$ref": "#/definitions/persistentDisposition"})
        named = next(alt for alt in own["propertyNames"]["anyOf"] if "enum" in alt)
        if "persistentDisposition" not in named["enum"]:
            named["enum"] = [*named["enum"], "persistentDisposition"]
    return schema


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return SCHEMA_FILE.read_text(encoding="utf-8")


def schema() -> dict[str, Any]:
    """A fresh copy of the GS1 schema with the JSON-LD overlay (:func:`overlay`)."""
    return overlay(json.loads(_schema_text()))


# jsonschema's uniqueItems compares every pair of unhashable items (quadratic: a long @context of objects took
# minutes); this one hashes them (schema_fast.unique_items), with the same notion of equality.
def _unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    if unique and validator.is_type(instance, "array") and not unique_items(instance):
        yield ValidationError(f"array of {len(instance)} items has non-unique elements")


_Validator = validators.extend(Draft7Validator, {"uniqueItems": _unique_items})


@lru_cache(maxsize=1)
def validator() -> Any:
    """Draft 7 (jsonschema) with a linear uniqueItems: explains what the compiled validator rejects."""
    loaded = schema()
    Draft7Validator.check_schema(loaded)
    return _Validator(loaded, format_checker=_formats)


@lru_cache(maxsize=1)
def event_validator() -> Any:
    """jsonschema for one event of an event list (either document type; refs resolve against the whole schema)."""
    return validator().evolve(schema=schema()["definitions"]["EPCIS-Document-Event"])


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
    loaded = schema()
    formats = {
        "date-time": _format_ok(_is_date_time),
        "uri": _format_ok(_is_uri),
        "jsonld-node-id": _format_ok(_is_node_id),
        "jsonld-property": _format_ok(_is_property_name),
    }
    compiler = Compiler(loaded, formats)
    # One compiler: the document's check and the event's share the compiled event definitions.
    return compiler.compile(loaded), compiler.ref("#/definitions/EPCIS-Document-Event")


def fast_validator() -> Any:
    """The compiled yes/no validator (see schema_fast); jsonschema explains the failures."""
    return _compiled()[0]


def fast_event_validator() -> Any:
    """The compiled yes/no validator of one event of an event list (either document type)."""
    return _compiled()[1]
