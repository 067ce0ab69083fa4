"""The registry's checkpoint signing key: where it lives, how it is created, its name (the log origin), and where
the signer keeps its state.

The key is an Ed25519 private key in unencrypted PKCS#8 PEM. It is read from ``LODELINE_REGISTRY_KEY_FILE``
when that is set (never created there: a key the operator names must exist), otherwise from
``<data_dir>/registry-key.pem``, generated on first use. Creation is atomic and race-free: the PEM is
written to a temporary file with mode 0600 in the same folder, flushed to disk, then hard-linked to the final
name; if another process won the race, its key is used.

**Origin.** The key name is the log's origin (C2SP tlog-checkpoint: the key name SHOULD match the origin). It is
``LODELINE_REGISTRY_ORIGIN`` when set; otherwise the origin the store is pinned to (stores that issued checkpoints
before logs had IDs); otherwise ``lodeline.local/registry/<log id>``, where the log ID is random and created with
the store (``tracelog_identity``). So one key serves any number of stores, each a log of its own.

**Signer state.** ``<key folder>/<key file stem>.signer-state.json`` (or ``LODELINE_REGISTRY_SIGNER_STATE``):
the last (size, root) signed per origin, kept next to the key and outside any database (see
:mod:`lodeline.trace.signer_state`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from lodeline.config import get_settings
from lodeline.errors import LodelineError
from lodeline.trace import checkpoint

KEY_FILE_ENV = "LODELINE_REGISTRY_KEY_FILE"
ORIGIN_ENV = "LODELINE_REGISTRY_ORIGIN"
STATE_FILE_ENV = "LODELINE_REGISTRY_SIGNER_STATE"
DEFAULT_ORIGIN_PREFIX = "lodeline.local/registry"
KEY_FILE_NAME = "registry-key.pem"


class RegistryKeyError(LodelineError):
    code = "trace-registry-key"
    http_status = 500


@dataclass(frozen=True)
class RegistryKey:
    name: str  # key name = log origin
    private_key: Ed25519PrivateKey
    path: Path

    @property
    def public_key(self) -> bytes:
        return checkpoint.public_key_bytes(self.private_key)

    @property
    def key_id_hex(self) -> str:
        return checkpoint.key_id(self.name, self.public_key).hex()

    @property
    def vkey(self) -> str:
        return checkpoint.format_vkey(self.name, self.public_key)

    def verifier(self) -> checkpoint.Verifier:
        return checkpoint.parse_vkey(self.vkey)

    def named(self, name: str) -> RegistryKey:
        """The same key under another name (to check checkpoints issued under an earlier origin)."""
        return RegistryKey(name=name, private_key=self.private_key, path=self.path)


def _check_origin(origin: str, where: str) -> str:
    if not origin or "+" in origin or any(ch.isspace() for ch in origin) or len(origin) > 255:
        raise RegistryKeyError(
            f"{where}={origin!r}: the origin must be 1-255 characters without spaces or '+'", origin=origin
        )
    return origin


def configured_origin() -> str | None:
    """``LODELINE_REGISTRY_ORIGIN`` when the operator set it (used as is), else None."""
    value = os.environ.get(ORIGIN_ENV, "").strip()
    return _check_origin(value, ORIGIN_ENV) if value else None


def registry_origin(log_id: str, pinned: str | None = None) -> str:
    """The origin of the log with this ID: the configured origin, else the pinned one, else the default."""
    explicit = configured_origin()
    if explicit is not None:
        return explicit
    if pinned:
        return _check_origin(pinned, "pinned origin")
    return _check_origin(f"{DEFAULT_ORIGIN_PREFIX}/{log_id}", "log ID")


def key_path() -> tuple[Path, bool]:
    """(path, explicit): the configured key file, and whether the operator named it."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit), True
    return get_settings().data_dir / KEY_FILE_NAME, False


def signer_state_path() -> Path:
    """The signer state file: ``LODELINE_REGISTRY_SIGNER_STATE``, else next to the key."""
    explicit = os.environ.get(STATE_FILE_ENV)
    if explicit:
        return Path(explicit)
    path, _ = key_path()
    return path.with_name(f"{path.stem}.signer-state.json")


def read_key_file(path: Path, what: str = "registry signing key") -> Ed25519PrivateKey:
    """An Ed25519 private key from a PKCS#8 PEM file."""
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise RegistryKeyError(f"{path}: cannot read the {what}: {exc}", file=str(path)) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise RegistryKeyError(f"{path}: the {what} must be Ed25519", file=str(path))
    return key


def create_key_file(path: Path) -> None:
    """Create a new Ed25519 key at ``path`` (mode 0600) unless one exists: atomic, first creator wins."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", dir=path.parent)  # mkstemp creates with mode 0600
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
        os.close(fd)
        # Atomic create-if-absent: if another process created the key first, theirs is kept and used.
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def load_registry_key(origin: str, *, create: bool = True) -> RegistryKey:
    """The registry signing key named ``origin``; generated in the data dir on first use unless ``create`` is
    False. (The origin comes from the store: :func:`lodeline.trace.signer.store_origin`.)"""
    path, explicit = key_path()
    if not path.exists():
        if explicit:
            raise RegistryKeyError(f"{KEY_FILE_ENV}={path}: no such key file", file=str(path))
        if not create:
            raise RegistryKeyError(
                f"{path}: no registry key yet (it is created by the first `lodeline trace checkpoint`)",
                file=str(path),
            )
        create_key_file(path)
    return RegistryKey(name=_check_origin(origin, "origin"), private_key=read_key_file(path), path=path)
