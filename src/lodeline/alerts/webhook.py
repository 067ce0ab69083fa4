"""Webhook signatures in the Standard Webhooks format (https://www.standardwebhooks.com/), pure (no I/O).

A delivery carries three headers:

- ``webhook-id``: the message id (the outbox row's id, ``msg_<hex>``), the same on every retry: the receiver's
  idempotency key;
- ``webhook-timestamp``: when this attempt was signed, integer Unix seconds;
- ``webhook-signature``: ``v1,<base64 HMAC-SHA256>`` (space-separated when several), the HMAC keyed with the
  secret's bytes over ``"<id>.<timestamp>.<body>"`` (the raw body bytes).

A secret is ``whsec_`` + base64 of 32 random bytes. :class:`Verifier` is the receiver side: it checks a signature
in constant time, refuses a timestamp outside the tolerance (5 minutes by default: an old capture cannot be
replayed later) and remembers the ids it accepted, so a replay within the tolerance, or a retry of a message it
already processed, is reported as a duplicate (:class:`DuplicateMessage`) and not processed twice.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping

from lodeline.errors import InvalidArgumentError, LodelineError

SECRET_PREFIX = "whsec_"
DEFAULT_TOLERANCE_SECONDS = 300


class SignatureRejected(LodelineError):
    """The delivery is not authentic or too old/new (answer 401 / 400; never retry-worthy for the sender)."""

    code = "webhook-signature-rejected"
    http_status = 401


class DuplicateMessage(LodelineError):
    """An authentic delivery whose id was already accepted: acknowledge it (2xx), do not process it again."""

    code = "webhook-duplicate"
    http_status = 200


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a ``whsec_`` secret."""
    if not secret.startswith(SECRET_PREFIX):
        raise InvalidArgumentError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgumentError("a webhook secret is whsec_ followed by base64") from None
    if not 24 <= len(key) <= 64:
        raise InvalidArgumentError("a webhook secret's key is 24 to 64 bytes")
    return key


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, id.timestamp.body)>``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode("ascii")


def sign_headers(secret: str, message_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature(secret, message_id, ts, body),
    }


def check_signature(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> str:
    """The message id of an authentic delivery within the tolerance; else :class:`SignatureRejected`.

    ``headers`` is looked up case-insensitively (HTTP header names are)."""
    lower = {k.lower(): v for k, v in headers.items()}
    message_id = lower.get("webhook-id")
    stamp = lower.get("webhook-timestamp")
    sigs = lower.get("webhook-signature")
    if not message_id or not stamp or not sigs:
        raise SignatureRejected("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not stamp.isdigit() or len(stamp) > 12:
        raise SignatureRejected("webhook-timestamp is not integer Unix seconds")
    clock = time.time() if now is None else now
    if abs(clock - int(stamp)) > tolerance:
        raise SignatureRejected(f"webhook-timestamp is more than {tolerance} s from the receiver's clock")
    expected = signature(secret, message_id, int(stamp), body).encode("ascii")
    for candidate in sigs.split(" "):
        if candidate.startswith("v1,") and hmac.compare_digest(
            candidate.encode("ascii", "replace"), expected
        ):
            return message_id
    raise SignatureRejected("no webhook-signature matches the body")


class Verifier:
    """A receiver's check: authentic, fresh, and not already processed.

    ``seen`` ids are kept for at least the tolerance window (a replay older than that fails the timestamp check
    anyway); a receiver that must survive its own restarts keeps them in its database instead."""

    def __init__(self, secret: str, *, tolerance: int = DEFAULT_TOLERANCE_SECONDS, max_seen: int = 100_000):
        secret_key(secret)
        self.secret = secret
        self.tolerance = tolerance
        self.max_seen = max_seen
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, headers: Mapping[str, str], body: bytes, *, now: float | None = None) -> str:
        """The id of a new authentic message (now marked seen); :class:`DuplicateMessage` for one already seen."""
        message_id = check_signature(self.secret, headers, body, now=now, tolerance=self.tolerance)
        clock = time.time() if now is None else now
        with self._lock:
            if message_id in self._seen:
                raise DuplicateMessage(f"message {message_id} was already received", message_id=message_id)
            self._seen[message_id] = clock
            while len(self._seen) > self.max_seen:
                oldest_id, oldest_at = next(iter(self._seen.items()))
                if clock - oldest_at <= self.tolerance:
                    break
                self._seen.pop(oldest_id)
        return message_id
