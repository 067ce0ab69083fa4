"""Which USGS series feeds which (mineral, stage, measure, basis), and which one indicators use.

Held as data so that docs/data-usgs.md and the tests read the same table. Stage rules:
"Mine production" → mining; "Refinery", "Smelter", "Plant"/primary metal and oxide production → refining;
reserves are in-ground and always stage mining. Basis: a series reported as metal/oxide content
("… content", "REO equivalent", "K2O equivalent", mine production of metals in MCS 2026 whose chapter header
says "content") → contained; ore, concentrate, mineral or product weight → gross.

Chapters not listed in ``*_CHAPTERS`` raise (so a new USGS chapter is never dropped unnoticed); chapters listed
with ``None`` are out of Lodeline's scope (not a critical mineral in the registry) and are skipped on purpose.
"""

from __future__ import annotations

from typing import NamedTuple


class Series(NamedTuple):
    mineral: str
    stage: str
    basis: str
    primary: bool
    series_as: str | None = None  # store under this label (qualifier variants folded into one series)


# --- MCS 2026: key (chapter, Statistics, Statistics_detail without ": rounded", lower-case) ----------------
S26: dict[tuple[str, str, str], Series] = {}


def _s26(chapter: str, stat: str, detail: str, *spec: object, **kw: object) -> None:
    S26[(chapter, stat.lower(), detail.lower())] = Series(*spec, **kw)  # type: ignore[arg-type]


_s26("ALUMINUM", "Production", "Smelter production", "aluminium", "refining", "gross", True)
_s26("ALUMINUM", "Capacity", "Yearend capacity", "aluminium", "refining", "gross", True)
_s26("ANTIMONY", "Production", "Mine production", "antimony", "mining", "contained", True)
_s26("ANTIMONY", "Reserves", "Reserves", "antimony", "mining", "contained", True)
_s26(
    "ARSENIC",
    "Production",
    "Production (arsenic trioxide, gross weight)",
    "arsenic",
    "refining",
    "gross",
    True,
)
_s26(
    "ARSENIC",
    "Capacity",
    "Refinery capacity (arsenic trioxide, gross weight)",
    "arsenic",
    "refining",
    "gross",
    True,
)
_s26("BARITE", "Production", "Mine production", "baryte", "mining", "gross", True)
_s26("BARITE", "Reserves", "Reserves", "baryte", "mining", "gross", True)
_s26(
    "BAUXITE AND ALUMINA", "Production", "Alumina, refinery production", "alumina", "refining", "gross", True
)
_s26("BAUXITE AND ALUMINA", "Production", "Bauxite, mine production", "bauxite", "mining", "gross", True)
_s26("BAUXITE AND ALUMINA", "Reserves", "Bauxite reserves", "bauxite", "mining", "gross", True)
_s26("BERYLLIUM", "Production", "Mine production", "beryllium", "mining", "contained", True)
_s26("BISMUTH", "Production", "Refinery production", "bismuth", "refining", "contained", True)
_s26("BISMUTH", "Capacity", "Production capacity", "bismuth", "refining", "contained", True)
# Boron: every country reports a different product (ulexite, crude ore, refined borates …). One series, the form
# goes to the note; USGS itself publishes no world total ("XX"), so shares are not comparable across forms.
for _form in ("All forms", "crude ore", "ulexite", "boric oxide equivalent", "compounds", "crude borates",
              "datolite ore", "refined borates"):  # fmt: skip
    _s26("BORON", "Production", f"Production—{_form}", "boron", "mining", "gross", True,
         series_as="Production (form differs by country)")  # fmt: skip
    _s26("BORON", "Reserves", f"Reserves—{_form}", "boron", "mining", "gross", True,
         series_as="Reserves (form differs by country)")  # fmt: skip
