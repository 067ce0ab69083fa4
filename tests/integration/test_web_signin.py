"""Signing in, on SQLite and PostgreSQL: the failed sign-in throttle (per client address, per account, shared
through the store), its aggregated audit rows, the ``__Host-`` cookies and the login form's CSRF token bound to
its pre-session cookie, cross-site writes, and ``lodeline admin throttle``."""

from __future__ import annotations

import json
import time
import warnings

from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from lodeline.api.limits import client_key
from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli
from lodeline.server import create_app
from lodeline.store.accounts import audit_log, create_token, read_audit
from lodeline.store.throttle import Failure, auth_throttle, blocked, record_failure

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

SUBMISSION = {"mineral": "REE", "year": 2025, "metric": "stockpile_t", "value": 1.0, "unit": "t"}


def _client(engine: Engine, address: str = "203.0.113.7", **settings: object) -> TestClient:
    app = create_app(engine, ApiSettings(**settings))  # type: ignore[arg-type]
    return TestClient(app, base_url="https://testserver", client=(address, 50000))


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _writes(engine: Engine) -> tuple[int, int]:
    """(audit rows, sum of throttle counters): both stay still while blocked attempts are refused."""
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        failures = conn.execute(select(func.coalesce(func.sum(auth_throttle.c.failures), 0))).scalar_one()
    return int(rows), int(failures)


def test_client_keys() -> None:
    assert client_key("203.0.113.7") == "client:203.0.113.7"
    assert (
        client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:ffff::9") == "client:2001:db8:1:2::/64"
    )
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:198.51.100.4") == "client:198.51.100.4"
    assert client_key(None) == "client:unknown"


def test_failures_per_address_are_throttled_and_aggregated(engine: Engine) -> None:
    _, good = create_token(engine, "deu", "member", "DEU")
    with _client(engine, auth_failures_per_address=3) as client:
        statuses = [client.get("/api/v1/me", headers=_auth(f"ll_{i:012x}_x")).status_code for i in range(3)]
        assert statuses == [401, 401, 401]
        blocked = client.get("/api/v1/me", headers=_auth("ll_000000000009_x"))
        assert blocked.status_code == 429 and blocked.json()["code"] == "auth-throttled"
        assert 1 <= int(blocked.headers["retry-after"]) <= 300
        # the credential is not even looked at: a valid token from this address waits too
        assert client.get("/api/v1/me", headers=_auth(good)).status_code == 429
        assert client.post("/api/v1/submissions", headers=_auth(good), json=SUBMISSION).status_code == 429
        assert client.get("/api/v1/sources").status_code == 200  # public reads need no credential
        before = _writes(engine)
        for _ in range(20):
            assert client.get("/api/v1/me", headers=_auth("nonsense")).status_code == 429
        assert _writes(engine) == before  # no write per blocked attempt
    (row,) = read_audit(engine, event="login.failed")
    assert row["subject"] == "client:203.0.113.7" and row["count"] == 3 and "throttled until" in row["detail"]
    with _client(engine, address="198.51.100.9") as other:  # another address is not affected
        assert other.get("/api/v1/me", headers=_auth(good)).status_code == 200


def test_failures_per_account_are_throttled_across_addresses(engine: Engine) -> None:
    token_id, good = create_token(engine, "deu", "member", "DEU")
    _, other = create_token(engine, "fra", "member", "FRA")
    wrong = f"ll_{token_id}_not-the-secret"
    statuses = []
    for i in range(4):  # four addresses, each well under its own limit
        with _client(engine, address=f"198.51.100.{i}", auth_failures_per_account=3) as client:
            statuses.append(client.get("/api/v1/me", headers=_auth(wrong)).status_code)
    assert statuses == [401, 401, 401, 429]
    with _client(engine, address="192.0.2.50", auth_failures_per_account=3) as client:
        assert client.get("/api/v1/me", headers=_auth(good)).status_code == 429  # the account waits
        assert client.get("/api/v1/me", headers=_auth(other)).status_code == 200  # others do not
    failed = {r["subject"]: r for r in read_audit(engine, event="login.failed")}
    assert failed[f"token:{token_id}"]["count"] == 3
    assert {k for k in failed if k.startswith("client:")} == {f"client:198.51.100.{i}" for i in range(3)}


