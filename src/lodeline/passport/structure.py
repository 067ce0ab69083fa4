"""Structural checks of a passport and of a traceability event credential, written from the specifications
(pure). The published UNTP v0.6.0 JSON schemas (GPL-3) are not bundled: the maintainers check the output against
them separately (docs/passports.md). What is checked here is what the texts state:

- VC Data Model 2.0: ``@context`` is a list whose first item is ``https://www.w3.org/ns/credentials/v2``; ``type``
  is a list containing ``VerifiableCredential``; ``issuer`` is a URL or an object with an ``id``; ``validFrom``
  is an XML Schema dateTime; ``credentialSubject`` is present;
- UNTP DPP (the properties the 0.6 data model marks required): the DPP context is the second ``@context`` item,
  ``type`` contains ``DigitalProductPassport``, the credential has an ``id``; the ``issuer`` has an ``id`` and a
  ``name``; the subject is a ``ProductPassport`` with a ``product`` (``type`` Product, ``id``, ``name``; its
  ``producedByParty`` and ``producedAtFacility`` with ``id`` and ``name``), ``materialsProvenance`` items with a
  ``name``, a ``massFraction`` between 0 and 1 and an ``originCountry``; every ``Classification`` has an ``id``
  and a ``name``; every ``conformityClaim`` has an ``id``, a boolean ``conformance`` and a ``conformityTopic``
  from the UNTP code list; every ``Criterion`` has ``id``, ``name``, ``description``, ``conformityTopic`` and
  ``status``; every ``Metric`` a ``metricName`` and a ``metricValue`` Measure (numeric ``value``, ``unit``);
  every typed object's ``type`` is a non-empty list of strings;
- UNTP DTE: the DTE context, ``type`` contains ``DigitalTraceabilityEvent``, the subject is a list of events each
  with a ``type``, ``eventID`` (``id``), ``eventTime`` and ``action``.
"""

from __future__ import annotations

