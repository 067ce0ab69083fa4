"""The official EU 2023 critical raw materials that our bundled data covers come out critical (SR >= 1) in
the majority of sensitivity draws; the documented exceptions stay exceptions.

EI is not bundled (no end-use shares or NACE value added), so "critical" here is the supply-risk criterion:
each of these materials met EI >= 2.8 in the EC assessment, so the SR test is the one our data decides.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy import Engine

from lodeline.risk.assessment import assessment_table, compile_assessment
from lodeline.risk.loader import load_risk_inputs
from lodeline.risk.sensitivity import sensitivity_summary

# Annex II (section 2) of Regulation (EU) 2024/1252, in the EC 2023 study's material names; groups by member.
HREE = (
    "Dysprosium",
    "Erbium",
    "Europium",
    "Gadolinium",
    "Holmium",
    "Lutetium",
    "Terbium",
    "Thulium",
    "Ytterbium",
    "Yttrium",
)
LREE = ("Cerium", "Lanthanum", "Neodymium", "Praseodymium", "Samarium")
PGM = ("Iridium", "Palladium", "Platinum", "Rhodium", "Ruthenium")
EU_CRM_2023 = frozenset(
    {
        "Aluminium",  # listed as bauxite/alumina/aluminium
        "Antimony",
        "Arsenic",
        "Baryte",
        "Beryllium",
        "Bismuth",
        "Boron",
        "Cobalt",
        "Coking coal",
        "Copper",
        "Feldspar",
        "Fluorspar",
        "Gallium",
        "Germanium",
        "Hafnium",
        "Helium",
        "Lithium",
        "Magnesium",
        "Manganese",
        "Natural graphite",
        "Nickel",
        "Niobium",
        "Phosphate rock",
        "Phosphorus",
        "Scandium",
        "Silicon metal",
        "Strontium",
        "Tantalum",
        "Titanium metal",
        "Tungsten",
        "Vanadium",
        *HREE,
        *LREE,
        *PGM,
    }
)
#: On the list without meeting the SR threshold in the EC's own assessment: copper (SR ~0.2 in the EC study)
#: was added as a strategic raw material by the CRMA. Documented in docs/methods/criticality.md.
EXPECTED_NOT_CRITICAL = frozenset({"Copper"})


def test_listed_materials_are_critical_in_most_draws(built_sqlite: tuple[str, Engine]) -> None:
    inputs = load_risk_inputs(built_sqlite[1])
    compiled = compile_assessment(inputs.params, inputs.shares, inputs.trade_factors, inputs.governance)
    table = assessment_table(compiled)
    summary = sensitivity_summary(compiled.model, 1000, seed=0)
    covered = summary.filter(pl.col("material").is_in(list(EU_CRM_2023)) & (pl.col("status") == "ok"))
    p = dict(covered.select("material", "p_sr_above_threshold").iter_rows())
    # The check cannot pass vacuously: most of the list must be covered by the bundled data.
    assert len(p) >= 35, sorted(p)
    failing = {m for m, value in p.items() if value is None or value <= 0.5}
    assert failing == EXPECTED_NOT_CRITICAL & set(p), {m: p[m] for m in failing}
    # Listed materials the data cannot cover are reported as insufficient data, never as SR 0.
    uncovered = table.filter(pl.col("material").is_in(list(EU_CRM_2023 - set(p))))
    flagged = summary.filter(pl.col("material").is_in(list(EU_CRM_2023 - set(p))))
    assert (
        set(flagged["status"]) == {"insufficient data"} and flagged["sr_mean"].null_count() == flagged.height
    )
    assert uncovered.height > 0
    assert uncovered["sr"].null_count() == uncovered.height
    assert set(uncovered["status"].to_list()) == {"insufficient data"}
    assert all(r for r in uncovered["reason"].to_list())


def test_assessment_uses_real_sources_and_reports_provenance(built_sqlite: tuple[str, Engine]) -> None:
    inputs = load_risk_inputs(built_sqlite[1])
    table = assessment_table(
        compile_assessment(
            inputs.params,
            inputs.shares,
            inputs.trade_factors,
            inputs.governance,
            extra_provenance=inputs.provenance,
        )
    )
    assert table.height == inputs.params["material"].n_unique()
    gallium = table.filter(pl.col("material") == "Gallium").row(0, named=True)
    # China refines almost all primary gallium: HHI_GS alone is ~0.98^2 * WGI_CHN(~6.4) * t_c; SR far above 1
    assert gallium["sr"] > 3.0
    assert "usgs_mcs" in gallium["provenance"] and "eu_crm_2023" in gallium["provenance"]
    assert "wgi" in gallium["provenance"]
    lead = table.filter(pl.col("material") == "Lead").row(0, named=True)
    assert lead["sr"] < 1.0  # diversified supply, high end-of-life recycling (83 %)