def test_unknown_token_ids_are_not_accounts(engine: Engine) -> None:
    with _client(engine, auth_failures_per_account=1, auth_failures_per_address=50) as client:
        for _ in range(3):
            assert client.get("/api/v1/me", headers=_auth("ll_abcdefabcdef_x")).status_code == 401
    assert {r["subject"] for r in read_audit(engine, event="login.failed")} == {"client:203.0.113.7"}


def test_writes_without_credentials_are_counted_then_refused(engine: Engine) -> None:
    with _client(engine, auth_failures_per_address=2) as client:
        assert client.post("/api/v1/submissions", json=SUBMISSION).status_code == 401
        assert client.post("/no/such/endpoint", json={}).status_code == 404
        before = _writes(engine)
        for path in ("/api/v1/submissions", "/no/such/endpoint", "/login", "/epcis/capture"):
            assert client.post(path, json={}).status_code == 429, path
        assert _writes(engine) == before
    (row,) = read_audit(engine, event="login.failed")
    assert row["count"] == 2 and row["status"] == 404 and not read_audit(engine, event="write")


def test_cross_site_writes_are_refused_without_counting(engine: Engine) -> None:
    with _client(engine, auth_failures_per_address=1) as client:
        for site in ("cross-site", "same-site"):
            response = client.post(
                "/login", data={"token": "x", "csrf_token": "y"}, headers={"Sec-Fetch-Site": site}
            )
            assert response.status_code == 403 and response.json()["code"] == "cross-site-request"
        assert _writes(engine) == (0, 0)
        same = client.post("/api/v1/submissions", json=SUBMISSION, headers={"Sec-Fetch-Site": "same-origin"})
        assert same.status_code == 401  # from our own pages it is an ordinary (counted) anonymous write


def _form_token(client: TestClient) -> str:
    """The sign-in form's CSRF token (a signed-in page also has the sign-out form's)."""
    form = client.get("/login").text.split('action="/login"')[1]
    return form.split('name="csrf_token" value="')[1].split('"')[0]


def test_login_csrf_is_bound_to_the_host_cookie(engine: Engine) -> None:
    _, token = create_token(engine, "deu", "member", "DEU")
    with _client(engine) as victim, _client(engine, address="192.0.2.66") as attacker:
        form = victim.get("/login")
        cookie = form.headers["set-cookie"]
        assert cookie.startswith("__Host-lodeline_login=") and "Secure" in cookie and "Path=/" in cookie
        assert "Domain" not in cookie and "HttpOnly" in cookie
        assert _form_token(victim) == _form_token(victim)  # two open forms both stay valid
        # the attacker's own valid pair is worthless in the victim's browser (a different pre-session cookie)
        stolen = _form_token(attacker)
        assert victim.post("/login", data={"token": token, "csrf_token": stolen}).status_code == 403
        # and a form token without its cookie is refused
        victim.cookies.clear()
        fresh = _form_token(attacker)
        assert victim.post("/login", data={"token": token, "csrf_token": fresh}).status_code == 403
        ok = victim.post(
            "/login", data={"token": token, "csrf_token": _form_token(victim)}, follow_redirects=False
        )
        assert ok.status_code == 303
        cleared = [c for c in ok.headers.get_list("set-cookie") if c.startswith("__Host-lodeline_login=")]
        assert cleared and "Max-Age=0" in cleared[0]
        assert victim.get("/api/v1/me").json()["name"] == "deu"
    failed = read_audit(engine, event="login.failed")
    assert len(failed) == 1 and failed[0]["count"] == 2 and "CSRF" in failed[0]["detail"]


def test_a_new_sign_in_ends_the_previous_session(engine: Engine) -> None:
    _, first = create_token(engine, "deu", "member", "DEU")
    _, second = create_token(engine, "fra", "member", "FRA")
    with _client(engine) as client:
        client.post("/login", data={"token": first, "csrf_token": _form_token(client)})
        old_session = client.cookies["__Host-lodeline_session"]
        client.post("/login", data={"token": second, "csrf_token": _form_token(client)})
        assert client.get("/api/v1/me").json()["name"] == "fra"
        client.cookies.set("__Host-lodeline_session", old_session)
        assert client.get("/api/v1/me").status_code == 401