_s26(
    "BORON",
    "Reserves",
    "Reserves",
    "boron",
    "mining",
    "gross",
    True,
    series_as="Reserves (form differs by country)",
)
_s26("CHROMIUM", "Production", "Mine production", "chromium", "mining", "gross", True)
_s26("CHROMIUM", "Reserves", "Reserves: Ore", "chromium", "mining", "gross", True)
_s26("CHROMIUM", "Reserves", "Reserves: Cr2O3 content", "chromium", "mining", "contained", False)
_s26("COBALT", "Production", "Mine production", "cobalt", "mining", "contained", True)
_s26("COBALT", "Reserves", "Reserves", "cobalt", "mining", "contained", True)
_s26("COPPER", "Production", "Mine production", "copper", "mining", "contained", True)
_s26("COPPER", "Production", "Refinery production", "copper", "refining", "contained", True)
_s26("COPPER", "Reserves", "Reserves", "copper", "mining", "contained", True)
for _q in ("", ": beneficiated, marketable", ": includes pegmatites"):
    _s26("FELDSPAR AND NEPHELINE SYENITE", "Production", f"Mine production{_q}", "feldspar", "mining", "gross",
         True, series_as="Mine production")  # fmt: skip
    _s26("FELDSPAR AND NEPHELINE SYENITE", "Reserves", f"Reserves{_q}", "feldspar", "mining", "gross", True,
         series_as="Reserves")  # fmt: skip
_s26("FLUORSPAR", "Production", "Mine production", "fluorspar", "mining", "gross", True)
_s26("FLUORSPAR", "Reserves", "Reserves", "fluorspar", "mining", "gross", True)
_s26("GALLIUM", "Production", "Primary production", "gallium", "refining", "contained", True)
_s26("GALLIUM", "Capacity", "Production capacity", "gallium", "refining", "contained", True)
_s26("GRAPHITE (NATURAL)", "Production", "Mine production", "graphite", "mining", "gross", True)
_s26("GRAPHITE (NATURAL)", "Reserves", "Reserves", "graphite", "mining", "gross", True)
# Helium is extracted from natural gas at the field: primary extraction, recorded as stage mining.
_s26("HELIUM AND RARE GASES", "Production", "Helium Production", "helium", "mining", "contained", True)
_s26("HELIUM AND RARE GASES", "Reserves", "Helium Reserves", "helium", "mining", "contained", True)
_s26("INDIUM", "Production", "Refinery production", "indium", "refining", "contained", True)
_s26("INDIUM", "Capacity", "Refinery capacity", "indium", "refining", "contained", True)
_s26("IRON ORE", "Production", "Mine production: Usable ore", "iron-ore", "mining", "gross", True)
_s26("IRON ORE", "Production", "Mine production: Iron content", "iron-ore", "mining", "contained", False)
_s26("IRON ORE", "Reserves", "Reserves (million metric tons): Crude ore", "iron-ore", "mining", "gross", True)
_s26("IRON ORE", "Reserves", "Reserves (million metric tons): Iron content", "iron-ore", "mining", "contained",
     False)  # fmt: skip
