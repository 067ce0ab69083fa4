"""The registry's checkpoint signing key: where it lives, how it is created, and its public verifier key.

The key is an Ed25519 private key in unencrypted PKCS#8 PEM. It is read from ``LODELINE_REGISTRY_KEY_FILE``
when that is set (never created there: a key the operator names must exist), otherwise from
``<data_dir>/registry-key.pem``, generated on first use. Creation is atomic and race-free: the PEM is
written to a temporary file with mode 0600 in the same folder, flushed to disk, then hard-linked to the final
name; if another process won the race, its key is used. The key name (and checkpoint origin) is
``LODELINE_REGISTRY_ORIGIN`` (default :data:`DEFAULT_ORIGIN`).
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
DEFAULT_ORIGIN = "lodeline.local/registry"
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


def registry_origin() -> str:
    origin = os.environ.get(ORIGIN_ENV, DEFAULT_ORIGIN).strip()
    if not origin or "+" in origin or any(ch.isspace() for ch in origin):
        raise RegistryKeyError(f"{ORIGIN_ENV}={origin!r}: the origin must be non-empty without spaces or '+'")
    return origin


def key_path() -> tuple[Path, bool]:
    """(path, explicit): the configured key file, and whether the operator named it."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit), True
    return get_settings().data_dir / KEY_FILE_NAME, False


def _load(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise RegistryKeyError(
            f"{path}: cannot read the registry signing key: {exc}", file=str(path)
        ) from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise RegistryKeyError(f"{path}: the registry signing key must be Ed25519", file=str(path))
    return key


def _create(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    fd, tmp = tempfile.mkstemp(prefix=".registry-key-", dir=path.parent)  # mkstemp creates with mode 0600
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


def load_registry_key(*, create: bool = True) -> RegistryKey:
    """The registry signing key; generated in the data dir on first use unless ``create`` is False."""
    path, explicit = key_path()
    if not path.exists():
        if explicit:
            raise RegistryKeyError(f"{KEY_FILE_ENV}={path}: no such key file", file=str(path))
        if not create:
            raise RegistryKeyError(
                f"{path}: no registry key yet (it is created by the first `lodeline trace checkpoint`)",
                file=str(path),
            )
        _create(path)
    return RegistryKey(name=registry_origin(), private_key=_load(path), path=path)
