"""The access-control matrix (role × endpoint × status), confidential-row isolation, tokens, sessions with
CSRF, the audit log, rate and size limits and security headers — on SQLite and PostgreSQL."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store.accounts import create_token, read_audit, revoke_token

with warnings.catch_warnings():
    # starlette's TestClient warns that it wants httpx2; the pinned httpx works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROLES = ("member", "participant", "auditor", "admin", "secretariat")
SUBMISSION = {"mineral": "REE", "year": 2025, "metric": "stockpile_t", "value": 1200.0, "unit": "t"}


def _client(engine: Engine, **settings: object) -> TestClient:
    return TestClient(create_app(engine, ApiSettings(**settings)), base_url="https://testserver")  # type: ignore[arg-type]


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with _client(engine) as c:
        yield c


def _tokens(engine: Engine) -> dict[str, str]:
    orgs = {
        "member": "DEU",
        "participant": "acme-mining",
        "auditor": None,
        "admin": None,
        "secretariat": None,
    }
    return {role: create_token(engine, f"{role}-1", role, orgs[role])[1] for role in ROLES}


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_access_matrix(engine: Engine, client: TestClient) -> None:
    tokens = _tokens(engine)
    callers: dict[str, dict[str, str]] = {"public": {}, **{r: _auth(t) for r, t in tokens.items()}}
    # endpoint -> expected status per role (public, member, participant, auditor, admin)
    matrix: list[tuple[str, str, dict[str, int]]] = [
        ("GET", "/api/v1/sources", dict.fromkeys(callers, 200)),
        (
            "GET",
            "/api/v1/me",
            {
                "public": 401,
                "member": 200,
                "participant": 200,
                "auditor": 200,
                "admin": 200,
                "secretariat": 200,
            },
        ),
        (
            "GET",
            "/api/v1/submissions",
            {
                "public": 401,
                "member": 200,
                "participant": 200,
                "auditor": 200,
                "admin": 200,
                "secretariat": 403,
            },
        ),
        (
            "POST",
            "/api/v1/submissions",
            {
                "public": 401,
                "member": 201,
                "participant": 201,
                "auditor": 403,
                "admin": 403,
                "secretariat": 403,
            },
        ),
        (
            "GET",
            "/api/v1/audit",
            {
                "public": 401,
                "member": 403,
                "participant": 403,
                "auditor": 200,
                "admin": 200,
                "secretariat": 403,
            },
        ),
        ("GET", "/api/v1/sim/scenarios", dict.fromkeys(callers, 200)),
        ("GET", "/api/v1/sim/scenarios/cn-graphite-2023", dict.fromkeys(callers, 200)),
        # starting a stress test is for signed-in callers; the body here is not a job, so they get 422
        ("POST", "/api/v1/sim/jobs", {"public": 401, **dict.fromkeys(ROLES, 422)}),
        ("GET", f"/api/v1/sim/jobs/{'0' * 32}", {"public": 401, **dict.fromkeys(ROLES, 404)}),
    ]
    failures = []
    for method, path, expected in matrix:
        for role, headers in callers.items():
            response = client.request(
                method, path, headers=headers, json=SUBMISSION if method == "POST" else None
            )
            if response.status_code != expected[role]:
                failures.append(f"{role} {method} {path}: {response.status_code} != {expected[role]}")
            if response.status_code in (401, 403):
                body = response.json()
                assert body["code"] in ("unauthenticated", "forbidden") and body["message"]
    assert not failures, failures


def test_confidential_rows_stay_with_their_organisation(engine: Engine, client: TestClient) -> None:
    deu = _auth(create_token(engine, "deu-analyst", "member", "DEU")[1])
    fra = _auth(create_token(engine, "fra-analyst", "member", "FRA")[1])
    acme = _auth(create_token(engine, "acme", "participant", "acme")[1])
    other = _auth(create_token(engine, "globex", "participant", "globex")[1])
    auditor = _auth(create_token(engine, "auditor", "auditor")[1])

    ids = {}
    for name, headers in (("deu", deu), ("fra", fra), ("acme", acme), ("globex", other)):
        response = client.post("/api/v1/submissions", headers=headers, json=SUBMISSION)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
        assert response.json()["mineral"] == "rare-earths"  # aliases resolve on the way in

    # a member sees only its delegation's rows, a participant only its company's
    assert [r["id"] for r in client.get("/api/v1/submissions", headers=deu).json()] == [ids["deu"]]
    assert [r["id"] for r in client.get("/api/v1/submissions", headers=acme).json()] == [ids["acme"]]
    assert client.get(f"/api/v1/submissions/{ids['fra']}", headers=deu).status_code == 404
    assert client.get(f"/api/v1/submissions/{ids['globex']}", headers=acme).status_code == 404
    assert client.get(f"/api/v1/submissions/{ids['deu']}", headers=deu).json()["org"] == "DEU"
    # the auditor reads across organisations, read-only
    assert {r["id"] for r in client.get("/api/v1/submissions", headers=auditor).json()} == set(ids.values())
    assert client.post("/api/v1/submissions", headers=auditor, json=SUBMISSION).status_code == 403


def test_bad_tokens_are_rejected_and_audited(engine: Engine, client: TestClient) -> None:
    token_id, token = create_token(engine, "deu-analyst", "member", "DEU")
    for header in ("Bearer nonsense", f"Bearer {token}x", "Basic abc", "Bearer "):
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/v1/me", headers=_auth(token)).json()["role"] == "member"
    revoke_token(engine, token_id)
    assert client.get("/api/v1/me", headers=_auth(token)).status_code == 401
    # aggregated: one row per throttled key and window, not one per attempt
    failed = {r["subject"]: r for r in read_audit(engine, event="login.failed")}
    assert set(failed) == {"client:testclient", f"token:{token_id}"}
    assert failed["client:testclient"]["count"] == 5 and failed[f"token:{token_id}"]["count"] == 2
    assert all(r["status"] == 401 and r["last_at"] >= r["at"] for r in failed.values())
    assert "revoked" in failed[f"token:{token_id}"]["detail"]


def test_every_write_is_audited(engine: Engine, client: TestClient) -> None:
    member = _auth(create_token(engine, "deu-analyst", "member", "DEU")[1])
    client.post("/api/v1/submissions", headers=member, json=SUBMISSION)
    client.post("/api/v1/submissions", json=SUBMISSION)
    client.post("/api/v1/submissions", headers=member, content=b"{not json", )  # fmt: skip
    writes = read_audit(engine, event="write")
    assert [w["status"] for w in reversed(writes)] == [201, 422]
    assert all(w["account_id"] is not None for w in writes)
    # a write without credentials is a failed sign-in of its address: counted and aggregated, not a row each
    (anonymous,) = read_audit(engine, event="login.failed")
    assert anonymous["subject"] == "client:testclient" and anonymous["status"] == 401


def test_bad_input_gives_clear_4xx(engine: Engine) -> None:
    member = _auth(create_token(engine, "deu-analyst", "member", "DEU")[1])
    with _client(engine, max_body_bytes=2048) as client:
        malformed = client.post(
            "/api/v1/submissions",
            headers={**member, "content-type": "application/json"},
            content=b'{"mineral": ',
        )
        assert malformed.status_code == 422 and "malformed JSON" in malformed.json()["message"]
        oversize = client.post(
            "/api/v1/submissions",
            headers={**member, "content-type": "application/json"},
            content=b'{"note": "' + b"x" * 5000 + b'"}',
        )
        assert oversize.status_code == 413 and oversize.json()["code"] == "body-too-large"
        unknown = client.post(
            "/api/v1/submissions", headers=member, json={**SUBMISSION, "mineral": "unobtainium"}
        )
        assert unknown.status_code == 404 and "unknown mineral" in unknown.json()["message"]
        year = client.post("/api/v1/submissions", headers=member, json={**SUBMISSION, "year": 3000})
        assert year.status_code == 422 and "year" in year.json()["message"]
        extra = client.post("/api/v1/submissions", headers=member, json={**SUBMISSION, "owner": "FRA"})
        assert extra.status_code == 422
        for field, value in (("unit", "t\x07"), ("unit", "t\x1b[2J"), ("note", "ok\x00")):
            control = client.post("/api/v1/submissions", headers=member, json={**SUBMISSION, field: value})
            assert control.status_code == 422 and field in control.json()["message"], (field, value)
        assert (
            client.post(
                "/api/v1/submissions", headers=member, json={**SUBMISSION, "note": "a\nb\tc"}
            ).status_code
            == 201
        )
        deep = client.post("/api/v1/submissions", headers={**member, "content-type": "application/json"},
                           content=b"[" * 1020 + b"]" * 1020)  # fmt: skip
        assert deep.status_code == 400 and deep.json()["code"] == "invalid-request"
        nan = client.post(
            "/api/v1/submissions",
            headers={**member, "content-type": "application/json"},
            content=b'{"mineral":"REE","year":2025,"metric":"x","value":NaN,"unit":"t"}',
        )
        assert nan.status_code == 422
        for path in ("/api/v1/minerals/unobtainium/shares", "/api/v1/minerals/lithium/shares?year=99999"):
            response = client.get(path)
            assert 400 <= response.status_code < 500 and response.json()["message"], path
        assert client.get("/api/v1/sources?limit=0").status_code == 400
        assert client.get("/api/v1/sources?cursor=%%%").status_code == 400
        assert client.get("/no/such/page").status_code == 404


def test_rate_limit_per_token(engine: Engine) -> None:
    first = _auth(create_token(engine, "a", "member", "DEU")[1])
    second = _auth(create_token(engine, "b", "member", "FRA")[1])
    with _client(engine, rate_per_second=0.01, rate_burst=3) as client:
        statuses = [client.get("/api/v1/me", headers=first).status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 429, 429]
        limited = client.get("/api/v1/me", headers=first)
        assert int(limited.headers["retry-after"]) >= 1 and limited.json()["code"] == "rate-limited"
        assert client.get("/api/v1/me", headers=second).status_code == 200  # buckets are per token


def test_security_headers(client: TestClient) -> None:
    response = client.get("/health")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "max-age" in response.headers["strict-transport-security"]  # https base URL = behind TLS
    plain = TestClient(client.app, base_url="http://testserver").get("/health")
    assert "strict-transport-security" not in plain.headers


def test_browser_session_needs_csrf_for_writes(engine: Engine, client: TestClient) -> None:
    _, token = create_token(engine, "deu-analyst", "member", "DEU")
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    bad = client.post("/login", data={"token": "ll_nope_nope", "csrf_token": csrf}, follow_redirects=False)
    assert bad.status_code == 401
    assert client.post("/login", data={"token": token, "csrf_token": "forged"}).status_code == 403
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    ok = client.post("/login", data={"token": token, "csrf_token": csrf}, follow_redirects=False)
    assert ok.status_code == 303
    cookie = next(c for c in ok.headers.get_list("set-cookie") if c.startswith("__Host-lodeline_session="))
    assert (
        "HttpOnly" in cookie
        and "Secure" in cookie
        and "Path=/" in cookie
        and "Domain" not in cookie
        and "SameSite=strict" in cookie.replace("Strict", "strict")
    )
    page = client.get("/login")  # every page of a signed-in browser carries the session CSRF token
    session_csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    assert client.get("/api/v1/me").json()["name"] == "deu-analyst"  # reads need no CSRF token
    assert client.post("/api/v1/submissions", json=SUBMISSION).status_code == 403  # writes do
    good = client.post("/api/v1/submissions", json=SUBMISSION, headers={"X-CSRF-Token": session_csrf})
    assert good.status_code == 201
    assert (
        client.post("/logout", data={"csrf_token": session_csrf}, follow_redirects=False).status_code == 303
    )
    assert client.get("/api/v1/me").status_code == 401
    events = [r["event"] for r in read_audit(engine)]
    assert events.count("login.failed") == 1 and "login.ok" in events
    assert read_audit(engine, event="login.failed")[0]["count"] == 2
