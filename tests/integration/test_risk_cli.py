"""``lodeline risk …`` against the bundled data built into a real store (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.config import get_settings
from lodeline.errors import LodelineError


@pytest.fixture
def cli(built_store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_store[0])
    get_settings.cache_clear()
    return CliRunner()


def test_criticality_json_lists_every_material_with_inputs(cli: CliRunner) -> None:
    result = cli.invoke(app, ["risk", "criticality", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["material"]: r for r in json.loads(result.stdout)}
    assert len(rows) >= 80
    cobalt = rows["Cobalt"]
    # EU inputs: cobalt's bottleneck stage is Extraction; EI published 6.8 (eu_crm_2023_economic_importance.csv)
    assert cobalt["sr"] == cobalt["sr_extraction"] and cobalt["sr_stage"] == "extraction (EU bottleneck)"
    assert cobalt["ei"] == 6.8 and cobalt["ei_source"] == "published (EC 2023)" and cobalt["critical"] is True
    inputs = json.loads(cobalt["inputs"])
    assert inputs["extraction"]["basis"] == "GSonly" and inputs["wgi"]["year"] == 2023
    assert rows["Aggregates"]["status"] == "insufficient data" and rows["Aggregates"]["sr"] is None


def test_criticality_reports_the_eu_bottleneck_stage_and_published_ei(cli: CliRunner) -> None:
    """eu_crm_2023_inputs.csv: Nickel's bottleneck_stage is Processing, so SR is the processing value even
    though the mining stage (Indonesia's share 2023-2025) is higher; the old code reported the higher one.
    eu_crm_2023_economic_importance.csv: Nickel EI 5.7, Gallium 3.7, Indium 2.6 (< 2.8, never critical)."""
    result = cli.invoke(app, ["risk", "criticality", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = {r["material"]: r for r in json.loads(result.stdout)}
    nickel = rows["Nickel"]
    assert nickel["sr_extraction"] > nickel["sr_processing"]
    assert nickel["sr"] == nickel["sr_processing"] and nickel["sr_stage"] == "processing (EU bottleneck)"
    assert nickel["ei"] == 5.7 and nickel["critical"] is (nickel["sr"] >= 1.0)
    gallium, indium = rows["Gallium"], rows["Indium"]
    assert (
        gallium["ei"] == 3.7 and gallium["ei_source"] == "published (EC 2023)" and gallium["critical"] is True
    )
    assert indium["ei"] == 2.6 and indium["sr"] >= 1.0 and indium["critical"] is False
    assert "not the EC's published SR" in gallium["sr_source"]
    # Tungsten's bottleneck (processing) has no bundled supply data: a gap, not the extraction value
    tungsten = rows["Tungsten"]
    assert tungsten["sr"] is None and tungsten["sr_extraction"] is not None and tungsten["critical"] is None
    assert "reported stage processing" in tungsten["reason"]


def test_criticality_stage_filter_and_csv(cli: CliRunner) -> None:
    result = cli.invoke(app, ["risk", "criticality", "--stage", "processing", "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("material,mineral,sr,sr_stage,sr_source,sr_extraction,sr_processing,ei,")
    rows = {r["material"]: r for r in csv.DictReader(io.StringIO(result.stdout))}
    cobalt = rows["Cobalt"]
    assert cobalt["sr_extraction"] == ""  # no extraction SR when only processing is assessed
    assert cobalt["sr"] == cobalt["sr_processing"] != ""
    assert cobalt["sr_stage"] == "processing (requested; EU bottleneck: extraction)"


def test_ei_inputs_make_critical_a_verdict(cli: CliRunner, tmp_path: Path) -> None:
    end_uses = tmp_path / "end_uses.csv"
    end_uses.write_text("material,sector,share\nGallium,C26,0.7\nGallium,C27,0.3\n", encoding="utf-8")
    value_added = tmp_path / "va.csv"
    value_added.write_text("sector,value_added\nC26,80000\nC27,90000\nC29,230000\n", encoding="utf-8")
    result = cli.invoke(
        app,
        ["risk", "criticality", "-f", "json", "--end-uses", str(end_uses), "--value-added", str(value_added)],
    )
    assert result.exit_code == 0, result.output
    gallium = next(r for r in json.loads(result.stdout) if r["material"] == "Gallium")
    # (0.7*80000 + 0.3*90000) / 230000 * 10 * SI_EI 0.98
    assert gallium["ei"] == pytest.approx((56000 + 27000) / 230000 * 10 * 0.98)
    assert gallium["critical"] is True


def test_chart_writes_offline_html_with_thresholds(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "crit.html"
    result = cli.invoke(app, ["risk", "chart", "--out", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "plotly.js" in html.lower() or "Plotly" in html
    assert '<script src="https://cdn.plot.ly' not in html  # plotly.js embedded, works offline
    assert len(html) > 1_000_000
    assert "SR = 1" in html and "EI = 2.8" in html and "Gallium" in html and "Source:" in html
    assert "EI, published (EC 2023)" in html and "computed by Lodeline" in html


def test_sensitivity_for_one_material_writes_a_tornado(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "tornado.html"
    result = cli.invoke(
        app, ["risk", "sensitivity", "--draws", "200", "-m", "cobalt", "--out", str(out), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["material"] for r in rows] == ["Cobalt"]
    assert rows[0]["draws"] == 200 and 0.0 <= rows[0]["p_sr_above_threshold"] <= 1.0
    html = out.read_text(encoding="utf-8")
    for factor in ("share year", "WGI dimensions", "t_c", "EoL-RIR"):
        assert factor in html


def test_geopol_for_the_g7_plus_alliance(cli: CliRunner) -> None:
    result = cli.invoke(app, ["risk", "geopol", "--importer", "G7+", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert rows and all(r["importer"] == "G7+" for r in rows)
    assert all(0.0 <= r["wta"] <= 1.0 for r in rows)
    with_gpr = [r for r in rows if r["geopolrisk"] is not None]
    assert with_gpr and all(0.0 <= r["geopolrisk"] <= 1.0 for r in with_gpr)
    eu = cli.invoke(app, ["risk", "geopol", "--importer", "EU27", "--mineral", "cobalt", "-f", "json"])
    assert eu.exit_code == 0, eu.output
    assert {r["mineral"] for r in json.loads(eu.stdout)} == {"cobalt"}


def test_bad_arguments_raise_typed_errors(cli: CliRunner) -> None:
    result = cli.invoke(app, ["risk", "geopol", "--importer", "Atlantis"])
    assert isinstance(result.exception, LodelineError) and result.exception.code == "unknown-country"
    result = cli.invoke(app, ["risk", "sensitivity", "-m", "Unobtainium"])
    assert isinstance(result.exception, LodelineError) and result.exception.code == "invalid-argument"
    result = cli.invoke(app, ["risk", "geopol", "--importer", "EU27", "--wgi", "xx"])
    assert isinstance(result.exception, LodelineError) and result.exception.code == "invalid-argument"


def test_empty_store_exits_2_with_a_clear_message(store: tuple[str, Engine], tmp_path: Path) -> None:
    env = {"LODELINE_DATABASE_URL": store[0], "LODELINE_DATA_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", "from lodeline.cli.main import main; main()", "risk", "criticality"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "store-not-built" in proc.stderr