_s26("LEAD", "Production", "Mine production", "lead", "mining", "contained", True)
_s26("LEAD", "Reserves", "Reserves", "lead", "mining", "contained", True)
_s26("LITHIUM", "Production", "Mine production", "lithium", "mining", "contained", True)
_s26("LITHIUM", "Reserves", "Reserves", "lithium", "mining", "contained", True)
_s26("MAGNESIUM METAL", "Production", "Smelter production", "magnesium", "refining", "gross", True)
_s26("MAGNESIUM METAL", "Capacity", "Smelter capacity", "magnesium", "refining", "gross", True)
_s26("MANGANESE", "Production", "Mine production", "manganese", "mining", "contained", True)
_s26("MANGANESE", "Reserves", "Reserves", "manganese", "mining", "contained", True)
_s26("MOLYBDENUM", "Production", "Mine production", "molybdenum", "mining", "contained", True)
_s26("MOLYBDENUM", "Reserves", "Reserves (thousand metric tons)", "molybdenum", "mining", "contained", True)
_s26("NICKEL", "Production", "Mine production", "nickel", "mining", "contained", True)
_s26("NICKEL", "Reserves", "Reserves", "nickel", "mining", "contained", True)
_s26("NIOBIUM (COLUMBIUM)", "Production", "Mine production", "niobium", "mining", "contained", True)
_s26("NIOBIUM (COLUMBIUM)", "Reserves", "Reserves", "niobium", "mining", "contained", True)
_s26("PHOSPHATE ROCK", "Production", "Mine production", "phosphate", "mining", "gross", True)
_s26("PHOSPHATE ROCK", "Reserves", "Reserves", "phosphate", "mining", "gross", True)
_s26(
    "PLATINUM-GROUP METALS",
    "Production",
    "Mine production: Palladium",
    "palladium",
    "mining",
    "contained",
    True,
)
_s26(
    "PLATINUM-GROUP METALS",
    "Production",
    "Mine production: Platinum",
    "platinum",
    "mining",
    "contained",
    True,
)
_s26(
    "PLATINUM-GROUP METALS", "Reserves", "PGM reserves", "platinum-group-metals", "mining", "contained", True
)
_s26("POTASH", "Production", "Mine production", "potash", "mining", "contained", True)
_s26("POTASH", "Reserves", "Reserves: K2O equivalent", "potash", "mining", "contained", True)
_s26("POTASH", "Reserves", "Reserves, Recoverable ore", "potash", "mining", "gross", False)
_s26("RARE EARTHS", "Production", "Mine production", "rare-earths", "mining", "contained", True)
_s26("RARE EARTHS", "Reserves", "Reserves", "rare-earths", "mining", "contained", True)
_s26("RHENIUM", "Production", "Mine production", "rhenium", "mining", "contained", True)
_s26("RHENIUM", "Reserves", "Reserves", "rhenium", "mining", "contained", True)
# Scandium: USGS gives only a world figure for scandium oxide output and capacity (refining) and Australia's reserves.
_s26("SCANDIUM", "Production", "global production", "scandium", "refining", "gross", True)
_s26("SCANDIUM", "Capacity", "global capacity for scandium oxide", "scandium", "refining", "gross", True)
_s26("SCANDIUM", "Reserves", "Australia’s reserves (accessible Economic Demonstrated Resources)", "scandium",
     "mining", "contained", True)  # fmt: skip
_s26("SILICON", "Production", "Silicon metal", "silicon", "refining", "contained", True)
_s26("SILICON", "Production", "Ferrosilicon", "silicon", "refining", "contained", False)
_s26("SILVER", "Production", "Mine production", "silver", "mining", "contained", True)
_s26("SILVER", "Reserves", "Reserves", "silver", "mining", "contained", True)
_s26("STRONTIUM", "Production", "Mine production", "strontium", "mining", "gross", True)
_s26("STRONTIUM", "Reserves", "Reserves", "strontium", "mining", "gross", True)
_s26("TANTALUM", "Production", "Mine production", "tantalum", "mining", "contained", True)
_s26("TANTALUM", "Reserves", "Reserves", "tantalum", "mining", "contained", True)
for _q in ("", ": copper telluride", ": concentrate"):
    _s26("TELLURIUM", "Production", f"Refinery production{_q}", "tellurium", "refining", "contained", True,
         series_as="Refinery production")  # fmt: skip
    _s26("TELLURIUM", "Capacity", f"Refinery capacity{_q}", "tellurium", "refining", "contained", True,
         series_as="Refinery capacity")  # fmt: skip
_s26("TIN", "Production", "Mine production", "tin", "mining", "contained", True)
_s26("TIN", "Reserves", "Reserves", "tin", "mining", "contained", True)
_s26("TITANIUM AND TITANIUM DIOXIDE", "Production", "Titanium sponge metal production", "titanium", "refining",
     "gross", True)  # fmt: skip
_s26("TITANIUM AND TITANIUM DIOXIDE", "Capacity", "Titanium sponge metal Capacity", "titanium", "refining",
     "gross", True)  # fmt: skip
