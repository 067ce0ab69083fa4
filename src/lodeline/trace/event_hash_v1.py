"""FROZEN: the EPCIS event hash as Lodeline computed it before issue 11 (algorithm version 1). Do not change.

Used only to verify log leaves appended before migration ``trace_0007`` (whose boundary ``trace_hash_boundary``
records) and by that migration itself: those leaves hold the hash IDs this code computed, and the Merkle log is
append-only, so anyone holding such an event recomputes its leaf with this function. The current algorithm is
:mod:`lodeline.trace.event_hash`. Differences from it: timestamps truncated (not rounded) to milliseconds,
``certificationInfo`` not in the canonical order and ``parentID`` after ``epcList``, ``errorDeclaration`` hashed,
fewer GS1 keys canonicalised, extensions inside sensor metadata and locations dropped, no ``sensorElementList``
extension handling, no query documents. It depends on :func:`lodeline.trace.digital_link_v1.to_digital_link` (frozen as well), the
registry's comparison form of identifiers as it was. Its sha256 is pinned in ``tests/unit/test_import_cycles.py``
(``FROZEN``).

Original description follows.

EPCIS Event Hash ID (GS1 CBV 2.0 §8.9): a representation-independent fingerprint of an event.

The pre-hash string lists the event's fields in the canonical order of CBV 2.0 §8.9 as ``name=value``
with no separators. Values are normalised first: timestamps to UTC at millisecond precision, CBV bare words and
URNs to their Web-vocabulary URIs, EPC URNs and Digital Link URIs to canonical Digital Link, numbers without
trailing zeros. Repeated elements are sorted lexically. Fields outside the canonical order (ilmd, error
declarations, user extensions) follow, with extension keys written ``{namespace}localName``, also sorted.
``eventID``, ``recordTime`` and comments are not part of the fingerprint. The hash ID is
``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920 named information).

This runs once per captured event, so ``EventHasher`` (one per namespace mapping, shared through
``hasher_for``) caches canonical values; ``event_hash_id(event, namespaces)`` uses the shared hasher.
Pure module: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

from lodeline.trace.digital_link_v1 import to_digital_link

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
    if ":" not in text:  # no float literal has a colon: spare URNs and URIs a raised ValueError
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


# Values that count as absent (``in`` compares with ==, as JSON gives them; 0 and False are values).
_EMPTY: tuple[Any, ...] = (None, "", [], {})
_NOT_EXTENSION = frozenset(_ORDERED | _EXCLUDED)
_REPORT_FIELDS = frozenset(name for name, _ in _SENSOR_REPORT)
# Entries per cache before it is emptied and refilled (a bound on memory, whatever the documents hold).
# Caches hold pure functions of their keys: emptying one only costs recomputation, and a race between
# threads at worst recomputes an entry or miscounts the budget.
_CACHE_LIMIT = 4096
_PAIR_CACHE_LIMIT = 16384
_K = TypeVar("_K")
_V = TypeVar("_V")


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> _V:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value
    return value


def _is_time_field(name: str) -> bool:
    return name.endswith(("time", "Time")) and name != "eventTimeZoneOffset"


def _cacheable(value: Any) -> bool:
    """True when every value equal to ``value`` canonicalises alike, so it may be part of a cache key.

    Exact types on purpose: ``True == 1 == 1.0`` but ``true`` ≠ ``1``; an int and a float that are equal
    both print as the integer."""
    t = type(value)
    return value is None or t is str or t is int or t is float


# A hot-path handler: (field name, value, child order) -> the field's canonical text.
_Handler = Callable[[str, Any, Any], str]
# One canonical field: its name, its child order, its handler (None: a plain ``name=value`` pair).
_Step = tuple[str, Any, _Handler | None]
# What prehash does with one key layout: the canonical fields present, in order; the extension keys.
_LayoutPlan = tuple[tuple[_Step, ...], tuple[str, ...]]


class EventHasher:
    """Pre-hash strings and hash IDs of events under one prefix → namespace mapping (a document's ``@context``).

    The output is that of the plain reading of CBV 2.0 §8.9 (kept in the general methods ``ordered``, ``field``,
    ``element``, ``report`` and ``generic``); the capture hot path takes shortcuts around it:

    - the canonical field order is resolved once into a plan of (field, handler) steps, and each key layout
      of an event (events of one kind share one) once into the steps and extension keys it needs;
    - ``name=value`` strings of text values are cached per field name, keyed by the raw text (locations,
      steps, lots and units repeat across the events of a chain);
    - whole quantity elements and source/destination/business-transaction entries are cached by their values.

    Cache keys are only built from values whose equality implies the same canonical text: ``True == 1 == 1.0``
    in Python, so booleans never enter a key, and anything unusual takes the general path uncached.
    """

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.ns = dict(namespaces)
        self._cbv = self.ns.get("cbv")
        self._gs1 = self.ns.get("gs1")
        self._pairs: dict[str, dict[str, str]] = {}  # field name -> raw text -> "name=canonical"
        self._pair_count = 0
        self._keys: dict[str, str] = {}  # extension key -> "{namespace}localName"
        self._entries: dict[Any, str] = {}  # (list name, values…) -> one element's canonical text
        self._layouts: dict[tuple[str, ...], _LayoutPlan] = {}  # event keys -> what prehash does with them
        handlers: dict[str, _Handler | None] = {
            "time": self._time,
            "plain": None,  # straight to pair(): most of an event's fields
            "epc": self._epc_list,
            "quantityElement": self._quantity_list,
            "typed": self._typed_list,
            "location": self._location,
        }
        self._plan: tuple[_Step, ...] = tuple(
            (name, sub, handlers.get(_handler_kind(name, sub), self.field)) for name, sub in PROP_ORDER
        )

    # -- entry points ------------------------------------------------------------------------------------------

    def prehash(self, event: dict[str, Any]) -> str:
        """The canonical pre-hash string of one event."""
        # Events of one kind share a key layout: resolve it once into canonical fields and extension keys.
        layout = tuple(event)
        plan = self._layouts.get(layout)
        if plan is None:
            plan = _remember(self._layouts, layout, self._layout_plan(event))
        fields, extensions = plan
        out = [f"eventType={event.get('type', '')}"]
        pair = self.pair
        for name, sub, handler in fields:
            val = event[name]
            if not val and val in _EMPTY:  # None or empty (a 0 or False is a value)
                continue
            out.append(pair(name, val) if handler is None else handler(name, val, sub))
        if extensions:
            out.append(self._generic_items([(key, event[key]) for key in extensions]))
        return "".join(out)

    def _layout_plan(self, event: dict[str, Any]) -> _LayoutPlan:
        fields = tuple(step for step in self._plan if step[0] in event)
        return fields, tuple(key for key in event if key not in _NOT_EXTENSION)

    def hash_id(self, event: dict[str, Any]) -> str:
        """``ni:///sha-256;…?ver=CBV2.0`` of one event."""
        return hash_id(self.prehash(event))

    # -- values ------------------------------------------------------------------------------------------------

    def value(self, raw: Any, field: str = "") -> str:
        if type(raw) is not str and isinstance(raw, bool | int | float):
            return _number(raw)
        if _is_time_field(field):
            return normalise_time(str(raw))
        return _canonical_text(str(raw), _VOCAB_PREFIX.get(field, ""), self._cbv, self._gs1)

    def pair(self, name: str, raw: Any) -> str:
        """``name=value``; cached for text values (equal strings always canonicalise alike)."""
        if type(raw) is not str:
            return name + "=" + self.value(raw, name)
        cache = self._pairs.get(name)
        if cache is None:
            cache = self._pairs[name] = {}
        text = cache.get(raw)
        if text is None:
            text = name + "=" + self.value(raw, name)
            if self._pair_count >= _PAIR_CACHE_LIMIT:  # one budget across all fields, extensions included
                self._pairs.clear()
                self._pair_count = 0
            else:
                cache[raw] = text
                self._pair_count += 1
        return text

    def key(self, key: str) -> str:
        name = self._keys.get(key)
        if name is None:
            prefix, sep, local = key.partition(":")
            name = "{" + self.ns[prefix] + "}" + local if sep and prefix in self.ns else key
            _remember(self._keys, key, name)
        return name

    # -- hot-path handlers: the shapes of the registry's events, with the general methods as fallback ----------

    def _time(self, name: str, val: Any, sub: Any) -> str:
        if type(val) is str and _CANONICAL_TIME.fullmatch(val):  # already UTC milliseconds, as generated
            return name + "=" + val
        return self.pair(name, val)

    def _epc_list(self, name: str, val: Any, sub: Any) -> str:
        pair = self.pair
        return name + "".join(sorted([pair(sub, v) for v in val]))

    def _quantity_list(self, name: str, val: Any, sub: Any) -> str:
        element, order = sub
        cache = self._entries
        items = []
        for el in val:
            if type(el) is not dict:
                items.append(element + self.element(el, order))
                continue
            epc_class, quantity, uom = el.get("epcClass"), el.get("quantity"), el.get("uom")
            if not (_cacheable(epc_class) and _cacheable(quantity) and _cacheable(uom)):
                items.append(element + self.element(el, order))
                continue
            key = (element, epc_class, quantity, uom)
            text = cache.get(key)
            if text is None:
                text = _remember(cache, key, element + self.element(el, order))
            items.append(text)
        items.sort()
        return name + "".join(items)

    def _location(self, name: str, val: Any, sub: Any) -> str:
        if type(val) is not dict:
            return name + self.ordered(val, sub)
        ident = val.get("id")
        if type(ident) is not str:
            return name + self.ordered(val, sub)
        return name + self.pair("id", ident) if ident else name

    def _typed_list(self, name: str, val: Any, sub: Any) -> str:
        member = sub[1]
        cache = self._entries
        items = []
        for el in val:
            if type(el) is dict:
                typ, ident = el.get("type"), el.get(member, "")
                if _cacheable(typ) and _cacheable(ident):
                    key = (member, typ, ident)
                    text = cache.get(key)
                    if text is None:
                        text = _remember(cache, key, self._typed_entry(el, member))
                    items.append(text)
                    continue
            items.append(self._typed_entry(el, member))
        items.sort()
        return name + "".join(items)

    # -- general methods: CBV 2.0 §8.9 as written --------------------------------------------------------------

    def ordered(self, obj: dict[str, Any], order: tuple[tuple[str, Any], ...]) -> str:
        out = []
        for name, sub in order:
            if name not in obj:
                continue
            val = obj[name]
            if val in _EMPTY:
                continue
            out.append(self.field(name, val, sub))
        return "".join(out)

    def field(self, name: str, val: Any, sub: Any) -> str:
        if sub is None:
            return self.pair(name, val)
        if sub == "list":
            return "".join(sorted(self.pair(name, v) for v in val))
        if isinstance(sub, str):  # a list of plain values, each written as "<sub>=value"
            return name + "".join(sorted(self.pair(sub, v) for v in val))
        if sub[0] == "typed":  # bizTransaction/source/destination: type first, then the value
            return name + "".join(sorted(self._typed_entry(el, sub[1]) for el in val))
        if isinstance(sub[0], str) and name.endswith("List"):  # list of structured elements
            element, child_order = sub
            return name + "".join(sorted(element + self.element(el, child_order) for el in val))
        return name + self.ordered(val, sub)

    def _typed_entry(self, el: dict[str, Any], member: str) -> str:
        vocab = "bizTransactionType" if member == "bizTransaction" else "sourceDestType"
        typ = f"type={self.value(el['type'], vocab)}" if el.get("type") else ""
        return typ + self.pair(member, el.get(member, ""))

    def element(self, el: dict[str, Any], order: tuple[tuple[str, Any], ...]) -> str:
        out = []
        for name, sub in order:
            if name not in el or el[name] in _EMPTY:
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
        return "".join(out) + self.generic({k: v for k, v in report.items() if k not in _REPORT_FIELDS})

    def generic(self, obj: dict[str, Any]) -> str:
        return self._generic_items(obj.items())

    def _generic_items(self, pairs: Iterable[tuple[str, Any]]) -> str:
        """Extension fields and ilmd: ``{namespace}localName=value`` per value, nested objects inline, sorted."""
        items: list[str] = []
        for key, val in pairs:
            name = self.key(key)
            for v in val if isinstance(val, list) else (val,):
                if isinstance(v, dict):
                    items.append(name + self.generic(v))
                elif v is not None:
                    items.append(self.pair(name, v))
        items.sort()
        return "".join(items)


def _handler_kind(name: str, sub: Any) -> str:
    """Which hot-path handler serves a canonical field (anything else takes ``EventHasher.field``)."""
    if sub is None:
        return "time" if _is_time_field(name) else "plain"
    if sub == "epc":
        return "epc"
    if sub[0] in ("quantityElement", "typed"):
        return str(sub[0])
    if sub == (("id", None),):
        return "location"
    return "general"


def context_namespaces(context: Any) -> dict[str, str]:
    """Prefix → namespace URI from a document's ``@context`` (on top of the EPCIS context's own prefixes)."""
    ns = dict(_DEFAULT_CONTEXT)
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            ns.update({k: v for k, v in entry.items() if isinstance(v, str)})
    return ns


_HASHERS: dict[tuple[tuple[str, str], ...], EventHasher] = {}
_HASHERS_LIMIT = 8  # documents share a handful of contexts; more than this and the table starts again


def hasher_for(namespaces: dict[str, str] | None = None) -> EventHasher:
    """The shared hasher (and its warm caches) for a namespace mapping, by value: equal mappings share one."""
    namespaces = namespaces or _DEFAULT_CONTEXT
    try:
        key = tuple(namespaces.items())
        hasher = _HASHERS.get(key)
    except TypeError:  # an unhashable namespace value: nothing to share
        return EventHasher(namespaces)
    if hasher is None:
        if len(_HASHERS) >= _HASHERS_LIMIT:
            _HASHERS.clear()
        hasher = _HASHERS[key] = EventHasher(namespaces)
    return hasher


def prehash_string(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """The canonical pre-hash string of one event."""
    return hasher_for(namespaces).prehash(event)


def hash_id(prehash: str) -> str:
    return f"ni:///sha-256;{hashlib.sha256(prehash.encode('utf-8')).hexdigest()}?ver=CBV2.0"


def event_hash_id(event: dict[str, Any], namespaces: dict[str, str] | None = None) -> str:
    """``ni:///sha-256;…?ver=CBV2.0`` of one event."""
    return hash_id(hasher_for(namespaces).prehash(event))


def document_hash_ids(doc: dict[str, Any]) -> list[str]:
    """The hash ID of every event of an EPCIS document, in document order."""
    hasher = hasher_for(context_namespaces(doc.get("@context")))
    events = doc.get("epcisBody", {}).get("eventList", [])
    return [hash_id(hasher.prehash(ev)) for ev in events]
