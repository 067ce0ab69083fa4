"""Multibase base58btc and ``did:key`` identifiers of Ed25519 keys (pure).

A ``did:key`` for an Ed25519 public key is ``did:key:z`` + base58btc(0xed 0x01 || 32 key bytes) (the multicodec
varint of ``ed25519-pub``); its verification method is ``<did>#<the same multibase value>`` (did:key method
specification, W3C CCG; Multikey in Controlled Identifiers 1.0). Data Integrity proof values are multibase
base58btc (``z`` prefix) of the 64-byte signature.
"""

from __future__ import annotations

from lodeline.errors import InvalidArgumentError

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {ch: i for i, ch in enumerate(_ALPHABET)}
ED25519_PUB = b"\xed\x01"


def b58encode(data: bytes) -> str:
    """Bitcoin base58 (leading zero bytes become ``1``)."""
    n = int.from_bytes(data, "big")
    out = []
    while n:
        n, r = divmod(n, 58)
        out.append(_ALPHABET[r])
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    n = 0
    for ch in text:
        if ch not in _INDEX:
            raise InvalidArgumentError(f"not base58btc: character {ch!r}")
        n = n * 58 + _INDEX[ch]
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    pad = len(text) - len(text.lstrip("1"))
    return b"\0" * pad + body


def multibase_z(data: bytes) -> str:
    return "z" + b58encode(data)


def from_multibase_z(text: str) -> bytes:
    if not isinstance(text, str) or not text.startswith("z"):
        raise InvalidArgumentError("not a multibase base58btc value (must start with 'z')")
    return b58decode(text[1:])


def public_key_multibase(public_key: bytes) -> str:
    """The Multikey ``publicKeyMultibase`` of a raw 32-byte Ed25519 key (``z6Mk…``)."""
    if len(public_key) != 32:
        raise InvalidArgumentError("an Ed25519 public key is 32 bytes")
    return multibase_z(ED25519_PUB + public_key)


def did_key(public_key: bytes) -> str:
    return "did:key:" + public_key_multibase(public_key)


def verification_method(public_key: bytes) -> str:
    return f"{did_key(public_key)}#{public_key_multibase(public_key)}"


def key_of_verification_method(method: str) -> bytes:
    """The raw Ed25519 key named by a ``did:key`` verification method (``did:key:z6Mk…#z6Mk…``)."""
    if not isinstance(method, str) or not method.startswith("did:key:"):
        raise InvalidArgumentError(f"verification method {method!r} is not a did:key")
    did, _, fragment = method.partition("#")
    value = did[len("did:key:") :]
    if fragment and fragment != value:
        raise InvalidArgumentError("did:key fragment differs from the key it names")
    raw = from_multibase_z(value)
    if len(raw) != 34 or raw[:2] != ED25519_PUB:
        raise InvalidArgumentError(
            "did:key does not hold an Ed25519 public key (multicodec 0xed01, 32 bytes)"
        )
    return raw[2:]