def test_sign_in_form_failures_are_throttled(engine: Engine) -> None:
    token_id, token = create_token(engine, "deu", "member", "DEU")
    with _client(engine, auth_failures_per_account=2) as client:
        for _ in range(2):
            bad = client.post(
                "/login", data={"token": f"ll_{token_id}_wrong", "csrf_token": _form_token(client)}
            )
            assert bad.status_code == 401
        # the right token for a blocked account: refused before it is checked, with an HTML page
        refused = client.post(
            "/login",
            data={"token": token, "csrf_token": _form_token(client)},
            headers={"Accept": "text/html"},
        )
        assert refused.status_code == 429 and "retry-after" in refused.headers
        assert "<html" in refused.text.lower() and "Traceback" not in refused.text


def test_insecure_origin_explains_why_sign_in_cannot_work(engine: Engine) -> None:
    app = create_app(engine)
    with (
        TestClient(app, base_url="http://192.0.2.10") as lan,
        TestClient(app, base_url="http://127.0.0.1") as local,
    ):
        assert "plain HTTP at a network address" in lan.get("/login").text
        assert "plain HTTP" not in local.get("/login").text


def test_admin_throttle_list_and_reset(engine: Engine, store: tuple[str, Engine], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from lodeline.config import get_settings

    monkeypatch.setenv("LODELINE_DATABASE_URL", store[0])
    get_settings.cache_clear()
    token_id, token = create_token(engine, "deu", "member", "DEU")
    with _client(engine, auth_failures_per_account=1) as client:
        assert client.get("/api/v1/me", headers=_auth(f"ll_{token_id}_wrong")).status_code == 401
        assert client.get("/api/v1/me", headers=_auth(token)).status_code == 429
        runner = CliRunner()
        listed = json.loads(runner.invoke(cli, ["admin", "throttle", "list", "--format", "json"]).stdout)
        blocked = {r["key"]: r for r in listed}
        assert (
            blocked[f"token:{token_id}"]["blocked_until"] and blocked["client:203.0.113.7"]["failures"] == 1
        )
        reset = runner.invoke(cli, ["admin", "throttle", "reset", f"token:{token_id}"])
        assert reset.exit_code == 0, reset.output
        assert runner.invoke(cli, ["admin", "throttle", "reset", "token:nope"]).exit_code == 1
        assert runner.invoke(cli, ["admin", "throttle", "reset"]).exit_code != 0
        deadline = time.monotonic() + 10  # a worker trusts its memory of a block for at most 5 s
        while client.get("/api/v1/me", headers=_auth(token)).status_code != 200:
            assert time.monotonic() < deadline
            time.sleep(0.5)
    assert read_audit(engine, event="throttle.reset")[0]["subject"] == f"token:{token_id}"


def test_a_window_opens_at_the_first_failure_and_a_new_one_gets_a_new_audit_row(engine: Engine) -> None:
    failure = Failure("GET", "/api/v1/me", 401, "198.51.100.1", None, "bearer token rejected (malformed)")
    key = [("client:198.51.100.1", 3)]
    t0 = 1_000_000_007.5  # not aligned to anything: the window starts here (counted in whole seconds)
    outcomes = [record_failure(engine, key, failure, window=300, now=t0 + dt) for dt in (0, 100, 299)]
    assert [o.over_limit for o in outcomes] == [False, False, False]
    assert outcomes[-1].blocked == {"client:198.51.100.1": int(t0) + 300}  # blocked to the end of its window
    assert blocked(engine, ["client:198.51.100.1"], t0 + 299) == {"client:198.51.100.1": int(t0) + 300}
    assert record_failure(engine, key, failure, window=300, now=t0 + 299.2).over_limit  # one past the limit
    assert blocked(engine, ["client:198.51.100.1"], t0 + 300) == {}  # the window is over
    fresh = record_failure(engine, key, failure, window=300, now=t0 + 301)
    assert not fresh.over_limit and fresh.blocked == {}
    rows = read_audit(engine, event="login.failed")
    assert [r["count"] for r in rows] == [1, 4]  # newest first: one row per key and window
