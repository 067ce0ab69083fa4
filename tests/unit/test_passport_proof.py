"""The eddsa-jcs-2022 Data Integrity proof against the W3C's published test vector and against an independent
Ed25519 implementation (PyNaCl / libsodium), did:key encoding, and the structural checks."""

from __future__ import annotations

import copy
import json

import nacl.signing
import pytest

from lodeline.passport import multikey, proof
from lodeline.passport.structure import dte_problems, structure_problems
from lodeline.passport.verify import CHECKS, verify

# W3C Data Integrity EdDSA Cryptosuites v1.0, test vectors (github.com/w3c/vc-di-eddsa, TestVectors/keyPair.json and
# TestVectors/eddsa-jcs-2022/signedJCS.json; W3C software and document licence): the secured credential, verbatim.
W3C_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
W3C_PRIVATE = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
W3C_SIGNED = json.loads(
    """{
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  "id": "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  "type": ["VerifiableCredential", "AlumniCredential"],
  "name": "Alumni Credential",
  "description": "A minimum viable example of an Alumni Credential.",
  "issuer": "https://vc.example/issuers/5678",
  "validFrom": "2023-01-01T00:00:00Z",
  "credentialSubject": {"id": "did:example:abcdefgh", "alumniOf": "The School of Examples"},
  "proof": {
    "type": "DataIntegrityProof",
    "cryptosuite": "eddsa-jcs-2022",
    "created": "2023-02-24T23:36:38Z",
    "verificationMethod": "https://vc.example/issuers/5678#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    "proofPurpose": "assertionMethod",
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    "proofValue": "z63t83Y53KfzJ5ZosfKTnqfMcKB2dmTrfjSaQjeNNjAD5srBowQfmWqeRb8rRjmeEuCBEsddF9LsVogtuTsijJKh4"
  }
}"""
)


def _w3c_public() -> bytes:
    raw = multikey.from_multibase_z(W3C_PUBLIC)
    assert raw[:2] == multikey.ED25519_PUB
    return raw[2:]


def _w3c_private_seed() -> bytes:
    raw = multikey.from_multibase_z(W3C_PRIVATE)
    assert raw[:2] == b"\x80\x26"  # multicodec ed25519-priv
    return raw[2:]


def test_w3c_vector_verifies_and_a_changed_byte_does_not() -> None:
    assert proof.verify_proof(W3C_SIGNED, _w3c_public()).ok
    changed = copy.deepcopy(W3C_SIGNED)
    changed["credentialSubject"]["alumniOf"] = "The School of Examplez"
    result = proof.verify_proof(changed, _w3c_public())
    assert not result.ok and "does not verify" in result.reason


def test_signing_the_w3c_input_reproduces_the_published_proof_value() -> None:
    """Ed25519 is deterministic: our hashData, signed with the vector's private key (by PyNaCl), gives the
    published proofValue byte for byte, so our JCS and hash layout are the spec's."""
    unsecured = {k: v for k, v in W3C_SIGNED.items() if k != "proof"}
    options = {k: v for k, v in W3C_SIGNED["proof"].items() if k != "proofValue"}
    signature = (
        nacl.signing.SigningKey(_w3c_private_seed()).sign(proof.hash_data(unsecured, options)).signature
    )
    assert multikey.multibase_z(signature) == W3C_SIGNED["proof"]["proofValue"]


def test_did_key_of_the_w3c_key() -> None:
    pub = _w3c_public()
    assert multikey.public_key_multibase(pub) == W3C_PUBLIC
    method = multikey.verification_method(pub)
    assert method == f"did:key:{W3C_PUBLIC}#{W3C_PUBLIC}"
    assert multikey.key_of_verification_method(method) == pub
    assert multikey.b58decode(multikey.b58encode(b"\0\0abc")) == b"\0\0abc"


