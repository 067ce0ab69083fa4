"""Witness cosignatures on checkpoints: C2SP ``tlog-cosignature`` v1 with Ed25519 (pure, no I/O).

A cosignature is a C2SP signed-note signature line added to a checkpoint by a *cosigner* (a witness)::

    — <cosigner name> base64(key ID (4 bytes) || timestamp (8 bytes, big-endian) || Ed25519 signature (64 bytes))

- **Key ID**: ``SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]`` — signature type 0x04, so a
  cosignature can never be mistaken for a log signature (type 0x01) by the same key and name.
- **Verifier key** (vkey): ``<name>+<hex key ID>+<base64(0x04 || public key)>``.
- **Signed message**: ``"cosignature/v1\\ntime <timestamp>\\n"`` followed by the checkpoint's whole note text
  (origin, size, root and any extension lines, with its final newline; not the signature lines). The timestamp
  is POSIX seconds, at most 2^63 - 1, in decimal without leading zeros.
- **Meaning**: as of that time, the largest consistent tree the cosigner has seen for that origin has that root.

Verification follows signed-note: lines whose (name, key ID) match no configured witness are ignored; a line that
matches one but does not verify rejects the note. :func:`require_quorum` counts distinct witnesses (by public
key, so one key listed under two names counts once).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lodeline.errors import LodelineError
from lodeline.trace import checkpoint

COSIGNATURE_TYPE = b"\x04"
HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1
BLOB_LENGTH = 4 + 8 + 64


class CosignatureError(LodelineError):
    """A cosigner key or cosignature is malformed, or a configured witness's cosignature does not verify."""

    code = "trace-cosignature"
    http_status = 422


class QuorumError(LodelineError):
    """Fewer valid cosignatures from the given witnesses than the quorum asks for."""

    code = "trace-quorum"
    http_status = 422


@dataclass(frozen=True)
class Cosigner:
    """A witness's public identity: its key name, key ID and raw Ed25519 public key."""

    name: str
    key_id: bytes
    public_key: bytes

    @property
    def vkey(self) -> str:
        return format_cosigner_vkey(self.name, self.public_key)


@dataclass(frozen=True)
class Cosignature:
    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line, without its final newline."""
        blob = self.key_id + struct.pack(">Q", self.timestamp) + self.signature
        return f"{checkpoint.SIGNATURE_PREFIX}{self.name} {base64.b64encode(blob).decode('ascii')}"


def cosigner_key_id(name: str, public_key: bytes) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || public key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + COSIGNATURE_TYPE + public_key).digest()[:4]


def _check_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CosignatureError(f"cosigner name {name!r} must be non-empty without spaces or '+'")


def format_cosigner_vkey(name: str, public_key: bytes) -> str:
    _check_name(name)
    if len(public_key) != 32:
        raise CosignatureError("an Ed25519 public key is 32 bytes")
    encoded = base64.b64encode(COSIGNATURE_TYPE + public_key).decode("ascii")
    return f"{name}+{cosigner_key_id(name, public_key).hex()}+{encoded}"


def cosigner(name: str, private_key: Ed25519PrivateKey) -> Cosigner:
    public = checkpoint.public_key_bytes(private_key)
    _check_name(name)
    return Cosigner(name, cosigner_key_id(name, public), public)


def parse_cosigner_vkey(vkey: str) -> Cosigner:
    """Parse a cosignature/v1 verifier key (type 0x04); its key ID must match its name and key."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise CosignatureError("witness key must be <name>+<hex key id>+<base64 key>", vkey=vkey[:200])
    name, hex_id, b64 = parts
    _check_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
        kid = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise CosignatureError(f"witness key {name!r} is not valid hex/base64: {exc}") from exc
    if len(kid) != 4 or len(raw) != 33 or raw[:1] != COSIGNATURE_TYPE:
        raise CosignatureError(
            f"witness key {name!r} is not a cosignature/v1 key (type 0x04, 32-byte Ed25519, 4-byte key ID)"
        )
    if cosigner_key_id(name, raw[1:]) != kid:
        raise CosignatureError(f"witness key {name!r}: the key ID does not match its name and public key")
    return Cosigner(name, kid, raw[1:])


