"""The registry evidence a passport carries, and the shares that follow from it (pure).

``credentialSubject.registryEvidence`` (a JSON literal, ``@type: @json``) holds:

- ``checkpoint``: the registry's signed checkpoint (C2SP signed note) every proof below is against;
- ``leaves``: ``{"index", "data" | "dataBase64", "path"}`` per log leaf used: its data and RFC 9162 audit path
  (base64 hashes) to the checkpoint's root;
- ``composition``: every composition edge upstream of the lot — ``lot``, ``facility``, ``sourceLot`` (null for an
  origin), ``metalKg`` (contained metal), ``event`` (the EPCIS event hash ID that recorded it) and ``leaf`` (that
  event's log leaf);
- ``origins``: per origin lot, its ``recycled`` status (null: primary) and declared ``openingStock`` reason;
- ``facilities``: per facility the index of the directory leaf recording it (its country is read from that leaf);
- ``issuerKey``: the index of the directory leaf recording the issuer's public key;
- ``verdicts``: per due-diligence verdict, the index of its log leaf.

:func:`shares` recomputes the origin shares by country and recycled status from that evidence alone, with the
registry's own formula (``lodeline.trace.origin.origin_by_facility``): the issuer states them with it and the
verifier checks them with it.
"""

from __future__ import annotations

import base64
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from lodeline.trace.origin import Graph, origin_by_facility

EVIDENCE_FORMAT = "lodeline-passport-evidence/1"


class EvidenceError(ValueError):
    """The evidence block is malformed (names the field)."""


def leaf_bytes(leaf: dict[str, Any]) -> bytes:
    if isinstance(leaf.get("data"), str):
        return str(leaf["data"]).encode("utf-8")
    try:
        return base64.b64decode(str(leaf.get("dataBase64", "")), validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII string
        raise EvidenceError(f"leaf {leaf.get('index')}: dataBase64 is not base64") from exc


def leaf_entry(index: int, data: bytes, path: list[bytes]) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index}
    try:
        entry["data"] = data.decode("utf-8")
    except UnicodeDecodeError:
        entry["dataBase64"] = base64.b64encode(data).decode("ascii")
    entry["path"] = [base64.b64encode(p).decode("ascii") for p in path]
    return entry


def leaves_by_index(evidence: dict[str, Any]) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for pos, leaf in enumerate(evidence.get("leaves") or []):
        if not isinstance(leaf, dict) or not isinstance(leaf.get("index"), int):
            raise EvidenceError(f"registryEvidence.leaves[{pos}]: needs an integer index")
        out[int(leaf["index"])] = leaf
    return out


def directory_record(leaf: dict[str, Any]) -> dict[str, Any]:
    """The ``record`` of a directory leaf (RFC 8785 JSON, ``lodeline-directory/v1``)."""
    try:
        value = json.loads(leaf_bytes(leaf))
    except ValueError as exc:
        raise EvidenceError(f"leaf {leaf.get('index')} is not a directory leaf (not JSON)") from exc
    if not isinstance(value, dict) or not isinstance(value.get("record"), dict):
        raise EvidenceError(f"leaf {leaf.get('index')} is not a directory leaf (no record)")
    return dict(value["record"]) | {"_op": value.get("op"), "_at": value.get("at")}


@dataclass(frozen=True)
class Shares:
    by_country: dict[str, float]
    by_recycled: dict[str, float]  # primary | pre-consumer | post-consumer
    opening_stock: float


def graph_of(evidence: dict[str, Any]) -> tuple[str, Graph]:
    lot = evidence.get("lot")
    if not isinstance(lot, str):
        raise EvidenceError("registryEvidence.lot: must be the lot identifier")
    graph: Graph = {}
    for pos, edge in enumerate(evidence.get("composition") or []):
        try:
            metal = float(edge["metalKg"])
            graph.setdefault(str(edge["lot"]), []).append(
                (str(edge["facility"]), None if edge["sourceLot"] is None else str(edge["sourceLot"]), metal)
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise EvidenceError(f"registryEvidence.composition[{pos}]: {exc}") from exc
    return lot, graph


def shares(evidence: dict[str, Any], countries: dict[str, str]) -> Shares:
    """Origin shares of the evidence's lot by country (``countries``: facility -> ISO 3166 alpha-3) and by
    recycled status, and the share resting on declared opening stock."""
    lot, graph = graph_of(evidence)
    origins = evidence.get("origins") or {}
    by_country: dict[str, float] = defaultdict(float)
    by_recycled: dict[str, float] = defaultdict(float)
    opening = 0.0
    for (facility, origin_lot), s in sorted(origin_by_facility(graph, lot).items()):
        if facility not in countries:
            raise EvidenceError(f"facility {facility} has no proven directory record")
        by_country[countries[facility]] += s
        info = origins.get(origin_lot) or {}
        by_recycled[info.get("recycled") or "primary"] += s
        if info.get("openingStock"):
            opening += s
    return Shares(dict(by_country), dict(by_recycled), opening)
