"""What a participant may see of the registry's records (pure; no I/O). docs/trace.md, *Who sees what*.

The rule, for a participant P (auditors and admins, and the operator's CLI, see everything):

- **Lots P may open**: lots P *held* — produced at a facility P operates, or moved at, to or from one (a
  shipment to P's facility, a receipt, a consumption), or named in a movement of a document P signed. Another
  lot answers 403: its identifier is on shipping papers, so its existence is not the secret.
- **P's own events** — those P submitted, in documents P signed (``trace_events.participant_id``) — come in
  full (the event JSON and its document). Since ``trace_0004`` every location on an event's submitter side is
  the submitter's own; an event another party recorded at P's facility before that stays that party's.
- **Other parties' events** on a lot P may open come as *custody facts* only: hash ID and log leaf (so P can
  prove the event is in the log), event time, type and business step, and the movement of that lot (produce,
  ship, receive, consume) with its gross quantity. Never the body (which may name other lots, e.g. a third
  party's inputs to a downstream transformation), never the document.
- **Facilities** of other parties are named only when P already knows them from its own records: its own
  facilities, the counterparts its own events name (the source it received from, the destination it shipped
  to) and the facilities whose movements name P's facility. Otherwise the identifier is withheld (a supplier's
  customers and a customer's other suppliers are their business).
- **Origin**: shares by country, certification and recycled status in full (the registry's purpose); by
  facility, known facilities by name and the others aggregated by facility type and country; upstream lots P
  may not open get a label local to the answer ("upstream lot 3"); the contained metal on each edge of the
  upstream graph is the part that ends up in P's lot, so a supplier's total volumes are not disclosed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

FULL = "full"
CUSTODY = "custody"

#: lot -> [(facility, source lot or None for an origin, contained metal kg)], as in lodeline.trace.origin
Graph = dict[str, list[tuple[str, str | None, float]]]


def holders(journal: Iterable[dict[str, Any]], producers: dict[str, str | None]) -> dict[str, set[str]]:
    """lot -> the participants that held it: its producer, the operators at both ends of each of its movements
    and the signers of the documents that moved it."""
    out: dict[str, set[str]] = defaultdict(set)
    for lot, operator in producers.items():
        if operator:
            out[lot].add(operator)
    for row in journal:
        for who in (row["facility_operator"], row["counterpart_operator"], row["signer"]):
            if who:
                out[row["lot_id"]].add(who)
    return dict(out)


def known_facilities(journal: Iterable[dict[str, Any]], viewer: str) -> set[str]:
    """Facilities ``viewer`` knows from its own records among these journal rows: its own, those its own
    movements name as counterpart, and those whose movements name one of its facilities as counterpart."""
    known: set[str] = set()
    for row in journal:
        if viewer in (row["facility_operator"], row["signer"]):
            known.update(f for f in (row["facility_id"], row["counterpart_id"]) if f)
        if row["counterpart_operator"] == viewer and row["facility_id"]:
            known.add(row["facility_id"])
    return known


def _movement(row: dict[str, Any], known: set[str] | None) -> dict[str, Any]:
    def shown(facility: str | None) -> str | None:
        return facility if known is None or facility in known else None

    return {
        "lot": row["lot_id"],
        "movement": row["movement"],
        "quantity_kg": row["quantity_kg"],
        "facility_id": shown(row["facility_id"]),
        "counterpart_id": shown(row["counterpart_id"]),
    }


def event_out(
    row: dict[str, Any], moves: list[dict[str, Any]], viewer: str | None, known: set[str]
) -> dict[str, Any]:
    """One event of an events answer. ``row`` is a stored event (with ``own`` and a NULL body when it is not
    the viewer's), ``moves`` its journal rows for the lots asked about."""
    full = viewer is None or bool(row["own"])
    mask = None if full else known
    facility = row["facility_id"]
    return {
        "hash_id": row["hash_id"],
        "leaf_index": row["leaf_index"],
        "event_time": row["event_time"],
        "event_type": row["event_type"],
        "biz_step": row["biz_step"],
        "facility_id": facility if full or facility in known else None,
        "visibility": FULL if full else CUSTODY,
        "movements": [_movement(m, mask) for m in moves],
        "document_sha256": row["document_sha256"] if full else None,
        "event": json.loads(row["body"]) if full and row["body"] is not None else None,
    }


def edge_flows(graph: Graph, root: str) -> list[tuple[str, str, str | None, float, float]]:
    """Every edge of the upstream graph with the share of ``root``'s contained metal that flows along it:
    (lot, facility, source lot or None, the edge's own contained metal kg, share of root's metal), in
    topological order from the root (each lot after every lot it feeds). Pure."""
    ordered = {lot: sorted(edges, key=lambda e: (-e[2], e[0], e[1] or "")) for lot, edges in graph.items()}
    # reverse post-order of a depth-first walk from the root: a lot comes after every lot it is a source of
    post: list[str] = []
    seen = {root}
    stack: list[tuple[str, int]] = [(root, 0)]
    while stack:
        lot, i = stack.pop()
        edges = ordered.get(lot, [])
        if i < len(edges):
            stack.append((lot, i + 1))
            source = edges[i][1]
            if source is not None and source not in seen:
                seen.add(source)
                stack.append((source, 0))
        else:
            post.append(lot)
    share: dict[str, float] = defaultdict(float, {root: 1.0})
    out: list[tuple[str, str, str | None, float, float]] = []
    for lot in reversed(post):
        edges = ordered.get(lot, [])
        total = sum(e[2] for e in edges)
        for facility, source, metal in edges:
            flow = share[lot] * metal / total if total > 0 else 0.0
            out.append((lot, facility, source, metal, flow))
            if source is not None:
                share[source] += flow
    return out


def _facility_shares(rows: list[dict[str, Any]], viewer: str | None, known: set[str]) -> list[dict[str, Any]]:
    """Origin by facility: known facilities by name, the others aggregated by facility type and country."""
    shown = [r | {"undisclosed": False} for r in rows if viewer is None or r["facility"] in known]
    hidden: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        if viewer is not None and r["facility"] not in known:
            acc = hidden[(r["type"], r["country"])]
            acc[0] += r["share"]
            acc[1] += r["metal_kg"]
    shown += [
        {
            "facility": None,
            "name": None,
            "type": kind,
            "country": country,
            "share": share,
            "metal_kg": metal,
            "undisclosed": True,
        }
        for (kind, country), (share, metal) in hidden.items()
    ]
    return sorted(shown, key=lambda r: -r["share"])


def origin_view(
    report: dict[str, Any],
    view: str,
    graph: Graph,
    facilities: dict[str, dict[str, Any]],
    viewer: str | None,
    readable: set[str],
    known: set[str],
) -> dict[str, Any]:
    """The origin answer for ``viewer`` (None: everything): the report's summary, the shares of one ``view``
    (a key of :func:`lodeline.trace.origin.origin_report`) and the upstream graph's edges. ``readable``: lots
    the viewer may open (named), ``known``: facilities it may see named."""
    root, metal = report["lot"], report["contained_metal_kg"]
    flows = edge_flows(graph, root)
    labels: dict[str, str] = {}

    def name(lot: str | None) -> str | None:
        if lot is None or viewer is None or lot in readable or lot == root:
            return lot
        if lot not in labels:
            labels[lot] = f"upstream lot {len(labels) + 1}"
        return labels[lot]

    edges = []
    for lot, facility, source, edge_metal, flow in flows:
        fac = facilities[facility]
        named = viewer is None or facility in known
        edge = {
            "lot": name(lot),
            "source_lot": name(source),
            "facility": facility if named else None,
            "facility_name": fac["name"] if named else None,
            "facility_type": fac["facility_type"],
            "country": fac["country"],
            "metal_kg": flow * metal,  # of this lot's contained metal, the part that came along this edge
        }
        if viewer is None:
            edge["edge_metal_kg"] = edge_metal  # the edge as recorded (the whole upstream lot's production)
        edges.append(edge)
    shares = report[view]
    if view == "by_facility":
        shares = _facility_shares(shares, viewer, known)
    # Every view flags the metal resting on declared opening stock (docs/methods/origin-shares.md); a
    # participant sees the share and the reason, with the lot and facility masked like the edges.
    opening = [
        entry
        | {
            "lot": name(entry["lot"]),
            "facility": entry["facility"] if viewer is None or entry["facility"] in known else None,
        }
        for entry in report["opening_stock"]
    ]
    keep = (
        "lot",
        "mineral",
        "material",
        "contained_metal_kg",
        "upstream_lots",
        "certified_at_origin",
        "opening_stock_share",
    )
    return {k: report[k] for k in keep} | {
        "view": "full" if viewer is None else "participant",
        "shares": shares,
        "edges": edges,
        "opening_stock": opening,
    }