def test_our_proof_verifies_under_pynacl_and_pynacl_signatures_verify_under_ours() -> None:
    seed = bytes(range(32))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    ours = Ed25519PrivateKey.from_private_bytes(seed)
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "x": 0.15}
    secured = proof.add_proof(doc, ours, "2026-12-05T00:00:00Z")
    options = {k: v for k, v in secured["proof"].items() if k != "proofValue"}
    nacl_key = nacl.signing.VerifyKey(multikey.key_of_verification_method(options["verificationMethod"]))
    nacl_key.verify(proof.hash_data(doc, options), multikey.from_multibase_z(secured["proof"]["proofValue"]))
    # and the other way: PyNaCl signs, we verify
    by_nacl = copy.deepcopy(secured)
    sig = nacl.signing.SigningKey(seed).sign(proof.hash_data(doc, options)).signature
    by_nacl["proof"]["proofValue"] = multikey.multibase_z(sig)
    assert proof.verify_proof(by_nacl).ok
    by_nacl["x"] = 0.16
    assert not proof.verify_proof(by_nacl).ok


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("@context"), "@context"),
        (lambda d: d.update(type=["VerifiableCredential"]), "DigitalProductPassport"),
        (lambda d: d["credentialSubject"]["materialsProvenance"][0].update(massFraction=1.5), "massFraction"),
        (lambda d: d["credentialSubject"]["conformityClaim"][0].update(conformance="yes"), "conformance"),
        (lambda d: d["credentialSubject"]["product"].update(type="Product"), "product.type"),
        (lambda d: d.update(validFrom="yesterday"), "validFrom"),
        # the properties the UNTP 0.6 data model marks required
        (lambda d: d.pop("id"), "id: the credential's identifier"),
        (lambda d: d["issuer"].pop("name"), "issuer: a UNTP CredentialIssuer"),
        (lambda d: d["@context"].insert(1, "https://example.org/ctx"), "second item must be"),
        (lambda d: d["credentialSubject"]["materialsProvenance"][0].pop("name"), "[0]: name required"),
        (lambda d: d["credentialSubject"]["conformityClaim"][0].pop("id"), "conformityClaim[0].id"),
        (
            lambda d: d["credentialSubject"]["conformityClaim"][0].update(
                conformityTopic="social.forcedLabour"
            ),
            "conformity topic code",
        ),
        (
            lambda d: d["credentialSubject"]["conformityClaim"][0]["declaredValue"][0].update(
                metricValue="pass"
            ),
            "a Measure with a numeric value",
        ),
        (
            lambda d: d["credentialSubject"]["conformityClaim"][0]["assessmentCriteria"][0].pop("status"),
            "assessmentCriteria[0]: status required",
        ),
        (
            lambda d: d["credentialSubject"]["product"].update(producedByParty={"id": "urn:x"}),
            "producedByParty: name required",
        ),
    ],
)
def test_structure_names_what_is_missing(mutate, message: str) -> None:
    doc = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://test.uncefact.org/vocabulary/untp/dpp/0.6.0/",
        ],
        "type": ["DigitalProductPassport", "VerifiableCredential"],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000000",
        "issuer": {"type": ["CredentialIssuer"], "id": "did:key:z6Mk", "name": "Issuer"},
        "validFrom": "2026-12-05T00:00:00Z",
        "credentialSubject": {
            "type": ["ProductPassport"],
            "product": {"type": ["Product"], "id": "https://id.gs1.org/01/09506000134352/10/A1", "name": "x"},
            "materialsProvenance": [
                {
                    "type": ["Material"],
                    "name": "m",
                    "massFraction": 0.5,
                    "originCountry": {"type": ["Country"]},
                }
            ],
            "conformityClaim": [
                {
                    "type": ["Claim"],
                    "id": "urn:x#c1",
                    "conformance": True,
                    "conformityTopic": "social.labour",
                    "assessmentCriteria": [
                        {
                            "type": ["Criterion"],
                            "id": "urn:x#r1",
                            "name": "r",
                            "description": "d",
                            "conformityTopic": "social.labour",
                            "status": "active",
                        }
                    ],
                    "declaredValue": [
                        {"type": ["Metric"], "metricName": "v", "metricValue": {"value": 1, "unit": "C62"}}
                    ],
                }
            ],
        },
    }
    assert structure_problems(doc) == []
    mutate(doc)
    problems = structure_problems(doc)
    assert any(message in p for p in problems), problems


def test_not_a_credential_fails_structure_and_skips_the_rest() -> None:
    report = verify([1, 2], []).to_dict()
    assert report["failed"] == ["structure"] and report["skipped"] == list(CHECKS[1:])
    assert dte_problems({"@context": []})