_s26(
    "TITANIUM AND TITANIUM DIOXIDE",
    "Capacity",
    "TiO2 Pigment Capacity",
    "titanium",
    "refining",
    "gross",
    False,
)
# Ilmenite carries most titanium mine output and most countries; it is the primary series (TiO2 content).
_s26("TITANIUM MINERAL CONCENTRATES", "Production", "Mine production: Ilmenite", "titanium", "mining",
     "contained", True, series_as="Mine production: Ilmenite")  # fmt: skip
_s26("TITANIUM MINERAL CONCENTRATES", "Production", "Mine production: Rutile", "titanium", "mining",
     "contained", False, series_as="Mine production: Rutile")  # fmt: skip
_s26("TITANIUM MINERAL CONCENTRATES", "Production", "Mine production: ilmenite and rutile", "titanium", "mining",
     "contained", False)  # fmt: skip
_s26("TITANIUM MINERAL CONCENTRATES", "Reserves", "Reserves: Ilmenite", "titanium", "mining", "contained", True,
     series_as="Reserves: Ilmenite")  # fmt: skip
_s26("TITANIUM MINERAL CONCENTRATES", "Reserves", "Reserves: Rutile", "titanium", "mining", "contained", False,
     series_as="Reserves: Rutile")  # fmt: skip
_s26("TITANIUM MINERAL CONCENTRATES", "Reserves", "Reserves: ilmenite and rutile", "titanium", "mining",
     "contained", False)  # fmt: skip
_s26("TUNGSTEN", "Production", "Mine production", "tungsten", "mining", "contained", True)
_s26("TUNGSTEN", "Reserves", "Reserves", "tungsten", "mining", "contained", True)
_s26("VANADIUM", "Production", "Mine production", "vanadium", "mining", "contained", True)
_s26("VANADIUM", "Reserves", "Reserves", "vanadium", "mining", "contained", True)
_s26("ZINC", "Production", "Mine production", "zinc", "mining", "contained", True)
_s26("ZINC", "Reserves", "Reserves", "zinc", "mining", "contained", True)
_s26("ZIRCONIUM AND HAFNIUM", "Production",
     "Zirconium mineral concentrates, mine production (thousand metric tons, gross weight)", "zirconium", "mining",
     "gross", True)  # fmt: skip
_s26("ZIRCONIUM AND HAFNIUM", "Reserves", "Zirconium reserves(thousand metric tons, ZrO2 content)", "zirconium",
     "mining", "contained", True)  # fmt: skip

#: Rows of in-scope chapters that are deliberately not loaded, with the reason (matched on the lower-case key).
SKIP26: dict[tuple[str, str, str], str] = {
    ("HELIUM AND RARE GASES", "production", "rare gases production, (million liters)"): "neon/krypton/xenon are "
    "not helium and not in the mineral registry",
    ("YTTRIUM", "production", "mine production of y2o3 equivalent contained in rare-earth mineral concentrates"):
    "world total given only as a range (10,000–15,000 t); yttrium is inside the rare-earths REO series",
    ("CESIUM", "reserves", "australia, canada, china, and namibia were estimated to have reserves totaling less "
     "than 200,000 tons"): "a sentence, not a table: no per-country figure",
    ("RUBIDIUM", "reserves", "australia, canada, china, and namibia were estimated to have reserves totaling less "
     "than 200,000 tons of recoverable rubidium materials"): "a sentence, not a table: no per-country figure",
}  # fmt: skip

