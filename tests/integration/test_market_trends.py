"""Long trends (``services.trends``, ``lodeline market trend``, ``GET /api/v1/minerals/{m}/trend``) on the store built
from the bundled data. Every figure is checked against the raw files by hand:

* ``data/raw/bgs_refined_shares/bgs_refined_production_shares_2000_2024.csv`` (rounded % of the top countries);
* ``data/raw/usgs_ds140/ds140-lithium-2021.xlsx`` and ``ds140-rare-earths-2020.xlsx`` (one row per year; the
  "World production (lithium content)" and "World production" columns).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli_app
from lodeline.cli.main import main as cli_main
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError, NotFoundError, UnknownGroupError, UnknownMineralError
from lodeline.server import create_app
from lodeline.services import market
from lodeline.services.trends import trend

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient


def _row(frame: pl.DataFrame, year: int) -> dict[str, object]:
    rows = frame.filter(pl.col("year") == year).to_dicts()
    assert len(rows) == 1, f"{len(rows)} rows for {year}"
    return rows[0]


def test_bgs_germanium_shares_hhi_and_alliance(built_store: tuple[str, Engine]) -> None:
    """BGS CSV, germanium 2000: US 59, CN 36, JP 5 (sum 100, so no re-normalisation) → China 0.36, the U.S. on
    top with 0.59, top-3 1.00, HHI 59² + 36² + 5² = 3,481 + 1,296 + 25 = 4,802. For G7+ (the U.S. and Japan are
    members) the largest supplier outside is China, 0.36; for BRICS (China a member) it is the U.S., 0.59.
    Germanium 2024: CN 94, US 3, RU 2 → China 0.94, HHI 8,836 + 9 + 4 = 8,849. BGS is the only source with a
    figure for both years (the USGS yearbook covers 2019–2023 and withholds 2021–2023). On both backends."""
    engine = built_store[1]
    frame = trend(engine, "germanium", "refining", "G7+").frame
    y2000, y2024 = _row(frame, 2000), _row(frame, 2024)
    assert y2000["source"] == y2024["source"] == "bgs_refined_shares"
    assert y2000["top_supplier"] == "USA" and y2000["top1_share"] == pytest.approx(0.59)
    assert y2000["top3_share"] == pytest.approx(1.0) and y2000["hhi"] == pytest.approx(4802)
    assert y2000["top_external_supplier"] == "CHN" and y2000["alliance_dependency"] == pytest.approx(0.36)
    assert y2024["top_supplier"] == "CHN" and y2024["top1_share"] == pytest.approx(0.94)
    assert y2024["hhi"] == pytest.approx(8849)
    brics = _row(trend(engine, "germanium", "refining", "BRICS").frame, 2000)
    assert brics["top_external_supplier"] == "USA" and brics["alliance_dependency"] == pytest.approx(0.59)
    assert brics["hhi"] == pytest.approx(4802)  # the alliance changes the dependency, not the concentration


def test_copper_refining_precedence_break_and_overlap_jump(built_sqlite: tuple[str, Engine]) -> None:
    """Copper refining: BGS for 2000, 2005, 2010, 2015, 2020–2022; USGS MCS 2025 from 2023 (tonnages beat published
    shares; MCS 2025 beats the IEA's 2023 figure), MCS 2026 from 2024 (the newer edition). 2001–2004 are gaps.
    BGS 2023 rows (24 countries: 47, 8, 8, 5, 4, 3, six of 2, twelve of 1; sum 97 so no re-normalisation) give
    HHI 2,209 + 64 + 64 + 25 + 16 + 9 + 6·4 + 12·1 = 2,423, so the jump at the 2023 break is MCS − 2,423."""
    engine = built_sqlite[1]
    frame = trend(engine, "copper", "refining", "G7+").frame
    assert frame["year"].to_list() == [2000, 2005, 2010, 2015, 2020, 2021, 2022, 2023, 2024, 2025]
    assert set(frame.filter(pl.col("year") <= 2022)["source"]) == {"bgs_refined_shares"}
    y2023, y2024 = _row(frame, 2023), _row(frame, 2024)
    assert (y2023["source"], y2023["edition"], y2023["break"], y2023["break_from"]) == (
        "usgs_mcs2025",
        "MCS 2025",
        True,
        "bgs_refined_shares",
    )
    assert y2023["alt_source"] == "iea_critical_minerals" and y2023["overlap_year"] == 2023
    assert y2023["jump_hhi"] == pytest.approx(float(y2023["hhi"]) - 2423)  # type: ignore[arg-type]
    assert (y2024["source"], y2024["break_from"], y2024["alt_source"]) == (
        "usgs_mcs2026",
        "usgs_mcs2025",
        "usgs_mcs2025",
    )
    assert y2024["jump_hhi"] == pytest.approx(float(y2024["hhi"]) - float(y2024["alt_hhi"]))  # type: ignore[arg-type]
    assert frame.filter(pl.col("break"))["year"].to_list() == [2023, 2024]
    # where the trend uses USGS tonnages it gives the market indicators' own figure for that year
    conc = market.concentration(engine, "copper", "refining").frame
    assert _row(frame, 2025)["hhi"] == pytest.approx(_row(conc, 2025)["hhi"])


def test_lithium_break_between_ds140_and_mcs_and_the_gap(built_store: tuple[str, Engine]) -> None:
    """DS140 lithium workbook, "World production (lithium content)": NA up to 1999, 14,100 t in 2000, 107,000 t in
    2021, the last row. No source covers 2022 (MCS 2025 starts with 2023), so 2022 has no row, and 2023 is the
    first year of a new source with nothing to compare it with (DS140 has no country breakdown). On both
    backends."""
    engine = built_store[1]
    result = trend(engine, "lithium", "mining", "G7+")
    frame = result.frame
    assert frame["year"].min() == 2000 and 2022 not in frame["year"].to_list()
    y2000, y2021, y2023 = _row(frame, 2000), _row(frame, 2021), _row(frame, 2023)
    assert y2000["world_total"] == pytest.approx(14_100) and y2021["world_total"] == pytest.approx(107_000)
    assert y2021["source"] == "usgs_ds140" and y2021["hhi"] is None and y2021["top_supplier"] is None
    assert "world total only" in str(y2021["kind"])
    assert (y2023["break"], y2023["break_from"], y2023["source"]) == (True, "usgs_ds140", "usgs_mcs2025")
    assert y2023["overlap_year"] is None and y2023["jump_hhi"] is None
    ids = {s["id"]: s["edition"] for s in result.provenance.sources}
    assert ids["usgs_ds140"] == "DS 140" and ids["usgs_mcs2025"] == "MCS 2025" and "usgs_mcs2026" in ids
    assert any("source changes in 2023: usgs_ds140 → usgs_mcs2025" in n for n in result.provenance.notes)


def test_rare_earths_span_and_scope(built_sqlite: tuple[str, Engine]) -> None:
    """DS140 rare-earths workbook, "World production": 1,040 t in 1900 and 243,000 t in 2020 (the last row). Rare-
    earth refining is bundled only from the IEA (2023, 2024) and covers the magnet rare earths only: the trend
    says so through market/scope.py."""
    engine = built_sqlite[1]
    mining = trend(engine, "rare-earths", "mining", "G7+").frame
    assert _row(mining, 1900)["world_total"] == pytest.approx(1040)
    assert _row(mining, 2020)["world_total"] == pytest.approx(243_000)
    assert {2021, 2022}.isdisjoint(mining["year"].to_list())
    refining = trend(engine, "rare-earths", "refining", "G7+").frame
    assert refining["year"].to_list() == [2023, 2024]
    assert set(refining["measures"]) == {"Magnet rare earths (Nd, Pr, Tb, Dy)"}
    assert refining["scope_note"].str.contains("magnet rare earths only").all()


def test_bad_input_names_the_problem(built_sqlite: tuple[str, Engine]) -> None:
    engine = built_sqlite[1]
    with pytest.raises(UnknownMineralError, match="lithium"):
        trend(engine, "lithum", "mining", "G7+")
    with pytest.raises(InvalidArgumentError, match="unknown stage 'mine'"):
        trend(engine, "lithium", "mine", "G7+")
    with pytest.raises(UnknownGroupError, match="G9"):
        trend(engine, "lithium", "mining", "G9")
    with pytest.raises(NotFoundError, match=r"no component production data for copper.*stages with data"):
        trend(engine, "copper", "component", "G7+")


# --- CLI -----------------------------------------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def cli_store(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return built_sqlite[0]


def test_cli_trend_formats(cli_store: str, tmp_path: Path) -> None:
    """JSON and Parquet carry the same germanium 2000 HHI as the BGS rows (4,802, see above); the table names
    the source change."""
    out = runner.invoke(cli_app, ["market", "trend", "-m", "germanium", "-s", "refining", "-f", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert next(r for r in rows if r["year"] == 2000)["hhi"] == pytest.approx(4802)
    path = tmp_path / "trend.parquet"
    out = runner.invoke(
        cli_app, ["market", "trend", "-m", "Ge", "-s", "refining", "-f", "parquet", "-o", str(path)]
    )
    assert out.exit_code == 0, out.output
    assert pl.read_parquet(path).filter(pl.col("year") == 2024)["hhi"].item() == pytest.approx(8849)
    table = runner.invoke(
        cli_app, ["market", "trend", "-m", "copper", "-s", "refining"], env={"COLUMNS": "250"}
    )
    assert table.exit_code == 0, table.output
    assert "bgs_refined_shares → usgs_mcs2025" in table.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["-m", "lithum", "-s", "mining"], "unknown mineral 'lithum'"),
        (["-m", "lithium", "-s", "mine"], "unknown stage 'mine'"),
        (["-m", "copper", "-s", "component"], "no component production data for copper"),
        (["-m", "lithium", "-s", "mining", "-a", "G9"], "unknown country group 'G9'"),
    ],
)
def test_cli_trend_bad_input(cli_store: str, args: list[str], expected: str) -> None:
    """Through the real entry point (``main``): exit status 2 and one line naming the problem, no traceback."""
    argv = sys.argv
    with runner.isolation(env={"COLUMNS": "250"}) as (_, err, _unused):
        sys.argv = ["lodeline", "market", "trend", *args]
        try:
            with pytest.raises(SystemExit) as exit_info:
                cli_main()
        finally:
            sys.argv = argv
        stderr = err.getvalue().decode("utf-8")
    assert exit_info.value.code == 2
    assert expected in " ".join(stderr.split()), stderr
    assert "Traceback" not in stderr


# --- API -----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    settings = ApiSettings(anonymous_rate_per_second=0)
    with TestClient(create_app(built_sqlite[1], settings), base_url="https://testserver") as c:
        yield c


def test_api_trend_envelope_and_csv(client: TestClient) -> None:
    """Same figures as the service (germanium 2000 HHI 4,802 from the BGS rows); CSV by ?format=csv."""
    body = client.get("/api/v1/minerals/germanium/trend?stage=refining&alliance=G7%2B").json()
    assert body["provenance"]["method"] == "docs/methods/trends.md"
    editions = {s["id"]: s["edition"] for s in body["provenance"]["sources"]}
    assert editions["bgs_refined_shares"].startswith("World Mineral Statistics")
    assert "usgs_myb2023_gallium_germanium" in editions
    y2000 = next(r for r in body["data"] if r["year"] == 2000)
    assert y2000["hhi"] == pytest.approx(4802) and y2000["alliance"] == "G7+"
    response = client.get("/api/v1/minerals/germanium/trend?stage=refining&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert "bgs_refined_shares" in response.headers["x-lodeline-sources"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == len(body["data"])
    assert float(next(r for r in rows if r["year"] == "2024")["hhi"]) == pytest.approx(8849)


@pytest.mark.parametrize(
    ("url", "status", "code", "text"),
    [
        ("/api/v1/minerals/lithum/trend?stage=mining", 404, "unknown-mineral", "lithium"),
        ("/api/v1/minerals/lithium/trend?stage=mine", 400, "invalid-argument", "unknown stage 'mine'"),
        ("/api/v1/minerals/lithium/trend", 422, "invalid-request", "stage"),
        (
            "/api/v1/minerals/copper/trend?stage=component",
            404,
            "not-found",
            "stages with data: mining, refining",
        ),
        ("/api/v1/minerals/lithium/trend?stage=mining&alliance=G9", 404, "unknown-group", "G9"),
    ],
)
def test_api_trend_bad_input(client: TestClient, url: str, status: int, code: str, text: str) -> None:
    response = client.get(url)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and text in body["message"]
