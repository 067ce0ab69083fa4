"""The register: parsing the bundled lists (errors naming file, row and column), de-duplication on a constructed
pair with the merge explained, and the real cross-list merge in the bundled data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lodeline.config import get_settings
from lodeline.data.sources import policy_commitments, policy_projects
from lodeline.errors import DataFormatError
from lodeline.projects.register import deduplicate, eu_projects, financed_projects, same_project
from lodeline.projects.schema import Capacity, Money, Project, ProjectStage, SourceRef, redact

RAW = Path(get_settings().raw_dir) / "policy_facts"


def test_all_sixty_designations_parse_with_gaps_as_reasons() -> None:
    projects = eu_projects(policy_projects.parse(RAW)["projects"])
    assert len(projects) == 60
    placeholders = [p for p in projects if "name" in p.gaps]
    assert len(placeholders) == 2
    with_capex = [p for p in projects if p.capex is not None]
    assert len(with_capex) == 7  # PROVENANCE: capex 7, capacity 7
    assert sum(1 for p in projects if p.capacity is not None) == 7
    portovesme = next(p for p in projects if p.project_id == "dsg-eu-crma-portovesme-hub")
    assert portovesme.capex == Money(350_000_000, "EUR", 400_000_000)
    assert all(p.capex is not None or "capex" in p.gaps for p in projects)


def test_start_year_only_from_a_start_statement() -> None:
    """Ageli's "FID expected end 2027" dates an investment decision, not a start of operation."""
    by_id = {p.project_id: p for p in eu_projects(policy_projects.parse(RAW)["projects"])}
    assert by_id["dsg-eu-crma-romano"].expected_start_year == 2027
    assert by_id["dsg-eu-crma-ageli"].expected_start_year is None
    assert "dates no start of operation" in by_id["dsg-eu-crma-ageli"].gaps["expected_start_year"]


def _pair() -> tuple[Project, Project]:
    a = Project(
        "eu-1", "Keliber Lithium Project", promoters=("Sibanye-Stillwater",), countries=("FI",),
        minerals=("lithium",), stages=(ProjectStage.EXTRACTION,),
        sources=(SourceRef("EU CRMA strategic projects", "eu-1", None, "secondary"),),
    ).with_gaps()  # fmt: skip
    b = Project(
        "msp-7", "Keliber lithium", promoters=("Sibanye Stillwater",), countries=("FI",), minerals=("lithium",),
        stages=(ProjectStage.PROCESSING,), capex=Money(6.6e8, "EUR"),
        capacity=Capacity(15_000, "t/yr", "lithium hydroxide", "15,000 t/yr lithium hydroxide"),
        sources=(SourceRef("MSP", "msp-7", None, "primary"),),
    ).with_gaps()  # fmt: skip
    return a, b


def test_constructed_pair_is_merged_with_the_merge_explained() -> None:
    """The same project in two lists: name words {keliber, lithium} ⊂ {keliber, lithium}, same country and mineral.
    The primary-sourced record wins conflicts; lists are united; the note says what came from where."""
    a, b = _pair()
    assert same_project(a, b) is not None
    merged = deduplicate([a, b])
    assert len(merged) == 1
    m = merged[0]
    assert m.project_id == "msp-7" and m.merged_from == ("eu-1",)
    assert set(m.stages) == {ProjectStage.EXTRACTION, ProjectStage.PROCESSING}
    assert {s.list_name for s in m.sources} == {"EU CRMA strategic projects", "MSP"}
    assert m.capex == Money(6.6e8, "EUR") and "capex" not in m.gaps
    assert "eu-1 merged into msp-7" in (m.merge_note or "")


def test_different_country_or_mineral_is_never_merged() -> None:
    a, _b = _pair()
    other_country = Project("x", a.name, countries=("SE",), minerals=("lithium",))
    other_mineral = Project("y", a.name, countries=("FI",), minerals=("graphite",))
    assert same_project(a, other_country) is None
    assert same_project(a, other_mineral) is None
    assert len(deduplicate([a, other_country, other_mineral])) == 3


def test_one_promoter_two_designations_stay_two() -> None:
    """Umicore's GePETO and ReGAIN are two designations of one list (same promoter, country, mineral)."""
    projects = deduplicate(eu_projects(policy_projects.parse(RAW)["projects"]))
    ids = {p.project_id for p in projects}
    assert {"dsg-eu-crma-gepeto", "dsg-eu-crma-regain"} <= ids
    assert len(projects) == 60


def test_tungsten_west_is_merged_across_lists() -> None:
    """The EU external designation 'Tungsten West' (GB, tungsten) and the National Wealth Fund rows for Tungsten
    West's Hemerdon mine are one project: same promoter, country and mineral, first listed in different lists."""
    eu = eu_projects(policy_projects.parse(RAW)["projects"])
    fin = financed_projects(policy_commitments.parse(RAW)["commitments"])
    merged = {p.project_id: p for p in deduplicate([*eu, *fin])}
    tw = merged["dsg-eu-crma-tungsten-west"]
    assert "fin-hemerdon-mine-restart" in tw.merged_from
    assert "fin-uk-nwf-2026-tungsten-west-equity" in tw.financing
    assert "same promoter (tungsten west)" in (tw.merge_note or "")
    assert any("fin-uk-nwf-2026-tungsten-procurement-right" in o for o in tw.offtakes)


def test_redact_empties_confidential_fields_with_the_reason() -> None:
    p = Project("m", "M", capex=Money(1e8, "EUR"), latitude=1.0, longitude=2.0, owner_org="DEU",
                confidential=frozenset({"capex", "coordinates"}))  # fmt: skip
    r = redact(p)
    assert r.capex is None and r.latitude is None and r.longitude is None
    assert r.gaps["capex"].startswith("confidential")


def _copy(tmp_path: Path) -> Path:
    shutil.copy(RAW / policy_projects.FILE, tmp_path / policy_projects.FILE)
    shutil.copy(RAW / policy_commitments.FILE, tmp_path / policy_commitments.FILE)
    return tmp_path


@pytest.mark.parametrize(
    ("old", "new", "row", "column"),
    [
        (",processing,graphite,,,,,,", ",smelting,graphite,,,,,,", 2, "stages"),
        ("2025-03-25,4,BAM4EVER", "25/03/2025,4,BAM4EVER", 2, "commission_decision_date"),
        (",processing,graphite,,,,,,", ",processing,unobtainium,,,,,,", 2, "strategic_raw_materials"),
    ],
)
def test_bad_project_rows_name_file_row_and_column(
    tmp_path: Path, old: str, new: str, row: int, column: str
) -> None:
    folder = _copy(tmp_path)
    path = folder / policy_projects.FILE
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        policy_projects.parse(folder)
    assert (err.value.row, err.value.column) == (row, column)
    assert "eu_crma_strategic_projects.csv" in err.value.message


def test_bad_commitment_amount_and_relationship(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / policy_commitments.FILE
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",27100000,USD,", ",27.1m,USD,", 1), encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        policy_commitments.parse(folder)
    assert err.value.column == "amount" and err.value.row == 3
    path.write_text(text.replace("part_of package", "part_of nothing-like-it"), encoding="utf-8")
    commitments = policy_commitments.parse(folder)["commitments"]  # resolved by the longest id prefix
    assert set(
        commitments.filter(commitments["relationship_raw"] == "part_of nothing-like-it")["parent_id"]
    ) == {"fin-uk-nwf-2026-tungsten-west-package"}
    path.write_text(text.replace("part_of package", "merged_with package"), encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        policy_commitments.parse(folder)
    assert err.value.column == "relationship"
