"""What a witness does with an ``add-checkpoint`` request (C2SP tlog-witness), and where its key and state live.

Checks, in the spec's order, each with its status code:

1. the body parses (``old`` line, at most 63 base64 proof hashes, empty line, a checkpoint note) — else **400**;
2. the checkpoint's origin is a log this witness follows — else **404**;
3. a signature by the log's key verifies (unknown keys ignored) — else **403**;
4. the old size is not larger than the checkpoint's — else **400**;
5. atomically with the update (log row locked): the old size is the size this witness last cosigned (0 if
   never) — else **409** with its size as ``text/x.tlog.size``; when old size = checkpoint size, the roots are
   equal — else **409**; otherwise the RFC 9162 consistency proof from its cosigned (size, root) to the
   checkpoint verifies — else **422** (an empty proof from size 0 is the only proof from the empty tree);
6. it stores the new head, then answers **200** with its cosignature/v1 line.

Refused requests whose log signature verified (steps 5) are kept as evidence (a fork or rollback, signed).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from lodeline.config import get_settings
from lodeline.errors import LodelineError
from lodeline.store.engine import write_transaction
from lodeline.tlog import merkle
from lodeline.trace import checkpoint, cosignature
from lodeline.trace.registry_key import create_key_file, read_key_file
from lodeline.trace.witness_protocol import (
    SIZE_CONTENT_TYPE,
    AddCheckpoint,
    WitnessRequestError,
    format_size,
    parse_add_checkpoint,
)
from lodeline.witness import state

DIR_ENV = "LODELINE_WITNESS_DIR"
DATABASE_ENV = "LODELINE_WITNESS_DATABASE_URL"
KEY_FILE_NAME = "witness-key.pem"
TEXT = "text/plain; charset=utf-8"
MAX_TREE_SIZE = 2**63 - 1  # BIGINT


def witness_dir(explicit: Path | None = None) -> Path:
    """``--dir``, else ``LODELINE_WITNESS_DIR``, else ``<data_dir>/witness``."""
    if explicit is not None:
        return explicit
    env = os.environ.get(DIR_ENV)
    return Path(env) if env else get_settings().data_dir / "witness"


def database_url(folder: Path, explicit: str | None = None) -> str:
    return explicit or os.environ.get(DATABASE_ENV) or f"sqlite:///{folder / 'witness.sqlite'}"


@dataclass(frozen=True)
class Witness:
    """A witness: its key (created on first use, mode 0600), its name and its state database."""

    name: str
    private_key: Ed25519PrivateKey
    engine: Engine

    @property
    def cosigner(self) -> cosignature.Cosigner:
        return cosignature.cosigner(self.name, self.private_key)

    @property
    def vkey(self) -> str:
        return self.cosigner.vkey


def open_witness(folder: Path | None = None, *, url: str | None = None, name: str | None = None) -> Witness:
    root = witness_dir(folder)
    engine = state.open_store(database_url(root, url))
    key_path = root / KEY_FILE_NAME
    if not key_path.exists():
        create_key_file(key_path)
    return Witness(state.witness_name(engine, name), read_key_file(key_path, "witness key"), engine)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = TEXT


def _refuse(status: int, reason: str) -> Answer:
    return Answer(status, reason + "\n")


def add_checkpoint(witness: Witness, body: bytes, now: int | None = None) -> Answer:
    """Handle one add-checkpoint request (see the module doc). Never raises for bad input."""
    try:
        request = parse_add_checkpoint(body)
        text, _ = checkpoint.split_note(request.note)
        cp = checkpoint.parse_checkpoint(text)
    except (WitnessRequestError, checkpoint.CheckpointError) as exc:
        return _refuse(400, exc.message)
    try:
        with witness.engine.connect() as conn:
            vkey = state.log_vkey(conn, cp.origin)
    except SQLAlchemyError as exc:
        return _refuse(503, f"the witness cannot read its state: {type(exc).__name__}")
    if vkey is None:
        return _refuse(404, f"unknown log origin {cp.origin!r}")
    try:
        checkpoint.open_note(request.note, [checkpoint.parse_vkey(vkey)])
    except checkpoint.CheckpointError as exc:
        return _refuse(403, f"no valid signature by the key of log {cp.origin!r}: {exc.message}")
    if request.old_size > cp.tree_size:
        return _refuse(400, f"old size {request.old_size} is larger than the checkpoint size {cp.tree_size}")
    if cp.tree_size > MAX_TREE_SIZE:
        return _refuse(400, f"tree size {cp.tree_size} is larger than this witness stores (2^63 - 1)")
    try:
        return _update(witness, request, text, cp, int(time.time()) if now is None else now)
    except LodelineError as exc:
        return _refuse(503, f"the witness cannot update its state: {exc.message}")
    except SQLAlchemyError as exc:  # e.g. the state database is unavailable: the client may retry
        return _refuse(503, f"the witness cannot update its state: {type(exc).__name__}")


def _update(
    witness: Witness, request: AddCheckpoint, text: str, cp: checkpoint.Checkpoint, now: int
) -> Answer:
    with write_transaction(witness.engine) as conn:
        size, root = state.locked_head(conn, cp.origin)
        if request.old_size != size:
            return Answer(409, format_size(size), SIZE_CONTENT_TYPE)
        known_root = merkle.EMPTY_ROOT if root is None else root
        if request.old_size == cp.tree_size:
            if cp.root_hash != known_root:
                reason = (
                    f"conflict: this witness cosigned root {known_root.hex()} at size {size} for {cp.origin!r}; "
                    f"the checkpoint has root {cp.root_hash.hex()} at that size (a fork)"
                )
                state.record_evidence(conn, cp.origin, 409, reason, request.note)
                return _refuse(409, reason)
        elif not merkle.verify_consistency(size, cp.tree_size, known_root, cp.root_hash, request.proof):
            reason = (
                f"the consistency proof from size {size} (root {known_root.hex()}) to size {cp.tree_size} (root "
                f"{cp.root_hash.hex()}) does not verify"
            )
            state.record_evidence(conn, cp.origin, 422, reason, request.note)
            return _refuse(422, reason)
        state.set_head(conn, cp.origin, cp.tree_size, cp.root_hash, text)
        # The head is stored in this transaction; the cosignature is only returned once it commits.
        line = cosignature.cosign(text, witness.name, witness.private_key, now).line + "\n"
    return Answer(200, line)
