"""Offline verification of an inclusion proof against a signed checkpoint (pure; what an outsider runs).

Inputs: the proof JSON printed by ``lodeline trace prove`` (format ``lodeline-inclusion-proof/1``, see
docs/trace-log.md), the signed checkpoint note, and the registry's verifier key. Steps:

1. the checkpoint's signature verifies under the verifier key (C2SP signed note);
2. the proof's origin and tree size are the checkpoint's;
3. the leaf hash is SHA-256(0x00 || leaf data) (when the leaf data is given);
4. the audit path takes the leaf hash to the checkpoint's root hash (RFC 9162 §2.1.3.2).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from lodeline.errors import LodelineError
from lodeline.tlog import merkle
from lodeline.trace import checkpoint

PROOF_FORMAT = "lodeline-inclusion-proof/1"
CONSISTENCY_FORMAT = "lodeline-consistency-proof/1"


class ProofError(LodelineError):
    """An inclusion proof is malformed or does not verify."""

    code = "trace-proof"
    http_status = 422

    def __init__(self, reason: str, *, field: str | None = None) -> None:
        where = f"field {field!r}: " if field else ""
        super().__init__(f"proof: {where}{reason}", field=field, reason=reason)


@dataclass(frozen=True)
class VerifiedInclusion:
    origin: str
    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    leaf_data: bytes | None


def _b64(value: Any, field: str) -> bytes:
    if not isinstance(value, str):
        raise ProofError("must be a base64 string", field=field)
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise ProofError(f"not standard base64: {exc}", field=field) from exc


def _int(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ProofError("must be a non-negative integer", field=field)
    return value


def verify_inclusion_document(
    proof: dict[str, Any], note: str, verifiers: list[checkpoint.Verifier]
) -> VerifiedInclusion:
    """Check a proof document against a signed checkpoint; raise ProofError/CheckpointError if it fails."""
    cp = checkpoint.open_checkpoint(note, verifiers)
    if proof.get("format") != PROOF_FORMAT:
        raise ProofError(f"expected {PROOF_FORMAT!r}", field="format")
    if proof.get("origin") != cp.origin:
        raise ProofError(
            f"proof is for log {proof.get('origin')!r}, checkpoint for {cp.origin!r}", field="origin"
        )
    size = _int(proof.get("tree_size"), "tree_size")
    if size != cp.tree_size:
        raise ProofError(
            f"proof is against tree size {size}, the checkpoint commits to size {cp.tree_size}",
            field="tree_size",
        )
    index = _int(proof.get("leaf_index"), "leaf_index")
    leaf = _b64(proof.get("leaf_hash"), "leaf_hash")
    data: bytes | None = None
    if "leaf_data" in proof:
        if not isinstance(proof["leaf_data"], str):
            raise ProofError("must be a string", field="leaf_data")
        data = proof["leaf_data"].encode("utf-8")
    elif "leaf_data_base64" in proof:
        data = _b64(proof["leaf_data_base64"], "leaf_data_base64")
    if data is not None and merkle.leaf_hash(data) != leaf:
        raise ProofError("leaf hash is not SHA-256(0x00 || leaf data)", field="leaf_hash")
    raw_path = proof.get("inclusion_path")
    if not isinstance(raw_path, list):
        raise ProofError("must be a list of base64 hashes", field="inclusion_path")
    path = [_b64(p, f"inclusion_path[{i}]") for i, p in enumerate(raw_path)]
    if not merkle.verify_inclusion(leaf, index, size, path, cp.root_hash):
        raise ProofError(
            f"the audit path does not lead from leaf {index} to the checkpoint's root (size {size})",
            field="inclusion_path",
        )
    return VerifiedInclusion(cp.origin, index, size, leaf, cp.root_hash, data)


@dataclass(frozen=True)
class VerifiedConsistency:
    origin: str
    old_size: int
    new_size: int
    old_root: bytes
    new_root: bytes


def verify_consistency_document(
    proof: dict[str, Any], old_note: str, new_note: str, verifiers: list[checkpoint.Verifier]
) -> VerifiedConsistency:
    """Check that the log of ``new_note`` extends the log of ``old_note`` (both signed), using ``proof``."""
    old = checkpoint.open_checkpoint(old_note, verifiers)
    new = checkpoint.open_checkpoint(new_note, verifiers)
    if proof.get("format") != CONSISTENCY_FORMAT:
        raise ProofError(f"expected {CONSISTENCY_FORMAT!r}", field="format")
    if not (proof.get("origin") == old.origin == new.origin):
        raise ProofError(
            f"origins differ: proof {proof.get('origin')!r}, checkpoints {old.origin!r} and {new.origin!r}",
            field="origin",
        )
    if _int(proof.get("old_size"), "old_size") != old.tree_size:
        raise ProofError(f"the old checkpoint commits to size {old.tree_size}", field="old_size")
    if _int(proof.get("new_size"), "new_size") != new.tree_size:
        raise ProofError(f"the new checkpoint commits to size {new.tree_size}", field="new_size")
    raw_path = proof.get("consistency_path")
    if not isinstance(raw_path, list):
        raise ProofError("must be a list of base64 hashes", field="consistency_path")
    path = [_b64(p, f"consistency_path[{i}]") for i, p in enumerate(raw_path)]
    if not merkle.verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, path):
        raise ProofError(
            f"the tree of size {new.tree_size} is not shown to extend the tree of size {old.tree_size}",
            field="consistency_path",
        )
    return VerifiedConsistency(old.origin, old.tree_size, new.tree_size, old.root_hash, new.root_hash)
