"""Signed checkpoints: C2SP ``tlog-checkpoint`` bodies in C2SP ``signed-note`` envelopes, Ed25519 (pure).

A checkpoint body is three lines, each ending in ``\\n``: the log's origin, the tree size in decimal, and the
standard-base64 RFC 9162 root hash (optional extension lines may follow). A signed note is that text, a
blank line, then one line per signature::

    — <key name> <base64(key ID (4 bytes) || Ed25519 signature (64 bytes))>

where ``—`` is U+2014 followed by a space. The signature covers the text including its final newline. The
key ID is ``SHA-256(key name || 0x0A || 0x01 || public key)[:4]`` (0x01 is the Ed25519 signature type), and
a verifier key ("vkey") is ``<name>+<hex key ID>+<base64(0x01 || public key)>``. As the spec requires, a
note is accepted only if at least one signature is by a known key and verifies; a signature line that names
a known key but fails to verify rejects the whole note; signatures by unknown keys are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lodeline.errors import LodelineError

SIGNATURE_PREFIX = "— "
ED25519_TYPE = b"\x01"
MAX_SIGNATURES = 100
_DECIMAL = re.compile(r"^(0|[1-9][0-9]{0,19})$")


class CheckpointError(LodelineError):
    """A checkpoint or signed note is malformed, or its signature does not verify."""

    code = "trace-checkpoint"
    http_status = 422

    def __init__(self, reason: str, *, line: int | None = None) -> None:
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"checkpoint: {where}{reason}", line=line, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Verifier:
    name: str
    key_id: bytes
    public_key: bytes  # raw 32-byte Ed25519 key


def _check_key_name(name: str) -> None:
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"key name {name!r} must be non-empty without spaces or '+'")


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, public_key: bytes) -> bytes:
    """The C2SP signed-note key ID of an Ed25519 key: SHA-256(name || 0x0A || 0x01 || key)[:4]."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + ED25519_TYPE + public_key).digest()[:4]


def format_vkey(name: str, public_key: bytes) -> str:
    """The verifier key string ``<name>+<hex key ID>+<base64(0x01 || key)>``."""
    _check_key_name(name)
    encoded = base64.b64encode(ED25519_TYPE + public_key).decode("ascii")
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


def parse_vkey(vkey: str) -> Verifier:
    """Parse a verifier key; its key ID must match the name and key it carries."""
    # Only the first two '+' separate fields: the base64 key may itself contain '+'.
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise CheckpointError("verifier key must be <name>+<hex key id>+<base64 key>")
    name, hex_id, b64 = parts
    _check_key_name(name)
    try:
        raw = base64.b64decode(b64, validate=True)
        kid = bytes.fromhex(hex_id)
    except (binascii.Error, ValueError) as exc:
        raise CheckpointError(f"verifier key is not valid hex/base64: {exc}") from exc
    if len(kid) != 4 or len(raw) != 33 or raw[:1] != ED25519_TYPE:
        raise CheckpointError("verifier key is not an Ed25519 (type 0x01, 32-byte) key with a 4-byte key ID")
    if key_id(name, raw[1:]) != kid:
        raise CheckpointError("verifier key ID does not match its name and public key")
    return Verifier(name=name, key_id=kid, public_key=raw[1:])


# --- checkpoint body ----------------------------------------------------------------------------------------


def format_checkpoint(cp: Checkpoint) -> str:
    """The checkpoint body text (origin, size, base64 root, extension lines), newline-terminated."""
    if not cp.origin or "\n" in cp.origin:
        raise CheckpointError("origin must be a non-empty single line")
    if cp.tree_size < 0:
        raise CheckpointError("tree size must be non-negative")
    if len(cp.root_hash) != 32:
        raise CheckpointError("root hash must be 32 bytes")
    lines = [cp.origin, str(cp.tree_size), base64.b64encode(cp.root_hash).decode("ascii"), *cp.extensions]
    if any(not line or "\n" in line for line in cp.extensions):
        raise CheckpointError("extension lines must be non-empty single lines")
    return "".join(line + "\n" for line in lines)


