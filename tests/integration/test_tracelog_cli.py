"""``lodeline trace checkpoint|prove|verify|audit|vkey`` end to end on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import tracelog as tables
from lodeline.store.engine import write_transaction
from lodeline.trace import log

EVENT = "ni:///sha-256;{:064x}?ver=CBV2.0"


@pytest.fixture
def cli_store(store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Engine:
    url, engine = store
    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    from lodeline.config import get_settings

    get_settings.cache_clear()
    with write_transaction(engine) as conn:
        log.append_leaves(conn, [log.event_leaf_data(EVENT.format(i)) for i in range(300)])
    return engine


# These logs hold raw leaves that no captured event accounts for, so the audits below skip the event
# cross-check (`--no-events`); with capture merged, the default audit would rightly report leaf-without-event.
AUDIT = ["trace", "audit", "--no-events", "--format", "json"]


def test_checkpoint_prove_verify_audit(cli_store: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["trace", "checkpoint", "--out", str(tmp_path / "cp.txt")])
    assert result.exit_code == 0, result.output
    note = (tmp_path / "cp.txt").read_text()
    assert note.split("\n")[1] == "300"

    result = runner.invoke(app, ["trace", "vkey"])
    assert result.exit_code == 0
    (tmp_path / "vkey").write_text(result.stdout)

    result = runner.invoke(app, ["trace", "prove", EVENT.format(123), "--out", str(tmp_path / "p.json")])
    assert result.exit_code == 0, result.output
    proof = json.loads((tmp_path / "p.json").read_text())
    assert (proof["leaf_index"], proof["tree_size"], proof["checkpoint"]) == (123, 300, note)
    assert len(proof["inclusion_path"]) == 9

    args = ["trace", "verify", "-c", str(tmp_path / "cp.txt"), "-p", str(tmp_path / "p.json")]
    result = runner.invoke(app, [*args, "--vkey", str(tmp_path / "vkey")])
    assert result.exit_code == 0, result.output
    assert "verified: leaf 123" in result.stdout

    result = runner.invoke(app, AUDIT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["ok"] is True

    # tamper, then audit fails naming the leaf
    with cli_store.begin() as conn:
        conn.execute(
            update(tables.tracelog_leaves)
            .where(tables.tracelog_leaves.c.leaf_index == 200)
            .values(leaf_data=b"x")
        )
    result = runner.invoke(app, AUDIT)
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {"kind": "leaf-hash-mismatch", "leaf_index": 200}.items() <= report["findings"][0].items()

    # a forged proof fails offline verification with exit status 2 and the reason
    proof["leaf_index"] = 124
    (tmp_path / "forged.json").write_text(json.dumps(proof))
    env = {**os.environ, "LODELINE_DATABASE_URL": "sqlite:////nonexistent/dir/never-used.sqlite"}
    command = [sys.executable, "-c", "from lodeline.cli.main import main; main()", "trace", "verify"]
    command += ["-c", str(tmp_path / "cp.txt"), "-p", str(tmp_path / "forged.json")]
    command += ["--vkey", (tmp_path / "vkey").read_text().strip()]
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    message = " ".join(done.stderr.split())  # rich wraps long lines
    assert "trace-proof" in message and "does not lead from leaf 124" in message


def test_prove_against_an_older_checkpoint(cli_store: Engine, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["trace", "checkpoint", "-o", str(tmp_path / "cp300.txt")]).exit_code == 0
    with write_transaction(cli_store) as conn:
        log.append_leaves(conn, [log.event_leaf_data(EVENT.format(5000 + i)) for i in range(10)])
    result = runner.invoke(
        app, ["trace", "prove", EVENT.format(42), "--size", "300", "-o", str(tmp_path / "p.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "p.json").read_text())["tree_size"] == 300
    args = ["trace", "verify", "-c", str(tmp_path / "cp300.txt"), "-p", str(tmp_path / "p.json")]
    assert runner.invoke(app, args).exit_code == 0
    result = runner.invoke(app, ["trace", "prove", EVENT.format(5003), "--size", "300"])
    assert result.exit_code != 0
    assert "is not covered by checkpoint" in str(result.exception)


def test_audit_before_any_checkpoint(cli_store: Engine) -> None:
    result = CliRunner().invoke(app, AUDIT)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["leaves_checked"] == 300


def test_prove_unknown_event_is_not_found(cli_store: Engine) -> None:
    result = CliRunner().invoke(app, ["trace", "prove", EVENT.format(10_000)])
    assert result.exit_code != 0
    assert "no log leaf" in str(result.exception)


def test_consistency_between_checkpoints(cli_store: Engine, tmp_path: Path) -> None:
    from lodeline.trace import checkpoint as cpm
    from lodeline.trace import signer

    runner = CliRunner()
    assert runner.invoke(app, ["trace", "checkpoint", "-o", str(tmp_path / "old.txt")]).exit_code == 0
    with write_transaction(cli_store) as conn:
        log.append_leaves(conn, [log.event_leaf_data(EVENT.format(1000 + i)) for i in range(77)])
    result = runner.invoke(
        app,
        [
            "trace",
            "consistency",
            "300",
            "-o",
            str(tmp_path / "c.json"),
            "--checkpoint-out",
            str(tmp_path / "new.txt"),
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "c.json").read_text())
    assert (doc["old_size"], doc["new_size"]) == (300, 377)
    args = [
        "trace",
        "verify-consistency",
        "--old",
        str(tmp_path / "old.txt"),
        "--new",
        str(tmp_path / "new.txt"),
    ]
    result = runner.invoke(app, [*args, "--proof", str(tmp_path / "c.json")])
    assert result.exit_code == 0, result.output
    assert "consistent:" in result.stdout

    # a correctly signed but forked old checkpoint (same size, other root) is caught
    with cli_store.connect() as conn:
        key = signer.signer_key(conn)
    fork = cpm.Checkpoint(origin=key.name, tree_size=300, root_hash=bytes(32))
    (tmp_path / "fork.txt").write_text(cpm.sign_checkpoint(fork, key.name, key.private_key))
    args[3] = str(tmp_path / "fork.txt")
    result = runner.invoke(app, [*args, "--proof", str(tmp_path / "c.json")])
    assert result.exit_code != 0
    assert "not shown to extend" in str(result.exception)

    result = runner.invoke(app, ["trace", "consistency", "299"])
    assert result.exit_code != 0
    assert "no checkpoint was issued at tree size 299" in str(result.exception)

    # a size the store cannot hold (over 2^63 - 1) is a usage error, not an OverflowError from the driver
    result = runner.invoke(app, ["trace", "consistency", str(2**63 - 1)])
    assert "no checkpoint was issued at tree size 9223372036854775807" in str(result.exception)
    for args in (["consistency", str(2**63)], ["consistency", "0", "--new", str(2**63)], ["prove", EVENT.format(0), "--size", str(2**63)]):  # fmt: skip
        result = runner.invoke(app, ["trace", *args], env={"COLUMNS": "200"})
        assert result.exit_code == 2 and "less than or equal to 9223372036854775807" in result.output, (
            result.output
        )