def signed_message(text: str, timestamp: int) -> bytes:
    """The bytes a cosigner signs: the header line, the time line, then the checkpoint's note text."""
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature timestamp {timestamp} is outside 0..2^63-1")
    checkpoint.parse_checkpoint(text)  # a checkpoint body, newline-terminated
    return f"{HEADER}\ntime {timestamp}\n{text}".encode()


def cosign(text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> Cosignature:
    """Cosign the checkpoint note text ``text`` as ``name`` at ``timestamp`` (POSIX seconds)."""
    _check_name(name)
    message = signed_message(text, timestamp)
    kid = cosigner_key_id(name, checkpoint.public_key_bytes(private_key))
    return Cosignature(name, kid, timestamp, private_key.sign(message))


def parse_cosignature(sig: checkpoint.NoteSignature) -> Cosignature:
    """A note signature line as a cosignature (key ID, timestamp, signature)."""
    blob = sig.key_id + sig.signature
    if len(blob) != BLOB_LENGTH:
        raise CosignatureError(
            f"cosignature by {sig.name} is {len(blob)} bytes, expected {BLOB_LENGTH} "
            "(key ID, 8-byte timestamp, 64-byte Ed25519 signature)"
        )
    (timestamp,) = struct.unpack(">Q", blob[4:12])
    if timestamp > MAX_TIMESTAMP:
        raise CosignatureError(f"cosignature by {sig.name} has a timestamp above 2^63-1")
    return Cosignature(sig.name, blob[:4], timestamp, blob[12:])


def verify(text: str, cosignature: Cosignature, by: Cosigner) -> bool:
    """True iff ``cosignature`` is ``by``'s valid cosignature on the checkpoint note text ``text``."""
    if (cosignature.name, cosignature.key_id) != (by.name, by.key_id):
        return False
    try:
        Ed25519PublicKey.from_public_bytes(by.public_key).verify(
            cosignature.signature, signed_message(text, cosignature.timestamp)
        )
    except (InvalidSignature, CosignatureError, checkpoint.CheckpointError):
        return False
    return True


def verified_cosignatures(note: str, witnesses: Sequence[Cosigner]) -> list[Cosignature]:
    """The valid cosignatures on ``note`` by the given witnesses, one per witness (the first), in note order.

    Lines by unknown keys are ignored; a line by a known witness that is malformed or does not verify raises
    CosignatureError (signed-note: a failing signature by a known key rejects the note).
    """
    text, signatures = checkpoint.split_note(note)
    known = {(w.name, w.key_id): w for w in witnesses}
    found: dict[bytes, Cosignature] = {}
    for sig in signatures:
        witness = known.get((sig.name, sig.key_id))
        if witness is None:
            continue
        cosig = parse_cosignature(sig)
        if not verify(text, cosig, witness):
            raise CosignatureError(
                f"the cosignature by witness {witness.name} (key {witness.key_id.hex()}, time {cosig.timestamp}) "
                "does not verify on this checkpoint"
            )
        found.setdefault(witness.public_key, cosig)
    return list(found.values())


@dataclass(frozen=True)
class QuorumResult:
    verified: list[Cosignature]
    missing: list[str]  # names of given witnesses without a valid cosignature
    quorum: int


def require_quorum(note: str, witnesses: Sequence[Cosigner], quorum: int) -> QuorumResult:
    """Check that at least ``quorum`` distinct given witnesses validly cosigned ``note``; raise QuorumError if not."""
    distinct = {w.public_key for w in witnesses}
    if not 1 <= quorum <= len(distinct):
        raise QuorumError(
            f"quorum {quorum} is not between 1 and the number of distinct witness keys given ({len(distinct)})",
            quorum=quorum,
        )
    verified = verified_cosignatures(note, witnesses)
    signed = {c.key_id + c.name.encode() for c in verified}
    missing = [w.name for w in witnesses if w.key_id + w.name.encode() not in signed]
    result = QuorumResult(verified, missing, quorum)
    if len(verified) < quorum:
        have = ", ".join(c.name for c in verified) or "none"
        raise QuorumError(
            f"{len(verified)} of the {quorum} witness cosignatures required: cosigned by {have}; "
            f"no valid cosignature from {', '.join(missing)}",
            verified=[c.name for c in verified],
            missing=missing,
            quorum=quorum,
        )
    return result
