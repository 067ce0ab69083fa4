"""The example chains in examples/trace are what make_examples.py writes today, and their run.sh walkthrough
works command by command on a fresh store, ending in the hand-checked origin shares."""

from __future__ import annotations

import importlib.util
import shlex
from pathlib import Path
from types import ModuleType

import pytest
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store.engine import get_engine
from lodeline.trace.ledger import reference_data
from lodeline.trace.origin import origin_report

EXAMPLES = Path(__file__).parents[2] / "examples" / "trace"


def _make_examples() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("name", ["lithium", "nickel"])
def test_committed_examples_are_up_to_date(name: str, tmp_path: Path) -> None:
    _make_examples().write_chain(name, tmp_path)
    fresh, committed = _files(tmp_path / name), _files(EXAMPLES / name)
    assert sorted(fresh) == sorted(committed), "run: .venv/bin/python examples/trace/make_examples.py"
    assert fresh == committed, "run: .venv/bin/python examples/trace/make_examples.py"


@pytest.mark.parametrize("name", ["lithium", "nickel"])
def test_walkthrough_runs_on_a_fresh_store(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lodeline.config import get_settings

    url = f"sqlite:///{tmp_path / 'example.sqlite'}"
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    folder = EXAMPLES / name
    monkeypatch.chdir(folder)  # run.sh does `cd "$(dirname "$0")"`
    commands = [
        shlex.split(line)[1:]
        for line in (folder / "run.sh").read_text().splitlines()
        if line.startswith("$LODELINE ")
    ]
    assert [c[:2] for c in commands].count(["trace", "capture"]) == len(list(folder.glob("*.json")))
    runner = CliRunner()
    for args in commands:
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output, result.exception)
    final = _make_examples().CHAINS[name][1]
    assert final in commands[-1]
    shares = {r["country"]: r["share"] for r in origin_report(get_engine(url), final)["by_country"]}
    if name == "lithium":  # hand calculation in test_trace_chains: 6.3 t recycled Li of 41.12 t
        li_sc6 = reference_data()["materials"]["spodumene_concentrate_sc6"]["metal_fraction"]
        primary = 1_500 * li_sc6 * 0.85 * 0.98
        recycled = 200 * 0.035 * 0.90 / (primary + 200 * 0.035 * 0.90)
        assert shares == pytest.approx({"AUS": 1 - recycled, "DEU": recycled}, abs=2e-4)
    else:
        assert shares == pytest.approx({"IDN": 1.0})
    # Capturing the same document again is a replay, named as such.
    again = runner.invoke(app, commands[-2])
    assert again.exit_code != 0 and "replayed-document" in str(again.exception)
