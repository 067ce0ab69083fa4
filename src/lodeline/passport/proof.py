"""Data Integrity proofs with the ``eddsa-jcs-2022`` cryptosuite (W3C Data Integrity EdDSA Cryptosuites v1.0, §3.3).

Creation (``add_proof``):

1. proof options: ``type`` DataIntegrityProof, ``cryptosuite`` eddsa-jcs-2022, ``created``, ``verificationMethod``
   (a ``did:key``), ``proofPurpose`` assertionMethod, and ``@context`` = the document's ``@context``;
2. ``hashData`` = SHA-256(JCS(proof options)) || SHA-256(JCS(document without ``proof``)) (RFC 8785 JCS);
3. ``proofValue`` = multibase base58btc of the Ed25519 signature over ``hashData``.

Verification (``verify_proof``) repeats 2 with the proof minus ``proofValue`` (its ``@context``, when present, must
be a prefix of the document's; when absent the document's is used) and checks the signature with the key the
``did:key`` verification method names. Pure; the signature maths is ``cryptography``'s Ed25519.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from lodeline.errors import InvalidArgumentError
from lodeline.passport import multikey
from lodeline.trace.directory import canonical_json

CRYPTOSUITE = "eddsa-jcs-2022"
PROOF_TYPE = "DataIntegrityProof"


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class _NotPlain(Exception):
    pass


_SAFE_INT = 2**53
_SURROGATES = "\ud800"


def _plain(value: Any) -> Any:
    """``value`` with integral floats as ints, if ``json.dumps`` then writes it as RFC 8785 does; else raise.

    Holds when every key sorts the same by code point as by UTF-16 unit (all below U+D800), every integer is within
    IEEE 754 precision, and every float is integral below 2**53 (ECMAScript writes 1000.0 as ``1000``) or lies in
    [1e-4, 1e16) (where Python's repr and ECMAScript's Number::toString both write the shortest round-trip digits
    in fixed notation). Exact types only: a subclass of a JSON type takes the slow path."""
    kind = type(value)
    if kind is str or value is None or kind is bool:
        return value
    if kind is int:
        if abs(value) > _SAFE_INT:
            raise _NotPlain
        return value
    if kind is float:
        if value.is_integer():
            if abs(value) < _SAFE_INT:
                return int(value)
            raise _NotPlain  # 2**53 and up: ECMAScript's digits are not always int()'s, nor repr()'s
        if not 1e-4 <= abs(value) < 1e16:
            raise _NotPlain
        return value
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str or not (k.isascii() or max(k) < _SURROGATES):
                raise _NotPlain
            out[k] = v if type(v) is str else _plain(v)
        return out
    if kind is list or kind is tuple:
        if all(type(v) is str for v in value):
            return value
        return [_plain(v) for v in value]
    raise _NotPlain


def canonical(value: Any) -> bytes:
    """RFC 8785 (JCS) bytes of ``value``: through ``json.dumps`` when that writes it identically (:func:`_plain`),
    else through the project's JCS encoder (``trace.directory.canonical_json``); equal by test."""
    try:
        plain = _plain(value)
    except (_NotPlain, RecursionError):
        return canonical_json(value)
    try:
        text = json.dumps(plain, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return text.encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return canonical_json(value)


def hash_data(document: dict[str, Any], proof_config: dict[str, Any]) -> bytes:
    """SHA-256(JCS(proof config)) || SHA-256(JCS(document)) — the bytes the suite signs."""
    return hashlib.sha256(canonical(proof_config)).digest() + hashlib.sha256(canonical(document)).digest()


def add_proof(document: dict[str, Any], key: Ed25519PrivateKey, created: str) -> dict[str, Any]:
    """A copy of ``document`` secured with an eddsa-jcs-2022 proof by ``key`` (any existing proof replaced)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created,
        "verificationMethod": multikey.verification_method(public_bytes(key)),
        "proofPurpose": "assertionMethod",
    }
    if "@context" in unsecured:
        options["@context"] = copy.deepcopy(unsecured["@context"])
    signature = key.sign(hash_data(unsecured, options))
    return unsecured | {"proof": options | {"proofValue": multikey.multibase_z(signature)}}


@dataclass(frozen=True)
class ProofResult:
    ok: bool
    reason: str
    public_key: bytes | None = None


def verify_proof(secured: dict[str, Any], public_key: bytes | None = None) -> ProofResult:
    """Check the document's eddsa-jcs-2022 proof. ``public_key``: the raw key to use; default, the one the
    ``did:key`` verification method names."""
    proof = secured.get("proof")
    if not isinstance(proof, dict):
        return ProofResult(False, "the document has no proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return ProofResult(False, f"proof is not a {PROOF_TYPE} with cryptosuite {CRYPTOSUITE}")
    value = proof.get("proofValue")
    try:
        signature = multikey.from_multibase_z(str(value))
        key = (
            public_key
            if public_key is not None
            else multikey.key_of_verification_method(str(proof.get("verificationMethod")))
        )
    except InvalidArgumentError as exc:
        return ProofResult(False, exc.message)
    if len(signature) != 64:
        return ProofResult(False, f"proofValue decodes to {len(signature)} bytes, an Ed25519 signature is 64")
    unsecured = {k: v for k, v in secured.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        doc_ctx, proof_ctx = unsecured.get("@context"), options["@context"]
        doc_list = doc_ctx if isinstance(doc_ctx, list) else [doc_ctx]
        proof_list = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
        if doc_list[: len(proof_list)] != proof_list:
            return ProofResult(False, "the proof's @context is not a prefix of the document's @context")
    elif "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    try:
        data = hash_data(unsecured, options)
    except InvalidArgumentError as exc:
        return ProofResult(False, f"cannot canonicalise the document: {exc.message}")
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signature, data)
    except (InvalidSignature, ValueError):
        return ProofResult(False, "the Ed25519 signature does not verify over the canonical document", key)
    return ProofResult(True, "eddsa-jcs-2022 signature verifies", key)
