"""The passport API and its role matrix on SQLite and PostgreSQL: a participant drafts and stores a passport of a
lot its company produced (signing locally, the server never sees the private key); other roles cannot; anyone
fetches (by id and through the GS1 Digital Link resolver) and verifies, and a tampered passport is refused naming
the check."""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.passport import proof
from lodeline.server import create_app
from lodeline.store.accounts import create_token
from lodeline.trace import keys
from passport_helpers import lithium_registry  # tests/passport_helpers.py

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ORGS = {
    "participant": "ulsan-cathode",
    "participant_b": "saxony-cells",
    "member": "DEU",
    "auditor": None,
    "admin": None,
    "secretariat": None,
}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings())  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def headers(engine: Engine) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"public": {}}
    for name, org in ORGS.items():
        role = "participant" if name.startswith("participant") else name
        token = create_token(engine, f"{name}-1", role, org)[1]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


def test_draft_sign_store_fetch_verify_and_role_matrix(
    engine: Engine, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    private = lithium_registry(engine)
    key = private["ulsan-cathode"]
    body = {"lot": "CAM-U1", "profile": "untp-dpp", "public_key": keys.public_b64(key)}

    # role matrix for drafting/storing: only participants; and only for their own lots
    expected = {"public": 401, "member": 403, "auditor": 403, "admin": 403, "secretariat": 403}
    for role, status in expected.items():
        assert (
            client.post("/api/v1/passports/draft", json=body, headers=headers[role]).status_code == status
        ), role
        assert client.post("/api/v1/passports", json={"x": 1}, headers=headers[role]).status_code == status, (
            role
        )
    other = client.post("/api/v1/passports/draft", json=body, headers=headers["participant_b"])
    assert other.status_code == 403 and other.json()["code"] == "passport-not-own-lot"

    drafted = client.post("/api/v1/passports/draft", json=body, headers=headers["participant"])
    assert drafted.status_code == 200, drafted.text
    signed = proof.add_proof(
        drafted.json(), key, drafted.json()["validFrom"]
    )  # the participant signs locally

    stolen = client.post("/api/v1/passports", json=signed, headers=headers["participant_b"])
    assert stolen.status_code == 403
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["circularityScorecard"]["recycledContent"] = 0.5
    refused = client.post("/api/v1/passports", json=tampered, headers=headers["participant"])
    assert refused.status_code == 422 and "credential-signature" in refused.json()["message"]

    stored = client.post("/api/v1/passports", json=signed, headers=headers["participant"])
    assert stored.status_code == 201, stored.text
    assert stored.json()["verification"]["valid"] is True
    again = client.post("/api/v1/passports", json=signed, headers=headers["participant"])
    assert again.status_code == 422 and "already stored" in again.json()["message"]

    # anyone reads and verifies
    for role in headers:
        got = client.get(f"/api/v1/passports/{signed['id']}", headers=headers[role])
        assert got.status_code == 200 and got.json() == signed, role
        report = client.post("/api/v1/passports/verify", json=signed, headers=headers[role])
        assert report.status_code == 200 and report.json()["valid"] is True, role
        stored_report = client.get(f"/api/v1/passports/{signed['id']}/verify", headers=headers[role])
        assert stored_report.status_code == 200 and stored_report.json()["valid"] is True, role
    product = signed["credentialSubject"]["product"]
    resolved = client.get(f"/01/{product['registeredId']}/10/{product['batchNumber']}?linkType=untp:dpp")
    assert resolved.status_code == 200 and resolved.json()["id"] == signed["id"]
    assert (
        client.get(f"/01/{product['registeredId']}/10/{product['batchNumber']}?linkType=gs1:pip").status_code
        == 404
    )
    assert client.get(f"/01/{product['registeredId']}/10/NOPE").status_code == 404
    bad = client.post("/api/v1/passports/verify", json=tampered)
    assert bad.status_code == 200 and bad.json()["failed"] == ["credential-signature", "shares"]
    assert client.post("/api/v1/passports/verify", json=[1]).json()["failed"] == ["structure"]
    assert client.get("/api/v1/passports/urn:uuid:nope").status_code == 404
    assert client.post(
        "/api/v1/passports/draft", json=body | {"public_key": "!!"}, headers=headers["participant"]
    ).status_code in (400, 422)
    assert "/01/{gtin}/10/{lot}" in client.get("/openapi.json").json()["paths"]


def test_passport_posts_have_a_body_bound_of_their_own(engine: Engine) -> None:
    """A passport grows with its lot's upstream events (~0.6 MB per 1,000), so the two routes that take a whole
    passport have their own bound (LODELINE_API_PASSPORT_MAX_BODY_BYTES) instead of a raised global one. Here the
    global bound is 2 KiB and the passport bound 64 KiB: a 10 KB passport is verified (and named invalid, not
    refused for its size), the same body on another POST route is 413, and a body over 64 KiB is 413 on both."""
    settings = ApiSettings(max_body_bytes=2048, passport_max_body_bytes=65_536)  # type: ignore[call-arg]
    padded = {"credentialSubject": {"note": "x" * 10_000}}
    with TestClient(create_app(engine, settings), base_url="https://testserver") as client:  # type: ignore[arg-type]
        verified = client.post("/api/v1/passports/verify", json=padded)
        assert verified.status_code == 200 and verified.json()["valid"] is False
        other = client.post("/api/v1/passports/draft", json=padded)
        assert other.status_code == 413 and "limit of 2048 bytes" in other.json()["message"]
        huge = {"credentialSubject": {"note": "x" * 70_000}}
        for route in ("/api/v1/passports/verify", "/api/v1/passports"):
            refused = client.post(route, json=huge)
            assert refused.status_code == 413 and "limit of 65536 bytes" in refused.json()["message"], route
