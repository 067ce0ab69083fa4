"""EPCIS 2.0 documents for realistic mineral chains, used by the tests (hand-checked origin shares) and the
benchmarks (synthetic chains at scale). Deterministic: the same arguments give the same bytes.

Facilities are GS1 GLNs (SGLN URNs in events), lots are LGTIN classes (epcClass + lot) under the GS1 company
prefix of the participant that produces them (:meth:`Chain.prefix_of`, bound at registration), quantities are in
UN/CEFACT units, and material/process attributes use the ``lodeline:`` ILMD/extension vocabulary read by
:mod:`lodeline.trace.ledger`. Prefixes starting 952 are GS1's range for demonstrations and examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lodeline.trace.identifiers import check_digit
from lodeline.trace.ledger import reference_data

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
LODELINE_VOCAB = "https://lodeline.org/voc/"
COMPANY = "9521234"  # GS1 company prefix of the generated facility GLNs (fictitious) in chain series 0


def company_prefix(n: int, series: int = 0) -> str:
    """The GS1 company prefix of the ``n``-th participant of a chain in ``series`` (7 digits: none is a prefix of
    another, nor of any series' facility prefix). Each example chain has its own series, so the chains can be
    captured into one registry without two participants claiming the same prefix."""
    return f"9520{series + 1}{n:02d}"


def facility_company(series: int = 0) -> str:
    """The GS1 company prefix of the facility GLNs of a chain in ``series`` (9521234, 9521235, …)."""
    return str(int(COMPANY) + series)


@dataclass
class FacilitySpec:
    key: str
    name: str
    facility_type: str
    country: str
    operator: str
    latitude: float
    longitude: float
    custody_model: str = "segregated"
    certifications: list[str] = field(default_factory=list)
    number: int = 0
    company: str = COMPANY  # set by Chain.facility from the chain's series

    @property
    def gln(self) -> str:
        body = self.company + f"{self.number:05d}"
        return body + check_digit(body)

    @property
    def sgln(self) -> str:
        return f"urn:epc:id:sgln:{self.company}.{self.number:05d}.0"


@dataclass
class Chain:
    participants: list[tuple[str, str, str]] = field(default_factory=list)  # (id, name, role)
    facilities: dict[str, FacilitySpec] = field(default_factory=dict)
    documents: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (submitting participant, doc)
    lots: dict[str, str] = field(default_factory=dict)  # short name -> epcClass URN
    metal_kg: dict[str, float] = field(default_factory=dict)  # short name -> contained metal produced
    series: int = 0  # identifier series: chains of different series share no company prefix or GLN

    def prefix_of(self, participant: str) -> str:
        """The company prefix of a participant (bound to it by chain_setup.register and the example run.sh)."""
        return company_prefix([p[0] for p in self.participants].index(participant), self.series)

    def facility(self, spec: FacilitySpec) -> FacilitySpec:
        spec.number = len(self.facilities) + 1
        spec.company = facility_company(self.series)
        self.facilities[spec.key] = spec
        return spec

    def submit(self, participant: str, events: list[dict[str, Any]], created: datetime) -> None:
        """Queue one EPCIS document, to be signed and captured by ``participant``."""
        self.documents.append((participant, document(events, created)))


_ITEM_REF = {  # one GTIN item reference per material (indicator digit 0)
    m: f"0{i:05d}" for i, m in enumerate(sorted(reference_data()["materials"]), start=1)
}


def lot_class(material: str, lot: str, prefix: str = COMPANY) -> str:
    return f"urn:epc:class:lgtin:{prefix}.{_ITEM_REF[material]}.{lot}"


def document(events: list[dict[str, Any]], created: datetime) -> dict[str, Any]:
    return {
        "@context": [EPCIS_CONTEXT, {"lodeline": LODELINE_VOCAB}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat().replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }


def _t(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _qty(epc_class: str, kg: float) -> dict[str, Any]:
    return {"epcClass": epc_class, "quantity": round(kg, 3), "uom": "KGM"}


class Events:
    """Builds CBV 2.0 events; tracks contained metal so outputs can be sized from a yield."""

    def __init__(self, chain: Chain) -> None:
        self.chain = chain
        self.materials = reference_data()["materials"]

    def mine_and_ship(
        self,
        participant: str,
        mine: FacilitySpec,
        dest: FacilitySpec,
        lot: str,
        material: str,
        kg: float,
        extracted: datetime,
        shipped: datetime,
    ) -> None:
        """A miner's document: commission ``kg`` of ``lot`` at ``mine`` and ship all of it to ``dest``."""
        self.chain.submit(
            participant,
            [self.commission(mine, lot, material, kg, extracted), self.ship(mine, dest, lot, kg, shipped)],
            shipped,
        )

    def _lot(self, name: str, material: str, producer: FacilitySpec) -> str:
        """The lot's class, under the company prefix of the producing facility's operator."""
        self.chain.lots.setdefault(name, lot_class(material, name, self.chain.prefix_of(producer.operator)))
        return self.chain.lots[name]

    def commission(
        self,
        fac: FacilitySpec,
        name: str,
        material: str,
        kg: float,
        when: datetime,
        recycled: str | None = None,
        opening_stock: str | None = None,
    ) -> dict[str, Any]:
        """Commission ``kg`` of a lot at ``fac``: extracted at a mine, collected at a recycler (``recycled``), or
        declared opening stock with a reason (``opening_stock``; material that cannot originate there)."""
        ilmd: dict[str, Any] = {"lodeline:material": material}
        if recycled:
            ilmd["lodeline:recycled"] = recycled
        if opening_stock:
            ilmd["lodeline:openingStock"] = opening_stock
        self.chain.metal_kg[name] = kg * self.materials[material]["metal_fraction"]
        return {
            "type": "ObjectEvent",
            "eventTime": _t(when),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "action": "ADD",
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": fac.sgln},
            "bizLocation": {"id": fac.sgln},
            "quantityList": [_qty(self._lot(name, material, fac), kg)],
            "ilmd": ilmd,
        }

    def inspect(
        self,
        fac: FacilitySpec,
        name: str,
        kg: float,
        when: datetime,
        event_id: str | None = None,
        epcs: list[str] | None = None,
    ) -> dict[str, Any]:
        """An inspection of ``kg`` of a lot (and of serialised items ``epcs``) at ``fac``: an event that names
        them without moving material."""
        ev: dict[str, Any] = {
            "type": "ObjectEvent",
            "eventTime": _t(when),
            "eventTimeZoneOffset": "+00:00",
            "epcList": list(epcs or []),
            "action": "OBSERVE",
            "bizStep": "inspecting",
            "readPoint": {"id": fac.sgln},
            "quantityList": [_qty(self.chain.lots[name], kg)],
        }
        if event_id is not None:
            ev = {"eventID": event_id, **ev}
        return ev

    def ship(
        self, src: FacilitySpec, dst: FacilitySpec, name: str, kg: float, when: datetime
    ) -> dict[str, Any]:
        return {
            "type": "ObjectEvent",
            "eventTime": _t(when),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "action": "OBSERVE",
            "bizStep": "shipping",
            "disposition": "in_transit",
            "readPoint": {"id": src.sgln},
            "quantityList": [_qty(self.chain.lots[name], kg)],
            "sourceList": [{"type": "location", "source": src.sgln}],
            "destinationList": [{"type": "location", "destination": dst.sgln}],
        }

    def receive(
        self, dst: FacilitySpec, src: FacilitySpec, name: str, kg: float, when: datetime
    ) -> dict[str, Any]:
        return {
            "type": "ObjectEvent",
            "eventTime": _t(when),
            "eventTimeZoneOffset": "+00:00",
            "epcList": [],
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": "in_progress",
            "readPoint": {"id": dst.sgln},
            "bizLocation": {"id": dst.sgln},
            "quantityList": [_qty(self.chain.lots[name], kg)],
            "sourceList": [{"type": "location", "source": src.sgln}],
            "destinationList": [{"type": "location", "destination": dst.sgln}],
        }

    def transform(
        self,
        fac: FacilitySpec,
        inputs: list[tuple[str, float]],
        output: str,
        material: str,
        process: str,
        yield_: float,
        when: datetime,
    ) -> tuple[dict[str, Any], float]:
        """Consume ``inputs`` (name, kg); produce one output lot sized so its metal = input metal × yield."""
        ev, kgs = self.transform_split(fac, inputs, [output], material, process, yield_, when)
        return ev, kgs[0]

    def transform_split(
        self,
        fac: FacilitySpec,
        inputs: list[tuple[str, float]],
        outputs: list[str],
        material: str,
        process: str,
        yield_: float,
        when: datetime,
    ) -> tuple[dict[str, Any], list[float]]:
        """Like :meth:`transform` with the output metal split equally over several output lots."""
        in_metal = 0.0
        for name, kg in inputs:
            in_metal += kg * self.chain.metal_kg[name] / self._produced_kg(name)
        fraction = self.materials[material]["metal_fraction"]
        kgs = [round(in_metal * yield_ / len(outputs) / fraction, 3) for _ in outputs]
        out_metal = sum(kgs) * fraction
        for name, kg in zip(outputs, kgs, strict=True):
            self.chain.metal_kg[name] = kg * fraction
        ev = {
            "type": "TransformationEvent",
            "eventTime": _t(when),
            "eventTimeZoneOffset": "+00:00",
            "inputQuantityList": [_qty(self.chain.lots[n], kg) for n, kg in inputs],
            "outputQuantityList": [
                _qty(self._lot(n, material, fac), kg) for n, kg in zip(outputs, kgs, strict=True)
            ],
            "bizStep": "commissioning",
            "disposition": "active",
            "readPoint": {"id": fac.sgln},
            "bizLocation": {"id": fac.sgln},
            "ilmd": {"lodeline:material": material},
            "lodeline:process": process,
            "lodeline:declaredYield": round(out_metal / in_metal, 4),
        }
        return ev, kgs

    def _produced_kg(self, name: str) -> float:
        material = next(m for m, ref in _ITEM_REF.items() if f".{ref}." in self.chain.lots[name])
        return self.chain.metal_kg[name] / self.materials[material]["metal_fraction"]


T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def lithium_chain() -> Chain:
    """Spodumene (AUS ×2, certified / not) → conversion to carbonate and hydroxide (CHN) → NMC811 cathode (KOR,
    with recycled carbonate from a DEU recycler) → cells (DEU)."""
    c = Chain()
    c.participants = [
        ("pilbara-miner", "Pilbara Spodumene Pty", "miner"),
        ("yilgarn-miner", "Yilgarn Lithium Pty", "miner"),
        ("sichuan-refiner", "Sichuan Lithium Chemicals", "refiner"),
        ("ulsan-cathode", "Ulsan Cathode Materials", "manufacturer"),
        ("rhine-recycler", "Rhine Battery Recycling GmbH", "recycler"),
        ("saxony-cells", "Saxony Cell Works GmbH", "manufacturer"),
    ]
    m1 = c.facility(
        FacilitySpec(
            "m1",
            "Pilbara spodumene mine",
            "mine",
            "AUS",
            "pilbara-miner",
            -21.0,
            118.9,
            certifications=["IRMA:2024-01-01:2027-12-31"],
        )
    )
    m2 = c.facility(
        FacilitySpec("m2", "Yilgarn spodumene mine", "mine", "AUS", "yilgarn-miner", -33.9, 116.1)
    )
    cv = c.facility(
        FacilitySpec("cv", "Sichuan lithium converter", "refinery", "CHN", "sichuan-refiner", 30.6, 104.1)
    )
    ca = c.facility(
        FacilitySpec("ca", "Ulsan cathode plant", "cathode_plant", "KOR", "ulsan-cathode", 35.5, 129.3)
    )
    rc = c.facility(
        FacilitySpec("rc", "Rhine recycling plant", "recycler", "DEU", "rhine-recycler", 50.9, 6.9)
    )
    ce = c.facility(FacilitySpec("ce", "Saxony cell plant", "cell_plant", "DEU", "saxony-cells", 51.3, 12.4))
    e = Events(c)
    t = [T0 + timedelta(days=d) for d in range(40)]
    e.mine_and_ship("pilbara-miner", m1, cv, "SC6-P1", "spodumene_concentrate_sc6", 1_000_000, t[0], t[1])
    e.mine_and_ship("yilgarn-miner", m2, cv, "SC6-Y1", "spodumene_concentrate_sc6", 500_000, t[0], t[2])
    carb, carb_kg = e.transform(
        cv,
        [("SC6-P1", 1_000_000), ("SC6-Y1", 500_000)],
        "LC-S1",
        "lithium_carbonate",
        "spodumene_conversion",
        0.85,
        t[12],
    )
    hyd, hyd_kg = e.transform(
        cv,
        [("LC-S1", carb_kg)],
        "LH-S1",
        "lithium_hydroxide_monohydrate",
        "hydroxide_conversion",
        0.98,
        t[14],
    )
    c.documents.append(
        (
            "sichuan-refiner",
            document(
                [
                    e.receive(cv, m1, "SC6-P1", 1_000_000, t[10]),
                    e.receive(cv, m2, "SC6-Y1", 500_000, t[11]),
                    carb,
                    hyd,
                    e.ship(cv, ca, "LH-S1", hyd_kg, t[15]),
                ],
                t[15],
            ),
        )
    )
    bm = e.commission(rc, "BM-R1", "black_mass", 200_000, t[3], recycled="post-consumer")
    rcarb, rcarb_kg = e.transform(
        rc, [("BM-R1", 200_000)], "LC-R1", "lithium_carbonate", "recycling_hydrometallurgy", 0.90, t[5]
    )
    c.documents.append(
        ("rhine-recycler", document([bm, rcarb, e.ship(rc, ca, "LC-R1", rcarb_kg, t[6])], t[6]))
    )
    cam, cam_kg = e.transform(
        ca,
        [("LH-S1", hyd_kg), ("LC-R1", rcarb_kg)],
        "CAM-U1",
        "nmc811_cathode",
        "cathode_synthesis",
        0.99,
        t[22],
    )
    c.documents.append(
        (
            "ulsan-cathode",
            document(
                [
                    e.receive(ca, cv, "LH-S1", hyd_kg, t[20]),
                    e.receive(ca, rc, "LC-R1", rcarb_kg, t[21]),
                    cam,
                    e.ship(ca, ce, "CAM-U1", round(cam_kg / 2, 3), t[23]),
                ],
                t[23],
            ),
        )
    )
    cell, _ = e.transform(
        ce,
        [("CAM-U1", round(cam_kg / 2, 3))],
        "CELL-X1",
        "li_ion_cell_nmc811",
        "cell_manufacturing",
        0.98,
        t[31],
    )
    c.documents.append(
        (
            "saxony-cells",
            document(
                [
                    e.receive(ce, ca, "CAM-U1", round(cam_kg / 2, 3), t[30]),
                    cell,
                ],
                t[31],
            ),
        )
    )
    return c


def nickel_chain(series: int = 0) -> Chain:
    """Indonesian limonite (two mines, one IRMA-certified) → HPAL MHP (IDN) → nickel sulphate at a mass-balance
    refinery (CHN) → NMC811 pCAM (KOR). ``series`` 1 gives it prefixes and GLNs of its own, so that it can be
    captured next to the lithium chain (series 0) in one registry (the examples do)."""
    c = Chain(series=series)
    c.participants = [
        ("halmahera-miner", "Halmahera Nickel", "miner"),
        ("sulawesi-miner", "Sulawesi Laterite", "miner"),
        ("obi-hpal", "Obi HPAL Operations", "refiner"),
        ("ningbo-refiner", "Ningbo Nickel Sulphate", "refiner"),
        ("gwangyang-pcam", "Gwangyang Precursor", "manufacturer"),
    ]
    n1 = c.facility(
        FacilitySpec(
            "n1",
            "Halmahera laterite mine",
            "mine",
            "IDN",
            "halmahera-miner",
            0.5,
            127.9,
            certifications=["IRMA:2024-06-01:2026-05-31"],
        )
    )
    n2 = c.facility(
        FacilitySpec("n2", "Sulawesi laterite mine", "mine", "IDN", "sulawesi-miner", -2.6, 121.4)
    )
    hp = c.facility(FacilitySpec("hp", "Obi HPAL plant", "refinery", "IDN", "obi-hpal", -1.5, 127.6))
    sf = c.facility(
        FacilitySpec(
            "sf",
            "Ningbo sulphate refinery",
            "refinery",
            "CHN",
            "ningbo-refiner",
            29.9,
            121.6,
            custody_model="mass_balance",
            certifications=["RMAP:2024-01-01:2026-12-31"],
        )
    )
    pc = c.facility(
        FacilitySpec("pc", "Gwangyang pCAM plant", "precursor_plant", "KOR", "gwangyang-pcam", 34.9, 127.7)
    )
    e = Events(c)
    t = [T0 + timedelta(days=d) for d in range(40)]
    e.mine_and_ship("halmahera-miner", n1, hp, "ORE-H1", "laterite_ore_limonite", 100_000_000, t[0], t[1])
    e.mine_and_ship("sulawesi-miner", n2, hp, "ORE-S1", "laterite_ore_limonite", 50_000_000, t[0], t[2])
    mhp, mhp_kg = e.transform(
        hp,
        [("ORE-H1", 100_000_000), ("ORE-S1", 50_000_000)],
        "MHP-O1",
        "mixed_hydroxide_precipitate",
        "hpal",
        0.93,
        t[8],
    )
    c.documents.append(
        (
            "obi-hpal",
            document(
                [
                    e.receive(hp, n1, "ORE-H1", 100_000_000, t[5]),
                    e.receive(hp, n2, "ORE-S1", 50_000_000, t[6]),
                    mhp,
                    e.ship(hp, sf, "MHP-O1", mhp_kg, t[9]),
                ],
                t[9],
            ),
        )
    )
    # The refinery refines the MHP into two sulphate lots in one run: under ISO 22095 mass balance the run's
    # certified credits go to the first output lot first.
    split, (s1_kg, _s2_kg) = e.transform_split(
        sf,
        [("MHP-O1", mhp_kg)],
        ["NS-N1", "NS-N2"],
        "nickel_sulphate_hexahydrate",
        "mhp_refining",
        0.98,
        t[16],
    )
    c.documents.append(
        (
            "ningbo-refiner",
            document(
                [
                    e.receive(sf, hp, "MHP-O1", mhp_kg, t[15]),
                    split,
                    e.ship(sf, pc, "NS-N1", s1_kg, t[18]),
                ],
                t[18],
            ),
        )
    )
    pcam, _ = e.transform(
        pc, [("NS-N1", s1_kg)], "PCAM-G1", "pcam_nmc811", "pcam_coprecipitation", 0.99, t[26]
    )
    c.documents.append(("gwangyang-pcam", document([e.receive(pc, sf, "NS-N1", s1_kg, t[25]), pcam], t[26])))
    return c
