"""The registry over HTTP (issue 4): EPCIS capture with a detached signature header, replay, error codes, the role
matrix and lot isolation between participants, and proofs that verify offline against the served checkpoint —
on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
import warnings
from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store import trace as db
from lodeline.store.accounts import create_token, read_audit
from lodeline.tlog import merkle
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes, register
from lodeline.trace.checkpoint import open_checkpoint, parse_vkey
from lodeline.trace.generator import lithium_chain
from lodeline.trace.proof_verify import verify_consistency_document, verify_inclusion_document

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

CAPTURE = "/epcis/capture"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings(rate_per_second=0, anonymous_rate_per_second=0))  # type: ignore[call-arg]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def chain(engine: Engine):
    chain = lithium_chain()
    private = register(engine, chain)
    tokens = {
        pid: create_token(engine, f"{pid}-acct", "participant", pid)[1] for pid, _, _ in chain.participants
    }
    for role, org in (("auditor", None), ("member", "DEU"), ("admin", None)):
        tokens[role] = create_token(engine, f"{role}-acct", role, org)[1]
    return chain, private, tokens


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _post(client: TestClient, token: str, data: bytes, signature: str) -> object:
    headers = {**_auth(token), "Lodeline-Signature": signature, "Content-Type": "application/json"}
    return client.post(CAPTURE, content=data, headers=headers)


def _capture_all(client: TestClient, chain, private, tokens) -> list[dict]:
    jobs = []
    for pid, doc in chain.documents:
        data = document_bytes(doc)
        response = _post(client, tokens[pid], data, keys.sign(private[pid], data))
        assert response.status_code == 202, response.text
        jobs.append(response.json())
    return jobs


def _vkey(client: TestClient):
    return parse_vkey(client.get("/api/v1/registry/checkpoint?format=json").json()["vkey"])


def test_capture_round_trip_replay_and_job(engine: Engine, client: TestClient, chain) -> None:
    chain_, private, tokens = chain
    pid, doc = chain_.documents[0]
    data = document_bytes(doc)
    first = _post(client, tokens[pid], data, keys.sign(private[pid], data))
    assert first.status_code == 202, first.text
    job = first.json()
    assert job["success"] is True and job["running"] is False and job["captureErrorBehaviour"] == "rollback"
    assert job["report"]["accepted"] == 2 and len(job["report"]["accepted_hash_ids"]) == 2
    assert job["participant"] == pid
    assert first.headers["location"] == f"/epcis/capture/{job['captureID']}"
    assert first.headers["gs1-epcis-version"] == "2.0.0"
    # the capture job is readable by its participant and the auditor, hidden from another participant
    assert client.get(first.headers["location"], headers=_auth(tokens[pid])).json()["events"] == 2
    assert client.get(first.headers["location"], headers=_auth(tokens["auditor"])).status_code == 200
    assert client.get(first.headers["location"], headers=_auth(tokens["yilgarn-miner"])).status_code == 404
    # the same bytes again: a replay, 409 with the trace code, nothing added
    again = _post(client, tokens[pid], data, keys.sign(private[pid], data))
    assert again.status_code == 409 and again.json()["code"] == "replayed-document"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar_one() == 2
    # the write was audited
    audited = [a for a in read_audit(engine, limit=20) if a["path"] == CAPTURE]
    assert sorted(a["status"] for a in audited) == [202, 409]


def test_capture_rejections_carry_codes_and_write_nothing(engine: Engine, client: TestClient, chain) -> None:
    chain_, private, tokens = chain
    pid, doc = chain_.documents[0]
    data = document_bytes(doc)
    cases = [
        (keys.sign(Ed25519PrivateKey.generate(), data), data, "bad-signature"),
        ("", data, "unsigned-document"),
        (keys.sign(private[pid], b"{}"), b"{}", None),  # not an EPCIS document: schema codes
    ]
    for signature, body, code in cases:
        response = _post(client, tokens[pid], body, signature)
        assert response.status_code == 422, response.text
        payload = response.json()
        if code:
            assert payload["code"] == code
        else:
            assert payload["code"].startswith("epcis-")
        assert payload["issues"] and "code" in payload["issues"][0]
    # signed by pilbara's key but sent by yilgarn's account: the token decides the participant
    wrong = _post(client, tokens["yilgarn-miner"], data, keys.sign(private[pid], data))
    assert wrong.status_code == 422 and wrong.json()["code"] == "bad-signature"
    # a shipment of a lot that does not exist: mass balance names the event
    bad_doc = json.loads(data)
    bad_doc["epcisBody"]["eventList"] = bad_doc["epcisBody"]["eventList"][1:]
    bad = document_bytes(bad_doc)
    response = _post(client, tokens[pid], bad, keys.sign(private[pid], bad))
    assert response.status_code == 422 and response.json()["issues"][0]["index"] == 0
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(db.events)).scalar_one() == 0


def test_role_matrix_and_lot_isolation(client: TestClient, chain) -> None:
    chain_, private, tokens = chain
    _capture_all(client, chain_, private, tokens)
    lot = "LC-S1"  # produced at the Sichuan converter (sichuan-refiner)
    origin = f"/api/v1/registry/lots/{lot}/origin?by=country"
    events = f"/api/v1/registry/events?lot={lot}"
    expected = {
        "public": (401, 401, 401),
        "member": (403, 403, 403),
        "sichuan-refiner": (200, 200, 422),  # may read; capture of an empty body is a 422, not a 403
        "pilbara-miner": (404, 404, 422),  # a bare lot number resolves among the caller's own lots only
        "auditor": (200, 200, 403),
        "admin": (200, 200, 403),
    }
    for who, (want_origin, want_events, want_capture) in expected.items():
        headers = _auth(tokens[who]) if who != "public" else {}
        assert client.get(origin, headers=headers).status_code == want_origin, who
        assert client.get(events, headers=headers).status_code == want_events, who
        assert client.post(CAPTURE, content=b"", headers=headers).status_code == want_capture, who
    body = client.get(origin, headers=_auth(tokens["sichuan-refiner"])).json()
    assert body["lot"].endswith("/10/LC-S1") and body["by"] == "country"
    assert body["shares"] == [
        {"country": "AUS", "share": pytest.approx(1.0), "metal_kg": body["contained_metal_kg"]}
    ]
    assert {e["source_lot"] for e in body["edges"] if e["lot"] == body["lot"]} == {
        e for e in {x["source_lot"] for x in body["edges"]} if e and ("SC6-P1" in e or "SC6-Y1" in e)
    }
    recycled = client.get(f"/api/v1/registry/lots/{lot}/origin?by=recycled", headers=_auth(tokens["auditor"]))
    assert recycled.json()["shares"] == [{"status": "primary", "share": pytest.approx(1.0)}]
    evs = client.get(events, headers=_auth(tokens["auditor"])).json()["events"]
    assert evs and all(e["hash_id"].startswith("ni:///sha-256;") for e in evs)
    # the full identifier of another participant's lot: it exists (403), the caller may not read it
    full = chain_.lots["LC-S1"]
    for path in (f"/api/v1/registry/lots/{full}/origin", f"/api/v1/registry/events?lot={full}"):
        assert client.get(path, headers=_auth(tokens["pilbara-miner"])).status_code == 403
    # events by EPC class: pilbara sees its own facility's events in full and the receipt in China as custody
    # facts only; the auditor sees every event in full (tests/integration/test_registry_visibility.py)
    epc = chain_.lots["SC6-P1"]
    own = client.get("/api/v1/registry/events", params={"epc": epc}, headers=_auth(tokens["pilbara-miner"]))
    every = client.get("/api/v1/registry/events", params={"epc": epc}, headers=_auth(tokens["auditor"]))
    full_rows = {e["facility_id"] for e in own.json()["events"] if e["visibility"] == "full"}
    assert len(full_rows) == 1 and {e["visibility"] for e in every.json()["events"]} == {"full"}
    assert len(every.json()["events"]) == len(own.json()["events"])
    assert client.get("/api/v1/registry/events", headers=_auth(tokens["auditor"])).status_code == 400
    assert (
        client.get("/api/v1/registry/lots/NOPE-9/origin", headers=_auth(tokens["auditor"])).status_code == 404
    )


def test_proofs_verify_offline_against_the_checkpoint(client: TestClient, chain) -> None:
    chain_, private, tokens = chain
    jobs = _capture_all(client, chain_, private, tokens)
    first = client.get("/api/v1/registry/checkpoint")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/plain")
    verifier = _vkey(client)
    cp = open_checkpoint(first.text, [verifier])
    hashes = [h for j in jobs for h in j["report"]["accepted_hash_ids"]]
    # the lithium chain's registration is logged first: 6 participants with a key and a prefix, 6 facilities, 1
    # certification
    assert cp.tree_size == 6 * 3 + 6 + 1 + len(hashes)
    for event_hash in (hashes[0], hashes[len(hashes) // 2], hashes[-1]):
        proof = client.get("/api/v1/registry/proofs/inclusion", params={"event_hash": event_hash}).json()
        result = verify_inclusion_document(proof, first.text, [verifier])
        assert result.leaf_data == event_hash.encode()
        path = [base64.b64decode(p) for p in proof["inclusion_path"]]
        assert merkle.verify_inclusion(
            merkle.leaf_hash(event_hash.encode()), proof["leaf_index"], cp.tree_size, path, cp.root_hash
        )
        # tampering with the path must fail
        assert not merkle.verify_inclusion(
            merkle.leaf_hash(b"other"), proof["leaf_index"], cp.tree_size, path, cp.root_hash
        )
    # grow the log, then prove the new checkpoint extends the old one
    extra = json.loads(document_bytes(chain_.documents[0][1]))
    extra["creationDate"] = "2025-06-01T00:00:00.000Z"
    extra["epcisBody"]["eventList"][0]["quantityList"] = extra["epcisBody"]["eventList"][0].get(
        "quantityList", []
    )
    extra["epcisBody"]["eventList"] = extra["epcisBody"]["eventList"][:1]
    extra["epcisBody"]["eventList"][0]["eventTime"] = "2025-06-01T00:00:00.000Z"
    data = document_bytes(extra)
    pid = chain_.documents[0][0]
    assert _post(client, tokens[pid], data, keys.sign(private[pid], data)).status_code == 202
    latest = client.get("/api/v1/registry/checkpoint?format=json").json()
    assert latest["tree_size"] == cp.tree_size + 1
    proof = client.get("/api/v1/registry/proofs/consistency", params={"old": cp.tree_size}).json()
    verify_consistency_document(proof, first.text, latest["note"], [verifier])
    assert client.get("/api/v1/registry/proofs/consistency", params={"old": 3}).status_code == 404
    # a verifier holding the older checkpoint asks for proofs at its size, and for consistency between sizes
    at_old = client.get(
        "/api/v1/registry/proofs/inclusion", params={"event_hash": hashes[0], "size": cp.tree_size}
    ).json()
    assert verify_inclusion_document(at_old, first.text, [verifier]).tree_size == cp.tree_size
    explicit = client.get(
        "/api/v1/registry/proofs/consistency", params={"old": cp.tree_size, "new": latest["tree_size"]}
    ).json()
    assert explicit["consistency_path"] == proof["consistency_path"]
    assert (
        client.get(
            "/api/v1/registry/proofs/inclusion", params={"event_hash": hashes[0], "size": 5}
        ).status_code
        == 404
    )  # no checkpoint was issued at size 5
    reversed_sizes = {"old": latest["tree_size"], "new": cp.tree_size}
    assert client.get("/api/v1/registry/proofs/consistency", params=reversed_sizes).status_code == 400
    missing = client.get(
        "/api/v1/registry/proofs/inclusion", params={"event_hash": "ni:///sha-256;00?ver=CBV2.0"}
    )
    assert missing.status_code == 404
    bad = client.get("/api/v1/registry/proofs/inclusion", params={"event_hash": "sha256-not-an-event-hash"})
    assert bad.status_code == 400
