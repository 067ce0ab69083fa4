"""The Python API against the store built from the bundled data: frames, provenance, files, errors.

Figures are checked against the IEA JSON (``data/raw/iea_critical_minerals/iea_cm_may2025_barrytho_iea.json``,
``supply["Rare Earth Elements"]["refining"]``, 2024): China 73.757 kt of 80.805 kt = 0.9128 of world refining, the
United States 0.961 kt = 0.0119 (the only G7 member in that block).
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

import lodeline
from lodeline.errors import InvalidArgumentError, LodelineError, StoreNotBuiltError
from lodeline.store.canonical import catalog, is_built

RAW = Path(__file__).resolve().parents[2] / "src" / "lodeline" / "data" / "raw"


def _iea_refining_2024() -> tuple[float, float, float]:
    block = json.loads((RAW / "iea_critical_minerals" / "iea_cm_may2025_barrytho_iea.json").read_text())
    refining = block["supply"]["Rare Earth Elements"]["refining"]
    countries = refining["countries"]
    return countries["China"]["2024"], countries["United States"]["2024"], refining["total"]["2024"]


@pytest.fixture(scope="module")
def store(built_sqlite: tuple[str, Engine]) -> lodeline.Store:
    return lodeline.open_store(built_sqlite[0])


def test_three_lines(store: lodeline.Store) -> None:
    china, usa, total = _iea_refining_2024()
    result = lodeline.dependency("rare-earths", alliance="G7", store=store)
    row = result.frame.filter(stage="refining", basis="production", year=2024).row(0, named=True)
    assert row["top_external_supplier"] == "CHN"
    assert row["top_external_share"] == pytest.approx(china / total, abs=1e-9)
    assert row["alliance_share"] == pytest.approx(usa / total, abs=1e-9)
    assert row["alliance"] == "G7"
    assert result.provenance.method == "docs/methods/dependency.md"
    ids = {s["id"] for s in result.provenance.sources}
    assert {"iea_critical_minerals", "cepii_baci", "policy_facts_targets"} <= ids
    assert "IEA" in result.provenance.source_line() and result.title.startswith("rare-earths")


def test_market_functions_return_frames_with_provenance(store: lodeline.Store) -> None:
    china, _, total = _iea_refining_2024()
    shares = lodeline.shares("REE", "refining", 2024, store=store)
    assert shares.frame.filter(country="CHN")["share"].item() == pytest.approx(china / total, abs=1e-9)
    for result in (
        lodeline.concentration("rare-earths", "refining", store=store),
        lodeline.imports("rare-earths", "G7", store=store),
        lodeline.trade_flows("rare-earths", alliance="G7", store=store),
        lodeline.prices("copper", store=store),
        lodeline.value_creation("rare-earths", store=store),
        lodeline.overview("G7", store=store),
        lodeline.sources(store=store),
    ):
        assert isinstance(result.frame, pl.DataFrame) and result.frame.height > 0, result.title
        assert result.provenance.method and result.title


def test_criticality_and_scenarios(store: lodeline.Store) -> None:
    crit = lodeline.criticality(store=store)
    assert crit.frame.height > 20 and {"material", "sr", "ei", "critical"} <= set(crit.frame.columns)
    assert {"eu_crm_2023", "wgi"} <= {s["id"] for s in crit.provenance.sources}
    assert crit.provenance.method == "docs/methods/criticality.md"
    with pytest.raises(InvalidArgumentError, match="expected all, extraction or processing"):
        lodeline.criticality("mining", store=store)
    library = lodeline.scenarios().frame
    assert "cn-rare-earths-six-month-ban" in library["name"].to_list()


def test_stress_test_from_a_file_and_errors(store: lodeline.Store, tmp_path: Path) -> None:
    run = lodeline.stress_test("cn-rare-earths-six-month-ban", store=store)
    assert run.frame.filter(pl.col("member"))["country"].sort().to_list() == [
        "CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"
    ]  # fmt: skip
    assert run.monthly.height == 12 and run.report["release_rule"] == "optimised"
    assert any("PLACEHOLDER" in n for n in run.provenance.notes)
    assert {"iea_critical_minerals", "usgs_mcs2026", "cepii_baci"} <= {
        s["id"] for s in run.provenance.sources
    }
    scenario = tmp_path / "mine.yaml"
    scenario.write_text(
        (RAW.parents[3] / "docs" / "examples" / "worked-example.yaml").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    from_file = lodeline.stress_test(scenario, store=store)
    assert from_file.frame.height > 0 and from_file.provenance.sources == []  # inline network: no store data
    with pytest.raises(LodelineError, match=r"no library scenario 'no-such-scenario'; known: "):
        lodeline.stress_test("no-such-scenario", store=store)
    with pytest.raises(LodelineError, match="unknown country group 'G9'"):
        lodeline.stress_test("cn-rare-earths-six-month-ban", alliance="G9", store=store)


def test_results_write_csv_parquet_and_xlsx(store: lodeline.Store, tmp_path: Path) -> None:
    result = lodeline.shares("rare-earths", "refining", 2024, store=store)
    csv_path = result.to_csv(tmp_path / "s.csv")
    assert pl.read_csv(csv_path).height == result.frame.height
    parquet = result.to_parquet(tmp_path / "s.parquet")
    assert pl.read_parquet(parquet).equals(result.frame)
    meta = json.loads(pl.read_parquet_metadata(parquet)["lodeline.provenance"])
    assert meta == json.loads(json.dumps(result.provenance.to_dict()))
    book = openpyxl.load_workbook(result.to_xlsx(tmp_path / "s.xlsx"))
    provenance = {r[0]: r[1] for r in book["provenance"].iter_rows(values_only=True) if r[0]}
    edition = {d["id"]: d["edition"] for d in catalog(store.engine)}["iea_critical_minerals"]
    assert provenance["title"] == result.title and provenance["iea_critical_minerals"].startswith("IEA")
    source_row = next(
        r for r in book["provenance"].iter_rows(values_only=True) if r[0] == "iea_critical_minerals"
    )
    assert source_row[2] == edition
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        result.to_xlsx(tmp_path / "missing" / "s.xlsx")
    assert not (tmp_path / "missing").exists()


def test_open_store_builds_an_empty_store(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    empty = lodeline.open_store(url, build=False)
    assert not is_built(empty.engine)
    with pytest.raises(StoreNotBuiltError):
        lodeline.overview(store=empty)
    built = lodeline.open_store(f"sqlite:///{tmp_path / 'built.db'}")
    assert is_built(built.engine) and lodeline.open_store(built.url) is built
    assert lodeline.overview("G7", store=built).frame.height > 10


def test_targets_trend_sensitivity_and_geopolitical_match_their_services(store: lodeline.Store) -> None:
    """The facade adds nothing to a figure: each function returns exactly its service's frame. Gallium refining for
    the EU27 in 2025 is 900,000 / 909,000 kg from China (USGS MCS 2026 CSV) = 99.01%, +34.01 pp over the CRMA 65%
    line; a custom ISO3 list spelling the same members gives the same rows."""
    from lodeline.services import market, risk, trends

    eu = lodeline.targets("EU27", store=store)
    assert_frame_equal(eu.frame, market.targets(store.engine, "EU27").frame, rel_tol=1e-12)
    gallium = eu.frame.filter(
        (pl.col("mineral") == "gallium") & (pl.col("stage") == "refining") & (pl.col("basis") == "production")
    ).row(0, named=True)
    assert gallium["dependency"] == pytest.approx(900_000 / 909_000, rel=1e-9)
    assert gallium["crma_gap_pp"] == pytest.approx((900_000 / 909_000 - 0.65) * 100, rel=1e-9)
    trend = lodeline.trend("copper", "refining", store=store)
    assert_frame_equal(
        trend.frame, trends.trend(store.engine, "copper", "refining", "G7+").frame, rel_tol=1e-12
    )
    assert trend.frame["year"].min() == 2000 and trend.provenance.sources
    summary = lodeline.sensitivity(["Gallium"], draws=200, seed=1, store=store)
    expected = risk.sensitivity(store.engine, draws=200, seed=1, materials=["Gallium"]).summary.frame
    assert_frame_equal(summary.frame, expected, rel_tol=1e-12)
    assert summary.frame.height == 1
    with pytest.raises(InvalidArgumentError, match="draws 0: expected 1 to 10,000"):
        lodeline.sensitivity(draws=0, store=store)
    geo = lodeline.geopolitical("G7", mineral="lithium", store=store)
    # trade sums run in no fixed order: equal up to float rounding
    assert_frame_equal(
        geo.frame, risk.geopolitical(store.engine, "G7", mineral="lithium").frame, rel_tol=1e-9
    )
