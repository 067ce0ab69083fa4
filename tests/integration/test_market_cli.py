"""The market CLI against the store built from the bundled data."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.config import get_settings

runner = CliRunner()


@pytest.fixture
def cli_store(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> str:
    url = built_sqlite[0]
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def invoke(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_shares_json_contract(cli_store: str) -> None:
    rows = json.loads(
        invoke(
            "market",
            "shares",
            "--mineral",
            "rare-earths",
            "--stage",
            "mining",
            "--year",
            "2024",
            "--format",
            "json",
        )
    )
    assert rows, "no rows"
    for key in ("country", "quantity", "unit", "share", "source", "flag"):
        assert key in rows[0]
    china = next(r for r in rows if r["country"] == "CHN")
    assert 0.5 < china["share"] < 0.8


def test_alias_and_unknown_mineral(cli_store: str) -> None:
    assert json.loads(invoke("market", "shares", "--mineral", "REE", "--format", "json"))
    result = runner.invoke(app, ["market", "shares", "--mineral", "lithum"])
    assert result.exit_code != 0
    assert "lithium" in str(result.exception) or "lithium" in result.output


@pytest.mark.parametrize("fmt", ["csv", "json", "parquet", "table"])
def test_concentration_formats(cli_store: str, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"conc.{fmt}"
    args = ["market", "concentration", "--mineral", "lithium", "--format", fmt]
    if fmt != "table":
        args += ["--out", str(out)]
    invoke(*args)
    if fmt == "parquet":
        frame = pl.read_parquet(out)
        assert {"hhi", "top1_share", "top3_share", "top_supplier", "year"} <= set(frame.columns)
        assert frame["hhi"].is_between(0, 10_000).all()


def test_dependency_has_target_and_gap(cli_store: str) -> None:
    rows = json.loads(invoke("market", "dependency", "--mineral", "rare-earths", "--format", "json"))
    with_target = [r for r in rows if r["target"] is not None]
    assert with_target and all(r["target"] == pytest.approx(0.6) for r in with_target)
    assert {r["stage"] for r in rows} >= {"mining", "component"}
    magnets = [r for r in rows if r["stage"] == "component"]
    assert all(r["top_external_supplier"] == "CHN" for r in magnets)


def test_report_is_self_contained(cli_store: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    runner.invoke(app, ["market", "report", "--out", str(out)], catch_exceptions=False)
    text = out.read_text(encoding="utf-8")
    import re

    assert not re.search(r"<script[^>]+src=", text), "scripts must be embedded, not fetched"
    assert not re.search(r"<link[^>]+href=\"?https?:", text)
    assert "PlotlyGeoAssets" in text and "Source:" in text


def test_sources_lists_licences(cli_store: str) -> None:
    rows = json.loads(invoke("data", "sources", "--format", "json"))
    ids = {r["id"] for r in rows}
    assert {"lodeline_reference", "policy_facts_targets"} <= ids
    assert all(r["licence"] and len(r["sha256"]) == 64 for r in rows)


def test_an_empty_alliance_is_an_error_not_the_default(cli_store: str) -> None:
    for command in (["market", "dependency", "--mineral", "lithium"], ["market", "overview"]):
        result = runner.invoke(app, [*command, "--alliance", ""])
        assert result.exit_code != 0
        assert "alliance is empty" in str(result.exception), result.output


@pytest.mark.parametrize(("value", "reason"), [("0", "greater than or equal to 1"), ("-1", "greater than or equal to 1"),
                                               ("10001", "less than or equal to 10000"),
                                               ("100000000000000000000", "less than or equal to 10000")])  # fmt: skip
def test_prices_last_is_bounded(cli_store: str, value: str, reason: str) -> None:
    result = runner.invoke(
        app, ["market", "prices", "--mineral", "copper", "--last", value], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 2 and reason in result.output, result.output


def test_prices_last_accepts_its_bounds(cli_store: str) -> None:
    for value in ("1", "10000"):
        assert "copper prices" in invoke("market", "prices", "--mineral", "copper", "--last", value)


def _main(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the real entry point (which maps Lodeline errors to exit status 2) and return (status, stderr)."""
    import sys

    from lodeline.cli.main import main

    monkeypatch.setattr(sys, "argv", ["lodeline", *args])
    monkeypatch.setenv("COLUMNS", "250")
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0), capsys.readouterr().err


def test_imports_default_importer_is_the_g7_plus_group(cli_store: str) -> None:
    """The default --importer G7+ is a group, not a three-letter country code: its imports are not empty."""
    rows = json.loads(invoke("market", "imports", "--mineral", "rare-earths", "--format", "json"))
    assert rows and {r["origin"] for r in rows if r["year"] == 2024} >= {"CHN"}
    assert not {r["origin"] for r in rows} & {"DEU", "USA", "JPN"}  # intra-group trade left out
    assert json.loads(invoke("market", "imports", "-m", "cobalt", "--importer", "MSP", "--format", "json"))


def test_imports_unknown_importer_is_an_error(
    cli_store: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    status, err = _main(monkeypatch, capsys, "market", "imports", "-m", "cobalt", "--importer", "XYZ")
    assert status == 2, err
    assert "invalid-argument" in err and "importer 'XYZ' is neither a country group" in err


def test_value_creation_shows_inputs_with_units(cli_store: str) -> None:
    """China lithium 2024: 169.67759096410308 kt (IEA) ÷ 41,400 t (USGS MCS 2026) = 4.0985, not 0.0041."""
    rows = json.loads(invoke("market", "value-creation", "--mineral", "lithium", "--format", "json"))
    china = next(r for r in rows if r["country"] == "CHN" and r["year"] == 2024)
    assert china["refined_to_mined"] == pytest.approx(169.67759096410308 * 1000 / 41_400)
    assert {"mined_unit", "refined_unit", "mined_source", "refined_source", "comparable_note"} <= set(china)


def test_overview_rows_carry_stage_and_year(cli_store: str) -> None:
    rows = json.loads(invoke("market", "overview", "--format", "json"))
    assert rows and all(r["stage"] and r["year"] for r in rows)
    assert all(r["hhi"] <= 10_000 for r in rows)


def test_wide_results_print_a_readable_table_and_keep_every_column_in_files(cli_store: str) -> None:
    """value-creation and overview carry inputs, units, bases and sources in csv/json; the terminal table keeps
    the figures a reader scans (ratio, both inputs in tonnes, why a ratio is missing; stage and year per line) so
    that no column is squeezed to an ellipsis. China lithium 2024: 169.678 kt refined ÷ 41,400 t mined = 4.098."""
    table = invoke("market", "value-creation", "--mineral", "lithium")
    assert "refined_to_mined" in table and "4.098" in table and "169,678" in table
    assert "mined_source" not in table and "-f csv | json | parquet" in table
    rows = json.loads(invoke("market", "value-creation", "--mineral", "lithium", "--format", "json"))
    assert {"mined_unit", "refined_unit", "mined_source", "refined_source", "comparable_note"} <= set(rows[0])
    overview = invoke("market", "overview")
    assert "stage" in overview and "dependency_basis" not in overview
    assert "dependency_basis" in json.loads(invoke("market", "overview", "--format", "json"))[0]
