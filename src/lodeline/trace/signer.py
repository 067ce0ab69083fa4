"""The registry's checkpoint signer: the one place that signs checkpoints, and the checks that keep it from forking.

**Issuing** (:func:`issue`): the latest checkpoint, signed first if the log has grown. A read-only fast path
serves the latest stored checkpoint when it already covers the tree and is the head the signer state holds (a
public GET must not take the write lock when nothing changed). Otherwise, in one write transaction:

1. take the issuing lock (PostgreSQL: a transaction advisory lock; SQLite: ``BEGIN IMMEDIATE``), so two
   workers never issue two checkpoints for one size;
2. take the signer state lock (flock; serialises the signers of every process sharing the key);
3. read the store's tree (size, root) and check it extends the signed head of this origin: the state file's,
   or — before the state knows this origin (a new state file, after a reset, or a store upgraded from an older
   version) — the store's own latest checkpoint under this origin. The check is a real RFC 9162 consistency
   proof from the signed head to the store's tree, built from the store and verified against both roots;
4. write the new head to the state file (durably) BEFORE the signature leaves the transaction;
5. sign and store the checkpoint; commit.

A refusal raises :class:`~lodeline.trace.signer_state.SignerRefusedError` (``registry-signer-refused``, HTTP 503),
naming the sizes and roots. :func:`check` is the same test without signing (``lodeline serve`` runs it before it
starts); :func:`status` reports it; :func:`reset` is the operator's deliberate way out, recorded in the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from lodeline.errors import NotFoundError
from lodeline.store import tracelog as store
from lodeline.store.accounts import record_audit
from lodeline.store.engine import write_transaction
from lodeline.trace import checkpoint, log
from lodeline.trace.registry_key import (
    RegistryKey,
    RegistryKeyError,
    load_registry_key,
    registry_origin,
    signer_state_path,
)
from lodeline.trace.signer_state import SignedHead, SignerRefusedError, SignerStateFile, refusal


@dataclass(frozen=True)
class Issued:
    checkpoint: log.StoredCheckpoint
    new: bool  # signed by this call (False: an existing checkpoint already covered the tree)


def store_origin(conn: Connection) -> str:
    """The origin of the store's log (see :mod:`lodeline.trace.registry_key`)."""
    log_id, pinned = store.log_identity(conn)
    return registry_origin(log_id, pinned)


def signer_key(conn: Connection, *, create: bool = True) -> RegistryKey:
    """The registry key, named after the store's origin."""
    return load_registry_key(store_origin(conn), create=create)


def state_file() -> SignerStateFile:
    return SignerStateFile(signer_state_path())


def _tree(conn: Connection) -> tuple[int, bytes]:
    size = log.tree_size(conn)
    return size, log.root_at(conn, size)


def _head_of(cp: log.StoredCheckpoint) -> SignedHead:
    return SignedHead(cp.origin, cp.tree_size, cp.root_hash, cp.key_id, cp.issued_at.isoformat())


def _refusal(conn: Connection, head: SignedHead, size: int, root: bytes) -> str | None:
    proof = log.consistency_proof(conn, head.tree_size, size) if head.tree_size <= size else None
    return refusal(head, size, root, proof)


def _refuse(reason: str, head: SignedHead, size: int, root: bytes) -> SignerRefusedError:
    return SignerRefusedError(
        reason,
        origin=head.origin,
        signed_size=head.tree_size,
        signed_root=head.root_hash.hex(),
        store_size=size,
        store_root=root.hex(),
    )


def _covers(cp: log.StoredCheckpoint | None, key: RegistryKey, size: int) -> bool:
    return cp is not None and (cp.tree_size, cp.key_name, cp.key_id) == (size, key.name, key.key_id_hex)


def issue(engine: Engine) -> Issued:
    """The latest checkpoint, signing a new one first if the log has grown; refuses when the store does not
    extend what this signer signed (see the module doc)."""
    state = state_file()
    with engine.connect() as conn:
        key = signer_key(conn)
        latest = log.latest_checkpoint(conn)
        size = log.tree_size(conn)
    if latest is not None and _covers(latest, key, size):
        head = state.head(key.name)
        if head is not None and (head.tree_size, head.root_hash) == (latest.tree_size, latest.root_hash):
            return Issued(latest, new=False)
    # Anything else (grown, unknown to the state, or a state ahead of this snapshot) is settled under the locks.
    with write_transaction(engine) as conn:
        store.lock_checkpoint_issue(conn)
        with state.locked():
            return _issue_locked(conn, key, state)