#: Chapter → whether its world tables are in scope. Out-of-scope chapters carry the reason.
IN_SCOPE_26 = sorted({k[0] for k in S26} | {k[0] for k in SKIP26})
OUT_OF_SCOPE_26: dict[str, str] = {
    c: "not a critical mineral in Lodeline's registry (domain/data/minerals.yaml)"
    for c in (
        "ABRASIVES (MANUFACTURED)", "ASBESTOS", "BROMINE", "CADMIUM", "CEMENT", "CLAYS", "DIAMOND (INDUSTRIAL)",
        "DIATOMITE", "GARNET (INDUSTRIAL)", "GEMSTONES", "GOLD", "GYPSUM", "IODINE", "IRON AND STEEL",
        "IRON AND STEEL SCRAP", "IRON AND STEEL SLAG", "IRON OXIDE PIGMENTS", "KYANITE AND RELATED MINERALS",
        "LIME", "MAGNESIUM COMPOUNDS", "MERCURY", "MICA (NATURAL)", "NITROGEN (FIXED)—AMMONIA", "PEAT", "PERLITE",
        "PUMICE AND PUMICITE", "QUARTZ (High-purity and Industrial Cultured CRYSTAL)", "SALT",
        "SAND AND GRAVEL (CONSTRUCTION)", "SAND AND GRAVEL (INDUSTRIAL)", "SELENIUM", "SODA ASH", "STONE (CRUSHED)",
        "STONE (DIMENSION)", "SULFUR", "TALC AND PYROPHYLLITE", "THALLIUM", "THORIUM", "VERMICULITE",
        "WOLLASTONITE", "ZEOLITES (NATURAL)",
    )
}  # fmt: skip

#: Salient statistics (MCS 2026): (chapter, Commodity column) → mineral; ``None`` = skipped (not in registry).
SALIENT26_COMMODITY: dict[tuple[str, str], str | None] = {
    ("HELIUM AND RARE GASES", "Argon"): None,
    ("HELIUM AND RARE GASES", "Neon"): None,
    ("HELIUM AND RARE GASES", "Krypton"): None,
    ("HELIUM AND RARE GASES", "Xenon"): None,
    ("HELIUM AND RARE GASES", "Neon, krypton, and xenon "): None,
    ("FELDSPAR AND NEPHELINE SYENITE", "Nepheline Syenite"): None,
    ("PLATINUM-GROUP METALS", "Palladium"): "palladium",
    ("PLATINUM-GROUP METALS", "Platinum"): "platinum",
    ("ZIRCONIUM AND HAFNIUM", "Hafnium"): "hafnium",
    ("TITANIUM AND TITANIUM DIOXIDE", "TiO2 pigment"): "titanium",
}
#: Salient chapter → mineral for chapters without a world table of their own (or whose minerals differ).
SALIENT26_CHAPTER: dict[str, str] = {
    "GERMANIUM": "germanium",
    "RARE EARTHS (Heavy)": "rare-earths",
    "YTTRIUM": "rare-earths",  # USGS REO data include yttrium; EU counts it among the heavy rare earths
    "BAUXITE AND ALUMINA": "bauxite",
    "PLATINUM-GROUP METALS": "platinum-group-metals",
    "HELIUM AND RARE GASES": "helium",
    "TITANIUM MINERAL CONCENTRATES": "titanium",
    "TITANIUM AND TITANIUM DIOXIDE": "titanium",
    "ZIRCONIUM AND HAFNIUM": "zirconium",
    "FELDSPAR AND NEPHELINE SYENITE": "feldspar",
}
SALIENT26_COMMODITY[("BAUXITE AND ALUMINA", "Alumina")] = "alumina"


def chapter_mineral_26(chapter: str) -> str | None:
    """The mineral a chapter's salient statistics describe (from its primary world series), if in scope."""
    if chapter in SALIENT26_CHAPTER:
        return SALIENT26_CHAPTER[chapter]
    minerals = {s.mineral for k, s in S26.items() if k[0] == chapter}
    return minerals.pop() if len(minerals) == 1 else None


# --- MCS 2025 world data: key (COMMODITY, TYPE), both stripped and lower-case ----------------------------
class Series25(NamedTuple):
    series: Series
    reserves_unit: str | None = None  # USGS notes say the reserves column uses another unit
    reserves_basis: str | None = None
    reserves_mineral: str | None = None  # PGM reserves sit on the palladium row
    reserves_is_capacity: bool = False  # indium: the "reserves" column holds refinery capacity (USGS slip)
    unit: str | None = None  # UNIT_MEAS is wrong for the production/capacity columns (USGS slip)


S25: dict[tuple[str, str], Series25] = {}


def _s25(commodity: str, kind: str, *spec: object, series_as: str | None = None, **kw: object) -> None:
    S25[(commodity.lower(), kind.lower())] = Series25(Series(*spec, series_as=series_as), **kw)  # type: ignore[arg-type,misc]


