"""Projects ↔ deals links: hand-checked real pairs from the bundled files, and constructed cases for each rule
(names the project, names the promoter, country+mineral; never through a group party or a general agreement)."""

from __future__ import annotations

from typing import Any

from lodeline.projects.links import (
    COUNTRY_MINERAL,
    FINANCES,
    NAMES_PROJECT,
    NAMES_PROMOTER,
    PACKAGE,
    agreement_link,
    same_company,
)
from lodeline.projects.schema import Project, ProjectStage
from lodeline.services import deals, project_links
from lodeline.services import projects as service


def _agreement(aid: str) -> dict[str, Any]:
    (found,) = [a for a in deals.bundled()["agreements"] if a["agreement_id"] == aid]
    return found


def test_nolans_and_the_us_australia_framework() -> None:
    """Real pair. public_financing_commitments_partial.csv row fin-au-arafura-nolans-2025-equity: recipient Arafura
    Rare Earths Limited, project "Nolans rare earths project" (AU, rare earths) → register record
    fin-nolans-rare-earths-project; USD 100 m, part_of fin-us-au-framework-2025-au-financing (USD 1 bn), shown as
    the package. partnerships_agreements.csv row us-aus-2025: parties USA;AUS, minerals rare
    earths and gallium, not naming Nolans or Arafura → linked by country+mineral (AUS is a party, rare-earths named).
    The EU-Chile agreement (eu-chl-ita, parties EU;CHL) covers no Australian project."""
    nolans = service.get_project("fin-nolans-rare-earths-project", None)
    found = project_links.project_links(nolans)
    money = {m["id"]: m for m in found["commitments"]}
    equity = money["fin-au-arafura-nolans-2025-equity"]
    assert (equity["match"], equity["amount"], equity["currency"]) == (FINANCES, 100e6, "USD")
    framework = money["fin-us-au-framework-2025-au-financing"]  # the row's part_of: the AU financing envelope
    assert (framework["match"], framework["amount"]) == (PACKAGE, 1e9)
    assert len(money) == 2
    agreements = {a["id"]: a for a in found["agreements"]}
    us_aus = agreements["us-aus-2025"]
    assert us_aus["match"] == COUNTRY_MINERAL
    assert us_aus["why"] == "AUS is a party and the agreement names rare-earths; it does not name the project"
    assert "eu-chl-ita" not in agreements
    shown = project_links.deal_projects(_agreement("us-aus-2025"))
    assert {"project_id": "fin-nolans-rare-earths-project", "name": nolans.name, "match": COUNTRY_MINERAL,
            "why": us_aus["why"]} in shown  # fmt: skip


def test_round_top_is_financed_by_its_parts_and_their_packages() -> None:
    """Real pair. USA Rare Earth's CHIPS rows: fin-us-chips-usar-2026-round-top-direct-funding (USD 132 m) and
    -round-top-loan-guarantee (USD 550 m) name "Round Top Mine Project"; they are parts of the packages
    fin-us-chips-usar-2026-direct-funding (USD 277 m) and -loan-guarantee (USD 1,300 m), which the tally counts."""
    round_top = service.get_project("fin-round-top-mine-project", None)
    money = {m["id"]: m for m in project_links.project_links(round_top)["commitments"]}
    part = money["fin-us-chips-usar-2026-round-top-direct-funding"]
    assert (part["match"], part["amount"], part["counted"]) == (FINANCES, 132e6, False)
    package = money["fin-us-chips-usar-2026-direct-funding"]
    assert (package["match"], package["amount"], package["counted"]) == (PACKAGE, 277e6, True)
    assert money["fin-us-chips-usar-2026-round-top-loan-guarantee"]["amount"] == 550e6
    shown = project_links.commitment_projects("fin-us-chips-usar-2026-direct-funding")
    assert shown is not None and shown["amount"] == 277e6
    ids = {p["project_id"]: p["match"] for p in shown["projects"]}
    assert ids["fin-round-top-mine-project"] == PACKAGE and len(ids) == 5  # the package's five projects
    assert project_links.commitment_projects("no-such-commitment") is None


AGREEMENT = {"agreement_id": "x", "title": "Offtake for the Kestrel Ridge project", "note": None,
             "parties": ["USA", "Acme Lithium"], "named": ["Acme Lithium"], "minerals": ["lithium"],
             "general": False}  # fmt: skip


def test_each_rule_on_constructed_cases() -> None:
    p = Project("p", "Kestrel Ridge Project", promoters=("Acme Lithium, Inc.",), countries=("CA",),
                minerals=("lithium",), stages=(ProjectStage.EXTRACTION,))  # fmt: skip
    assert agreement_link(p, {"CAN"}, AGREEMENT).match == NAMES_PROJECT  # type: ignore[union-attr]
    other_name = Project(
        "q", "Other", promoters=("Acme Lithium Inc",), countries=("CA",), minerals=("lithium",)
    )
    link = agreement_link(other_name, {"CAN"}, AGREEMENT)
    assert link is not None and link.match == NAMES_PROMOTER and "'Acme Lithium'" in link.why
    us = Project("r", "Other", promoters=("Someone",), countries=("US",), minerals=("lithium",))
    assert agreement_link(us, {"USA"}, AGREEMENT).match == COUNTRY_MINERAL  # type: ignore[union-attr]
    assert agreement_link(us, {"USA"}, {**AGREEMENT, "minerals": ["nickel"]}) is None  # no shared mineral
    general = {
        **AGREEMENT,
        "title": "t",
        "named": [],
        "parties": ["USA", "CAN"],
        "minerals": [],
        "general": True,
    }
    assert (
        agreement_link(us, {"USA"}, general) is None
    )  # "critical minerals" in general: never by country alone
    group = {**AGREEMENT, "title": "t", "named": [], "parties": ["EU", "CHL"]}
    de = Project("s", "Other", countries=("DE",), minerals=("lithium",))
    assert agreement_link(de, {"DEU"}, group) is None  # the EU is a party, Germany is not named


def test_company_names() -> None:
    assert same_company("Tesla", "Tesla, Inc.") and same_company("MP Materials Corp.", "MP Materials")
    assert not same_company("MP", "MP Materials Corp.")  # no word of four letters: too weak
    assert not same_company("Arafura Rare Earths", "USA Rare Earth, Inc.")
