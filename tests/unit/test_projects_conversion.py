"""Capacity to contained metal and LCE with hand-worked factors; a project with no (convertible) capacity
contributes nothing and is flagged, never zero-filled."""

from __future__ import annotations

from pathlib import Path

import pytest

from lodeline.config import get_settings
from lodeline.data.sources import policy_projects
from lodeline.projects.conversion import convert, parse_capacity
from lodeline.projects.metrics import capital_intensity, compare_row, displacement
from lodeline.projects.recycling import pipeline_capacity
from lodeline.projects.register import eu_projects
from lodeline.projects.schema import Capacity, Money, Project, ProjectStage


def _eu() -> dict[str, Project]:
    folder = Path(get_settings().raw_dir) / "policy_facts"
    return {p.project_id: p for p in eu_projects(policy_projects.parse(folder)["projects"])}


def test_lithium_hydroxide_to_lithium_and_lce() -> None:
    """Hand-worked: LiOH·H2O = 6.94 + 15.999 + 1.008 + (2×1.008 + 15.999) = 41.962 g/mol, so Li is
    6.94 / 41.962 = 0.165388 of its mass; 30,000 t × 0.165388 = 4,961.6 t Li. LCE per t Li = Li2CO3 / 2 Li =
    73.888 / 13.88 = 5.32334, so 4,961.6 × 5.32334 = 26,412 t LCE (the familiar ≈0.88 t LCE per t hydroxide)."""
    cap = convert(Capacity(30_000, "t/yr", "lithium hydroxide", "30,000 t/yr lithium hydroxide"))
    assert cap.mineral == "lithium"
    assert cap.contained_t_per_year == pytest.approx(4_961.6, abs=0.1)
    assert cap.lce_t_per_year == pytest.approx(26_412, abs=1)
    assert cap.lce_t_per_year / 30_000 == pytest.approx(0.8804, abs=1e-4)


def test_lithium_carbonate_is_its_own_lce_and_manganese_sulphate() -> None:
    """Li2CO3 = 2×6.94 + 12.011 + 3×15.999 = 73.888: Li = 13.88 / 73.888 = 0.187852, so 58,000 t (Jadar, row of
    eu_crma_strategic_projects.csv) holds 10,895.4 t Li and is 58,000 t LCE. MnSO4·H2O = 54.938 + 32.06 + 63.996 +
    18.015 = 169.009: Mn = 0.325060, so 50,000 t (Chvaletice) holds 16,253 t Mn; manganese has no LCE."""
    eu = _eu()
    jadar = eu["dsg-eu-crma-jadar"].capacity
    assert jadar is not None and jadar.value == 58_000
    assert jadar.contained_t_per_year == pytest.approx(10_895.4, abs=0.1)
    assert jadar.lce_t_per_year == pytest.approx(58_000, rel=1e-9)
    mn = eu["dsg-eu-crma-chvaletice"].capacity
    assert mn is not None and mn.mineral == "manganese"
    assert mn.contained_t_per_year == pytest.approx(16_253, abs=1)
    assert mn.lce_t_per_year is None


def test_parse_capacity_wordings_from_the_file() -> None:
    at_least = parse_capacity("at least 10,000 t/yr lithium carbonate targeted by 2030")
    assert at_least is not None
    assert (at_least.value, at_least.product, at_least.qualifier) == (10_000, "lithium carbonate", "at_least")
    about = parse_capacity("~500,000 t/yr processed ore")
    assert about is not None and about.qualifier == "approximately" and about.product == "processed ore"
    assert parse_capacity("large plant, figure not given") is None


def test_ore_and_mixed_streams_are_flagged_not_converted() -> None:
    """Mina Doade states ore tonnage and CirCular a multi-metal scrap stream: no documented factor, so no contained
    figure, and the gap says why (never the gross tonnage, never zero)."""
    eu = _eu()
    doade = eu["dsg-eu-crma-mina-doade"]
    assert doade.capacity is not None and doade.capacity.contained_t_per_year is None
    assert "grade" in doade.gaps["contained_capacity"]
    circular = eu["dsg-eu-crma-circular"]
    assert circular.capacity is not None and circular.capacity.contained_t_per_year is None
    assert "several metals" in circular.gaps["contained_capacity"]


def test_project_without_capacity_contributes_nothing_and_is_flagged() -> None:
    """Two recycling projects for cobalt, one with 1,000 t/yr cobalt sulphate (CoSO4·7H2O = 281.096, Co = 58.933 /
    281.096 = 0.209651, so 209.65 t Co) and one with no capacity: the pipeline is 209.65 t (not more, not zero),
    and the second is listed as without capacity. Its capital intensity is None with the reason."""
    with_cap = Project(
        "a", "A", minerals=("cobalt",), stages=(ProjectStage.RECYCLING,),
        capacity=convert(Capacity(1_000, "t/yr", "cobalt sulphate", "1,000 t/yr cobalt sulphate")),
    )  # fmt: skip
    without = Project(
        "b", "B", minerals=("cobalt",), stages=(ProjectStage.RECYCLING,), capex=Money(5e7, "EUR")
    ).with_gaps()
    frame = pipeline_capacity([with_cap, without])
    row = frame.row(0, named=True)
    assert row["recycling_projects"] == 2 and row["with_capacity"] == 1
    assert row["capacity_contained_t"] == pytest.approx(209.65, abs=0.01)
    assert row["without_capacity"] == "b"
    assert without.gaps["capacity"] == "not stated in the source"
    value, why = capital_intensity(without)
    assert value is None and why == "not stated in the source"
    only_without = pipeline_capacity([without]).row(0, named=True)
    assert only_without["capacity_contained_t"] is None


def test_capital_intensity_hand_worked() -> None:
    """Rock Tech Guben (eu_crma_strategic_projects.csv): capex USD 762 m, kept in USD (no sourced exchange rate, so
    nothing is converted); 24,000 t/yr LiOH·H2O holds 24,000 × 0.165388 = 3,969.3 t Li; 762 m / 3,969.3 =
    USD 191,972 per t/yr of contained lithium."""
    guben = _eu()["dsg-eu-crma-rock-tech-guben"]
    value, why = capital_intensity(guben)
    assert why is None and guben.capex is not None and guben.capex.currency == "USD"
    assert value == pytest.approx(191_972, rel=1e-4)
    row = compare_row(guben)
    assert row["capex"] == 762e6 and row["capex_currency"] == "USD"
    assert row["capital_intensity_per_t_yr"] == pytest.approx(191_972, rel=1e-4)
    assert not any("eur" in k for k in row)  # no field claims a converted EUR figure


def test_displacement_hand_worked() -> None:
    """A supplier with 70 % of a 240,000 t market; 4,000 t of new alliance capacity: its share becomes
    0.7 × 240,000 / 244,000 = 0.688525, so the project displaces 0.7 − 0.688525 = 0.011475 (1.15 points)."""
    assert displacement(0.70, 240_000, 4_000) == pytest.approx(0.011475, abs=1e-6)
    assert displacement(0.70, 240_000, 0) == 0