_s25("Aluminum", "Smelter production, aluminum", "aluminium", "refining", "gross", True)
_s25("Antimony", "Mine production, antimony content", "antimony", "mining", "contained", True)
_s25(
    "Arsenic",
    "Plant production, arsenic trioxide or calculated equivalent.",
    "arsenic",
    "refining",
    "gross",
    True,
)
_s25("Barite", "Mine production, barite, estimated", "baryte", "mining", "gross", True)
_s25("Bauxite", "Mine production, bauxite, dry tons", "bauxite", "mining", "gross", True)
_s25(
    "Bauxite",
    "Refinery production, alumina - calcined equivalent weights",
    "alumina",
    "refining",
    "gross",
    True,
)
_s25("Beryllium", "Mine production, beryllium content", "beryllium", "mining", "contained", True)
_s25("Bismuth", "Refinery production", "bismuth", "refining", "contained", True)
_s25("Boron", "Boron all types", "boron", "mining", "gross", True)
_s25(
    "Chromium", "Mine production, grosss weight, marketable chromite ore", "chromium", "mining", "gross", True
)
_s25("Cobalt", "Mine production, cobalt content, estimated", "cobalt", "mining", "contained", True)
# The United States row alone is labelled without "cobalt content"; it belongs to the same table column.
_s25("Cobalt", "Mine production, estimated", "cobalt", "mining", "contained", True,
     series_as="Mine production, cobalt content, estimated")  # fmt: skip
_s25("Copper", "Mine production, recoverable copper content", "copper", "mining", "contained", True)
_s25("Copper", "Refinery production, copper", "copper", "refining", "contained", True)
_s25("Feldspar", "Mine production, estimated", "feldspar", "mining", "gross", True)
_s25("Fluorspar", "Mine production, estimated", "fluorspar", "mining", "gross", True)
_s25("Gallium", "Primary production", "gallium", "refining", "contained", True)
_s25("Gemanium", "Primary and secondary refinery production", "germanium", "refining", "contained", True)
_s25("Graphite", "Mine production", "graphite", "mining", "gross", True)
_s25("Helium", "Production, helium gas content", "helium", "mining", "contained", True)
_s25("Indium", "Refinery production", "indium", "refining", "contained", True, reserves_is_capacity=True)
_s25("Iron Ore", "Mine production, usable ore", "iron-ore", "mining", "gross", True,
     reserves_unit="million metric tons")  # fmt: skip
_s25("Iron Ore", "Mine production, iron content", "iron-ore", "mining", "contained", False,
     reserves_unit="million metric tons")  # fmt: skip
_s25("Lead", "Mine production, lead content", "lead", "mining", "contained", True)
_s25("Lithium", "Mine production, lithium content", "lithium", "mining", "contained", True)
_s25("Magnesium metal", "Magnesium smelter production", "magnesium", "refining", "gross", True)
_s25("Manganese", "Mine production, manganese content", "manganese", "mining", "contained", True,
     reserves_basis="gross")  # fmt: skip
_s25("Molybdenum", "Mine production, molybdenum content", "molybdenum", "mining", "contained", True,
     reserves_unit="thousand metric tons")  # fmt: skip
_s25("Nickel", "Mine production, nickel content", "nickel", "mining", "contained", True)
_s25("Niobium", "Mine production, niobium content", "niobium", "mining", "contained", True)
_s25("Phosphate rock", "Mine production, marketable phosphate rock", "phosphate", "mining", "gross", True)
_s25("Platinum-Group metals", "Mine production, Palladium content", "palladium", "mining", "contained", True,
     reserves_mineral="platinum-group-metals")  # fmt: skip