def parse_checkpoint(text: str) -> Checkpoint:
    """Parse a checkpoint body (the text of a signed note)."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint text must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError(f"checkpoint needs origin, size and root lines; got {len(lines)} line(s)")
    origin, size_line, root_line, *extensions = lines
    if not origin:
        raise CheckpointError("origin line is empty", line=1)
    if not _DECIMAL.match(size_line) or int(size_line) >= 2**64:
        raise CheckpointError(f"tree size {size_line!r} is not a decimal without leading zeros", line=2)
    try:
        root = base64.b64decode(root_line, validate=True)
    except binascii.Error as exc:
        raise CheckpointError(f"root hash is not standard base64: {exc}", line=3) from exc
    if len(root) != 32:
        raise CheckpointError(f"root hash decodes to {len(root)} bytes, expected 32", line=3)
    for offset, ext in enumerate(extensions):
        if not ext:
            raise CheckpointError("extension lines must not be empty", line=4 + offset)
    return Checkpoint(origin=origin, tree_size=int(size_line), root_hash=root, extensions=tuple(extensions))


# --- signed note --------------------------------------------------------------------------------------------


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise CheckpointError("note text must end with a newline")
    if "\n\n" in text:
        raise CheckpointError("note text must not contain a blank line")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise CheckpointError("note text must not contain control characters other than newline")


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Sign ``text`` and return the whole signed note (text, blank line, one signature line)."""
    _check_text(text)
    _check_key_name(name)
    kid = key_id(name, public_key_bytes(private_key))
    signature = private_key.sign(text.encode("utf-8"))
    return f"{text}\n{SIGNATURE_PREFIX}{name} {base64.b64encode(kid + signature).decode('ascii')}\n"


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text and signature lines (syntax only, nothing verified)."""
    cut = note.rfind("\n\n")
    if cut < 0:
        raise CheckpointError("signed note has no blank line before its signatures")
    text, sig_block = note[: cut + 1], note[cut + 2 :]
    _check_text(text)
    if not sig_block.endswith("\n"):
        raise CheckpointError("signature block must end with a newline")
    sig_lines = sig_block[:-1].split("\n")
    if len(sig_lines) > MAX_SIGNATURES:
        raise CheckpointError(f"signed note has more than {MAX_SIGNATURES} signatures")
    base = text.count("\n") + 1
    signatures: list[NoteSignature] = []
    for offset, line in enumerate(sig_lines):
        number = base + 1 + offset
        if not line.startswith(SIGNATURE_PREFIX):
            raise CheckpointError("signature line must start with '— ' (U+2014 and a space)", line=number)
        parts = line[len(SIGNATURE_PREFIX) :].split(" ")
        if len(parts) != 2 or not parts[0]:
            raise CheckpointError("signature line must be '— <name> <base64>'", line=number)
        try:
            blob = base64.b64decode(parts[1], validate=True)
        except binascii.Error as exc:
            raise CheckpointError(f"signature is not standard base64: {exc}", line=number) from exc
        if len(blob) < 5:
            raise CheckpointError("signature is shorter than a key ID plus a signature", line=number)
        signatures.append(NoteSignature(name=parts[0], key_id=blob[:4], signature=blob[4:]))
    return text, signatures


def open_note(note: str, verifiers: list[Verifier]) -> str:
    """Verify a signed note against known keys and return its text; raise CheckpointError otherwise."""
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified = 0
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue  # signatures by keys we do not know are ignored (spec)
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public_key).verify(
                sig.signature, text.encode("utf-8")
            )
        except InvalidSignature as exc:
            raise CheckpointError(
                f"signature by {sig.name} (key {sig.key_id.hex()}) does not verify"
            ) from exc
        verified += 1
    if not verified:
        names = ", ".join(f"{v.name}+{v.key_id.hex()}" for v in verifiers) or "none"
        raise CheckpointError(f"no signature by a known key (known: {names})")
    return text


def sign_checkpoint(cp: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    return sign_note(format_checkpoint(cp), name, private_key)


def open_checkpoint(note: str, verifiers: list[Verifier]) -> Checkpoint:
    """Verify the signature(s) and parse the checkpoint body."""
    return parse_checkpoint(open_note(note, verifiers))
