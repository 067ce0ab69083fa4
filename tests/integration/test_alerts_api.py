"""The alert lifecycle and subscription API and its role matrix on SQLite and PostgreSQL: every role against every new
route; the public reads alerts only when the alliance publishes them (LODELINE_ALERTS_PUBLIC); members, the
secretariat and admins move an alert through its states (the caller recorded as actor), invalid transitions are
409; members manage only their own delegation's subscriptions (another's is 404) and see no secret after creation.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.alerts.model import Alert, Level
from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ORGS = {
    "member": "DEU",
    "member_b": "FRA",
    "secretariat": None,
    "participant": "acme-mining",
    "auditor": None,
    "admin": None,
}
ROLES = ["public", *ORGS]


def _client(engine: Engine, published: bool) -> TestClient:
    app = create_app(engine, ApiSettings(alerts_public=published))  # type: ignore[arg-type]
    return TestClient(app, base_url="https://testserver")


@pytest.fixture
def headers(engine: Engine) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"public": {}}
    for name, org in ORGS.items():
        role = "member" if name.startswith("member") else name
        token = create_token(engine, f"{name}-1", role, org)[1]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with _client(engine, published=False) as c:
        yield c


def _open(engine: Engine, mineral: str = "gallium") -> int:
    (done,) = lifecycle.record(
        engine, [Alert(mineral, Level.WARNING, dt.date(2026, 11, 3), "why", ())], "scan"
    )
    assert done.alert_id is not None
    return done.alert_id


def test_read_role_matrix_and_publication_setting(
    engine: Engine, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    alert_id = _open(engine)
    expected = {"public": 401, **{r: 200 for r in ORGS}}
    for path in ("/api/v1/alerts", f"/api/v1/alerts/{alert_id}", "/api/v1/alerts?mineral=Ga&state=open"):
        got = {r: client.get(path, headers=headers[r]).status_code for r in ROLES}
        assert got == expected, path
    assert client.get("/api/v1/alerts", headers=headers["auditor"]).json()[0]["mineral"] == "gallium"
    with _client(engine, published=True) as published:
        for path in ("/api/v1/alerts", f"/api/v1/alerts/{alert_id}"):
            assert published.get(path).status_code == 200
        shown = published.get(f"/api/v1/alerts/{alert_id}").json()
        assert [e["action"] for e in shown["events"]] == ["opened"] and "document" not in shown["events"][0]
    assert client.get("/api/v1/alerts/999", headers=headers["member"]).status_code == 404
    assert client.get("/api/v1/alerts?state=gone", headers=headers["member"]).status_code == 422
    assert client.get("/api/v1/alerts?mineral=unobtainium", headers=headers["member"]).status_code == 404
    # /api/v1/alerts/scan is not swallowed by /{alert_id}: on this unbuilt store it is the scan's own answer
    scan = client.get("/api/v1/alerts/scan", headers=headers["member"])
    assert scan.status_code == 503 and scan.json()["code"] == "store-not-built"


@pytest.mark.parametrize("action", ["ack", "escalate", "close"])
def test_transition_role_matrix(
    engine: Engine, client: TestClient, headers: dict[str, dict[str, str]], action: str
) -> None:
    allowed = {"member", "member_b", "secretariat", "admin"}
    for role in ROLES:
        alert_id = _open(engine, "nickel")
        response = client.post(
            f"/api/v1/alerts/{alert_id}/{action}", json={"note": "n"}, headers=headers[role]
        )
        want = 200 if role in allowed else 401 if role == "public" else 403
        assert response.status_code == want, (role, response.text)
        if want == 200:
            event = response.json()["events"][-1]
            assert event["note"] == "n" and f"{role}-1" in event["actor"]
        if lifecycle.show(engine, alert_id)["state"] != "closed":  # the next role gets a fresh open alert
            lifecycle.transition(engine, alert_id, "close", "cleanup")


def test_transitions_409_and_bad_bodies(
    engine: Engine, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    alert_id = _open(engine)
    member = headers["member"]
    assert (
        client.post(f"/api/v1/alerts/{alert_id}/ack", headers=member).status_code == 200
    )  # no body: no note
    again = client.post(f"/api/v1/alerts/{alert_id}/ack", headers=member)
    assert again.status_code == 409 and again.json()["code"] == "alert-state-conflict"
    assert "acknowledged" in again.json()["message"]
    assert (
        client.post(f"/api/v1/alerts/{alert_id}/escalate", headers=headers["secretariat"]).status_code == 200
    )
    assert (
        client.post(f"/api/v1/alerts/{alert_id}/close", headers=headers["admin"]).json()["state"] == "closed"
    )
    assert client.post(f"/api/v1/alerts/{alert_id}/close", headers=member).status_code == 409
    assert client.post("/api/v1/alerts/999/close", headers=member).status_code == 404
    assert (
        client.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "x" * 2001}, headers=member).status_code
        == 422
    )
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", json={"other": 1}, headers=member).status_code == 422
    nul = client.post(f"/api/v1/alerts/{alert_id}/ack", json={"note": "a\u0000b"}, headers=member)
    assert nul.status_code == 400 and nul.json()["code"] == "invalid-argument"


def test_subscription_role_matrix_and_ownership(
    engine: Engine, client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = {
        "mineral": "REE",
        "min_level": "warning",
        "channel": "webhook",
        "target": "https://deu.example/hook",
    }
    want = {
        "public": 401,
        "member": 201,
        "member_b": 201,
        "secretariat": 403,
        "participant": 403,
        "auditor": 403,
        "admin": 403,
    }
    got = {r: client.post("/api/v1/alerts/subscriptions", json=body, headers=headers[r]) for r in ROLES}
    assert {r: v.status_code for r, v in got.items()} == want
    mine = got["member"].json()
    assert (mine["member"], mine["mineral"]) == ("DEU", "rare-earths") and mine["secret"].startswith("whsec_")
    listed = client.get("/api/v1/alerts/subscriptions", headers=headers["member"]).json()
    assert [s["id"] for s in listed] == [mine["id"]] and "secret" not in listed[0]
    codes = {r: client.get("/api/v1/alerts/subscriptions", headers=headers[r]).status_code for r in ROLES}
    assert codes == {r: 200 if r.startswith("member") else 401 if r == "public" else 403 for r in ROLES}
    # another member's subscription: not found (never forbidden, never removed)
    path = f"/api/v1/alerts/subscriptions/{mine['id']}"
    assert client.delete(path, headers=headers["member_b"]).status_code == 404
    for role in ("public", "secretariat", "admin", "auditor", "participant"):
        assert client.delete(path, headers=headers[role]).status_code in (401, 403)
    assert client.delete(path, headers=headers["member"]).status_code == 204
    assert client.delete(path, headers=headers["member"]).status_code == 404
    bad = [
        {**body, "channel": "sms"},
        {**body, "min_level": "normal"},
        {**body, "target": "ftp://x"},
        {**body, "channel": "email", "target": "nobody"},
        {**body, "extra": 1},
        {**body, "target": "https://x.org/\u0000"},
    ]
    for b in bad:
        assert client.post("/api/v1/alerts/subscriptions", json=b, headers=headers["member"]).status_code in (
            400,
            422,
        )
    assert (
        client.post(
            "/api/v1/alerts/subscriptions", json={**body, "mineral": "unobtainium"}, headers=headers["member"]
        ).status_code
        == 404
    )


def test_routes_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/alerts",
        "/api/v1/alerts/{alert_id}",
        "/api/v1/alerts/{alert_id}/ack",
        "/api/v1/alerts/{alert_id}/escalate",
        "/api/v1/alerts/{alert_id}/close",
        "/api/v1/alerts/subscriptions",
        "/api/v1/alerts/subscriptions/{subscription_id}",
    ):
        assert path in paths, path
