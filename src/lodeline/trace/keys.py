"""Ed25519 keys and detached signatures for participants (RFC 8032, via ``cryptography``).

A document is signed over its exact bytes; the signature file holds the 64-byte signature in base64, or a
detached JWS (RFC 7515 compact serialisation with an empty payload, ``alg`` EdDSA; the unencoded-payload option
of RFC 7797 is supported). Public keys
are exchanged as base64 of the raw 32 bytes, private keys as unencrypted PKCS#8 PEM files (mode 0600).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lodeline.trace.errors import reject


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def public_b64(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_public(b64: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(b64.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise reject("bad-public-key", f"not a base64 Ed25519 public key (32 bytes): {exc}") from exc


def key_id(public_key_b64: str) -> str:
    """Stable short id of a public key: first 32 hex digits of SHA-256 over its raw bytes."""
    return hashlib.sha256(base64.b64decode(public_key_b64)).hexdigest()[:32]


def sign(private: Ed25519PrivateKey, data: bytes) -> str:
    return base64.b64encode(private.sign(data)).decode("ascii")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


JWS_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}


def sign_jws(private: Ed25519PrivateKey, data: bytes) -> str:
    """Detached JWS (RFC 7515 compact, unencoded payload per RFC 7797): ``<header>..<signature>``."""
    header = _b64url(json.dumps(JWS_HEADER, separators=(",", ":")).encode("ascii"))
    return f"{header}..{_b64url(private.sign(header.encode('ascii') + b'.' + data))}"


def _jws_signing_input(signature: str, data: bytes) -> tuple[bytes, bytes] | None:
    """(signing input, signature) of a detached JWS over ``data``, or None if it is not a valid one."""
    parts = signature.strip().split(".")
    if len(parts) != 3 or parts[1]:
        return None
    try:
        header = json.loads(_b64url_decode(parts[0]))
        sig = _b64url_decode(parts[2])
    except (ValueError, binascii.Error):
        return None
    if not isinstance(header, dict) or header.get("alg") != "EdDSA":
        return None
    if header.get("b64", True) is False:
        if "b64" not in header.get("crit", []):
            return None
        return parts[0].encode("ascii") + b"." + data, sig
    return parts[0].encode("ascii") + b"." + _b64url(data).encode("ascii"), sig


def verify(public_key_b64: str, signature_b64: str, data: bytes) -> bool:
    """Verify a detached signature over ``data``: base64 Ed25519 (64 bytes) or a detached EdDSA JWS."""
    if "." in signature_b64:
        jws = _jws_signing_input(signature_b64, data)
        if jws is None:
            return False
        data, sig = jws
    else:
        try:
            sig = base64.b64decode(signature_b64.strip(), validate=True)
        except binascii.Error:
            return False
    try:
        load_public(public_key_b64).verify(sig, data)
    except InvalidSignature:
        return False
    return True


def write_private(private: Ed25519PrivateKey, path: Path) -> None:
    """Write a PKCS#8 PEM private key readable only by its owner (0600, set at creation, never wider)."""
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def read_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise reject("bad-private-key", f"{path}: cannot load an Ed25519 private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise reject("bad-private-key", f"{path}: not an Ed25519 key")
    return key
