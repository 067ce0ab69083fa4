"""The UNTP Digital Product Passport (data model v0.6.0) of a lot as a W3C Verifiable Credential 2.0 (pure).

Written from the published UNTP specification (Digital Product Passport page and its data model), not from its
GPL-3 JSON schemas. The credential:

- ``@context``: the VC 2.0 context, the UNTP DPP 0.6.0 context, and an inline context for the Lodeline terms
  (``registryEvidence`` as a JSON literal; ``batteryPass`` for the battery profile);
- ``type``: ``["DigitalProductPassport", "VerifiableCredential"]``;
- ``issuer``: a ``CredentialIssuer`` whose ``id`` is the issuing participant's ``did:key`` (the key that signs);
- ``credentialSubject`` (``ProductPassport``): the ``product`` (GS1 Digital Link id, batch number, where and by
  whom it was produced), ``granularityLevel`` batch, ``materialsProvenance`` (one ``Material`` per origin country
  and recycled status, ``massFraction`` = share of the lot's contained metal), ``circularityScorecard``
  (``recycledContent``), ``dueDiligenceDeclaration`` (the rule verdicts), ``conformityClaim`` (one per verdict and
  one for the proven provenance), ``traceabilityInformation`` and ``registryEvidence`` (:mod:`.evidence`).

Profile ``battery-pass`` adds ``batteryPass`` with the Battery Pass data model 1.2.0 fields this registry can fill:
MaterialComposition ``batteryMaterials``, Circularity ``recycledContent`` and SupplyChainDueDiligence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lodeline.passport import multikey
from lodeline.passport.evidence import Shares
from lodeline.passport.structure import DPP_CONTEXT, VC_CONTEXT

LODELINE_NS = "https://lodeline.org/ns/passport/v1#"
LOCAL_CONTEXT = {
    "registryEvidence": {"@id": LODELINE_NS + "registryEvidence", "@type": "@json"},
    "batteryPass": {"@id": LODELINE_NS + "batteryPass", "@type": "@json"},
    "metalKg": {"@id": LODELINE_NS + "metalKg"},
}
PROFILES = ("untp-dpp", "battery-pass")

#: CAS registry numbers of the contained metals (Battery Pass ``batteryMaterialIdentifier``)
CAS = {
    "lithium": "7439-93-2",
    "nickel": "7440-02-0",
    "cobalt": "7440-48-4",
    "manganese": "7439-96-5",
    "graphite": "7782-42-5",
    "copper": "7440-50-8",
}


@dataclass
class PassportFacts:
    """Everything the credential states, gathered by the service (no I/O here)."""

    passport_id: str
    profile: str
    issued_at: str  # RFC 3339 UTC
    lot: str  # canonical lot identifier (GS1 Digital Link URI with AI 01 and 10)
    gtin: str | None
    batch: str | None
    mineral: str
    material: str
    contained_metal_kg: float
    issuer_id: str  # participant id
    issuer_name: str
    issuer_public_key: bytes
    facility: dict[str, Any]  # where the lot was produced: id, name, country
    countries: dict[str, tuple[str, str]]  # ISO3 -> (ISO2, name)
    evidence: dict[str, Any]
    verdicts: list[dict[str, Any]] = field(default_factory=list)


def _country(iso3: str, countries: dict[str, tuple[str, str]]) -> dict[str, Any]:
    iso2, name = countries.get(iso3, ("", iso3))
    return {"type": ["Country"], "countryCode": iso2 or iso3, "countryName": name}


def _materials(facts: PassportFacts, s: Shares) -> list[dict[str, Any]]:
    out = []
    for iso3, share in sorted(s.by_country.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(
            {
                "type": ["Material"],
                "name": f"{facts.mineral} (contained metal) from {_country(iso3, facts.countries)['countryName']}",
                "originCountry": _country(iso3, facts.countries),
                "materialType": {
                    "type": ["Classification"],
                    "id": _cas_uri(facts.mineral),
                    "code": CAS.get(facts.mineral, facts.mineral),
                    "name": facts.mineral,
                    "schemeID": "https://commonchemistry.cas.org/",
                    "schemeName": "CAS Registry Number",
                },
                "massFraction": share,
                "metalKg": share * facts.contained_metal_kg,
                "recycled": False,
                "hazardous": False,
            }
        )
    return out


def _cas_uri(mineral: str) -> str:
    if mineral in CAS:
        return f"https://commonchemistry.cas.org/detail?cas_rn={CAS[mineral]}"
    return f"https://lodeline.org/ns/minerals#{mineral}"


def _fraction(name: str, value: float) -> dict[str, Any]:
    """A UNTP Metric of a dimensionless fraction (0-1): UNECE Rec. 20 unit C62, "one"."""
    return {
        "type": ["Metric"],
        "metricName": name,
        "metricValue": {"type": ["Measure"], "value": value, "unit": "C62"},
    }


#: UNTP 0.6 conformityTopic codes used here
TOPIC_LABOUR, TOPIC_COMPLIANCE, TOPIC_TRANSPARENCY = (
    "social.labour",
    "governance.compliance",
    "governance.transparency",
)


def _evidence_link(name: str, link_type: str, url: str) -> dict[str, Any]:
    """A UNTP SecureLink (conformityEvidence) to a part of this passport."""
    return {"type": ["SecureLink", "Link"], "linkName": name, "linkType": link_type, "linkURL": url}


def recycled_share(s: Shares) -> float:
    return sum(v for k, v in s.by_recycled.items() if k != "primary")


def _verdict_claim(v: dict[str, Any], evidence_url: str) -> dict[str, Any]:
    verdict = str(v.get("verdict"))
    topic = TOPIC_LABOUR if "labour" in str(v.get("rule")) else TOPIC_COMPLIANCE
    title = str(v.get("title") or v.get("rule"))
    source = str(v.get("source") or v.get("ruleset") or "")
    # the verdict is the Metric's score; its value is 1 for a pass, else 0 ("insufficient data" is never a pass)
    metric = _fraction("verdict", 1 if verdict == "pass" else 0) | {"score": verdict}
    return {
        "type": ["Claim", "Declaration"],
        "id": f"{evidence_url}#verdict-{v.get('leaf_index')}",
        "assessmentCriteria": [
            {
                "type": ["Criterion"],
                "id": f"lodeline:rule:{v.get('ruleset') or ''}:{v.get('rule')}",
                "name": title,
                "description": f"{title} (source: {source})" if source else title,
                "conformityTopic": topic,
                "status": "active",
            }
        ],
        "declaredValue": [metric],
        "conformance": verdict == "pass",
        "conformityTopic": topic,
        "conformityEvidence": _evidence_link(
            "log leaf", "lodeline:logLeaf", f"{evidence_url}#leaf-{v.get('leaf_index')}"
        ),
    }


def build(facts: PassportFacts, s: Shares) -> dict[str, Any]:
    """The unsigned credential (the caller adds the eddsa-jcs-2022 proof)."""
    pid = facts.passport_id
    did = multikey.did_key(facts.issuer_public_key)
    recycled = recycled_share(s)
    product: dict[str, Any] = {
        "type": ["Product"],
        "id": facts.lot,
        "name": f"{facts.material} ({facts.mineral})",
        "registeredId": facts.gtin or facts.lot,
        "idScheme": {"type": ["IdentifierScheme"], "id": "https://id.gs1.org/01", "name": "GS1 GTIN"},
        "batchNumber": facts.batch,
        "productCategory": [
            {
                "type": ["Classification"],
                "id": f"https://lodeline.org/ns/materials#{facts.material}",
                "code": facts.material,
                "name": facts.material,
                "schemeID": "https://lodeline.org/ns/materials",
                "schemeName": "Lodeline materials",
            }
        ],
        "producedByParty": {"type": ["Party"], "id": facts.issuer_id, "name": facts.issuer_name},
        "producedAtFacility": {
            "type": ["Facility"],
            "id": facts.facility["id"],
            "name": facts.facility["name"],
        },
        "countryOfProduction": _country(facts.facility["country"], facts.countries),
    }
    claims = [
        {
            "type": ["Claim", "Declaration"],
            "id": f"{pid}#provenance",
            "assessmentCriteria": [
                {
                    "type": ["Criterion"],
                    "id": "lodeline:origin-shares",
                    "name": "origin shares of contained metal follow from the registry's logged custody events",
                    "description": "The mass fractions by origin country and the recycled content are recomputed "
                    "from the proven composition edges (docs/methods/passports.md); conformant when no metal "
                    "rests on declared opening stock.",
                    "conformityTopic": TOPIC_TRANSPARENCY,
                    "status": "active",
                }
            ],
            "declaredValue": [
                _fraction("recycledShare", recycled),
                _fraction("openingStockShare", s.opening_stock),
            ],
            "conformance": s.opening_stock == 0.0,
            "conformityTopic": TOPIC_TRANSPARENCY,
            "conformityEvidence": _evidence_link(
                "registry evidence", "lodeline:registryEvidence", f"{pid}#registryEvidence"
            ),
        },
        *(_verdict_claim(v, pid) for v in facts.verdicts),
    ]
    subject: dict[str, Any] = {
        "type": ["ProductPassport"],
        "id": facts.lot,
        "product": product,
        "granularityLevel": "batch",
        "materialsProvenance": _materials(facts, s),
        "circularityScorecard": {
            "type": ["CircularityPerformance"],
            "recycledContent": recycled,
            "recyclableContent": None,
        },
        "dueDiligenceDeclaration": {
            "type": ["Link"],
            "linkName": f"{len(facts.verdicts)} rule verdict(s), each a log leaf",
            "linkType": "lodeline:verdicts",
            "linkURL": f"{pid}#due-diligence",
        },
        "conformityClaim": claims,
        "traceabilityInformation": [
            {
                "type": ["TraceabilityPerformance"],
                "valueChainProcess": "upstream custody of contained metal",
                "verifiedRatio": 1.0 - s.opening_stock,
                "traceabilityEvent": [
                    _evidence_link(
                        "composition events (EPCIS hash IDs in registryEvidence)",
                        "untp:dte",
                        f"{pid}#registryEvidence",
                    )
                ],
            }
        ],
        "registryEvidence": facts.evidence,
    }
    if facts.profile == "battery-pass":
        subject["batteryPass"] = battery_pass(facts, s)
    return {
        "@context": [VC_CONTEXT, DPP_CONTEXT, LOCAL_CONTEXT],
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "id": pid,
        "name": f"Digital product passport of {facts.lot}",
        "issuer": {
            "type": ["CredentialIssuer"],
            "id": did,
            "name": facts.issuer_name,
            "otherIdentifier": [
                {
                    "type": ["Identifier"],
                    "id": facts.issuer_id,
                    "name": facts.issuer_name,
                    "registeredId": facts.issuer_id,
                    "idScheme": {
                        "type": ["IdentifierScheme"],
                        "id": "https://lodeline.org/ns/participants",
                        "name": "Lodeline registry participant",
                    },
                }
            ],
        },
        "validFrom": facts.issued_at,
        "credentialSubject": subject,
    }


def battery_pass(facts: PassportFacts, s: Shares) -> dict[str, Any]:
    """The Battery Pass data model 1.2.0 fields the registry fills (shares in percent, as that model states them;
    masses in kg)."""
    pre = s.by_recycled.get("pre-consumer", 0.0)
    post = s.by_recycled.get("post-consumer", 0.0)
    name = facts.mineral.capitalize()
    return {
        "model": "io.BatteryPass 1.2.0",
        "materialComposition": {
            "batteryMaterials": [
                {
                    "batteryMaterialName": name,
                    "batteryMaterialIdentifier": CAS.get(facts.mineral, facts.mineral),
                    "batteryMaterialMass": facts.contained_metal_kg,
                    "batteryMaterialLocation": {"componentName": facts.material, "componentId": facts.lot},
                    "isCriticalRawMaterial": True,
                }
            ]
        },
        "circularity": {
            "recycledContent": [
                {"recycledMaterial": name, "preConsumerShare": pre * 100.0, "postConsumerShare": post * 100.0}
            ]
        },
        "supplyChainDueDiligence": {
            "supplyChainDueDiligenceReport": f"{facts.passport_id}#due-diligence",
            "thirdPartyAussurances": f"{facts.passport_id}#registryEvidence",
            "supplyChainIndicies": None,
        },
    }