_s25("Platinum-Group metals", "Mine production, Platinum content", "platinum", "mining", "contained", True)
_s25("Potash", "Mine production, potassium oxide (K2O) equivalent", "potash", "mining", "contained", True)
_s25("Potash", "Reserves, recoverable ore", "potash", "mining", "gross", False)
_s25(
    "Rare earths", "Mine production, rare-earth-oxide equivalent", "rare-earths", "mining", "contained", True
)
_s25("Rhenium", "Mine production, rhenium content", "rhenium", "mining", "contained", True)
_s25("Silicon", "Plant production, silicon metal", "silicon", "refining", "contained", True)
_s25("Silicon", "Plant production, Ferosilicon, silicon content", "silicon", "refining", "contained", False)
_s25("Silver", "Mine production, silver content", "silver", "mining", "contained", True)
_s25("Strontium", "Mine production, strontium content", "strontium", "mining", "contained", True)
_s25("Tantalum", "Mine production, tantalum content", "tantalum", "mining", "contained", True)
_s25("Tellurium", "Refinery production, tellurium content", "tellurium", "refining", "contained", True)
_s25("Tin", "Mine production, tin content", "tin", "mining", "contained", True)
_s25("Titanium & titanium dioxide", "Sponge Metal Production", "titanium", "refining", "gross", True)
_s25("Titanium & titanium dioxide", "Pigment Capacity", "titanium", "refining", "gross", False)
# UNIT_MEAS says "metric tons" but the figures (world ilmenite 8,840) are thousand metric tons, as MCS 2026 and
# the MCS 2025 PDF print them; reserves (510,000 world ilmenite) are likewise thousand metric tons.
_s25("Titanium Mineral Concentrates", "Mine production, ilmentite, titanium dioxide (TiO2) content", "titanium",
     "mining", "contained", True, unit="thousand metric tons", reserves_unit="thousand metric tons")  # fmt: skip
_s25("Titanium Mineral Concentrates", "Mine production, rutile, titanium dioxide (TiO2) content", "titanium",
     "mining", "contained", False, unit="thousand metric tons", reserves_unit="thousand metric tons")  # fmt: skip
_s25("Tungsten", "Mine production, tungsten content", "tungsten", "mining", "contained", True)
_s25("Vanadium", "Mine production, vanadium content", "vanadium", "mining", "contained", True,
     reserves_unit="thousand metric tons")  # fmt: skip
_s25("Zinc", "Mine production, zinc content", "zinc", "mining", "contained", True)
_s25("Zirconium and Hafnium", "Mine production, zirconium, gross weight", "zirconium", "mining", "gross", True,
     reserves_basis="contained")  # fmt: skip

#: (commodity, country qualifier prefix) → own non-primary series: the row is not the same quantity as its TYPE.
QUALIFIER_SERIES_25: dict[tuple[str, str], str] = {
    # World total of ilmenite + rutile, printed on an ilmenite row after the ilmenite world total.
    (
        "titanium mineral concentrates",
        "ilmenite and rutile",
    ): "Mine production, ilmenite and rutile, titanium dioxide (TiO2) content",
    # Crude helium withdrawn from the federal Cliffside storage field: a second US row besides helium extracted
    # from natural gas (MCS 2026 prints one combined US figure).
    (
        "helium",
        "from Cliffside Field",
    ): "Production, helium gas content: from Cliffside Field (federal storage)",
}

OUT_OF_SCOPE_25: dict[str, str] = {
    c.lower(): "not a critical mineral in Lodeline's registry (domain/data/minerals.yaml)"
    for c in (
        "Abrasives", "Asbestos", "Bromine", "Cadmium", "Cement", "Clays", "Diamond (industrial)", "Diatomite",
        "Garnet (industrial)", "Gemstones", "Gold", "Gypsum", "Iodine", "Iron and Steel", "Iron oxide pigments",
        "Kyanite and Related Minerals", "Lime", "Magnesium Compounds", "Mercury", "Mica (Natural)",
        "Nitrogen(fixed) - Ammonia", "Peat", "Perlite", "Pumice & Pumicite", "Salt",
        "Sand and gravel (industrial)", "Selenium", "Soda ash", "Sulfur", "Talc and Pyrophyllite", "Talc, crude",
        "Vermiculite", "Wollastonite", "Zeolites (natural)",
    )
}  # fmt: skip