def _issue_locked(conn: Connection, key: RegistryKey, state: SignerStateFile) -> Issued:
    size, root = _tree(conn)
    latest = log.latest_checkpoint(conn)
    recorded = state.head(key.name)
    head = recorded
    if head is None and latest is not None and latest.origin == key.name:
        head = _head_of(latest)  # trust on first use: the store's own last checkpoint under this origin
    if head is not None:
        reason = _refusal(conn, head, size, root)
        if reason is not None:
            raise _refuse(reason, head, size, root)
    if recorded is None or (recorded.tree_size, recorded.root_hash, recorded.key_id) != (
        size,
        root,
        key.key_id_hex,
    ):
        # written (durably) before the signature can leave this transaction
        state.record(SignedHead(key.name, size, root, key.key_id_hex, datetime.now(UTC).isoformat()))
    if latest is not None and _covers(latest, key, size) and latest.root_hash == root:
        return Issued(latest, new=False)
    return Issued(log.store_signed_checkpoint(conn, key, size, root), new=True)


def check(engine: Engine) -> None:
    """Raise SignerRefusedError if the store does not extend the head this signer signed for its origin."""
    with engine.connect() as conn:
        origin = store_origin(conn)
        head = state_file().head(origin)
        if head is None:
            return
        size, root = _tree(conn)
        reason = _refusal(conn, head, size, root)
    if reason is not None:
        raise _refuse(reason, head, size, root)


def status(engine: Engine) -> dict[str, Any]:
    """The store's origin and tree, the head signed for it, and whether the store extends it."""
    state = state_file()
    heads = state.read()
    with engine.connect() as conn:
        log_id, pinned = store.log_identity(conn)
        origin = registry_origin(log_id, pinned)
        size, root = _tree(conn)
        latest = log.latest_checkpoint(conn)
        head = heads.get(origin)
        reason = None if head is None else _refusal(conn, head, size, root)
    try:
        key: RegistryKey | None = load_registry_key(origin, create=False)
    except RegistryKeyError:
        key = None
    return {
        "origin": origin,
        "log_id": log_id,
        "pinned_origin": pinned,
        "key_file": None if key is None else str(key.path),
        "vkey": None if key is None else key.vkey,
        "state_file": str(state.path),
        "store": {"tree_size": size, "root_hash": root.hex()},
        "latest_checkpoint": None
        if latest is None
        else {"tree_size": latest.tree_size, "root_hash": latest.root_hash.hex(), "origin": latest.origin},
        "signed": None if head is None else {"origin": origin, **head.to_json()},
        "extends": reason is None,
        "reason": reason,
        "other_origins": {o: h.to_json() for o, h in sorted(heads.items()) if o != origin},
    }


def reset(engine: Engine, origin: str) -> SignedHead:
    """Forget the signed head of ``origin`` (the operator's deliberate choice, audited). The next checkpoint
    starts the origin's record again from the store it is then given."""
    state = state_file()
    with engine.connect() as conn:
        store_origin_now = store_origin(conn)
        size, root = _tree(conn)
    with state.locked():
        gone = state.forget(origin)
    if gone is None:
        known = ", ".join(sorted(state.read())) or "none"
        raise NotFoundError(
            f"the signer state {state.path} holds no head for origin {origin!r} (holds: {known})"
        )
    detail = {
        "origin": origin,
        "forgotten": gone.to_json(),
        "store_origin": store_origin_now,
        "store": {"tree_size": size, "root_hash": root.hex()},
        "state_file": str(state.path),
    }
    record_audit(engine, "signer.reset", detail=json.dumps(detail, sort_keys=True))
    return gone


def verifier_key(engine: Engine) -> str:
    """The registry's public verifier key (C2SP vkey) for the store's origin."""
    with engine.connect() as conn:
        return signer_key(conn).vkey


def audit_verifiers(engine: Engine) -> list[checkpoint.Verifier]:
    """The registry key under the store's origin and under every origin a stored checkpoint names (a store keeps
    the checkpoints it issued before its origin changed); [] when there is no key yet."""
    with engine.connect() as conn:
        origins = {store_origin(conn), *store.checkpoint_origins(conn)}
    try:
        key = load_registry_key(next(iter(origins)), create=False)
    except RegistryKeyError:
        return []  # no key yet: any stored checkpoint is then reported as unverifiable, not trusted
    return [key.named(origin).verifier() for origin in sorted(origins)]
