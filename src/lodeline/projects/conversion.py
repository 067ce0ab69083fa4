"""Capacity as stated → contained metal (t/yr) and lithium carbonate equivalent (LCE), with documented factors.

Factors are stoichiometric mass fractions from IUPAC 2021 standard atomic weights (abridged, the values below),
worked in docs/methods/projects.md. A product with no documented factor (ore of unknown grade, mixed scrap streams)
converts to None with the reason; the caller flags it, it is never counted as zero or as gross tonnes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from lodeline.domain.units import tonnes_factor
from lodeline.projects.schema import Capacity

#: standard atomic weights (g/mol), IUPAC 2021 abridged values
LI, C, OX, H, MN, S, NI, CO = 6.94, 12.011, 15.999, 1.008, 54.938, 32.06, 58.693, 58.933
H2O = 2 * H + OX
LI2CO3 = 2 * LI + C + 3 * OX  # 73.888
LIOH_H2O = LI + OX + H + H2O  # 41.962 (battery-grade hydroxide is sold as the monohydrate)
MNSO4_H2O = MN + S + 4 * OX + H2O  # 169.009
NISO4_6H2O = NI + S + 4 * OX + 6 * H2O  # 262.842
COSO4_7H2O = CO + S + 4 * OX + 7 * H2O  # 281.096

#: tonnes of lithium carbonate per tonne of contained lithium (the LCE factor, ≈ 5.323)
LCE_PER_T_LI = LI2CO3 / (2 * LI)


@dataclass(frozen=True, slots=True)
class Factor:
    mineral: str
    contained_fraction: float  # t contained metal per t of product
    formula: str


#: product wording (lower case, matched as a phrase) → factor. Longer phrases are tried first.
PRODUCT_FACTORS: dict[str, Factor] = {
    "lithium hydroxide monohydrate": Factor("lithium", LI / LIOH_H2O, "Li / LiOH·H2O = 6.94 / 41.962"),
    "lithium hydroxide": Factor("lithium", LI / LIOH_H2O, "Li / LiOH·H2O = 6.94 / 41.962 (monohydrate)"),
    "lithium carbonate": Factor("lithium", 2 * LI / LI2CO3, "2 Li / Li2CO3 = 13.88 / 73.888"),
    "lithium metal": Factor("lithium", 1.0, "metal"),
    "manganese sulphate": Factor("manganese", MN / MNSO4_H2O, "Mn / MnSO4·H2O = 54.938 / 169.009"),
    "nickel sulphate": Factor("nickel", NI / NISO4_6H2O, "Ni / NiSO4·6H2O = 58.693 / 262.842"),
    "cobalt sulphate": Factor("cobalt", CO / COSO4_7H2O, "Co / CoSO4·7H2O = 58.933 / 281.096"),
}

_CAPACITY = re.compile(
    r"^\s*(?P<qual>~|about|approx\.?|approximately|at least|up to)?\s*"
    r"(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<unit>t|kt|tonnes)\s*/\s*(?:yr|y|year|a)\b\s*(?:of\s+)?(?P<rest>.*)$",
    re.IGNORECASE,
)
_QUALIFIERS = {
    "~": "approximately",
    "about": "approximately",
    "approx": "approximately",
    "approx.": "approximately",
    "approximately": "approximately",
    "at least": "at_least",
    "up to": "up_to",
}


def parse_capacity(raw: str) -> Capacity | None:
    """``"30,000 t/yr lithium hydroxide (company figure)"`` → Capacity; None when the text states no rate."""
    m = _CAPACITY.match(raw)
    if m is None:
        return None
    factor = tonnes_factor(m["unit"]) or 1.0
    product = re.split(r"[(;]", m["rest"])[0].strip().rstrip(",")
    for word in ("battery-grade", "battery grade"):
        product = product.replace(word, "")
    product = re.sub(r"\s+(targeted|planned|expected)\b.*$", "", product).strip()
    qual = m["qual"].lower() if m["qual"] else None
    return Capacity(
        value=float(m["num"].replace(",", "")) * factor,
        unit="t/yr",
        product=product,
        raw=raw,
        qualifier=_QUALIFIERS.get(qual) if qual else None,
    )


def convert(capacity: Capacity) -> Capacity:
    """Fill the contained-metal and LCE figures where a documented factor exists; else say why not."""
    product = capacity.product.lower()
    for phrase in sorted(PRODUCT_FACTORS, key=len, reverse=True):
        if phrase in product:
            f = PRODUCT_FACTORS[phrase]
            contained = capacity.value * f.contained_fraction
            lce = contained * LCE_PER_T_LI if f.mineral == "lithium" else None
            note = f"{f.formula} = {f.contained_fraction:.5f} t {f.mineral} per t {phrase}"
            if lce is not None:
                note += f"; LCE = Li × {LCE_PER_T_LI:.4f}"
            return replace(
                capacity,
                mineral=f.mineral,
                contained_t_per_year=contained,
                lce_t_per_year=lce,
                factor_note=note,
            )
    if "ore" in product.split() or product.endswith("ore"):
        why = "ore tonnage: the grade and recovery are not stated, so no contained-metal factor"
    elif "," in product:
        why = "several metals in one stream: no split by metal stated, so no contained-metal factor"
    else:
        why = f"no documented contained-metal factor for {capacity.product!r}"
    return replace(capacity, factor_note=why)
