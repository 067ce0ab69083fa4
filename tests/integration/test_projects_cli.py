"""The projects CLI: reads against the store built from the bundled data (recycling needs it), and add/import on a
fresh store; bad files are one clear error (exit status 2), never a traceback."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app, main
from lodeline.config import get_settings
from lodeline.store.engine import get_engine

runner = CliRunner()


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    if hasattr(get_engine, "cache_clear"):
        get_engine.cache_clear()


def invoke(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.stdout


def test_read_commands_on_the_built_store(
    built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(built_sqlite[0], monkeypatch)
    rows = json.loads(invoke("projects", "list", "--mineral", "lithium", "--format", "json"))
    ids = {r["project_id"] for r in rows}
    assert {
        "dsg-eu-crma-jadar",
        "dsg-eu-crma-keliber",
        "fin-thacker-pass-phase-1-lithium-carbonate-processing",
    } <= ids
    shown = json.loads(invoke("projects", "show", "dsg-eu-crma-jadar"))
    assert shown["capex"] == {"value": 2.4e9, "currency": "USD", "value_high": None, "qualifier": None}
    compared = json.loads(
        invoke("projects", "compare", "dsg-eu-crma-jadar", "dsg-eu-crma-bam4ever", "--format", "json")
    )
    jadar, bam = compared
    assert jadar["capital_intensity_per_t_yr"] > 0 and bam["capital_intensity_per_t_yr"] is None
    assert jadar["capex_currency"] == "USD"  # stated currency, not converted
    assert bam["capital_intensity_why"] == "not stated in the source"
    assert (
        jadar["diversification_pp"] is None and "no world-production figure" in jadar["diversification_why"]
    )
    (guben,) = json.loads(invoke("projects", "compare", "dsg-eu-crma-rock-tech-guben", "--format", "json"))
    assert (
        guben["diversification_pp"].startswith("refining ") and " pp of CHN's " in guben["diversification_pp"]
    )
    summary = json.loads(invoke("projects", "commitments", "--summary"))
    assert summary["headline"]["projects"] == 195
    ledger = json.loads(invoke("projects", "commitments", "--format", "json"))
    assert len(ledger) == 70
    # deals <-> projects: the agreement lists the projects it covers, the project the deals naming it
    deal = json.loads(invoke("deals", "show", "us-aus-2025"))
    assert "fin-nolans-rare-earths-project" in {p["project_id"] for p in deal["projects"]}
    nolans = json.loads(invoke("projects", "show", "fin-nolans-rare-earths-project"))
    assert "fin-au-arafura-nolans-2025-equity" in {m["id"] for m in nolans["links"]["commitments"]}


def test_recycling_monitor_on_the_built_store(
    built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expected values read by hand from the raw files: eu_crm_2023_inputs.csv EoL_RIR_pct cobalt 22, lithium 0,
    nickel 16; unep_irp2011_recycling_rates_raw.csv row D1 Co: recycled content 32 %, EoL-RR 68 %;
    targets_and_commitments.csv Battery Regulation cobalt 16 % (2031) and "26% from 2036", lithium 6 / 12,
    nickel 6 / 15; lead (absent from the targets file) from projects/data/battery_recycled_content.csv: 85 % from
    2031 (Art. 8(2)(b)), 2036 left empty (no stored source states it)."""
    _use(built_sqlite[0], monkeypatch)
    rows = {r["mineral"]: r for r in json.loads(invoke("projects", "recycling", "--format", "json"))}
    co = rows["cobalt"]
    assert co["eol_rir_pct_eu2023"] == 22
    assert co["eol_rr_pct_unep2011_low"] == 68 and co["recycled_content_pct_unep2011_low"] == 32
    assert (co["battery_min_2031_pct"], co["battery_min_2036_pct"]) == (16, 26)
    assert (rows["lithium"]["battery_min_2031_pct"], rows["lithium"]["battery_min_2036_pct"]) == (6, 12)
    assert (rows["nickel"]["battery_min_2031_pct"], rows["nickel"]["battery_min_2036_pct"]) == (6, 15)
    lead = rows["lead"]  # all four Art. 8 metals are shown
    assert (lead["battery_min_2031_pct"], lead["battery_min_2036_pct"]) == (85, None)
    assert "Art. 8(2)(b)" in lead["battery_min_source"] and "not verified" in lead["battery_min_source"]
    assert co["battery_min_source"] == "eu-battery-recycled-content-co-2031"
    assert rows["lithium"]["eol_rir_pct_eu2023"] == 0
    # lithium recycling projects are in the pipeline but none states a convertible capacity: no ratio, and why
    assert rows["lithium"]["recycling_projects"] >= 1
    assert rows["lithium"]["pipeline_share_of_benchmark"] is None and rows["lithium"]["why_no_ratio"]


def test_add_import_and_bad_files(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _use(str(engine.url.render_as_string(hide_password=False)), monkeypatch)
    one = tmp_path / "one.yaml"
    one.write_text(
        "project_id: fra-ree-1\nname: Lacq rare-earth separation\ncountries: [FR]\nminerals: [rare earths]\n"
        "stages: [processing]\nconfidential: [capex]\ncapex: {value: 1.2e8, currency: EUR}\n",
        encoding="utf-8",
    )
    out = json.loads(invoke("projects", "add", str(one), "--org", "FRA"))
    assert (out["project_id"], out["version"]) == ("fra-ree-1", 1)
    public = json.loads(invoke("projects", "show", "fra-ree-1"))
    assert public["capex"] is None and public["gaps"]["capex"].startswith("confidential")
    own = json.loads(invoke("projects", "show", "fra-ree-1", "--org", "FRA"))
    assert own["capex"]["value"] == 1.2e8
    many = tmp_path / "many.json"
    many.write_text(json.dumps([{"project_id": "a-1", "name": "A"}, {"project_id": "b-1", "name": "B"}]))
    assert len(json.loads(invoke("projects", "import", str(many), "--org", "FRA"))) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps([{"project_id": "c-1", "name": "C"}, {"project_id": "d-1", "stages": ["mining?"]}])
    )
    for args, words in (
        (["projects", "import", str(bad), "--org", "FRA"], ("bad.json[1]", "'name'")),
        (["projects", "add", str(tmp_path / "nope.json"), "--org", "FRA"], ("nope.json",)),
    ):
        monkeypatch.setattr(sys, "argv", ["lodeline", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert all(w in err for w in words) and "Traceback" not in err, err
    rows = json.loads(invoke("projects", "list", "--country", "FR", "--format", "json"))
    assert "c-1" not in {r["project_id"] for r in rows} and "fra-ree-1" in {r["project_id"] for r in rows}
