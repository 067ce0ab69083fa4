"""The registry evidence a passport carries, and the shares that follow from it (pure).

``credentialSubject.registryEvidence`` (a JSON literal, ``@type: @json``) holds:

- ``checkpoint``: the registry's signed checkpoint (C2SP signed note) every proof below is against;
- ``leaves``: ``{"index", "data" | "dataBase64"}`` per log leaf used;
- ``nodes``: the multi-proof of all those leaves at once: ``{"lo-hi": base64 hash}``, the RFC 9162 subtree hash
  MTH(D[lo:hi]) of every node the leaves' audit paths need that no proven leaf lies under, each node once.
  The verifier recomputes the checkpoint's root from the leaves and these nodes (:func:`multiproof_root`). The
  audit paths of a lot's leaves share most of their nodes: for a 1,000-event lot the per-leaf paths (format 1)
  were 0.63 MB, the node table is under 0.1 MB;
- ``composition``: every composition edge upstream of the lot — ``lot``, ``facility``, ``sourceLot`` (null for an
  origin), ``metalKg`` (contained metal) and ``leaf`` (the log leaf of the EPCIS event that recorded it; that
  leaf's data is the event's hash ID);
- ``origins``: per origin lot that is recycled or rests on opening stock, its ``recycled`` status and declared
  ``openingStock`` reason (an origin lot not listed is primary, with no opening stock);
- ``facilities``: per facility the index of the directory leaf recording it (its country is read from that leaf);
- ``issuerKey``: the index of the directory leaf recording the issuer's public key;
- ``verdicts``: per due-diligence verdict, the index of its log leaf.

:func:`shares` recomputes the origin shares by country and recycled status from that evidence alone, with the
registry's own formula (``lodeline.trace.origin.origin_by_facility``): the issuer states them with it and the
verifier checks them with it.
"""

from __future__ import annotations

import base64
import bisect
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from lodeline.tlog import merkle
from lodeline.trace.origin import Graph, origin_by_facility

#: format 1 (before 2026-12-05) carried each leaf's own audit path; no passport of it was released
EVIDENCE_FORMAT = "lodeline-passport-evidence/2"


class EvidenceError(ValueError):
    """The evidence block is malformed (names the field)."""


def leaf_bytes(leaf: dict[str, Any]) -> bytes:
    if isinstance(leaf.get("data"), str):
        return str(leaf["data"]).encode("utf-8")
    try:
        return base64.b64decode(str(leaf.get("dataBase64", "")), validate=True)
    except ValueError as exc:  # binascii.Error, or a non-ASCII string
        raise EvidenceError(f"leaf {leaf.get('index')}: dataBase64 is not base64") from exc


def leaf_entry(index: int, data: bytes) -> dict[str, Any]:
    entry: dict[str, Any] = {"index": index}
    try:
        entry["data"] = data.decode("utf-8")
    except UnicodeDecodeError:
        entry["dataBase64"] = base64.b64encode(data).decode("ascii")
    return entry


# ------------------------------------------------------------------------------------------- the multi-proof
def multiproof_ranges(indices: Iterable[int], tree_size: int) -> list[tuple[int, int]]:
    """The nodes (leaf ranges [lo, hi) of the RFC 9162 tree of ``tree_size``) that prove all ``indices`` at once:
    the siblings along their paths under which none of them lies, in left-to-right order. ValueError if an index
    is outside the tree."""
    wanted = sorted(set(indices))
    if wanted and not (wanted[0] >= 0 and wanted[-1] < tree_size):
        raise ValueError(f"leaf index outside a tree of size {tree_size}")
    out: list[tuple[int, int]] = []
    # (lo, hi, a, b): the subtree [lo, hi) holds exactly the wanted leaves wanted[a:b]
    stack = [(0, tree_size, 0, len(wanted))] if wanted else []
    while stack:
        lo, hi, a, b = stack.pop()
        if a == b:
            out.append((lo, hi))
        elif hi - lo > 1:
            mid = lo + merkle.split_point(hi - lo)
            c = bisect.bisect_left(wanted, mid, a, b)
            stack += [(mid, hi, c, b), (lo, mid, a, c)]  # left popped first
    return out


def node_key(lo: int, hi: int) -> str:
    return f"{lo}-{hi}"


def multiproof_root(leaf_hashes: dict[int, bytes], nodes: dict[str, bytes], tree_size: int) -> bytes:
    """The tree root that the leaves (index -> RFC 9162 leaf hash) and the multi-proof ``nodes`` give; raises
    EvidenceError naming a node that is missing, or one that is not part of the proof."""
    wanted = sorted(leaf_hashes)
    if not wanted or wanted[0] < 0 or wanted[-1] >= tree_size:
        raise EvidenceError(f"the leaves must be within the checkpoint's tree of size {tree_size}")
    used: set[str] = set()

    def mth(lo: int, hi: int, a: int, b: int) -> bytes:  # wanted[a:b] are the proven leaves in [lo, hi)
        if a == b:
            key = node_key(lo, hi)
            if key not in nodes:
                raise EvidenceError(f"registryEvidence.nodes: node {key} is missing")
            used.add(key)
            return nodes[key]
        if hi - lo == 1:
            return leaf_hashes[lo]
        mid = lo + merkle.split_point(hi - lo)
        c = bisect.bisect_left(wanted, mid, a, b)
        return merkle.node_hash(mth(lo, mid, a, c), mth(mid, hi, c, b))

    root = mth(0, tree_size, 0, len(wanted))  # depth is the tree's height (under 64)
    extra = sorted(set(nodes) - used)
    if extra:
        raise EvidenceError(f"registryEvidence.nodes: node {extra[0]} is not part of the proof")
    return root


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
