"""UNTP Digital Traceability Events (data model v0.6.0) from stored EPCIS 2.0 events (pure).

UNTP's DTE is EPCIS 2.0 carried in a W3C Verifiable Credential: the credential's subject is the list of events,
each typed as its EPCIS class (``ObjectEvent``, ``TransformationEvent``, ``AggregationEvent``,
``TransactionEvent``, ``AssociationEvent``) plus ``Event``, with the EPCIS ``eventID`` as ``id``, ``eventTime``,
``action``, ``bizStep`` / ``disposition`` (CBV), ``bizLocation`` and the item and quantity lists. Every exported
event keeps ``eventHashId`` (CBV 2.0 §8.9) and ``leafIndex`` so a reader can ask the registry's log for its
inclusion proof (``lodeline trace prove``). The credential is unsigned: the registry holds the signed EPCIS
documents; the passport is the signed statement.
"""

from __future__ import annotations

from typing import Any

from lodeline.passport.structure import DTE_CONTEXT, VC_CONTEXT

_LISTS = {
    "epcList": "epcList",
    "inputEPCList": "inputEPCList",
    "outputEPCList": "outputEPCList",
    "childEPCs": "childEPCList",
}
_QUANTITIES = {
    "quantityList": "quantityList",
    "inputQuantityList": "inputQuantityList",
    "outputQuantityList": "outputQuantityList",
    "childQuantityList": "childQuantityList",
}


def _items(ids: list[Any]) -> list[dict[str, Any]]:
    return [{"type": ["Item"], "id": str(i), "name": str(i).rsplit("/", 1)[-1]} for i in ids]


def _quantities(rows: list[Any]) -> list[dict[str, Any]]:
    out = []
    for q in rows:
        if isinstance(q, dict):
            out.append(
                {
                    "type": ["QuantityElement"],
                    "productId": str(q.get("epcClass")),
                    "quantity": q.get("quantity"),
                    "uom": q.get("uom"),
                }
            )
    return out


def _short(value: Any) -> Any:
    return (
        value.rsplit(":", 1)[-1]
        if isinstance(value, str) and value.startswith("urn:epcglobal:cbv:")
        else value
    )


def dte_event(body: dict[str, Any], hash_id: str, leaf_index: int | None) -> dict[str, Any]:
    kind = str(body.get("type") or "ObjectEvent")
    event: dict[str, Any] = {
        "type": [kind, "Event"],
        "id": str(body.get("eventID") or hash_id),
        "eventTime": body.get("eventTime"),
        "action": body.get("action") or ("observe" if kind == "TransformationEvent" else None),
        "bizStep": _short(body.get("bizStep")),
        "disposition": _short(body.get("disposition")),
        "eventHashId": hash_id,
        "leafIndex": leaf_index,
    }
    loc = body.get("bizLocation")
    if isinstance(loc, dict) and loc.get("id"):
        event["bizLocation"] = {
            "type": ["Facility"],
            "id": loc["id"],
            "name": str(loc["id"]).rsplit("/", 1)[-1],
        }
    for src, dst in _LISTS.items():
        if isinstance(body.get(src), list):
            event[dst] = _items(body[src])
    for src, dst in _QUANTITIES.items():
        if isinstance(body.get(src), list):
            event[dst] = _quantities(body[src])
    if body.get("parentID"):
        event["parentEPC"] = {"type": ["Item"], "id": body["parentID"]}
    return {k: v for k, v in event.items() if v is not None}


def dte_credential(
    lot: str, events: list[tuple[dict[str, Any], str, int | None]], issuer: str, issued_at: str
) -> dict[str, Any]:
    """The unsigned DTE credential of a lot's events (``(body, hash ID, leaf index)`` in event-time order)."""
    return {
        "@context": [VC_CONTEXT, DTE_CONTEXT],
        "type": ["DigitalTraceabilityEvent", "VerifiableCredential"],
        "id": f"{lot}#untp-dte",
        "name": f"Traceability events of {lot}",
        "issuer": {"type": ["CredentialIssuer"], "id": issuer, "name": "Lodeline registry"},
        "validFrom": issued_at,
        "credentialSubject": [dte_event(body, hash_id, leaf) for body, hash_id, leaf in events],
    }
