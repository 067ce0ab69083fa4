"""Synthetic chains at scale for the benchmarks and the fault test, built from :mod:`lodeline.trace.generator`.

``synthetic_chain`` streams independent 8-event lithium flows (mine → converter → cathode plant → out);
``deep_tree`` builds one lot whose upstream graph has a chosen depth and fan-in.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from lodeline.trace.generator import T0, Chain, Events, FacilitySpec, document


def _bench_facilities(c: Chain) -> dict[str, list[FacilitySpec]]:
    countries = ["AUS", "CHL", "ARG", "ZWE", "CAN", "BRA", "PRT", "USA"]
    c.participants = [("bench-operator", "Benchmark Logistics", "trader")]
    mines = [
        c.facility(
            FacilitySpec(
                f"mine{i}",
                f"Mine {i}",
                "mine",
                countries[i % len(countries)],
                "bench-operator",
                -20.0 + i,
                120.0 - i,
                certifications=["IRMA:2020-01-01:2030-12-31"] if i % 2 == 0 else [],
            )
        )
        for i in range(16)
    ]
    conv = [
        c.facility(
            FacilitySpec(f"conv{i}", f"Converter {i}", "refinery", "CHN", "bench-operator", 30.0, 104.0 + i)
        )
        for i in range(4)
    ]
    cam = [
        c.facility(
            FacilitySpec(
                f"cam{i}",
                f"Cathode plant {i}",
                "cathode_plant",
                "KOR",
                "bench-operator",
                35.5,
                129.0 + i,
                custody_model="mass_balance" if i == 0 else "segregated",
            )
        )
        for i in range(2)
    ]
    return {"mines": mines, "conv": conv, "cam": cam}


def synthetic_chain(units: int, units_per_document: int = 125) -> tuple[Chain, Any]:
    """A benchmark chain: ``units`` independent flows of 8 events each (mine → converter → cathode plant → out).

    Returns the chain (participants and facilities, no documents) and a generator of documents, so callers can
    stream hundreds of thousands of events without holding them all in memory."""
    c = Chain()
    f = _bench_facilities(c)

    def documents() -> Any:
        e = Events(c)
        for start in range(0, units, units_per_document):
            evs: list[dict[str, Any]] = []
            for u in range(start, min(units, start + units_per_document)):
                t = T0 + timedelta(seconds=u * 60)
                m, cv, ca = f["mines"][u % 16], f["conv"][u % 4], f["cam"][u % 2]
                ore, carb, cat = f"SC-{u}", f"LC-{u}", f"CAM-{u}"
                evs.append(e.commission(m, ore, "spodumene_concentrate_sc6", 20_000, t))
                evs.append(e.ship(m, cv, ore, 20_000, t + timedelta(seconds=1)))
                evs.append(e.receive(cv, m, ore, 20_000, t + timedelta(seconds=2)))
                ev, carb_kg = e.transform(
                    cv,
                    [(ore, 20_000)],
                    carb,
                    "lithium_carbonate",
                    "spodumene_conversion",
                    0.85,
                    t + timedelta(seconds=3),
                )
                evs.append(ev)
                evs.append(e.ship(cv, ca, carb, carb_kg, t + timedelta(seconds=4)))
                evs.append(e.receive(ca, cv, carb, carb_kg, t + timedelta(seconds=5)))
                ev, cam_kg = e.transform(
                    ca,
                    [(carb, carb_kg)],
                    cat,
                    "nmc811_cathode",
                    "cathode_synthesis",
                    0.99,
                    t + timedelta(seconds=6),
                )
                evs.append(ev)
                out = e.ship(ca, ca, cat, cam_kg, t + timedelta(seconds=7))
                del out["destinationList"]  # sold out of the registry
                evs.append(out)
                for name in (ore, carb, cat):  # keep memory flat over long runs
                    c.lots.pop(name, None)
                    c.metal_kg.pop(name, None)
            yield "bench-operator", document(evs, T0)

    return c, documents()


def deep_tree(levels: int = 6, fan_in: int = 3, tag: str = "T") -> Chain:
    """One lot whose upstream graph has ``levels`` levels of blending with ``fan_in`` inputs each
    (fan_in**levels origin lots from 16 mines; 6 levels × 3 gives 1,092 ancestor lots and 2,551 events)."""
    c = Chain()
    f = _bench_facilities(c)
    hub = f["conv"][0]
    e = Events(c)
    evs: list[dict[str, Any]] = []
    leaves = fan_in**levels
    names = []
    for i in range(leaves):
        m, name, t = f["mines"][i % 16], f"{tag}-L0-{i}", T0 + timedelta(seconds=i)
        evs.append(e.commission(m, name, "lithium_carbonate", 1_000, t))
        evs.append(e.ship(m, hub, name, 1_000, t + timedelta(hours=1)))
        evs.append(e.receive(hub, m, name, 1_000, t + timedelta(hours=2)))
        names.append(name)
    kg = dict.fromkeys(names, 1_000.0)
    for level in range(1, levels + 1):
        nxt = []
        for j in range(0, len(names), fan_in):
            group = names[j : j + fan_in]
            out = f"{tag}-L{level}-{j // fan_in}"
            ev, out_kg = e.transform(
                hub,
                [(n, kg[n]) for n in group],
                out,
                "lithium_carbonate",
                "blending",
                1.0,
                T0 + timedelta(days=level, seconds=j),
            )
            evs.append(ev)
            kg[out] = out_kg
            nxt.append(out)
        names = nxt
    c.documents.append(("bench-operator", document(evs, T0)))
    c.lots["root"] = c.lots[names[0]]
    return c
