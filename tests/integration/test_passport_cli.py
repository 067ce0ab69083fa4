"""``lodeline passport issue|verify|events|list`` on the lithium chain: verify exits 0 on the issued passport and
1 naming the check on a tampered one; with --vkey it needs no store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.trace import keys, signer
from passport_helpers import lithium_registry  # tests/passport_helpers.py

runner = CliRunner()


@pytest.fixture
def cli_store(store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Engine:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    return engine


def test_issue_verify_events_list(cli_store: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    private = lithium_registry(cli_store)
    key = tmp_path / "cathode.key"
    keys.write_private(private["ulsan-cathode"], key)
    out = tmp_path / "passport.json"
    result = runner.invoke(
        app,
        [
            "passport",
            "issue",
            "CAM-U1",
            "--participant",
            "ulsan-cathode",
            "--key",
            str(key),
            "--profile",
            "battery-pass",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert "batteryPass" in doc["credentialSubject"]

    result = runner.invoke(app, ["passport", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith("valid")

    vkey = signer.verifier_key(cli_store)
    monkeypatch.setenv("LODELINE_DATABASE_URL", "sqlite:////nonexistent/dir/x.sqlite")  # offline: no store
    result = runner.invoke(app, ["passport", "verify", str(out), "--vkey", vkey, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["valid"] is True
    monkeypatch.setenv("LODELINE_DATABASE_URL", str(cli_store.url))

    doc["proof"]["proofValue"] = doc["proof"]["proofValue"][:-3] + "abc"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = runner.invoke(app, ["passport", "verify", str(bad), "--vkey", vkey])
    assert result.exit_code == 1
    assert "INVALID: failed credential-signature" in result.output

    result = runner.invoke(app, ["passport", "events", "CAM-U1"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["type"][0] == "DigitalTraceabilityEvent"

    result = runner.invoke(app, ["passport", "list", "CAM-U1"])
    assert result.exit_code == 0 and doc["id"] in result.output

    not_json = tmp_path / "x.json"
    not_json.write_text("{oops")
    result = runner.invoke(app, ["passport", "verify", str(not_json), "--vkey", vkey])
    assert result.exit_code != 0 and "not JSON" in str(result.exception)
