"""Standard Webhooks signing and verification (lodeline.alerts.webhook), pure.

The reference vector is the one the Standard Webhooks specification's libraries test against: secret
``whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw``, id ``msg_p5jXN8AQM9LWM0D4loKWxJek``, timestamp 1614265330, body
``{"test": 2432232314}`` → ``v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=``."""

from __future__ import annotations

import base64

import pytest

from lodeline.alerts import webhook
from lodeline.errors import InvalidArgumentError

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
SIG = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(sig: str = SIG, ts: int = TS, message_id: str = ID) -> dict[str, str]:
    return {"Webhook-Id": message_id, "Webhook-Timestamp": str(ts), "Webhook-Signature": sig}


def test_reference_vector() -> None:
    assert webhook.signature(SECRET, ID, TS, BODY) == SIG
    assert webhook.sign_headers(SECRET, ID, BODY, TS) == {
        "webhook-id": ID,
        "webhook-timestamp": str(TS),
        "webhook-signature": SIG,
    }
    assert webhook.check_signature(SECRET, _headers(), BODY, now=TS + 10) == ID


def test_one_of_several_signatures_may_match_and_tampering_fails() -> None:
    other = webhook.signature(webhook.new_secret(), ID, TS, BODY)
    assert webhook.check_signature(SECRET, _headers(f"{other} {SIG}"), BODY, now=TS) == ID
    bad = [
        (_headers(other), BODY),  # another secret
        (_headers(), BODY + b" "),  # another body
        (_headers(ts=TS + 1), BODY),  # another timestamp
        (_headers(message_id="msg_other"), BODY),  # another id
        (_headers("v2," + SIG[3:]), BODY),  # an unknown version
        ({"webhook-id": ID, "webhook-timestamp": str(TS)}, BODY),  # no signature
        (_headers(ts=-1), BODY),
    ]
    for headers, body in bad:
        with pytest.raises(webhook.SignatureRejected):
            webhook.check_signature(SECRET, headers, body, now=TS)


def test_timestamp_tolerance_both_ways() -> None:
    for now in (TS + 301, TS - 301):
        with pytest.raises(webhook.SignatureRejected) as caught:
            webhook.check_signature(SECRET, _headers(), BODY, now=now)
        assert "300 s" in caught.value.message
    assert webhook.check_signature(SECRET, _headers(), BODY, now=TS + 300) == ID


def test_verifier_refuses_replays_and_duplicates() -> None:
    verifier = webhook.Verifier(SECRET)
    assert verifier.verify(_headers(), BODY, now=TS) == ID
    with pytest.raises(webhook.DuplicateMessage):
        verifier.verify(_headers(), BODY, now=TS + 5)  # a replay within the tolerance
    # a retry re-signs the same id with a new timestamp: still the same message, still a duplicate
    retry = webhook.sign_headers(SECRET, ID, BODY, TS + 60)
    with pytest.raises(webhook.DuplicateMessage):
        verifier.verify(retry, BODY, now=TS + 60)
    with pytest.raises(webhook.SignatureRejected):
        verifier.verify(_headers(), BODY, now=TS + 3600)  # a replay after the tolerance: too old


def test_secrets() -> None:
    made = webhook.new_secret()
    assert made.startswith("whsec_") and len(base64.b64decode(made[6:])) == 32
    assert webhook.new_secret() != made
    for bad in (
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"short").decode(),
    ):
        with pytest.raises(InvalidArgumentError):
            webhook.secret_key(bad)
