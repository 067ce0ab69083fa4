"""What the registry's signer has signed, kept durably OUTSIDE the database it signs.

A checkpoint signer must never sign two different roots for one tree size, nor a smaller tree than one it
signed before (C2SP tlog-checkpoint: "A log MUST not sign any checkpoint which is inconsistent with any checkpoint
it previously signed"). The database cannot be trusted to remember: a restored backup, a swapped file or lost
writes make it forget, and then the signer would sign a fork of its own log. So the signer keeps, per origin, the
last (size, root) it signed in a small JSON file next to its key, and checks every store against it first.

**File format** (``lodeline-signer-state/1``)::

    {"format": "lodeline-signer-state/1",
     "logs": {"<origin>": {"tree_size": 42, "root_hash": "<hex>", "key_id": "<hex>", "signed_at": "<ISO 8601>"}}}

**Writes** are atomic and durable: a temporary file in the same folder is written and fsynced, renamed over the
state file, and the folder is fsynced, so after a crash the file is either the old or the new state, never a
mixture. **Locking:** every read-check-sign-write runs under an exclusive ``flock`` on ``<state file>.lock``, which
serialises the signers of all worker processes (and threads: each takes its own open file description).

**The check** (:func:`refusal`): a tree of ``size`` leaves with root ``root`` extends the signed head
(``S``, ``R``) iff ``size >= S`` and the RFC 9162 consistency proof from (S, R) to (size, root) — built from the
store, verified here — holds (for ``size == S``: the roots are equal).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lodeline.errors import LodelineError
from lodeline.tlog import merkle

STATE_FORMAT = "lodeline-signer-state/1"
LOCK_TIMEOUT_SECONDS = 30.0


class SignerRefusedError(LodelineError):
    """The store does not extend what this signer signed: it will not sign, and the server will not start."""

    code = "registry-signer-refused"
    http_status = 503

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(
            f"the registry signer refuses: {reason}. If this store was deliberately replaced, see "
            "`lodeline trace signer status` and `lodeline trace signer reset` (docs/trace-log.md)",
            reason=reason,
            **details,
        )


class SignerStateError(LodelineError):
    """The state file cannot be read or written; the signer then signs nothing."""

    code = "registry-signer-state"
    http_status = 503


@dataclass(frozen=True)
class SignedHead:
    origin: str
    tree_size: int
    root_hash: bytes
    key_id: str
    signed_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "key_id": self.key_id,
            "signed_at": self.signed_at,
        }


def refusal(signed: SignedHead, size: int, root: bytes, proof: Sequence[bytes] | None) -> str | None:
    """Why the tree (``size``, ``root``) does not extend ``signed``, or None if it does.

    ``proof`` is the store's consistency proof from ``signed.tree_size`` to ``size`` (None when the store is
    smaller and no proof exists). Pure.
    """
    where = f"origin {signed.origin!r}"
    if size < signed.tree_size:
        return (
            f"{where}: the store holds {size} leaves (root {root.hex()}), fewer than the {signed.tree_size} leaves "
            f"(root {signed.root_hash.hex()}) this signer signed at {signed.signed_at}: the store was rolled back"
        )
    if proof is None or not merkle.verify_consistency(signed.tree_size, size, signed.root_hash, root, proof):
        if size == signed.tree_size:
            return (
                f"{where}: the store's root at size {size} is {root.hex()}, but this signer signed root "
                f"{signed.root_hash.hex()} for that size at {signed.signed_at}: the store is another log (a fork)"
            )
        return (
            f"{where}: the store's tree (size {size}, root {root.hex()}) is not consistent with the tree this "
            f"signer signed (size {signed.tree_size}, root {signed.root_hash.hex()}, at {signed.signed_at}): the "
            "RFC 9162 consistency proof from the signed tree to the store's tree does not verify"
        )
    return None


def _parse(text: str, path: Path) -> dict[str, SignedHead]:
    try:
        doc = json.loads(text)
        if (
            not isinstance(doc, dict)
            or doc.get("format") != STATE_FORMAT
            or not isinstance(doc.get("logs"), dict)
        ):
            raise ValueError(f"not a {STATE_FORMAT} document")
        heads = {}
        for origin, entry in doc["logs"].items():
            size, root = entry["tree_size"], bytes.fromhex(entry["root_hash"])
            if not isinstance(size, int) or isinstance(size, bool) or size < 0 or len(root) != 32:
                raise ValueError(f"entry {origin!r} has a bad size or root")
            heads[origin] = SignedHead(origin, size, root, str(entry["key_id"]), str(entry["signed_at"]))
        return heads
    except (ValueError, KeyError, TypeError) as exc:
        raise SignerStateError(
            f"{path}: the signer state file is unreadable ({exc}); the signer signs nothing until it is "
            "repaired or moved away deliberately",
            file=str(path),
        ) from exc


class SignerStateFile:
    """The state file and its lock. Use :meth:`locked` around every read-check-sign-write sequence."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def read(self) -> dict[str, SignedHead]:
        """Every origin's signed head ({} when no state file exists yet)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SignerStateError(
                f"{self.path}: cannot read the signer state: {exc}", file=str(self.path)
            ) from exc
        return _parse(text, self.path)

    def head(self, origin: str) -> SignedHead | None:
        return self.read().get(origin)

    @contextlib.contextmanager
    def locked(self, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
        """Hold the exclusive lock (flock on ``<state>.lock``), waiting at most ``timeout`` seconds."""
        try:
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise SignerStateError(f"{self.lock_path}: cannot open the signer lock: {exc}") from exc
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except OSError as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                        raise SignerStateError(
                            f"{self.lock_path}: the signer lock was not free within {timeout:.0f} s"
                        ) from exc
                    time.sleep(0.002)
            yield
        finally:
            os.close(fd)  # closing the last descriptor of the open file description releases the flock

    def write(self, heads: dict[str, SignedHead]) -> None:
        """Replace the state atomically and durably (temp file, fsync, rename, fsync of the folder)."""
        doc = {"format": STATE_FORMAT, "logs": {o: heads[o].to_json() for o in sorted(heads)}}
        data = (json.dumps(doc, indent=1) + "\n").encode("utf-8")
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}-", dir=folder)
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp, self.path)
            finally:
                Path(tmp).unlink(missing_ok=True)
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError as exc:
            raise SignerStateError(
                f"{self.path}: cannot write the signer state: {exc}", file=str(self.path)
            ) from exc

    def record(self, head: SignedHead) -> None:
        """Set one origin's head (call under :meth:`locked`)."""
        heads = self.read()
        heads[head.origin] = head
        self.write(heads)

    def forget(self, origin: str) -> SignedHead | None:
        """Drop one origin's head (call under :meth:`locked`); returns what was forgotten."""
        heads = self.read()
        gone = heads.pop(origin, None)
        if gone is not None:
            self.write(heads)
        return gone
