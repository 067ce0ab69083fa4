"""Origin shares of a lot, mass-weighted on contained metal through any depth of transformations, splits and
blends.

A lot's composition edges (from capture) say how much of its contained metal came from each input lot, or from
extraction/collection at a facility (an origin). The share of origin ``o`` in lot ``L`` is

    s(L, o) = Σ_e  m_e / Σ m  ×  (1[e is origin o]  or  s(source(e), o))

where ``m_e`` is the contained metal on edge ``e``. Splitting a lot does not change its composition; blending
weights by metal. Origins that are declared opening stock (material that entered the registry without an
originating facility) are flagged: every report carries the share of metal resting on them. See
docs/methods/origin-shares.md.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Engine

from lodeline.errors import NotFoundError
from lodeline.store import trace as db
from lodeline.trace.errors import reject
from lodeline.trace.identifiers import canonical_id

#: lot -> [(facility, source lot or None, contained metal kg)]
Graph = dict[str, list[tuple[str, str | None, float]]]


#: origin lot -> (recycled status, certified fraction at extraction, opening-stock reason or None)
Origins = dict[str, tuple[str | None, float, str | None]]


def load_upstream(engine: Engine, lot: str) -> tuple[str, Graph, dict[str, Any], Origins, dict[str, Any]]:
    """The lot's id, its upstream composition graph (one recursive query), its row, (recycled status, certified
    fraction at extraction, opening-stock reason) of each origin lot, and the facilities."""
    with engine.connect() as conn:
        lot_id = canonical_id(lot)
        found = db.lots_by_id(conn, [lot_id])
        if not found:
            matches = db.lot_ids_like(conn, lot)
            if len(matches) != 1:
                raise NotFoundError(f"unknown lot {lot!r}" + (f"; candidates: {matches}" if matches else ""))
            lot_id = matches[0]
            found = db.lots_by_id(conn, [lot_id])
        graph: Graph = {}
        origins: Origins = {}
        for lot_of, facility, source, metal, rec, cert, opening in db.upstream_edges(conn, lot_id):
            graph.setdefault(lot_of, []).append((facility, source, metal))
            if source is None:
                origins[lot_of] = (rec, cert or 0.0, opening)
        facilities = db.facilities_all(conn)
    return lot_id, graph, found[lot_id], origins, facilities


def origin_by_facility(graph: Graph, lot: str) -> dict[tuple[str, str], float]:
    """Share of the lot's contained metal by (origin facility, origin lot). Pure."""
    memo: dict[str, dict[tuple[str, str], float]] = {}
    active: set[str] = set()

    def comp(node: str) -> dict[tuple[str, str], float]:
        if node in memo:
            return memo[node]
        if node in active:
            raise reject("origin-cycle", f"lot {node} is its own ancestor; the composition graph has a cycle")
        active.add(node)
        edges = graph.get(node, [])
        total = sum(e[2] for e in edges)
        out: dict[tuple[str, str], float] = defaultdict(float)
        for facility, source, metal in edges:
            w = metal / total if total > 0 else 0.0
            if source is None:
                out[(facility, node)] += w
            else:
                for key, s in comp(source).items():
                    out[key] += w * s
        active.discard(node)
        memo[node] = dict(out)
        return memo[node]

    return comp(lot)


def path_share(graph: Graph, lot: str, match: set[str]) -> float:
    """Share of the lot's metal whose upstream path passed through (was produced at) one of ``match``. Pure."""
    memo: dict[str, float] = {}

    def through(node: str) -> float:
        if node not in memo:
            edges = graph.get(node, [])
            total = sum(e[2] for e in edges)
            memo[node] = 0.0
            memo[node] = sum(
                (metal / total if total else 0.0)
                * (1.0 if facility in match else (through(source) if source else 0.0))
                for facility, source, metal in edges
            )
        return memo[node]

    return through(lot)


def origin_report(engine: Engine, lot: str, *, through: str | None = None) -> dict[str, Any]:
    """Origin of a lot by mine/facility, country, certification and recycled status (shares of contained metal)."""
    lot_id, graph, row, origins, facilities = load_upstream(engine, lot)
    if lot_id not in graph:
        raise NotFoundError(f"lot {lot_id} has no recorded production")
    shares = origin_by_facility(graph, lot_id)
    metal = row["produced_metal_kg"]
    by_fac: dict[str, float] = defaultdict(float)
    by_country: dict[str, float] = defaultdict(float)
    recycled: dict[str, float] = defaultdict(float)
    certified_origin = 0.0
    opening: dict[tuple[str, str, str], float] = defaultdict(float)
    for (fid, origin_lot), s in shares.items():
        by_fac[fid] += s
        by_country[facilities[fid]["country"]] += s
        status, certified, reason = origins.get(origin_lot, (None, 0.0, None))
        recycled[status or "primary"] += s
        certified_origin += s * certified
        if reason:
            opening[(origin_lot, fid, reason)] += s
    cf = row["certified_fraction"]
    report: dict[str, Any] = {
        "lot": lot_id,
        "mineral": row["mineral"],
        "material": row["material"],
        "contained_metal_kg": metal,
        "upstream_lots": len(graph) - 1,
        "by_facility": [
            {
                "facility": f,
                "name": facilities[f]["name"],
                "type": facilities[f]["facility_type"],
                "country": facilities[f]["country"],
                "share": s,
                "metal_kg": s * metal,
            }
            for f, s in sorted(by_fac.items(), key=lambda kv: -kv[1])
        ],
        "by_country": [
            {"country": c, "share": s, "metal_kg": s * metal}
            for c, s in sorted(by_country.items(), key=lambda kv: -kv[1])
        ],
        "by_certification": [
            {"status": "certified", "share": cf, "metal_kg": cf * metal},
            {"status": "not_certified", "share": 1 - cf, "metal_kg": (1 - cf) * metal},
        ],
        # Physical view: share of metal extracted/collected at a facility certified on the extraction date,
        # regardless of the custody models downstream (by_certification follows them).
        "certified_at_origin": certified_origin,
        "recycled": [{"status": k, "share": s} for k, s in sorted(recycled.items())],
        # Metal resting on declared opening stock: it entered the registry without an originating facility, so
        # every share above is only as good as that declaration for this part.
        "opening_stock_share": float(sum(opening.values())),
        "opening_stock": [
            {"lot": lot, "facility": f, "reason": reason, "share": s, "metal_kg": s * metal}
            for (lot, f, reason), s in sorted(opening.items(), key=lambda kv: -kv[1])
        ],
    }
    if through:
        fid = canonical_id(through)
        match = (
            {fid}
            if fid in facilities
            else {f for f, row in facilities.items() if row["country"] == through.upper()}
        )
        if not match:
            raise NotFoundError(f"{through!r} is neither a registered facility nor a country with facilities")
        report["through"] = {"via": through, "share": path_share(graph, lot_id, match)}
    return report
