"""``lodeline comply`` end to end on SQLite: check prints each verdict with its facts and leaf and records it;
a bad rule set file is refused naming the file, the rule and the reason, and records nothing; screen shows the
TVPRA edition and explained entity hits; rules lists and shows the bundled sets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import comply as db
from lodeline.store.engine import get_engine
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import nickel_chain

runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    chain = nickel_chain()
    capture_all(get_engine(), chain, register(get_engine(), chain))
    return url


def _said(result: object) -> str:
    """What the command told the user: its output, or the Lodeline error the entry point prints."""
    return " ".join((result.output + " " + str(result.exception or "")).split())  # type: ignore[attr-defined]


def _count() -> int:
    with get_engine().connect() as conn:
        return int(conn.execute(select(func.count()).select_from(db.comply_verdicts)).scalar_one())


def test_check_json_records_verdicts(store_url: str) -> None:
    args = ["comply", "check", "PCAM-G1", "--rules", "eu-battery-recycled-content", "--as-of", "2026-12-05"]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["rule"], r["verdict"]) for r in rows] == [
        ("nickel-2031", "fail"),
        ("nickel-2036", "fail"),
        ("origin-traced", "pass"),
    ]
    assert json.loads(rows[0]["facts"]) == {"recycled_share": 0.0}
    assert _count() == 3 and sorted(r["leaf_index"] for r in rows) == [r["leaf_index"] for r in rows]


def test_bad_rule_set_file_is_refused_and_records_nothing(store_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "mine.yaml"
    bad.write_text(
        "id: mine\nversion: '1'\neffective: 2026-01-01\ntitle: t\nrules:\n"
        "  - {id: r9, title: x, source: s, severity: low, condition: 'recycled_shar > 0.1'}\n"
    )
    result = runner.invoke(app, ["comply", "check", "PCAM-G1", "--rules", str(bad)])
    assert result.exit_code != 0
    assert f"{bad}, rule 'r9': unknown fact(s) ['recycled_shar']" in _said(result)
    bad_date = runner.invoke(
        app, ["comply", "check", "PCAM-G1", "--rules", "eu-battery-recycled-content", "--as-of", "5/12"]
    )
    assert bad_date.exit_code != 0 and "--as-of: not a date" in _said(bad_date)
    assert _count() == 0


def test_screen_and_rules(store_url: str, tmp_path: Path) -> None:
    listed = tmp_path / "entities.csv"
    listed.write_text("name,aliases,list,source\nNingbo Nickel Sulfate,,DEMO,constructed\n")
    result = runner.invoke(app, ["comply", "screen", "PCAM-G1", "--entities", str(listed), "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert (
        "entity,Ningbo Nickel Sulphate (ningbo-refiner),operator" in result.output
    )  # "Sulfate" ~ "Sulphate"
    everyone = runner.invoke(app, ["comply", "screen", "--entities", str(listed), "--format", "json"])
    assert [r["basis"] for r in json.loads(everyone.output)] == ["participant"]
    nolist = runner.invoke(app, ["comply", "screen"])
    assert nolist.exit_code != 0 and "needs an entity list" in _said(nolist)
    listing = runner.invoke(app, ["comply", "rules", "--format", "json"])
    assert {r["id"] for r in json.loads(listing.output)} == {
        "oecd-annex-ii-red-flags",
        "eu-battery-recycled-content",
        "us-forced-labour-import",
    }
    shown = runner.invoke(app, ["comply", "rules", "us-forced-labour-import", "--format", "json"])
    assert json.loads(shown.output)[2]["reads"] == "entity_hits"
