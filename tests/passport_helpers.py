"""Shared set-up of the passport tests: the lithium example chain captured, and verdict-like records logged."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle
from lodeline.trace.chain_setup import capture_all, register
from lodeline.trace.generator import lithium_chain

#: the prefix the test's verdict-like leaves carry (the comply capability defines the real one)
TEST_VERDICT_PREFIX = b"lodeline-test-verdict/v1:"


def lithium_registry(engine: Engine) -> dict[str, Ed25519PrivateKey]:
    chain = lithium_chain()
    private = register(engine, chain)
    capture_all(engine, chain, private)
    return private


def log_verdicts(engine: Engine, verdicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Append one leaf per verdict-like record (prefix + SHA-256 of its JSON) and return the records with their
    leaf index, as a rule check would."""
    out = []
    with write_transaction(engine) as conn:
        for v in verdicts:
            data = (
                TEST_VERDICT_PREFIX
                + hashlib.sha256(json.dumps(v, sort_keys=True).encode()).hexdigest().encode()
            )
            index = tracelog.append_hashes(conn, [data], [merkle.leaf_hash(data)])
            out.append(v | {"leaf_index": index})
    return out
