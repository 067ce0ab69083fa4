"""FROZEN: the EPCIS event hash of issue 11 (algorithm version 2), current since migration ``trace_0007``.
Do not change.

:mod:`lodeline.trace.event_hash` re-exports it as the current algorithm; ``trace_0007`` re-keys stored events with
it, and log leaves from that migration's boundary on hold the hash IDs it computes. So it is never edited: its
sha256 (and that of its rules, :mod:`lodeline.trace.event_hash_rules_v2`) is pinned in
``tests/unit/test_import_cycles.py`` (``FROZEN``). A change to the algorithm is an ``event_hash_v3`` that
:mod:`lodeline.trace.event_hash` re-exports, with a migration and a new leaf boundary.

EPCIS Event Hash ID (GS1 CBV 2.0 §8.9): a representation-independent fingerprint of an event.

The pre-hash string lists the event's fields in the canonical order of CBV 2.0 §8.9 as ``name=value``
with no separators, as the project's own vectors and CBV 2.0 read it (docs/trace.md lists the rules and the newer
reference outputs deliberately not followed). Values are normalised first: timestamps to UTC at millisecond
precision, CBV 2.0 bare words and URNs to their Web-vocabulary URIs, EPC URNs and Digital Link URIs to canonical
Digital Link, numbers without trailing zeros. Repeated elements are sorted lexically. An extension inside
readPoint, bizLocation, a sensor element, its metadata or a report follows that object's own fields (rule 21).
Fields outside the canonical order follow: ilmd, then the event's own extensions, keys written
``{namespace}localName``, sorted. ``eventID``, ``recordTime``, ``errorDeclaration`` and comments are not part of
the fingerprint. The hash ID is
``ni:///sha-256;<hex>?ver=CBV2.0`` (RFC 6920 named information).

This runs once per captured event, so ``EventHasher`` (one per namespace mapping, shared through
``hasher_for``) caches canonical values; ``event_hash_id(event, namespaces)`` uses the shared hasher.
Pure module: no I/O.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from lodeline.trace.event_hash_rules_v2 import (
    _CANONICAL_TIME,
    _DEFAULT_CONTEXT,
    _EMPTY,
    _GS1_VOCAB_FIELDS,
    _LOCATION_FIELDS,
    _METADATA_FIELDS,
    _NOT_EXTENSION,
    _REPORT_FIELDS,
    _SCHEMES,
    _SENSOR_ELEMENT_FIELDS,
    _SENSOR_METADATA,
    _SENSOR_REPORT,
    _VOCAB_PREFIX,
    FIXED_PREFIXES,
    GS1_VOC,
    KEY_NAMESPACES,
    PROP_ORDER,
    _canonical_text,
    _number,
    canonical_time,
)
from lodeline.trace.event_hash_rules_v2 import (
    normalise_time as normalise_time,  # re-exported for capture, ledger
)

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
# What prehash does with one key layout: the canonical fields present, in order; whether it has ilmd; the event's
# own extension keys.
_LayoutPlan = tuple[tuple[_Step, ...], bool, tuple[str, ...]]


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
        self.ns = {**namespaces, **FIXED_PREFIXES}  # gs1 and cbv expand alike in every document (rule 15)
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
            "sensors": self._sensor_list,
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
        fields, ilmd, extensions = plan
        out = [f"eventType={event.get('type', '')}"]
        pair = self.pair
        for name, sub, handler in fields:
            val = event[name]
            if not val and val in _EMPTY:  # None or empty (a 0 or False is a value)
                continue
            out.append(pair(name, val) if handler is None else handler(name, val, sub))
        # Outside the canonical order: ilmd, then the event's own extensions, sorted. Extensions inside readPoint,
        # bizLocation and sensor elements were written with their parent (rule 21 as CBV 2.0 has it).
        if ilmd:
            out.append(self._generic_items([("ilmd", event["ilmd"])]))
        if extensions:
            out.append(self._generic_items([(key, event[key]) for key in extensions]))
        return "".join(out)

    def _layout_plan(self, event: dict[str, Any]) -> _LayoutPlan:
        fields = tuple(step for step in self._plan if step[0] in event)
        extensions = tuple(key for key in event if key not in _NOT_EXTENSION and key != "ilmd")
        return fields, "ilmd" in event, extensions

    def hash_id(self, event: dict[str, Any]) -> str:
        """``ni:///sha-256;…?ver=CBV2.0`` of one event."""
        return hash_id(self.prehash(event))

    # -- values ------------------------------------------------------------------------------------------------

    def value(self, raw: Any, field: str = "") -> str:
        if type(raw) is not str and isinstance(raw, bool | int | float):
            return _number(raw)
        if _is_time_field(field):
            return canonical_time(str(raw))
        text = str(raw)
        prefix, sep, local = text.strip().partition(":")
        if sep and prefix in self.ns and prefix not in _SCHEMES and not local.startswith("//"):
            text = self.ns[prefix] + local  # a CURIE of the document's context: its full URI
        return _canonical_text(text, _VOCAB_PREFIX.get(field, ""), self._cbv, self._gs1)

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
            namespace = self.ns.get(prefix) or KEY_NAMESPACES.get(prefix) if sep else None
            name = "{" + namespace + "}" + local if namespace else key
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
        if type(ident) is not str or len(val) > 1:  # extensions inside the location follow its id (rule 21)
            inner = self.ordered(val, sub) + self._nested_extensions(val, _LOCATION_FIELDS)
            return name + inner if inner else ""  # a location with nothing to write is omitted
        return name + self.pair("id", ident) if ident else ""

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
        if sub == "sensors":
            return self._sensor_list(name, val, sub)
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
            else:
                out.append(name + self.ordered(el[name], sub))
        return "".join(out)

    def _sensor_list(self, name: str, val: Any, sub: Any) -> str:
        """``sensorElementList`` then each ``sensorElement`` (sorted): its ``sensorMetadata`` (canonical fields,
        then its extensions), its ``sensorReport`` entries (each canonical fields then extensions; sorted), then
        the element's own extensions. Extensions stay inside the object that holds them (rule 21 as CBV 2.0 has
        it; the project's vector ReferenceEventHashAlgorithm2 writes ``sensorElementListsensorElement…``). An
        element with nothing to write is left out; a list with no element at all is omitted."""
        if isinstance(val, dict):
            val = [val]
        elements = []
        for el in val if isinstance(val, list) else []:
            if isinstance(el, dict):
                text = self.sensor_element(el)
                if text:
                    elements.append("sensorElement" + text)
        elements.sort()
        return name + "".join(elements) if elements else ""

    def sensor_element(self, el: dict[str, Any]) -> str:
        out = []
        meta = el.get("sensorMetadata")
        if isinstance(meta, dict) and meta:
            text = self.ordered(meta, _SENSOR_METADATA) + self._nested_extensions(meta, _METADATA_FIELDS)
            if text:
                out.append("sensorMetadata" + text)
        reports = el.get("sensorReport")
        if isinstance(reports, dict):
            reports = [reports]
        if isinstance(reports, list):
            texts = [self.report(r) for r in reports if isinstance(r, dict)]
            out.append("".join(sorted("sensorReport" + t for t in texts if t)))
        return "".join(out) + self._nested_extensions(el, _SENSOR_ELEMENT_FIELDS)

    def report(self, report: dict[str, Any]) -> str:
        """One sensor report: canonical fields in order, then its extension fields. ``type``, ``exception`` and
        ``component`` given as bare names are GS1 Web Vocabulary terms (``Temperature`` →
        ``https://gs1.org/voc/Temperature``, the namespace CBV 2.0 names)."""
        out = []
        for name, _ in _SENSOR_REPORT:
            if name not in report:
                continue
            raw = report[name]
            if raw in _EMPTY:
                continue
            if name in _GS1_VOCAB_FIELDS and isinstance(raw, str) and ":" not in raw and raw.strip():
                out.append(f"{name}={GS1_VOC}{raw.strip()}")
            else:
                out.append(self.pair(name, raw))
        return "".join(out) + self._nested_extensions(report, _REPORT_FIELDS)

    def _nested_extensions(self, obj: dict[str, Any], known: frozenset[str]) -> str:
        """Extension fields of a nested object (a namespace prefix of the context), ``{namespace}name=value``,
        sorted; unprefixed unknown keys are not extensions and are left out, as the reference does."""
        items = [(k, v) for k, v in obj.items() if k not in known and self._is_extension_key(k)]
        return self._generic_items(items) if items else ""

    def _is_extension_key(self, key: str) -> bool:
        prefix, sep, _ = key.partition(":")
        return bool(sep) and prefix in self.ns

    def generic(self, obj: dict[str, Any]) -> str:
        return self._generic_items(obj.items())

    def _generic_items(self, pairs: Iterable[tuple[str, Any]]) -> str:
        """Extension fields and ilmd: ``{namespace}localName=value`` per value, nested objects inline, sorted."""
        items = self._generic_list(pairs)
        items.sort()
        return "".join(items)

    def _generic_list(self, pairs: Iterable[tuple[str, Any]]) -> list[str]:
        items: list[str] = []
        for key, val in pairs:
            name = self.key(key)
            for v in val if isinstance(val, list) else (val,):
                if isinstance(v, dict):
                    items.append(name + self.generic(v))
                elif v is not None:
                    items.append(self.pair(name, v))
        return items


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
    if sub == "sensors":
        return "sensors"
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


