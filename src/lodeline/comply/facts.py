"""The facts a compliance rule can read about a lot: their schema and their derivation (pure).

Inputs are what the service loads from the registry (``services/comply.load_inputs``): the lot's origin report
(``trace.origin.origin_report``), the facilities on its upstream path with their operators and certifications,
the screening results and the WGI estimates of the countries on its path. Every fact in :data:`FACTS` is present in
the mapping :func:`derive` returns; a fact that could not be established is ``None`` (absent), and a rule that
reads an absent fact gets the verdict *insufficient-data*, never *pass* (``rules.evaluate``).

Shares are fractions of the lot's contained metal (0-1, mass-weighted on contained metal through every
transformation: docs/methods/origin-shares.md). Countries are ISO 3166 alpha-3. Dates are ISO 8601 strings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: facility type -> supply-chain stage (the scope a rule can name); the lot's stage is that of its producer.
STAGES: dict[str, str] = {
    "mine": "mining",
    "concentrator": "mining",
    "refinery": "refining",
    "smelter": "refining",
    "precursor_plant": "materials",
    "cathode_plant": "materials",
    "magnet_plant": "components",
    "cell_plant": "battery",
    "battery_plant": "battery",
    "recycler": "recycling",
    "warehouse": "trade",
}

#: Approximate bounding box of the Xinjiang Uyghur Autonomous Region (degrees: south, north, west, east). A box,
#: not the border: it also covers parts of Gansu, Qinghai and Tibet, so a hit means "review", not "in XUAR".
XINJIANG_BOX = (34.3, 49.2, 73.5, 96.4)


@dataclass(frozen=True)
class Fact:
    name: str
    type: str  # CEL type as a rule sees it
    description: str


#: The facts schema (docs/comply.md lists it; tests check the two agree).
FACTS: tuple[Fact, ...] = (
    Fact("lot", "string", "the lot's canonical identifier"),
    Fact("mineral", "string", "the mineral the lot's contained metal is counted in (lithium, nickel, …)"),
    Fact("material", "string", "the lot's material (materials.yaml key, e.g. li_ion_cell_nmc811)"),
    Fact(
        "stage",
        "string",
        "stage of the facility that produced the lot (mining, refining, materials, battery, …)",
    ),
    Fact("contained_metal_kg", "double", "contained metal the lot was produced with, kg"),
    Fact("check_date", "string", "the date the facts are established for (ISO 8601)"),
    Fact(
        "origin_countries",
        "list(string)",
        "countries of the facilities the metal was extracted or collected at",
    ),
    Fact("origin_share_by_country", "map(string, double)", "share of contained metal by origin country"),
    Fact("origin_share_by_facility", "map(string, double)", "share of contained metal by origin facility id"),
    Fact("certified_share", "double", "certified share following the custody models (mass balance credits)"),
    Fact(
        "certified_at_origin_share",
        "double",
        "share extracted at a facility certified on the extraction date",
    ),
    Fact("recycled_share", "double", "share of metal from recycled (pre- or post-consumer) origins"),
    Fact("post_consumer_recycled_share", "double", "share of metal from post-consumer recycled origins"),
    Fact("opening_stock_share", "double", "share resting on declared opening stock (origin not traced)"),
    Fact(
        "path_countries",
        "list(string)",
        "countries of every facility on the upstream path, the lot's own included",
    ),
    Fact("custody_models", "list(string)", "ISO 22095 custody models on the path (segregated, mass_balance)"),
    Fact(
        "facilities",
        "list(map)",
        "facilities on the path: id, name, type, country, operator, operator_name, custody_model, certifications "
        "(scheme, certificate, valid_from, valid_to, valid)",
    ),
    Fact(
        "expired_certifications",
        "list(map)",
        "certifications of path facilities no longer valid on check_date (facility, scheme, valid_to)",
    ),
    Fact("tvpra_edition", "string", "edition of the US DOL TVPRA list screened against"),
    Fact(
        "tvpra_hits",
        "list(map)",
        "TVPRA entries that apply (good, country, basis origin|made, share, child_labor, forced_labor, "
        "forced_child_labor, derived_from, edition)",
    ),
    Fact("entity_lists", "list(string)", "entity lists screened against; absent when no list was given"),
    Fact(
        "entity_hits",
        "list(map)",
        "entity-list hits of path operators (party_role, party, name, list, listed_name, matched, score, "
        "threshold, exact); absent when no list was given",
    ),
    Fact(
        "xinjiang_box_facilities",
        "list(string)",
        "path facilities in China inside the approximate XUAR bounding box; absent if a Chinese facility has no "
        "coordinates",
    ),
    Fact("wgi_year", "int", "year of the latest WGI estimates used; absent when the store holds no WGI"),
    Fact(
        "wgi_by_country",
        "map(string, map(string, double))",
        "WGI estimates (-2.5 weak … 2.5 strong; va, pv, ge, rq, rl, cc) of path countries that have them",
    ),
    Fact(
        "path_min_wgi_pv",
        "double",
        "lowest WGI Political Stability and Absence of Violence estimate over path countries; absent if one lacks it",
    ),
    Fact(
        "origin_min_wgi_rl",
        "double",
        "lowest WGI Rule of Law estimate over origin countries; absent if one lacks it",
    ),
)

FACT_NAMES: frozenset[str] = frozenset(f.name for f in FACTS)


def _certs(rows: Sequence[Mapping[str, Any]], as_of: dt.date) -> list[dict[str, Any]]:
    out = []
    for c in rows:
        start, end = c["valid_from"], c["valid_to"]
        out.append(
            {
                "scheme": c["scheme"],
                "certificate": c.get("certificate"),
                "valid_from": start.isoformat(),
                "valid_to": end.isoformat(),
                "valid": start <= as_of <= end,
            }
        )
    return out


def _min_over(countries: Sequence[str], wgi: Mapping[str, Mapping[str, float]], dim: str) -> float | None:
    values = [wgi.get(c, {}).get(dim) for c in countries]
    if not values or any(v is None for v in values):
        return None
    return float(min(v for v in values if v is not None))


def derive(
    report: Mapping[str, Any],
    *,
    lot_facility: str,
    path: Mapping[str, Mapping[str, Any]],
    certifications: Mapping[str, Sequence[Mapping[str, Any]]],
    as_of: dt.date,
    tvpra: Mapping[str, Any] | None,
    entities: Mapping[str, Any] | None,
    wgi: tuple[int, Mapping[str, Mapping[str, float]]] | None,
) -> dict[str, Any]:
    """The facts of one lot. ``report``: its origin report; ``lot_facility``: the facility that produced it;
    ``path``: facility id -> row (name, facility_type, country, operator_id, operator_name, custody_model,
    latitude, longitude) for every facility on its upstream path; ``certifications``: facility id -> rows
    (scheme, certificate, valid_from, valid_to as dates); ``tvpra``: {"edition", "hits"} or None;
    ``entities``: {"lists", "hits"} or None; ``wgi``: (year, ISO3 -> {dimension: estimate}) or None."""
    by_country = {r["country"]: float(r["share"]) for r in report["by_country"]}
    by_facility = {r["facility"]: float(r["share"]) for r in report["by_facility"]}
    recycled = {r["status"]: float(r["share"]) for r in report["recycled"]}
    certified = next(
        (float(r["share"]) for r in report["by_certification"] if r["status"] == "certified"), 0.0
    )
    facilities = []
    expired = []
    for fid in sorted(path):
        row = path[fid]
        certs = _certs(certifications.get(fid, ()), as_of)
        expired += [
            {"facility": fid, "scheme": c["scheme"], "valid_to": c["valid_to"]}
            for c in certs
            if c["valid_to"] < as_of.isoformat()
        ]
        facilities.append(
            {
                "id": fid,
                "name": row["name"],
                "type": row["facility_type"],
                "country": row["country"],
                "operator": row["operator_id"],
                "operator_name": row.get("operator_name"),
                "custody_model": row["custody_model"],
                "certifications": certs,
            }
        )
    path_countries = sorted({row["country"] for row in path.values()})
    chinese = [(fid, row) for fid, row in path.items() if row["country"] == "CHN"]
    box: list[str] | None = []
    s, n, w, e = XINJIANG_BOX
    for fid, row in sorted(chinese):
        lat, lon = row.get("latitude"), row.get("longitude")
        if lat is None or lon is None:
            box = None
            break
        if s <= lat <= n and w <= lon <= e:
            assert box is not None
            box.append(fid)
    origin_countries = sorted(c for c, v in by_country.items() if v > 0)
    wgi_year, wgi_rows = wgi if wgi is not None else (None, None)
    wgi_path = (
        {c: dict(wgi_rows[c]) for c in path_countries if c in wgi_rows} if wgi_rows is not None else None
    )
    return {
        "lot": report["lot"],
        "mineral": report["mineral"],
        "material": report["material"],
        "stage": STAGES.get(path[lot_facility]["facility_type"], path[lot_facility]["facility_type"]),
        "contained_metal_kg": float(report["contained_metal_kg"]),
        "check_date": as_of.isoformat(),
        "origin_countries": origin_countries,
        "origin_share_by_country": by_country,
        "origin_share_by_facility": by_facility,
        "certified_share": certified,
        "certified_at_origin_share": float(report["certified_at_origin"]),
        "recycled_share": float(sum(v for k, v in recycled.items() if k != "primary")),
        "post_consumer_recycled_share": float(recycled.get("post-consumer", 0.0)),
        "opening_stock_share": float(report["opening_stock_share"]),
        "path_countries": path_countries,
        "custody_models": sorted({row["custody_model"] for row in path.values()}),
        "facilities": facilities,
        "expired_certifications": expired,
        "tvpra_edition": tvpra["edition"] if tvpra is not None else None,
        "tvpra_hits": list(tvpra["hits"]) if tvpra is not None else None,
        "entity_lists": list(entities["lists"]) if entities is not None else None,
        "entity_hits": list(entities["hits"]) if entities is not None else None,
        "xinjiang_box_facilities": box,
        "wgi_year": wgi_year,
        "wgi_by_country": wgi_path,
        "path_min_wgi_pv": _min_over(path_countries, wgi_rows, "pv") if wgi_rows is not None else None,
        "origin_min_wgi_rl": _min_over(origin_countries, wgi_rows, "rl") if wgi_rows is not None else None,
    }
