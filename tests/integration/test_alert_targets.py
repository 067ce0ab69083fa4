"""Webhook targets cannot reach the server's private network by default (server-side request forgery): a
subscription naming a refused target is a 422 ``target-refused`` naming ``target`` and stores nothing; at delivery,
the resolved address is checked again (a name that resolves to loopback is refused before any byte is sent), http
is refused unless allowed, and redirects are not followed. A real local receiver shows the allowed case."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import Engine, func, select

from lodeline.alerts import webhook
from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import alert_delivery as delivery
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store import alerts as db
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


class Receiver:
    """Counts POSTs; answers ``status`` (with a Location header when it is a redirect)."""

    def __init__(self, status: int = 204, location: str | None = None) -> None:
        self.requests = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests += 1
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _message(target: str) -> dict[str, object]:
    return {"id": "msg_test", "target": target, "secret": webhook.new_secret(), "payload": "{}"}


def _subscribe(engine: Engine, target: str) -> dict[str, object]:
    return lifecycle.subscribe(
        engine, member="DEU", mineral="*", min_level="watch", channel="webhook", target=target, created_by="t"
    )


def _subscriptions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(db.alert_subscriptions)).scalar_one())


@pytest.mark.parametrize(
    "target",
    [
        "https://127.0.0.1/hook",  # loopback
        "https://[::1]/hook",
        "https://localhost:8443/hook",
        "https://10.20.30.40/hook",  # RFC 1918
        "https://172.16.5.4/hook",
        "https://192.168.1.10/hook",
        "https://[fd00:abcd::1]/hook",  # RFC 4193
        "https://169.254.169.254/latest/meta-data/",  # link-local (cloud metadata)
        "https://[fe80::1]/hook",
        "https://224.0.0.251/hook",  # multicast
        "https://0.0.0.0/hook",  # unspecified
        "https://[::]/hook",
        "http://hooks.example.org/alerts",  # http
    ],
)
def test_refused_targets_store_nothing(engine: Engine, target: str) -> None:
    with pytest.raises(lifecycle.TargetRefusedError) as refused:
        _subscribe(engine, target)
    assert refused.value.http_status == 422 and refused.value.details["field"] == "target"
    assert target[:30] in refused.value.message
    assert _subscriptions(engine) == 0


def test_public_https_target_accepted(engine: Engine) -> None:
    made = _subscribe(engine, "https://hooks.example.org/alerts")
    assert made["target"] == "https://hooks.example.org/alerts" and _subscriptions(engine) == 1


def test_settings_allow_private_and_http(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")
    _subscribe(engine, "https://10.0.0.5/hook")
    with pytest.raises(lifecycle.TargetRefusedError):
        _subscribe(engine, "http://10.0.0.5/hook")  # private allowed, http still not
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_HTTP_TARGETS", "true")
    _subscribe(engine, "http://10.0.0.5/hook")
    assert _subscriptions(engine) == 2


def test_api_answers_422_naming_target(engine: Engine) -> None:
    token = create_token(engine, "member-1", "member", "DEU")[1]
    body = {"mineral": "REE", "min_level": "warning", "channel": "webhook"}
    with TestClient(create_app(engine, ApiSettings()), base_url="https://testserver") as client:
        for target in ("https://169.254.169.254/latest/", "http://hooks.example.org/x"):
            got = client.post(
                "/api/v1/alerts/subscriptions",
                json={**body, "target": target},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert got.status_code == 422, got.text
            answer = got.json()
            assert answer["code"] == "target-refused" and answer["field"] == "target"
            assert "target" in answer["message"]
    assert _subscriptions(engine) == 0


def test_delivery_checks_the_resolved_address(receiver: Receiver) -> None:
    """A name that resolves to 127.0.0.1 (``localhost``) or the literal address: refused before connecting."""
    settings = delivery.DeliverySettings(allow_http_targets=True)
    for host in ("127.0.0.1", "localhost"):
        with pytest.raises(delivery.DeliveryFailed, match="loopback"):
            delivery.send_webhook(_message(f"http://{host}:{receiver.port}/hook"), settings)
    assert receiver.requests == 0
    allowed = delivery.DeliverySettings(allow_http_targets=True, allow_private_targets=True)
    delivery.send_webhook(_message(f"http://localhost:{receiver.port}/hook"), allowed)
    assert receiver.requests == 1


def test_delivery_refuses_http_unless_allowed(receiver: Receiver) -> None:
    settings = delivery.DeliverySettings(allow_private_targets=True)
    with pytest.raises(delivery.DeliveryFailed, match="http target"):
        delivery.send_webhook(_message(f"http://127.0.0.1:{receiver.port}/hook"), settings)
    assert receiver.requests == 0


def test_redirects_are_not_followed(receiver: Receiver) -> None:
    bouncer = Receiver(302, f"http://127.0.0.1:{receiver.port}/hook")
    try:
        settings = delivery.DeliverySettings(allow_http_targets=True, allow_private_targets=True)
        with pytest.raises(delivery.DeliveryFailed, match="HTTP 302"):
            delivery.send_webhook(_message(f"http://127.0.0.1:{bouncer.port}/hook"), settings)
        assert bouncer.requests == 1 and receiver.requests == 0
    finally:
        bouncer.close()
