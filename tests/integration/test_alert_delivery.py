"""Alert delivery end to end on SQLite and PostgreSQL, against a real local HTTP receiver (stdlib http.server in a
thread, verifying every delivery with lodeline.alerts.webhook.Verifier) and a real local SMTP server (aiosmtpd):
signed webhooks and e-mail delivered once; a receiver answering 500 and a closed port retried with exponential
backoff and the error recorded, then given up after the cap; and the worker as a real subprocess
(``lodeline alerts deliver --loop``) SIGKILLed between send and mark-sent, restarted: every message processed by
its receiver exactly once (the retry carries the same id and the receiver drops the duplicate)."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from crash import kill_when  # same folder: pytest puts it on sys.path
from sqlalchemy import Engine

from lodeline.alerts import webhook
from lodeline.alerts.model import Alert, IndicatorReading, Level
from lodeline.services import alert_delivery as delivery
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store import alerts as db


@pytest.fixture(autouse=True)
def local_receivers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers here listen on 127.0.0.1 over http: both refused by default (docs/alerts-delivery.md)."""
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS", "true")
    monkeypatch.setenv("LODELINE_ALERTS_ALLOW_HTTP_TARGETS", "true")


def alert(mineral: str, level: Level = Level.WARNING) -> Alert:
    reading = IndicatorReading(
        "export-control", mineral, 1.0, level, "export licence requirement effective", "policy_facts",
        "2026-12", dt.date(2026, 11, 1), dt.date(2026, 11, 2),
    )  # fmt: skip
    return Alert(mineral, level, dt.date(2026, 11, 3), f"{mineral}: export controls", (reading,))


