"""FROZEN: the rules of the EPCIS Event Hash ID (CBV 2.0 §8.9) as data and value functions, for
:mod:`lodeline.trace.event_hash_v2`. Do not change (pinned with it in ``tests/unit/test_import_cycles.py``).

The canonical property order (the reference implementation's table, github.com/RalphTro/epcis-event-hash-generator),
the fields never hashed, the Web-vocabulary expansions, and the canonical forms of timestamps, numbers and
identifiers. Pure module: no I/O.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from lodeline.trace.digital_link_v1 import hash_digital_link

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
    ("certificationInfo", None),  # CBV 2.0 canonical order 4 (the order; reference issue #75)
    ("epcList", "epc"),  # CBV 2.0 puts epcList before parentID (see docs/trace.md, "Order")
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
    ("sensorElementList", "sensors"),
)
_ORDERED = {name for name, _ in PROP_ORDER}
# Never part of the fingerprint (CBV 2.0 §8.9): the event type (written first as eventType), its own identifiers,
# the time the repository recorded it, error declarations (added after the fact), comments, the JSON-LD context.
# certificationInfo is hashed, in its canonical place (the reference's newest README excludes it: not followed).
_EXCLUDED = {"type", "eventID", "recordTime", "errorDeclaration", "@context", "comment", "rdfs:comment"}

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
# The CBV 2.0 standard vocabulary, by Web-vocabulary prefix: the terms the EPCIS 2.0 JSON-LD context maps (its
# bizStep, disposition/persistentDisposition, bizTransactionList type, sourceList/destinationList type and
# errorDeclaration reason scoped contexts; tests/unit/test_event_hash_rules.py checks these against the vendored
# src/lodeline/trace/standards/epcis-context.jsonld). Only these bare words are standard vocabulary elements
# (README rule 16): another bare word (a CBV 2.1 term such as ``notifying``) is hashed as written, as the reference
# does (its masterDataAvailableForDeforestation output).
CBV_TERMS: dict[str, frozenset[str]] = {
    "BizStep-": frozenset(
        [
            "accepting",
            "arriving",
            "assembling",
            "collecting",
            "commissioning",
            "consigning",
            "creating_class_instance",
            "cycle_counting",
            "decommissioning",
            "departing",
            "destroying",
            "disassembling",
            "dispensing",
            "encoding",
            "entering_exiting",
            "holding",
            "inspecting",
            "installing",
            "killing",
            "loading",
            "other",
            "packing",
            "picking",
            "receiving",
            "removing",
            "repackaging",
            "repairing",
            "replacing",
            "reserving",
            "retail_selling",
            "sampling",
            "sensor_reporting",
            "shipping",
            "staging_outbound",
            "stock_taking",
            "stocking",
            "storing",
            "transporting",
            "unloading",
            "unpacking",
            "void_shipping",
        ]
    ),
    "Disp-": frozenset(
        [
            "active",
            "available",
            "completeness_inferred",
            "completeness_verified",
            "conformant",
            "container_closed",
            "container_open",
            "damaged",
            "destroyed",
            "dispensed",
            "disposed",
            "encoded",
            "expired",
            "in_progress",
            "in_transit",
            "inactive",
            "mismatch_class",
            "mismatch_instance",
            "mismatch_quantity",
            "needs_replacement",
            "no_pedigree_match",
            "non_conformant",
            "non_sellable_other",
            "partially_dispensed",
            "recalled",
            "reserved",
            "retail_sold",
            "returned",
            "sellable_accessible",
            "sellable_not_accessible",
            "stolen",
            "unavailable",
            "unknown",
        ]
    ),
    "BTT-": frozenset(
        [
            "bol",
            "cert",
            "desadv",
            "inv",
            "pedigree",
            "po",
            "poc",
            "prodorder",
            "recadv",
            "rma",
            "testprd",
            "testres",
            "upevt",
        ]
    ),
    "SDT-": frozenset({"location", "owning_party", "possessing_party"}),
    "ER-": frozenset({"did_not_occur", "incorrect_data"}),
}
_URN_VOCAB = {
    "urn:epcglobal:cbv:bizstep:": "BizStep-",
    "urn:epcglobal:cbv:disp:": "Disp-",
    "urn:epcglobal:cbv:btt:": "BTT-",
    "urn:epcglobal:cbv:sdt:": "SDT-",
    "urn:epcglobal:cbv:er:": "ER-",
}
# The GS1 Web Vocabulary as the hash writes it: CBV 2.0 names https://gs1.org/voc/ (the EPCIS 2.0 context's gs1
# binding; the project's vector ReferenceEventHashAlgorithm2 writes sensorReporttype=https://gs1.org/voc/…), and
# CBV words expand under https://ref.gs1.org/cbv/ (its bizStep=https://ref.gs1.org/cbv/BizStep-…), whatever a
# document's context binds the two prefixes to. The reference's newest README forces https://ref.gs1.org/voc/
# instead (rule 15 at d8d87463): not followed.
GS1_VOC = "https://gs1.org/voc/"
FIXED_PREFIXES = {"cbv": CBV, "gs1": GS1_VOC}
_DEFAULT_CONTEXT = {**FIXED_PREFIXES, "epcis": "https://ref.gs1.org/epcis/"}
# Namespaces of extension keys whose prefix the document's context does not bind: the EPCIS context's cbvmda
# (master-data attributes in ilmd), written as its XML namespace, {urn:epcglobal:cbv:mda}lotNumber, as the
# reference does; a document that binds cbvmda itself gets its own binding, verbatim.
KEY_NAMESPACES = {"cbvmda": "urn:epcglobal:cbv:mda"}


def canonical_time(value: str) -> str:
    """UTC, millisecond precision, ``Z`` suffix (CBV 2.0 §8.9 rule on timestamps).

    Finer fractions are ROUNDED to the millisecond, half up (``.1415`` → ``.142``, ``.1414`` → ``.141``,
    ``.9995`` carries into the next second), as the reference implementation's ``TimeStampRoundOff`` vectors
    show. A value that is not an ISO 8601 date-time is returned stripped, unchanged."""
    if _CANONICAL_TIME.fullmatch(value):
        return value
    text = value.strip()
    m = _ISO_TIME.fullmatch(text)
    if m is None:
        return text
    base, fraction, zone = m.groups()
    try:
        moment = datetime.fromisoformat(base + (zone or "").replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    digits = (fraction or "")[1:].ljust(4, "0")
    # Half up on the digits themselves (no float: .1415 must not become .14149999…); only the fourth decides.
    moment += timedelta(milliseconds=int(digits[:3]) + (1 if digits[3] >= "5" else 0))
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_ISO_TIME = re.compile(r"(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(?::\d\d)?)(\.\d+)?([Zz]|[+-]\d\d:?\d\d)?")


def normalise_time(value: str) -> str:
    """UTC, millisecond precision (finer digits TRUNCATED), ``Z`` suffix: the form of the registry's stored
    ``event_time`` columns and capture's clock checks. Not the hash's form: see :func:`canonical_time`."""
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
    if vocab_prefix and text in CBV_TERMS[vocab_prefix]:
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
    return hash_digital_link(text) or text


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
_METADATA_FIELDS = frozenset(name for name, _ in _SENSOR_METADATA)
_SENSOR_ELEMENT_FIELDS = frozenset({"sensorMetadata", "sensorReport"})
_LOCATION_FIELDS = frozenset({"id"})
# Sensor report fields whose bare names are GS1 Web Vocabulary terms.
_GS1_VOCAB_FIELDS = frozenset({"type", "exception", "component"})
# Prefixes that are URI schemes, never CURIE prefixes, whatever a context says.
_SCHEMES = frozenset({"http", "https", "urn", "geo", "ni", "mailto", "tel", "data"})
