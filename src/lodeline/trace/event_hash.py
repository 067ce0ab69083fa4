"""EPCIS Event Hash ID (GS1 CBV 2.0 §8.9): a representation-independent fingerprint of an event.

The pre-hash string lists the event's fields in the canonical order of CBV 2.0 §8.9 as ``name=value``
with no separators. Values are normalised first: timestamps to UTC at millisecond precision, CBV bare words and
URNs to their Web-vocabulary URIs, EPC URNs and Digital Link URIs to canonical Digital Link, numbers without
trailing zeros. Repeated elements are sorted lexically. Fields outside the canonical order (ilmd, error
declarations, user extensions) follow, with extension keys written ``{namespace}localName``, also sorted.
``eventID``, ``recordTime`` and comments are not part of the fingerprint. The hash ID is
``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920 named information).

Pure module: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from lodeline.trace.identifiers import to_digital_link

# (name, child order or None). Lists of values are written as the list name, then one "child=value" per element.
_QTY = (("epcClass", None), ("quantity", None), ("uom", None))
_SENSOR_METADATA = tuple(
    (n, None)
    for n in (
        [
            "time",
            "startTime",
            "endTime",
            "deviceID",
            "deviceMetadata",
            "rawData",
            "dataProcessingMethod",
            "bizRules",
        ]
    )
)
_SENSOR_REPORT = tuple(
    (n, None)
    for n in [
        "type",
        "exception",
        "deviceID",
        "deviceMetadata",
        "rawData",
        "dataProcessingMethod",
        "time",
        "microorganism",
        "chemicalSubstance",
        "value",
        "component",
        "stringValue",
        "booleanValue",
        "hexBinaryValue",
        "uriValue",
        "minValue",
        "maxValue",
        "meanValue",
        "sDev",
        "percRank",
        "percValue",
        "uom",
        "coordinateReferenceSystem",
    ]
)
PROP_ORDER: tuple[tuple[str, Any], ...] = (
    ("eventTime", None),
    ("eventTimeZoneOffset", None),
    ("epcList", "epc"),
    ("parentID", None),
    ("inputEPCList", "epc"),
    ("childEPCs", "epc"),
    ("quantityList", ("quantityElement", _QTY)),
    ("childQuantityList", ("quantityElement", _QTY)),
    ("inputQuantityList", ("quantityElement", _QTY)),
    ("outputEPCList", "epc"),
    ("outputQuantityList", ("quantityElement", _QTY)),
    ("action", None),
    ("transformationID", None),
    ("bizStep", None),
    ("disposition", None),
    ("persistentDisposition", (("set", "list"), ("unset", "list"))),
    ("readPoint", (("id", None),)),
    ("bizLocation", (("id", None),)),
    ("bizTransactionList", ("typed", "bizTransaction")),
    ("sourceList", ("typed", "source")),
    ("destinationList", ("typed", "destination")),
    (
        "sensorElementList",
        ("sensorElement", (("sensorMetadata", _SENSOR_METADATA), ("sensorReport", "reports"))),
    ),
)
_ORDERED = {name for name, _ in PROP_ORDER}
_EXCLUDED = {"type", "eventID", "recordTime", "@context", "comment", "rdfs:comment"}

CBV = "https://ref.gs1.org/cbv/"
# Fields whose bare CBV words expand to Web vocabulary URIs, and the vocabulary's term prefix.
_VOCAB_PREFIX = {
    "bizStep": "BizStep-",
    "disposition": "Disp-",
    "set": "Disp-",
    "unset": "Disp-",
    "bizTransactionType": "BTT-",
    "sourceDestType": "SDT-",
    "reason": "ER-",
}
_URN_VOCAB = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-",
    "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-",
    "urn:epcglobal:cbv:er:": "ER-",
}
_DEFAULT_CONTEXT = {"cbv": CBV, "gs1": "https://gs1.org/voc/", "epcis": "https://ref.gs1.org/epcis/"}


def normalise_time(value: str) -> str:
    """UTC, millisecond precision, ``Z`` suffix (CBV 2.0 §8.9 rule on timestamps)."""
    if _CANONICAL_TIME.fullmatch(value):
        return value
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return value.strip()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@lru_cache(maxsize=131072)
def _canonical_text(raw: str, vocab_prefix: str, cbv_ns: str | None, gs1_ns: str | None) -> str:
    """Canonical form of a non-time text value (cached: locations, steps and lots repeat across events)."""
    text = raw.strip()
    for urn, term in _URN_VOCAB.items():
        if text.startswith(urn):
            return CBV + term + text[len(urn) :]
    if vocab_prefix and ":" not in text:
        return CBV + vocab_prefix + text
    prefix, sep, local = text.partition(":")
    if sep and not local.startswith("//"):
        if prefix == "cbv" and cbv_ns:
            return cbv_ns + local
        if prefix == "gs1" and gs1_ns:
            return gs1_ns + local
    try:
        number = float(text)
    except ValueError:
        pass
    else:
        if text.lower() not in ("nan", "inf", "-inf", "infinity", "-infinity") and "_" not in text:
            return _number(number)
    return to_digital_link(text) or text


_CANONICAL_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _number(value: float | int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Hasher:
    def __init__(self, namespaces: dict[str, str]) -> None:
        self.ns = namespaces

    def key(self, key: str) -> str:
        prefix, sep, local = key.partition(":")
        if sep and prefix in self.ns:
            return "{" + self.ns[prefix] + "}" + local
        return key

    def value(self, raw: Any, field: str = "") -> str:
        if isinstance(raw, bool | int | float):
            return _number(raw)
        if field.endswith(("time", "Time")) and field != "eventTimeZoneOffset":
            return normalise_time(str(raw))
        return _canonical_text(str(raw), _VOCAB_PREFIX.get(field, ""), self.ns.get("cbv"), self.ns.get("gs1"))

    def pair(self, name: str, raw: Any) -> str:
        return name + "=" + self.value(raw, name)

    def ordered(self, obj: dict[str, Any], order: tuple[tuple[str, Any], ...]) -> str:
        out = []
        for name, sub in order:
            if name not in obj:
                continue
            val = obj[name]
            if val in (None, "", [], {}):
                continue
            # Plain fields (times, steps, locations) straight to pair(): most of an event's fields.
            out.append(self.pair(name, val) if sub is None else self.field(name, val, sub))
        return "".join(out)

    def field(self, name: str, val: Any, sub: Any) -> str:
        if sub is None:
            return self.pair(name, val)
        if sub == "list":
            return "".join(sorted(self.pair(name, v) for v in val))
        if isinstance(sub, str):  # a list of plain values, each written as "<sub>=value"
            return name + "".join(sorted(self.pair(sub, v) for v in val))
        if sub[0] == "typed":  # bizTransaction/source/destination: type first, then the value
            vocab = "bizTransactionType" if sub[1] == "bizTransaction" else "sourceDestType"
            items = []
            for el in val:
                typ = f"type={self.value(el['type'], vocab)}" if el.get("type") else ""
                items.append(typ + self.pair(sub[1], el.get(sub[1], "")))
            return name + "".join(sorted(items))
        if isinstance(sub[0], str) and name.endswith("List"):  # list of structured elements
            element, child_order = sub
            return name + "".join(sorted(element + self.element(el, child_order) for el in val))
        return name + self.ordered(val, sub)

    def element(self, el: dict[str, Any], order: tuple[tuple[str, Any], ...]) -> str:
        out = []
        for name, sub in order:
            if name not in el or el[name] in (None, "", [], {}):
                continue
            if sub is None:
                out.append(self.pair(name, el[name]))
            elif sub == "reports":
                out.append("".join(sorted("sensorReport" + self.report(r) for r in el[name])))
            else:
                out.append(name + self.ordered(el[name], sub))
        return "".join(out)

    def report(self, report: dict[str, Any]) -> str:
        out = []
        for name, _ in _SENSOR_REPORT:
            if name not in report:
                continue
            raw = report[name]
            if name == "type" and isinstance(raw, str) and ":" not in raw:
                out.append(f"type={self.ns['gs1']}{raw}")
            else:
                out.append(self.pair(name, raw))
        return "".join(out) + self.generic({k: v for k, v in report.items() if k not in dict(_SENSOR_REPORT)})

    def generic(self, obj: dict[str, Any]) -> str:
        items: list[str] = []
        for key, val in obj.items():
            name = self.key(key)
            values = val if isinstance(val, list) else [val]
            for v in values:
                if isinstance(v, dict):
                    items.append(name + self.generic(v))
                elif v is not None:
                    items.append(self.pair(name, v))
        return "".join(sorted(items))


def context_namespaces(context: Any) -> dict[str, str]:
    """Prefix → namespace URI from a document's ``@context`` (on top of the EPCIS context's own prefixes)."""
    ns = dict(_DEFAULT_CONTEXT)
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            ns.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return ns


def prehash_string(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """The canonical pre-hash string of one event."""
    h = _Hasher(namespaces or dict(_DEFAULT_CONTEXT))
    rest = {k: v for k, v in event.items() if k not in _ORDERED and k not in _EXCLUDED}
    return f"eventType={event.get('type', '')}" + h.ordered(event, PROP_ORDER) + h.generic(rest)


def hash_id(prehash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode('utf-8')).hexdigest()}?ver=CBV2.0"


def event_hash_id(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """``ni:///sha-256;…?ver=CBV2.0`` of one event."""
    return hash_id(prehash_string(event, namespaces))


def document_hash_ids(doc: dict[str, Any]) -> list[str]:
    """The hash ID of every event of an EPCIS document, in document order."""
    ns = context_namespaces(doc.get("@context"))
    events = doc.get("epcisBody", {}).get("eventList", [])
    return [event_hash_id(ev, ns) for ev in events]