import re
from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
DPP_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/"
DTE_CONTEXT = "https://test.uncefact.org/vocabulary/untp/dte/0.6.0/"
#: UNTP 0.6 conformityTopic code list
TOPICS = frozenset(
    f"{group}.{code}"
    for group, codes in {
        "environment": ("energy", "emissions", "water", "waste", "deforestation", "biodiversity"),
        "circularity": ("content", "design"),
        "social": ("labour", "rights", "community", "safety"),
        "governance": ("ethics", "compliance", "transparency"),
    }.items()
    for code in codes
)
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def _types(value: Any, where: str, out: list[str]) -> None:
    """Every object carrying ``type`` has a non-empty list of strings there (walks the tree; skips JSON literals)."""
    if isinstance(value, dict):
        if "type" in value:
            t = value["type"]
            if not (isinstance(t, list) and t and all(isinstance(x, str) for x in t)):
                out.append(f"{where}.type: must be a non-empty list of strings")
        for k, v in value.items():
            if k not in ("registryEvidence", "batteryPass", "@context", "proof"):
                _types(v, f"{where}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _types(v, f"{where}[{i}]", out)


def _envelope(doc: Any, context: str, kind: str, out: list[str]) -> dict[str, Any]:
    if not isinstance(doc, dict):
        out.append("credential: must be a JSON object")
        return {}
    ctx = doc.get("@context")
    if not isinstance(ctx, list) or not ctx or ctx[0] != VC_CONTEXT:
        out.append(f"@context: must be a list starting with {VC_CONTEXT}")
    elif len(ctx) < 2 or ctx[1] != context:
        out.append(f"@context: the second item must be {context}")
    t = doc.get("type")
    if not isinstance(t, list) or "VerifiableCredential" not in t or kind not in t:
        out.append(f"type: must be a list containing VerifiableCredential and {kind}")
    issuer = doc.get("issuer")
    if not (isinstance(issuer, str) and ":" in issuer) and not (
        isinstance(issuer, dict) and issuer.get("id")
    ):
        out.append("issuer: must be a URL or an object with an id")
    elif kind == "DigitalProductPassport" and not (isinstance(issuer, dict) and issuer.get("name")):
        out.append("issuer: a UNTP CredentialIssuer object with an id and a name")
    if kind == "DigitalProductPassport" and not isinstance(doc.get("id"), str):
        out.append("id: the credential's identifier (a URI) is required")
    if not isinstance(doc.get("validFrom"), str) or not _DATETIME.match(doc["validFrom"]):
        out.append("validFrom: must be an XML Schema dateTime with a time zone")
    if "credentialSubject" not in doc:
        out.append("credentialSubject: required")
    return doc


def structure_problems(doc: Any) -> list[str]:
    """What the passport lacks against the VC 2.0 and UNTP DPP texts ([] when none)."""
    out: list[str] = []
    doc = _envelope(doc, DPP_CONTEXT, "DigitalProductPassport", out)
    subject = doc.get("credentialSubject")
    if not isinstance(subject, dict):
        return out + (["credentialSubject: must be an object"] if doc else [])
    if "ProductPassport" not in (subject.get("type") or []):
        out.append("credentialSubject.type: must contain ProductPassport")
    product = subject.get("product")
    if not isinstance(product, dict) or not product.get("id") or not product.get("name"):
        out.append("credentialSubject.product: needs an id and a name")
    elif "Product" not in (product.get("type") or []):
        out.append("credentialSubject.product.type: must contain Product")
    for i, m in enumerate(subject.get("materialsProvenance") or []):
        f = m.get("massFraction") if isinstance(m, dict) else None
        if not isinstance(f, int | float) or isinstance(f, bool) or not 0 <= f <= 1:
            out.append(f"credentialSubject.materialsProvenance[{i}].massFraction: must be a number in [0, 1]")
        if not isinstance(m, dict) or not isinstance(m.get("originCountry"), dict):
            out.append(f"credentialSubject.materialsProvenance[{i}].originCountry: required")
    for i, c in enumerate(subject.get("conformityClaim") or []):
        if not isinstance(c, dict) or not isinstance(c.get("conformance"), bool):
            out.append(f"credentialSubject.conformityClaim[{i}].conformance: must be true or false")
    _untp_parts(subject, out)
    _types(doc, "credential", out)
    return out


def _named(value: Any, where: str, out: list[str], keys: tuple[str, ...] = ("id", "name")) -> None:
    if value is None:
        return
    if not isinstance(value, dict):
        out.append(f"{where}: must be an object")
        return
    missing = [k for k in keys if value.get(k) in (None, "")]
    if missing:
        out.append(f"{where}: {', '.join(missing)} required")


def _untp_parts(subject: dict[str, Any], out: list[str]) -> None:
    """The required properties of the UNTP parts a passport uses (Party, Facility, Classification, Claim,
    Criterion, Metric/Measure, Material)."""
    raw = subject.get("product")
    product: dict[str, Any] = raw if isinstance(raw, dict) else {}
    for key in ("producedByParty", "producedAtFacility"):
        _named(product.get(key), f"credentialSubject.product.{key}", out)
    for i, c in enumerate(product.get("productCategory") or []):
        _named(c, f"credentialSubject.product.productCategory[{i}]", out)
    for i, m in enumerate(subject.get("materialsProvenance") or []):
        if isinstance(m, dict):
            _named(m, f"credentialSubject.materialsProvenance[{i}]", out, ("name",))
            _named(m.get("materialType"), f"credentialSubject.materialsProvenance[{i}].materialType", out)
    for i, c in enumerate(subject.get("conformityClaim") or []):
        if not isinstance(c, dict):
            continue
        where = f"credentialSubject.conformityClaim[{i}]"
        if not c.get("id"):
            out.append(f"{where}.id: required")
        if c.get("conformityTopic") not in TOPICS:
            out.append(
                f"{where}.conformityTopic: must be a UNTP conformity topic code, got {c.get('conformityTopic')!r}"
            )
        for j, crit in enumerate(c.get("assessmentCriteria") or []):
            _named(
                crit,
                f"{where}.assessmentCriteria[{j}]",
                out,
                ("id", "name", "description", "conformityTopic", "status"),
            )
        for j, metric in enumerate(c.get("declaredValue") or []):
            w = f"{where}.declaredValue[{j}]"
            _named(metric, w, out, ("metricName", "metricValue"))
            value = metric.get("metricValue") if isinstance(metric, dict) else None
            if isinstance(value, dict):
                v = value.get("value")
                if (
                    not isinstance(v, int | float)
                    or isinstance(v, bool)
                    or not isinstance(value.get("unit"), str)
                ):
                    out.append(f"{w}.metricValue: a Measure with a numeric value and a unit")
            elif value is not None:
                out.append(f"{w}.metricValue: a Measure with a numeric value and a unit")


def dte_problems(doc: Any) -> list[str]:
    """What a Digital Traceability Event credential lacks against the VC 2.0 and UNTP DTE texts."""
    out: list[str] = []
    doc = _envelope(doc, DTE_CONTEXT, "DigitalTraceabilityEvent", out)
    events = doc.get("credentialSubject")
    if not isinstance(events, list):
        return out + (["credentialSubject: must be a list of events"] if doc else [])
    for i, e in enumerate(events):
        if not isinstance(e, dict):
            out.append(f"credentialSubject[{i}]: must be an object")
            continue
        for key in ("type", "id", "eventTime", "action"):
            if not e.get(key):
                out.append(f"credentialSubject[{i}].{key}: required")
    _types(doc, "credential", out)
    return out
