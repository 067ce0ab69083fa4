"""``lodeline sim …`` end to end: inline worked example (no store) and the bundled store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.errors import LodelineError

REPO = Path(__file__).resolve().parents[2]
WORKED = REPO / "docs" / "examples" / "worked-example.yaml"
EXERCISE = REPO / "docs" / "examples" / "exercise-rare-earths.yaml"
runner = CliRunner()


def test_run_worked_example_json_and_html(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["sim", "run", str(WORKED), "--format", "json", "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout[result.stdout.index("{") :])
    by = {r["country"]: r for r in data["members"]}
    assert by["USA"]["shortfall_t"] == pytest.approx(50.0)
    assert by["DEU"]["shortfall_t"] == pytest.approx(20.0)
    html = out.read_text(encoding="utf-8")
    # charts embedded offline: plotly.js inlined (megabytes), no script fetched from a CDN
    assert len(html) > 1_000_000 and "Plotly.newPlot" in html
    assert '<script src="http' not in html and "<script src='http" not in html
    assert "Binding countries and stages" in html


def test_montecarlo_on_the_worked_example() -> None:
    args = [
        "sim",
        "montecarlo",
        str(WORKED),
        "--samples",
        "3000",
        "--seed",
        "5",
        "--chunk-size",
        "1000",
        "-f",
        "json",
    ]
    a = runner.invoke(app, args)
    b = runner.invoke(app, args)
    assert a.exit_code == 0, a.output
    assert json.loads(a.stdout) == json.loads(b.stdout)
    rows = {r["country"]: r for r in json.loads(a.stdout)["members"]}
    assert set(rows["USA"]) >= {
        "mean_shortfall_t",
        "var95_shortfall_t",
        "cvar95_shortfall_t",
        "p_target_breached",
    }


def test_bad_scenario_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(WORKED.read_text(encoding="utf-8").replace("cut: 1.0", "cut: 1.5"), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", "from lodeline.cli.main import main; main()", "sim", "run", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "disruptions.0.cut" in proc.stderr and "sim-scenario" in proc.stderr


def test_store_commands(
    built_sqlite: tuple[str, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lodeline.config import get_settings

    url, _ = built_sqlite
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    listing = runner.invoke(app, ["sim", "scenarios", "--format", "json"])
    assert listing.exit_code == 0, listing.output
    names = {r["name"] for r in json.loads(listing.stdout)}
    assert "cn-graphite-2023" in names
    run = runner.invoke(app, ["sim", "run", "cn-graphite-2023", "--format", "json"])
    assert run.exit_code == 0, run.output
    assert json.loads(run.stdout)["mineral"] == "graphite"
    table = runner.invoke(app, ["sim", "run", "cd-cobalt-export-suspension-2025"])
    assert table.exit_code == 0, table.output
    assert "COD" in table.stdout
    ex = runner.invoke(app, ["sim", "exercise", str(EXERCISE), "--out-dir", str(tmp_path)])
    assert ex.exit_code == 0, ex.output
    aar = json.loads((tmp_path / "exercise-rare-earths-aar.json").read_text(encoding="utf-8"))
    assert aar["timeline"][0]["kind"] == "inject"
    assert any(r["kind"] == "decision" for r in aar["timeline"])
    assert len(aar["participants"]["member_shortfall_by_month"]) == 12
    # the optimised response never does worse than the participants on total alliance shortfall
    assert (
        sum(aar["optimised"]["member_shortfall_by_month"])
        <= sum(aar["participants"]["member_shortfall_by_month"]) + 1e-6
    )
    assert (tmp_path / "exercise-rare-earths-aar.html").stat().st_size > 100_000


def test_interactive_exercise_records_decisions(tmp_path: Path) -> None:
    """Worked example, played live. Month 1: USA releases its 30 t; with the manual rule the supply
    10 + 30 = 40 is shared pro rata to the equal gaps (30, 30): each is 10 short. Month 2: only the pool
    of 10 → each 25 short. Participants: USA 35, DEU 35 (70 in all). Optimised (DEU priority): USA 50,
    DEU 20 — the same total, a different split, which the after-action report shows."""
    import yaml

    scenario = yaml.safe_load(WORKED.read_text(encoding="utf-8"))
    script = tmp_path / "live.yaml"
    script.write_text(
        yaml.safe_dump(
            {
                "name": "live",
                "scenario": scenario,
                "participants": ["USA", "DEU"],
                "injects": [{"month": 1, "text": "China stops refined exports"}],
            }
        ),
        encoding="utf-8",
    )
    answers = "release 30 drawn at once\npass\nbogus\npass\npass\npass\npass\n"
    result = runner.invoke(
        app, ["sim", "exercise", str(script), "--interactive", "--out-dir", str(tmp_path)], input=answers
    )
    assert result.exit_code == 0, result.output
    assert "inject" in result.output and "expected 'release TONNES'" in result.output
    recorded = yaml.safe_load((tmp_path / "live-recorded.yaml").read_text(encoding="utf-8"))
    assert recorded["decisions"] == [
        {"month": 1, "participant": "USA", "action": "release", "tonnes": 30.0, "note": "drawn at once"}
    ]
    aar = json.loads((tmp_path / "live-aar.json").read_text(encoding="utf-8"))
    by = {r["country"]: r for r in aar["comparison"]}
    assert by["USA"]["shortfall_t_participants"] == pytest.approx(35.0)
    assert by["DEU"]["shortfall_t_participants"] == pytest.approx(35.0)
    assert by["USA"]["shortfall_t_optimised"] == pytest.approx(50.0)
    assert by["DEU"]["shortfall_t_optimised"] == pytest.approx(20.0)
    assert aar["participants"]["member_shortfall_by_month"] == pytest.approx([20.0, 50.0, 0.0])


def test_scenario_files_and_names_are_read_within_bounds(tmp_path: Path) -> None:
    """A scenario argument is a file (read by lodeline.cli.inputs, with its bounds) or a library name; anything
    else is one error naming it (a usage error for an empty name)."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: x\nmineral: " + "[" * 5_000 + "]" * 5_000 + "\n", encoding="utf-8")
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_bytes(WORKED.read_text(encoding="utf-8").encode("utf-16"))
    cases = {
        str(deep): "nested deeper than 64 levels",
        str(utf16): "not UTF-8",
        str(tmp_path): "not a file, and no library scenario of that name",
        "é" * 5_000: "not a file, and no library scenario of that name",
        "": "give a scenario file or a library scenario name",
    }
    for name, reason in cases.items():
        for command in (["sim", "run", name], ["sim", "montecarlo", name, "--samples", "10"]):
            result = runner.invoke(app, command, env={"COLUMNS": "100000"})
            message = str(result.exception) if isinstance(result.exception, LodelineError) else result.output
            assert result.exit_code != 0 and reason in message, (name[:40], message[-300:])
            if name == "":  # a usage error
                assert result.exit_code == 2 and "Invalid value for 'scenario_file'" in result.output


def test_montecarlo_samples_are_bounded() -> None:
    from lodeline.errors import InvalidArgumentError
    from lodeline.sim.montecarlo import MAX_SAMPLES, chunk_plan

    assert MAX_SAMPLES == 10_000_000
    assert sum(n for _, n in chunk_plan(MAX_SAMPLES, 2_500, 0)) == 10_000_000  # 4,000 chunks of 2,500
    with pytest.raises(InvalidArgumentError, match="between 1 and 10,000,000"):
        chunk_plan(MAX_SAMPLES + 1, 2_500, 0)
    with pytest.raises(InvalidArgumentError, match="the seed must be 0 or more"):
        chunk_plan(10, 2_500, -1)
    for value in ("10000001", "100000000000000000000"):
        result = runner.invoke(
            app, ["sim", "montecarlo", str(WORKED), "--samples", value], env={"COLUMNS": "200"}
        )
        assert result.exit_code == 2 and "less than or equal to 10000000" in result.output, result.output
