"""Detached signatures: raw base64 Ed25519 and detached EdDSA JWS (RFC 7515/7797)."""

import base64
import json

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lodeline.trace import keys

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = keys.public_b64(KEY)
DATA = b'{"type":"EPCISDocument"}'


def test_raw_signature() -> None:
    assert keys.verify(PUB, keys.sign(KEY, DATA), DATA)
    assert not keys.verify(PUB, keys.sign(KEY, DATA), DATA + b" ")
    assert not keys.verify(PUB, "not base64!", DATA)


def test_detached_jws_unencoded_payload() -> None:
    jws = keys.sign_jws(KEY, DATA)
    header, empty, _sig = jws.split(".")
    assert empty == ""
    assert json.loads(base64.urlsafe_b64decode(header + "==")) == {
        "alg": "EdDSA",
        "b64": False,
        "crit": ["b64"],
    }
    assert keys.verify(PUB, jws, DATA)
    assert not keys.verify(PUB, jws, DATA + b"x")


def test_detached_jws_encoded_payload_rfc7515() -> None:
    def b64u(b: bytes) -> str:
        return base64.urlsafe_b64encode(b).rstrip(b"=").decode()

    header = b64u(b'{"alg":"EdDSA"}')
    sig = KEY.sign(f"{header}.{b64u(DATA)}".encode())
    assert keys.verify(PUB, f"{header}..{b64u(sig)}", DATA)
    wrong_alg = b64u(b'{"alg":"HS256"}')
    assert not keys.verify(PUB, f"{wrong_alg}..{b64u(sig)}", DATA)


def test_key_id_is_stable() -> None:
    assert keys.key_id(PUB) == keys.key_id(PUB) and len(keys.key_id(PUB)) == 32