def hashed_events(doc: Any) -> list[dict[str, Any]]:
    """The events an EPCIS document carries, in document order: ``epcisBody.eventList`` of an ``EPCISDocument``,
    ``epcisBody.queryResults.resultsBody.eventList`` of an ``EPCISQueryDocument``, or a lone ``epcisBody.event``.
    Anything else carries no events (an empty list); shape errors are the validator's to report."""
    body = doc.get("epcisBody") if isinstance(doc, dict) else None
    if not isinstance(body, dict):
        return []
    events: Any = []
    if "eventList" in body:
        events = body["eventList"]
    elif "queryResults" in body:
        results = body["queryResults"]
        inner = results.get("resultsBody") if isinstance(results, dict) else None
        events = inner.get("eventList", []) if isinstance(inner, dict) else []
    elif "event" in body:
        events = [body["event"]]
    return [ev for ev in events if isinstance(ev, dict)] if isinstance(events, list) else []


def carries_events(doc: Any) -> bool:
    """Whether ``doc`` has an event list where :func:`hashed_events` looks (it may be empty)."""
    body = doc.get("epcisBody") if isinstance(doc, dict) else None
    if not isinstance(body, dict):
        return False
    results = body.get("queryResults")
    inner = results.get("resultsBody") if isinstance(results, dict) else None
    return (
        isinstance(body.get("eventList"), list)
        or "event" in body
        or (isinstance(inner, dict) and isinstance(inner.get("eventList"), list))
    )


def document_prehashes(doc: dict[str, Any]) -> list[str]:
    """The pre-hash string of every event of an EPCIS (query) document, in document order."""
    hasher = hasher_for(context_namespaces(doc.get("@context")))
    return [hasher.prehash(ev) for ev in hashed_events(doc)]


def document_hash_ids(doc: dict[str, Any]) -> list[str]:
    """The hash ID of every event of an EPCIS (query) document, in document order."""
    return [hash_id(p) for p in document_prehashes(doc)]
