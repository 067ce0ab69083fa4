"""lodeline.comply.facts.derive on a constructed lot: shares and lists as the origin report and the path give
them, certifications valid or lapsed on the check date, the XUAR box, and facts that stay absent (None), never
zero, when they cannot be established."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lodeline.comply.facts import FACT_NAMES, derive

REPORT = {
    "lot": "urn:test:L1",
    "mineral": "cobalt",
    "material": "nmc811_cathode",
    "contained_metal_kg": 500.0,
    "by_country": [{"country": "COD", "share": 0.7}, {"country": "AUS", "share": 0.3}],
    "by_facility": [{"facility": "m1", "share": 0.7}, {"facility": "r1", "share": 0.3}],
    "by_certification": [{"status": "certified", "share": 0.2}, {"status": "not_certified", "share": 0.8}],
    "certified_at_origin": 0.25,
    "recycled": [
        {"status": "post-consumer", "share": 0.2},
        {"status": "pre-consumer", "share": 0.1},
        {"status": "primary", "share": 0.7},
    ],
    "opening_stock_share": 0.0,
}


def _fac(ftype: str, country: str, lat: float | None = 0.0, lon: float | None = 0.0) -> dict[str, Any]:
    return {"name": ftype, "facility_type": ftype, "country": country, "operator_id": f"op-{ftype}",
            "operator_name": None, "custody_model": "segregated", "latitude": lat, "longitude": lon}  # fmt: skip


PATH = {
    "m1": _fac("mine", "COD"),
    "r1": _fac("recycler", "AUS"),
    "c1": _fac("cathode_plant", "CHN", 43.8, 87.6),
}
CERTS = {
    "m1": [
        {
            "scheme": "RMAP",
            "certificate": None,
            "valid_from": dt.date(2024, 1, 1),
            "valid_to": dt.date(2026, 6, 30),
        }
    ]
}


def _derive(**over: Any) -> dict[str, Any]:
    kw: dict[str, Any] = {"lot_facility": "c1", "path": PATH, "certifications": CERTS, "as_of": dt.date(2026, 12, 5),
                          "tvpra": None, "entities": None, "wgi": None}  # fmt: skip
    kw.update(over)
    return derive(REPORT, **kw)


def test_derived_facts() -> None:
    f = _derive()
    assert set(f) == FACT_NAMES
    assert f["stage"] == "materials" and f["origin_countries"] == ["AUS", "COD"]
    assert abs(f["recycled_share"] - 0.3) < 1e-12  # post- and pre-consumer both count (Art. 8)
    assert f["post_consumer_recycled_share"] == 0.2 and f["certified_share"] == 0.2
    assert f["path_countries"] == ["AUS", "CHN", "COD"]
    assert f["expired_certifications"] == [{"facility": "m1", "scheme": "RMAP", "valid_to": "2026-06-30"}]
    assert f["xinjiang_box_facilities"] == ["c1"]  # Urumqi, 43.8 N 87.6 E
    assert _derive(as_of=dt.date(2026, 6, 30))["expired_certifications"] == []


def test_absent_facts_stay_absent() -> None:
    f = _derive()
    for name in ("tvpra_hits", "tvpra_edition", "entity_hits", "entity_lists", "wgi_year", "path_min_wgi_pv"):
        assert f[name] is None, name
    no_coords = _derive(path={**PATH, "c1": _fac("cathode_plant", "CHN", None, None)})
    assert no_coords["xinjiang_box_facilities"] is None
    partial = _derive(wgi=(2023, {"COD": {"pv": -1.8, "rl": -1.5}, "AUS": {"pv": 0.9, "rl": 1.6}}))
    assert partial["wgi_year"] == 2023 and partial["origin_min_wgi_rl"] == -1.5
    assert partial["path_min_wgi_pv"] is None  # CHN has no estimate: the minimum over the path is unknown
