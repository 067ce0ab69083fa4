"""The witness answers any add-checkpoint body with one of the spec's status codes and never fails (hypothesis):
random bytes, and structured bodies with random sizes, proof lines and notes, against a witness that follows a
log and has cosigned a checkpoint of it."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lodeline.tlog import merkle
from lodeline.trace import checkpoint
from lodeline.trace.witness_protocol import format_add_checkpoint
from lodeline.witness import service, state

ORIGIN = "fuzz.example/log"
LOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
LEAVES = [merkle.leaf_hash(bytes([i])) for i in range(16)]
STATUSES = {200, 400, 403, 404, 409, 422}


def note(size: int, root: bytes, origin: str = ORIGIN) -> str:
    return checkpoint.sign_checkpoint(checkpoint.Checkpoint(origin, size, root), ORIGIN, LOG_KEY)


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> service.Witness:
    folder: Path = tmp_path_factory.mktemp("fuzz-witness")
    engine = state.open_store(f"sqlite:///{folder / 'w.sqlite'}")
    state.add_log(engine, ORIGIN, checkpoint.format_vkey(ORIGIN, checkpoint.public_key_bytes(LOG_KEY)))
    w = service.Witness("fuzz.example/witness", Ed25519PrivateKey.generate(), engine)
    first = service.add_checkpoint(w, format_add_checkpoint(0, [], note(4, merkle.root_hash(LEAVES[:4]))), 1)
    assert first.status == 200
    return w


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400))
def test_random_bytes(witness: service.Witness, body: bytes) -> None:
    assert service.add_checkpoint(witness, body, 2).status in STATUSES


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.one_of(st.integers(0, 20), st.integers(2**62, 2**64 + 5)),
    size=st.one_of(st.integers(0, 16), st.integers(2**62, 2**64 - 1)),
    proof=st.lists(st.binary(min_size=32, max_size=32), max_size=70),
    origin=st.sampled_from([ORIGIN, "other.example/log"]),
    real_root=st.booleans(),
    extra=st.text(max_size=40),
)
def test_structured_bodies(
    witness: service.Witness,
    old: int,
    size: int,
    proof: list[bytes],
    origin: str,
    real_root: bool,
    extra: str,
) -> None:
    root = merkle.root_hash(LEAVES[:size]) if real_root and size <= 16 else merkle.leaf_hash(extra.encode())
    text = f"old {old}\n" + "".join(base64.b64encode(p).decode() + "\n" for p in proof) + "\n"
    body = (text + note(size, root, origin) + extra).encode("utf-8", "surrogatepass")
    answer = service.add_checkpoint(witness, body, 3)
    assert answer.status in STATUSES, answer
    if answer.status == 200:  # only ever an extension of what it held (4 leaves of LEAVES, or later ones)
        assert size >= 4 and real_root