class Receiver:
    """A webhook receiver: verifies each delivery, processes each message id once; ``fail`` answers 500 that many
    times first; ``hang_first`` holds the first new message's response until released (the sender is killed)."""

    def __init__(self, secret: str | None = None, fail: int = 0, hang_first: bool = False) -> None:
        self.secret = secret
        self.verifier: webhook.Verifier | None = None
        self.fail = fail
        self.hang_first = hang_first
        self.processed: list[dict[str, Any]] = []
        self.duplicates: list[str] = []
        self.rejected: list[str] = []
        self.requests = 0
        self.hung = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.handle({k.lower(): v for k, v in self.headers.items()}, body)
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the sender is gone (killed while we held the answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        self.requests += 1
        if self.fail > 0:
            self.fail -= 1
            return 500
        assert self.verifier is not None
        try:
            message_id = self.verifier.verify(headers, body)
        except webhook.DuplicateMessage as dup:
            self.duplicates.append(dup.details["message_id"])
            return 200
        except webhook.SignatureRejected as exc:
            self.rejected.append(exc.message)
            return 401
        self.processed.append({"id": message_id, "headers": headers, "body": body})
        if self.hang_first and not self.hung.is_set():
            self.hung.set()
            self.release.wait(60)
        return 204

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An aiosmtpd handler: each Message-ID processed once; ``hang_first`` holds the first DATA's answer."""

    def __init__(self, hang_first: bool = False) -> None:
        self.processed: list[Any] = []
        self.duplicates: list[str] = []
        self.hang_first = hang_first
        self.hung = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        mail = message_from_bytes(envelope.content)
        message_id = mail["Message-ID"]
        if message_id in {m["Message-ID"] for m in self.processed}:
            self.duplicates.append(message_id)
            return "250 OK (already received)"
        self.processed.append(mail)
        if self.hang_first and not self.hung.is_set():
            self.hung.set()
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = _closed_port()  # a free port (aiosmtpd checks it is up by connecting to it, so not 0)
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    box.release.set()
    controller.stop()


def _settings(smtp_port: int | None = None, **changes: Any) -> delivery.DeliverySettings:
    smtp = {} if smtp_port is None else {"smtp_host": "127.0.0.1", "smtp_port": smtp_port}
    return delivery.DeliverySettings(**{"backoff_base_seconds": 0.2, "lease_seconds": 1.0, **smtp, **changes})


def _subscribe_webhook(
    engine: Engine, receiver: Receiver, url: str | None = None, member: str = "DEU"
) -> str:
    made = lifecycle.subscribe(
        engine, member=member, mineral="*", min_level="watch", channel="webhook",
        target=url or receiver.url, created_by="t",
    )  # fmt: skip
    receiver.secret = str(made["secret"])
    receiver.verifier = webhook.Verifier(receiver.secret)
    return receiver.secret


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_signed_webhook_and_email_delivered_once(engine: Engine, mailbox: tuple[Mailbox, int]) -> None:
    box, smtp_port = mailbox
    receiver = Receiver()
    try:
        _subscribe_webhook(engine, receiver)
        lifecycle.subscribe(
            engine, member="FRA", mineral="gallium", min_level="warning", channel="email",
            target="desk@example.org", created_by="t",
        )  # fmt: skip
        lifecycle.record(engine, [alert("gallium"), alert("nickel", Level.WATCH)], "scan")
        result = delivery.deliver_once(engine, _settings(smtp_port))
        assert (result.claimed, result.sent, result.errors) == (3, 3, [])
        assert delivery.deliver_once(engine, _settings(smtp_port)).claimed == 0  # nothing left
        rows = {r["id"]: r for r in db.list_outbox(engine)}
        assert all(r["sent_at"] is not None and r["attempts"] == 1 for r in rows.values())
        # the webhook: the id is the outbox row's, the signature verifies with the subscriber's secret
        assert sorted(p["id"] for p in receiver.processed) == sorted(
            i for i, r in rows.items() if r["channel"] == "webhook"
        )
        first = receiver.processed[0]
        assert first["headers"]["webhook-signature"] == webhook.signature(
            receiver.secret or "", first["id"], int(first["headers"]["webhook-timestamp"]), first["body"]
        )
        assert receiver.rejected == [] and receiver.duplicates == []
        # the e-mail: Message-ID carries the outbox id; subject and text say mineral, level, why
        (mail,) = box.processed
        (email_id,) = [i for i, r in rows.items() if r["channel"] == "email"]
        assert mail["Message-ID"] == f"<{email_id}@lodeline>"
        assert mail["To"] == "desk@example.org" and "gallium: warning" in mail["Subject"]
        assert "gallium: export controls" in mail.get_payload()
        # a replay of a captured delivery is refused: as a duplicate now, as too old later
        headers, body = first["headers"], first["body"]
        with pytest.raises(webhook.DuplicateMessage):
            receiver.verifier.verify(headers, body)  # type: ignore[union-attr]
        with pytest.raises(webhook.SignatureRejected):
            webhook.Verifier(receiver.secret or "").verify(headers, body, now=time.time() + 301)
        with pytest.raises(webhook.SignatureRejected):
            webhook.Verifier(receiver.secret or "").verify(headers, body + b" ")  # tampered body
    finally:
        receiver.close()


def test_500_and_closed_port_are_retried_with_backoff_then_given_up(engine: Engine) -> None:
    receiver = Receiver(fail=2)
    try:
        _subscribe_webhook(engine, receiver)
        lifecycle.subscribe(
            engine, member="FRA", mineral="*", min_level="watch", channel="webhook",
            target=f"http://127.0.0.1:{_closed_port()}/hook", created_by="t",
        )  # fmt: skip
        lifecycle.record(engine, [alert("antimony")], "scan")
        conf = _settings(max_attempts=3, backoff_base_seconds=0.2)
        outcomes: list[tuple[int, int, int]] = []
        delays: dict[str, list[float]] = {}
        for _ in range(3):
            before = dt.datetime.now(dt.UTC)
            result = delivery.deliver_once(engine, conf)
            outcomes.append((result.sent, result.failed, result.given_up))
            for r in db.list_outbox(engine):
                if r["next_attempt_at"] is not None:
                    at = r["next_attempt_at"].replace(tzinfo=r["next_attempt_at"].tzinfo or dt.UTC)
                    delays.setdefault(r["id"], []).append((at - before).total_seconds())
            time.sleep(1.0)  # past the longest backoff (0.4 s)
        # pass 1: both fail; pass 2: both fail again; pass 3: the receiver answers, the closed port is given up
        assert outcomes == [(0, 2, 0), (0, 2, 0), (1, 0, 1)]
        for seen in delays.values():  # 0.2 s after the first failure, 0.4 s after the second
            assert 0.15 < seen[0] < 0.6 and 0.35 < seen[1] < 0.8
        rows = {r["subscription_id"]: r for r in db.list_outbox(engine)}
        ok, dead = rows[1], rows[2]
        assert (ok["attempts"], ok["sent_at"] is not None, ok["last_error"]) == (3, True, None)
        assert (dead["attempts"], dead["sent_at"], dead["failed_at"] is not None) == (3, None, True)
        assert "cannot reach the receiver" in dead["last_error"]
        assert receiver.requests == 3 and len(receiver.processed) == 1
    finally:
        receiver.close()


def test_backoff_is_exponential_and_capped() -> None:
    conf = delivery.DeliverySettings(backoff_base_seconds=30, backoff_max_seconds=600)
    assert [delivery.backoff(n, conf) for n in range(1, 8)] == [30, 60, 120, 240, 480, 600, 600]


def test_worker_sigkilled_between_send_and_mark_sent_delivers_exactly_once(
    store: tuple[str, Engine], mailbox: tuple[Mailbox, int]
) -> None:
    url, engine = store
    box, smtp_port = mailbox
    box.hang_first = True
    receiver = Receiver(hang_first=True)
    try:
        _subscribe_webhook(engine, receiver)
        lifecycle.subscribe(
            engine, member="FRA", mineral="*", min_level="watch", channel="email", target="desk@example.org",
            created_by="t",
        )  # fmt: skip
        lifecycle.record(engine, [alert(m) for m in ("gallium", "germanium", "graphite")], "scan")
        ids = {r["id"]: r["channel"] for r in db.list_outbox(engine)}
        assert len(ids) == 6
        env = {
            **os.environ,
            "LODELINE_DATABASE_URL": url,
            "LODELINE_ALERTS_SMTP_HOST": "127.0.0.1",
            "LODELINE_ALERTS_SMTP_PORT": str(smtp_port),
            "LODELINE_ALERTS_LEASE_SECONDS": "1",
            "LODELINE_ALERTS_BACKOFF_BASE_SECONDS": "0.2",
        }
        args = ["alerts", "deliver", "--loop", "--interval", "0.1"]

        def unsent() -> int:
            return sum(1 for r in db.list_outbox(engine) if r["sent_at"] is None)

        def holding() -> Receiver | Mailbox | None:
            """The receiver holding a message it processed, whose answer the worker is waiting for."""
            held = [r for r in (receiver, box) if r.hung.is_set() and not r.release.is_set()]
            return held[0] if held else None

        kills = 0
        for _ in range(2):  # the worker dies waiting on the webhook receiver once and on the SMTP server once
            killed = kill_when(args, env, lambda: holding() is not None, timeout=60)
            assert killed, "the worker exited before a receiver held a message"
            kills += 1
            held = holding()
            assert held is not None
            held.release.set()  # it had the message and processed it; the worker never marked it sent
        assert kills == 2 and unsent() >= 2
        # a restarted worker (after the lease) sends the rest and re-sends the two with the same ids
        finished = kill_when(args, env, lambda: unsent() == 0, timeout=60)
        assert finished and unsent() == 0
        webhook_ids = sorted(i for i, c in ids.items() if c == "webhook")
        email_ids = sorted(f"<{i}@lodeline>" for i, c in ids.items() if c == "email")
        assert sorted(p["id"] for p in receiver.processed) == webhook_ids  # none lost, none processed twice
        assert sorted(m["Message-ID"] for m in box.processed) == email_ids
        assert len(receiver.duplicates) == 1 and len(box.duplicates) == 1  # the re-sends after the crashes
        attempts = {r["id"]: r["attempts"] for r in db.list_outbox(engine)}
        assert attempts[receiver.duplicates[0]] >= 2
    finally:
        receiver.close()
