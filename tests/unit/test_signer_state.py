"""The signer's state file (what it signed, per origin) and its pure check against a store's tree."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from lodeline.tlog import merkle
from lodeline.trace.signer_state import (
    STATE_FORMAT,
    SignedHead,
    SignerStateError,
    SignerStateFile,
    refusal,
)

LEAVES = [merkle.leaf_hash(bytes([i])) for i in range(20)]
FORK = [merkle.leaf_hash(bytes([i, 1])) for i in range(20)]


def head(size: int, leaves: list[bytes] = LEAVES) -> SignedHead:
    return SignedHead(
        "o.example/log", size, merkle.root_hash(leaves[:size]), "00112233", "2026-01-01T00:00:00+00:00"
    )


def test_refusal_accepts_only_extensions() -> None:
    signed = head(10)
    for size in (10, 11, 20):
        proof = merkle.consistency_proof(10, LEAVES[:size])
        assert refusal(signed, size, merkle.root_hash(LEAVES[:size]), proof) is None
    # rollback: fewer leaves, named with both sizes and roots
    reason = refusal(signed, 9, merkle.root_hash(LEAVES[:9]), None)
    assert reason is not None and "holds 9 leaves" in reason and "the 10 leaves" in reason
    assert signed.root_hash.hex() in reason and merkle.root_hash(LEAVES[:9]).hex() in reason
    # fork at the same size
    reason = refusal(signed, 10, merkle.root_hash(FORK[:10]), [])
    assert reason is not None and "a fork" in reason and merkle.root_hash(FORK[:10]).hex() in reason
    # another log that is larger: its own proof does not join the signed root
    reason = refusal(signed, 15, merkle.root_hash(FORK[:15]), merkle.consistency_proof(10, FORK[:15]))
    assert reason is not None and "not consistent" in reason and "size 15" in reason
    # from a signed empty tree anything extends
    assert refusal(head(0), 5, merkle.root_hash(LEAVES[:5]), []) is None


def test_state_file_round_trip_atomic_and_durable(tmp_path: Path) -> None:
    state = SignerStateFile(tmp_path / "keys" / "registry-key.signer-state.json")
    assert state.read() == {}
    with state.locked():
        state.record(head(10))
        state.record(SignedHead("other.example/log", 3, bytes(32), "aabbccdd", "2026-01-02T00:00:00+00:00"))
    assert state.head("o.example/log") == head(10)
    doc = json.loads(state.path.read_text())
    assert doc["format"] == STATE_FORMAT and sorted(doc["logs"]) == ["o.example/log", "other.example/log"]
    assert [p.name for p in state.path.parent.iterdir() if p.name.startswith(".")] == []  # no temp file left
    with state.locked():
        assert state.forget("other.example/log") is not None
        assert state.forget("other.example/log") is None
    assert list(state.read()) == ["o.example/log"]


@pytest.mark.parametrize(
    "text",
    ["", "{", "[]", '{"format": "x", "logs": {}}', json.dumps({"format": STATE_FORMAT, "logs": {"o": {}}}),
     json.dumps({"format": STATE_FORMAT, "logs": {"o": {"tree_size": -1, "root_hash": "00" * 32,
                                                         "key_id": "k", "signed_at": "t"}}})],
)  # fmt: skip
def test_a_damaged_state_file_stops_the_signer(tmp_path: Path, text: str) -> None:
    state = SignerStateFile(tmp_path / "s.json")
    state.path.write_text(text)
    with pytest.raises(SignerStateError, match="unreadable"):
        state.read()


def test_the_lock_serialises_read_modify_write(tmp_path: Path) -> None:
    """Threads (each with its own open file description, as processes have) never lose an update."""
    state = SignerStateFile(tmp_path / "s.json")
    with state.locked():
        state.record(head(0))
    rounds, workers = 30, 6

    def bump() -> None:
        for _ in range(rounds):
            with state.locked():
                current = state.head("o.example/log")
                assert current is not None
                state.record(head(current.tree_size + 1, LEAVES * 10))

    threads = [threading.Thread(target=bump) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    final = state.head("o.example/log")
    assert final is not None and final.tree_size == rounds * workers


def test_a_lock_that_is_never_released_times_out(tmp_path: Path) -> None:
    state = SignerStateFile(tmp_path / "s.json")
    with state.locked(), pytest.raises(SignerStateError, match="not free"), state.locked(timeout=0.05):
        pass
