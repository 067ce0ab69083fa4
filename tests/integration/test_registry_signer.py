"""The registry signer on both backends: a new store is a new log (not a fork), a second log under one explicit
origin is refused, a rolled-back store is refused (to sign and to start) naming sizes and roots, and the operator's
reset is deliberate and audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, update
from typer.testing import CliRunner

from lodeline.cli.main import app
from lodeline.store import tracelog as tables
from lodeline.store.accounts import read_audit
from lodeline.store.engine import make_engine, upgrade, write_transaction
from lodeline.tlog import merkle
from lodeline.trace import log, signer
from lodeline.trace.signer_state import SignerRefusedError


def grow(engine: Engine, tag: str, count: int) -> None:
    with write_transaction(engine) as conn:
        log.append_leaves(conn, [f"ni:///sha-256;{tag}-{i}?ver=CBV2.0".encode() for i in range(count)])


def sqlite_store(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    return engine


def roll_back(engine: Engine, size: int) -> None:
    """What restoring a copy of the store taken at ``size`` leaves does to the log's tables."""
    t = tables
    with write_transaction(engine) as conn:
        conn.execute(delete(t.tracelog_leaves).where(t.tracelog_leaves.c.leaf_index >= size))
        for level in range(1, 64):
            conn.execute(
                delete(t.tracelog_nodes).where(
                    t.tracelog_nodes.c.level == level, t.tracelog_nodes.c.node_index >= size >> level
                )
            )
        conn.execute(delete(t.tracelog_checkpoints).where(t.tracelog_checkpoints.c.tree_size > size))
        conn.execute(update(t.tracelog_head).values(tree_size=size))


def test_each_new_store_is_a_log_of_its_own(engine: Engine, tmp_path: Path) -> None:
    """Tests and the examples make many stores under one data dir and key: each gets its own origin."""
    other = sqlite_store(tmp_path / "other.sqlite")
    grow(engine, "a", 10)
    grow(other, "b", 10)
    first, second = signer.issue(engine).checkpoint, signer.issue(other).checkpoint
    assert first.origin != second.origin
    assert first.origin.startswith("lodeline.local/registry/") and second.origin.startswith(
        "lodeline.local/registry/"
    )
    assert (first.tree_size, second.tree_size) == (10, 10) and first.root_hash != second.root_hash
    assert sorted(signer.state_file().read()) == sorted([first.origin, second.origin])
    other.dispose()


def test_a_second_log_under_an_explicit_origin_is_refused(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LODELINE_REGISTRY_ORIGIN", "registry.example.org/minerals")
    grow(engine, "a", 10)
    signed = signer.issue(engine).checkpoint
    assert signed.origin == "registry.example.org/minerals"
    impostor = sqlite_store(tmp_path / "impostor.sqlite")
    grow(impostor, "b", 10)
    with pytest.raises(SignerRefusedError, match="a fork") as refused:
        signer.issue(impostor)
    details = refused.value.details
    assert (details["signed_size"], details["store_size"]) == (10, 10)
    assert details["signed_root"] == signed.root_hash.hex() != details["store_root"]
    grow(impostor, "b2", 5)  # larger, but not an extension of what was signed
    with pytest.raises(SignerRefusedError, match="not consistent"):
        signer.issue(impostor)
    with pytest.raises(SignerRefusedError):
        signer.check(impostor)
    assert log.latest_checkpoint(impostor.connect()) is None  # nothing was signed for it
    # the real log still grows and signs
    grow(engine, "a2", 3)
    assert signer.issue(engine).checkpoint.tree_size == 13
    impostor.dispose()


def use_for_cli(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from lodeline.config import get_settings

    monkeypatch.setenv("LODELINE_DATABASE_URL", url)
    get_settings.cache_clear()


def test_a_rolled_back_store_is_refused_until_a_deliberate_reset(
    store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    use_for_cli(url, monkeypatch)
    grow(engine, "a", 10)
    at_10 = signer.issue(engine).checkpoint
    grow(engine, "b", 6)
    at_16 = signer.issue(engine).checkpoint
    roll_back(engine, 10)
    with pytest.raises(SignerRefusedError, match="rolled back") as refused:
        signer.issue(engine)
    message = refused.value.message
    assert "holds 10 leaves" in message and "16 leaves" in message and at_16.root_hash.hex() in message
    with pytest.raises(SignerRefusedError):
        signer.check(engine)
    report = signer.status(engine)
    assert report["extends"] is False and report["signed"]["tree_size"] == 16
    # growing the rolled-back store past the signed size does not help: it is a different tree
    grow(engine, "c", 9)
    with pytest.raises(SignerRefusedError, match="not consistent"):
        signer.issue(engine)

    result = CliRunner().invoke(app, ["trace", "signer", "status", "--format", "json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["extends"] is False
    origin = at_10.origin
    result = CliRunner().invoke(app, ["trace", "signer", "reset", "--confirm", "wrong.example/log"])
    assert result.exit_code != 0 and "holds no head for origin" in str(result.exception)

    forgotten = signer.reset(engine, origin)
    assert (forgotten.tree_size, forgotten.root_hash) == (16, at_16.root_hash)
    entry = read_audit(engine, event="signer.reset")[0]
    detail = json.loads(entry["detail"])
    assert detail["origin"] == origin and detail["forgotten"]["tree_size"] == 16
    assert detail["store"]["tree_size"] == 19
    # after the reset the store's own last checkpoint (size 10, kept by the restore) is the reference, and the
    # store extends it: the next checkpoint is signed and the state follows
    after = signer.issue(engine)
    assert after.new and after.checkpoint.tree_size == 19
    with engine.connect() as conn:
        proof = log.consistency_proof(conn, 10, 19)
    assert merkle.verify_consistency(10, 19, at_10.root_hash, after.checkpoint.root_hash, proof)
    assert signer.state_file().head(origin) is not None
    signer.check(engine)


def test_a_store_without_state_adopts_its_own_last_checkpoint(engine: Engine) -> None:
    """An upgraded deployment has checkpoints but no state file: the latest stored checkpoint is the reference,
    so a tampered tree is still refused."""
    grow(engine, "a", 8)
    first = signer.issue(engine).checkpoint
    signer.state_file().path.unlink()
    with write_transaction(engine) as conn:  # the store's tree no longer matches its own signed checkpoint
        conn.execute(
            update(tables.tracelog_nodes)
            .where(tables.tracelog_nodes.c.level == 3, tables.tracelog_nodes.c.node_index == 0)
            .values(hash=bytes(32))
        )
    with pytest.raises(SignerRefusedError, match="a fork") as refused:
        signer.issue(engine)
    assert refused.value.details["signed_root"] == first.root_hash.hex()
    assert not signer.state_file().path.exists()


def test_the_audit_accepts_checkpoints_under_an_earlier_origin(
    store: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, engine = store
    use_for_cli(url, monkeypatch)
    grow(engine, "a", 4)
    signer.issue(engine)
    monkeypatch.setenv("LODELINE_REGISTRY_ORIGIN", "registry.example.org/renamed")
    grow(engine, "b", 4)
    assert signer.issue(engine).checkpoint.origin == "registry.example.org/renamed"
    names = sorted(v.name for v in signer.audit_verifiers(engine))
    assert names[1] == "registry.example.org/renamed" and names[0].startswith("lodeline.local/registry/")
    result = CliRunner().invoke(app, ["trace", "audit", "--no-events", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["checkpoints_checked"] == 2
