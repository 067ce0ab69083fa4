"""The C2SP ``tlog-witness`` wire format: the ``add-checkpoint`` request and the witness's answers (pure).

Request (``POST <submission prefix>/add-checkpoint``), every line ending in ``\\n``::

    old <size of the witness's latest cosigned checkpoint, decimal, no leading zeros>
    <base64 consistency proof hash>        (0 to 63 lines; none when old is 0)
    <empty line>
    <the signed checkpoint note>

Answers: ``200`` with one or more cosignature lines (``— <name> <base64>\\n``); ``409`` with
``Content-Type: text/x.tlog.size`` and the witness's size (``<decimal>\\n``) when the old size is not the
witness's; ``409`` when the sizes are equal and the roots differ; ``404`` unknown origin; ``403`` no valid
signature by a known log key; ``422`` the consistency proof does not verify; ``400`` a malformed request.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass

from lodeline.errors import LodelineError
from lodeline.trace import checkpoint

MAX_PROOF_LINES = 63
MAX_REQUEST_BYTES = 64 * 1024
SIZE_CONTENT_TYPE = "text/x.tlog.size"
_OLD = re.compile(r"^old (0|[1-9][0-9]{0,19})$")
_SIZE = re.compile(r"^(0|[1-9][0-9]{0,19})\n$")


class WitnessRequestError(LodelineError):
    """A malformed add-checkpoint request or witness answer."""

    code = "witness-bad-request"
    http_status = 400


@dataclass(frozen=True)
class AddCheckpoint:
    old_size: int
    proof: list[bytes]
    note: str


def format_add_checkpoint(old_size: int, proof: Sequence[bytes], note: str) -> bytes:
    if old_size < 0 or len(proof) > MAX_PROOF_LINES:
        raise WitnessRequestError(f"old size {old_size} or proof length {len(proof)} out of range")
    lines = [f"old {old_size}", *(base64.b64encode(h).decode("ascii") for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + note).encode("utf-8")


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body; WitnessRequestError (400) names what is wrong."""
    if len(body) > MAX_REQUEST_BYTES:
        raise WitnessRequestError(f"request body is larger than {MAX_REQUEST_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WitnessRequestError(f"request body is not UTF-8: {exc}") from exc
    cut = text.find("\n\n")
    if cut < 0:
        raise WitnessRequestError("no empty line between the old size and proof lines and the checkpoint")
    head, note = text[:cut].split("\n"), text[cut + 2 :]
    match = _OLD.match(head[0])
    if match is None or int(match.group(1)) >= 2**64:
        raise WitnessRequestError(f"line 1: expected 'old <decimal size>', got {head[0][:80]!r}")
    if len(head) - 1 > MAX_PROOF_LINES:
        raise WitnessRequestError(f"more than {MAX_PROOF_LINES} consistency proof lines ({len(head) - 1})")
    proof = []
    for number, line in enumerate(head[1:], start=2):
        try:
            value = base64.b64decode(line, validate=True)
        except binascii.Error as exc:
            raise WitnessRequestError(f"line {number}: proof hash is not standard base64: {exc}") from exc
        if len(value) != 32:
            raise WitnessRequestError(f"line {number}: proof hash is {len(value)} bytes, expected 32")
        proof.append(value)
    if not note:
        raise WitnessRequestError("no checkpoint after the empty line")
    return AddCheckpoint(int(match.group(1)), proof, note)


def format_size(size: int) -> str:
    return f"{size}\n"


def parse_size(body: str) -> int:
    """The witness's size from a ``text/x.tlog.size`` body."""
    match = _SIZE.match(body)
    if match is None:
        raise WitnessRequestError(f"expected a decimal tree size and a newline, got {body[:40]!r}")
    return int(match.group(1))


def parse_cosignature_lines(body: str, note: str) -> list[checkpoint.NoteSignature]:
    """The signature lines of a 200 answer, parsed by appending them to the checkpoint ``note`` (the spec's
    suggestion) and splitting the result as a signed note."""
    if (
        not body
        or not body.endswith("\n")
        or any(not line.startswith("— ") for line in body[:-1].split("\n"))
    ):
        raise WitnessRequestError("the witness answered 200 without newline-terminated signature lines")
    try:
        _, signatures = checkpoint.split_note(note + body)
    except checkpoint.CheckpointError as exc:
        raise WitnessRequestError(f"the witness's signature lines are malformed: {exc.message}") from exc
    return signatures
