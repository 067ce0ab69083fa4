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


def _run_sh(name: str, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Run every command of the chain's run.sh in-process, in its folder; return the commands."""
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
        assert result.exit_code == 0, (name, args, result.output, result.exception)
    return commands


def _store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from lodeline.config import get_settings

    url = f"sqlite:///{tmp_path / 'example.sqlite'}"
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


def _assert_hand_checked_shares(url: str, name: str) -> None:
    final = _make_examples().CHAINS[name][1]
    shares = {r["country"]: r["share"] for r in origin_report(get_engine(url), final)["by_country"]}
    if name == "lithium":  # hand calculation in test_trace_chains: 6.3 t recycled Li of 41.12 t
        li_sc6 = reference_data()["materials"]["spodumene_concentrate_sc6"]["metal_fraction"]
        primary = 1_500 * li_sc6 * 0.85 * 0.98
        recycled = 200 * 0.035 * 0.90 / (primary + 200 * 0.035 * 0.90)
        assert shares == pytest.approx({"AUS": 1 - recycled, "DEU": recycled}, abs=2e-4)
    else:
        assert shares == pytest.approx({"IDN": 1.0})


@pytest.mark.parametrize("order", [("lithium", "nickel"), ("nickel", "lithium")])
def test_both_walkthroughs_run_into_one_store_in_either_order(
    order: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README runs both chains with one LODELINE_DATABASE_URL: the second must not collide with the first
    (keys, company prefixes, GLNs, participant ids), and each final lot keeps its own hand-checked origin."""
    url = _store(tmp_path, monkeypatch)
    for name in order:
        _run_sh(name, monkeypatch)
    for name in order:
        _assert_hand_checked_shares(url, name)


def test_example_chains_share_no_identifier() -> None:
    """What the chains register is disjoint: participant ids, public keys, company prefixes and facility GLNs,
    read from the committed run.sh files and keys."""
    seen: dict[str, set[str]] = {}
    for name in ("lithium", "nickel"):
        folder = EXAMPLES / name
        ids: set[str] = set()
        for line in (folder / "run.sh").read_text().splitlines():
            args = shlex.split(line)[1:] if line.startswith("$LODELINE ") else []
            if args[:3] == ["trace", "participant", "add"]:
                ids |= {f"participant:{args[3]}", f"prefix:{args[args.index('--company-prefix') + 1]}"}
            if args[:3] == ["trace", "facility", "add"]:
                ids.add(f"gln:{args[3]}")
        ids |= {f"key:{p.read_text().strip()}" for p in (folder / "keys").glob("*.pub")}
        seen[name] = ids
    assert len(seen["lithium"]) == 6 * 3 + 6 and len(seen["nickel"]) == 5 * 3 + 5
    assert not seen["lithium"] & seen["nickel"]
    prefixes = sorted(i[7:] for i in seen["lithium"] | seen["nickel"] if i.startswith("prefix:"))
    glns = [i[4:] for i in seen["lithium"] | seen["nickel"] if i.startswith("gln:")]
    # No company prefix is the start of another one or of a GLN (the registry matches lots by prefix).
    assert not [(a, b) for a in prefixes for b in prefixes + glns if a != b and b.startswith(a)]


@pytest.mark.parametrize("name", ["lithium", "nickel"])
def test_walkthrough_runs_on_a_fresh_store(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _store(tmp_path, monkeypatch)
    commands = _run_sh(name, monkeypatch)
    final = _make_examples().CHAINS[name][1]
    assert final in commands[-1]
    _assert_hand_checked_shares(url, name)
    runner = CliRunner()
    # Capturing the same document again is a replay, named as such.
    again = runner.invoke(app, commands[-2])
    assert again.exit_code != 0 and "replayed-document" in str(again.exception)
