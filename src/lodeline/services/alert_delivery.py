"""The delivery worker: sends the outbox's messages (signed webhooks, e-mail over SMTP) with retries.

One pass (:func:`deliver_once`):

1. **claim** (one write transaction): the due unsent messages (``next_attempt_at <= now``), oldest first; each
   claimed row gets ``attempts + 1`` and ``next_attempt_at = now + lease``. The lease is what makes a crash safe:
   a worker killed at any point leaves the row due again once the lease runs out, and the next worker sends it
   again with the SAME message id.
2. **send** each message outside any transaction: a webhook is POSTed with the Standard Webhooks headers
   (``webhook-id`` = the message id, a fresh ``webhook-timestamp``, the ``v1,`` HMAC-SHA256 signature); an e-mail
   is sent with ``Message-ID: <message id@lodeline>``. A 2xx answer (a webhook) or an accepted DATA (SMTP) is
   success.
3. **mark** (one write transaction per message): ``sent_at`` on success; otherwise ``last_error`` and the next
   attempt after an exponential backoff (``base * 2**(attempts-1)``, capped), or ``failed_at`` after the last
   allowed attempt.

Exactly-once to the receiver = at-least-once sending (nothing is lost: a message leaves the outbox only with a
``sent_at``) + the idempotency key (every retry carries the same id; the receiver's verifier —
:class:`lodeline.alerts.webhook.Verifier`, or a Message-ID check — drops what it has already processed).
"""

from __future__ import annotations

import datetime as dt
import functools
import http.client
import json
import logging
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine

from lodeline.alerts import targets, webhook
from lodeline.store import alerts as db
from lodeline.store.engine import write_transaction

log = logging.getLogger(__name__)


class DeliverySettings(BaseSettings):
    """Delivery settings (environment prefix ``LODELINE_ALERTS_``; docs/alerts-delivery.md)."""

    model_config = SettingsConfigDict(env_prefix="LODELINE_ALERTS_", extra="ignore")

    smtp_host: str = Field(default="localhost", description="SMTP server the e-mails are handed to")
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS")
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user (with smtp_password)")
    smtp_password: str | None = Field(default=None)
    smtp_from: str = Field(default="alerts@lodeline.invalid", description="The From address of alert e-mails")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300, description="Per-request network timeout")
    lease_seconds: float = Field(
        default=120.0, gt=0, description="A claimed message is due again this long after a worker claimed it"
    )
    max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts before a message is given up")
    backoff_base_seconds: float = Field(
        default=30.0, gt=0, description="Delay after the first failed attempt"
    )
    backoff_max_seconds: float = Field(
        default=6 * 3600.0, gt=0, description="Cap on the delay between attempts"
    )
    batch: int = Field(default=50, ge=1, le=1000, description="Messages claimed per pass")
    allow_private_targets: bool = Field(
        default=False,
        description="Let webhooks reach loopback, private, link-local, multicast, unspecified and reserved "
        "addresses (refused by default: server-side request forgery; docs/alerts-delivery.md)",
    )
    allow_http_targets: bool = Field(
        default=False, description="Accept plain http webhook targets (default: https only)"
    )


@dataclass
class PassResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0  # failed this attempt, will retry
    given_up: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def backoff(attempts: int, settings: DeliverySettings) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: base·2^(attempts−1), at most the cap."""
    return float(min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempts - 1)))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def claim(engine: Engine, settings: DeliverySettings, now: dt.datetime | None = None) -> list[dict[str, Any]]:
    """Claim the due messages (lease them) in one write transaction."""
    at = _now() if now is None else now
    lease = at + dt.timedelta(seconds=settings.lease_seconds)
    with write_transaction(engine) as conn:
        due = db.due_messages(conn, at, settings.batch)
        for row in due:
            row["attempts"] = int(row["attempts"]) + 1
            db.update_message(conn, row["id"], {"attempts": row["attempts"], "next_attempt_at": lease})
    return due


class TargetRefused(OSError):
    """The target resolved to an address the settings refuse (docs/alerts-delivery.md, "Targets")."""


def _guarded_connection(
    address: tuple[str, int],
    timeout: Any = None,
    source: Any = None,
    *,
    allow: bool,
) -> socket.socket:
    """``socket.create_connection`` that resolves the host once, refuses it if ANY of its addresses is refused
    (``alerts.targets``) and connects to the addresses it checked (a second lookup could give another answer)."""
    host, port = address
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not allow:
        for *_, sockaddr in infos:
            reason = targets.refused_reason(str(sockaddr[0]).split("%", 1)[0])
            if reason is not None:
                raise TargetRefused(
                    f"target refused: {host} resolves to {sockaddr[0]}, a {reason} address "
                    "(LODELINE_ALERTS_ALLOW_PRIVATE_TARGETS)"
                )
    error: OSError | None = None
    for family, kind, proto, _, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, int | float):  # else http.client's "default" sentinel
                sock.settimeout(timeout)
            if source:
                sock.bind(source)
            sock.connect(sockaddr)
            return sock
        except OSError as exc:
            sock.close()
            error = exc
    raise error or OSError(f"{host} has no address")


class _HTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_guarded_connection, allow=allow_private)


class _HTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = functools.partial(_guarded_connection, allow=allow_private)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is not followed (it could lead to a refused address or scheme): it fails the attempt."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener(settings: DeliverySettings) -> urllib.request.OpenerDirector:
    """Direct connections (no proxy from the environment: the receiver's address is the subscription's, as given),
    through the address check, without redirects; http only when allowed."""
    allow = settings.allow_private_targets
    https: Any = functools.partial(_HTTPSConnection, allow_private=allow)
    plain: Any = functools.partial(_HTTPConnection, allow_private=allow)
    context = ssl.create_default_context()

    class Https(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> Any:
            return self.do_open(https, req, context=context)

    class Http(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> Any:
            if not settings.allow_http_targets:
                raise urllib.error.URLError(
                    "target refused: http target (LODELINE_ALERTS_ALLOW_HTTP_TARGETS)"
                )
            return self.do_open(plain, req)

    return urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect, Https, Http)


def send_webhook(message: dict[str, Any], settings: DeliverySettings) -> None:
    body = message["payload"].encode("utf-8")
    headers = webhook.sign_headers(message["secret"], message["id"], body)
    request = urllib.request.Request(
        message["target"],
        data=body,
        method="POST",
        headers={**headers, "Content-Type": "application/json", "User-Agent": "lodeline-alerts"},
    )
    try:
        with _opener(settings).open(request, timeout=settings.timeout_seconds) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code} from the receiver") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"cannot reach the receiver: {reason}") from None
    if not 200 <= status < 300:
        raise DeliveryFailed(f"HTTP {status} from the receiver")


def email_of(message: dict[str, Any], settings: DeliverySettings) -> EmailMessage:
    payload = json.loads(message["payload"])
    data = payload["data"]
    mail = EmailMessage()
    mail["From"] = settings.smtp_from
    mail["To"] = message["target"]
    mail["Subject"] = f"[Lodeline alert] {data['mineral']}: {data['level']} ({payload['type']})"
    mail["Message-ID"] = f"<{message['id']}@lodeline>"
    lines = [
        f"Alert {data['alert_id']} on {data['mineral']} is at level {data['level']} (state {data['state']}), "
        f"scan of {data['as_of']}.",
        "",
        data["explanation"],
        "",
        "Indicators:",
    ]
    for r in data["readings"]:
        value = "no data" if r["value"] is None else r["value"]
        lines.append(
            f"- {r['indicator']}: {value} ({r['level']}) — {r['explanation']} [{r['source']} {r['edition']}]"
        )
    mail.set_content("\n".join(lines) + "\n")
    return mail


def send_email(message: dict[str, Any], settings: DeliverySettings) -> None:
    mail = email_of(message, settings)
    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.timeout_seconds) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username:
                smtp.login(settings.smtp_username, settings.smtp_password or "")
            smtp.send_message(mail)
    except smtplib.SMTPException as exc:
        raise DeliveryFailed(f"SMTP: {exc}") from None
    except OSError as exc:
        raise DeliveryFailed(f"cannot reach the SMTP server: {exc}") from None


class DeliveryFailed(Exception):
    """One attempt failed (the reason is recorded on the outbox row and the message retried)."""


def send(message: dict[str, Any], settings: DeliverySettings) -> None:
    if message["removed_at"] is not None:
        raise DeliveryFailed("the subscription was removed")
    if message["channel"] == "webhook":
        send_webhook(message, settings)
    elif message["channel"] == "email":
        send_email(message, settings)
    else:
        raise DeliveryFailed(f"unknown channel {message['channel']!r}")


def mark(engine: Engine, message: dict[str, Any], error: str | None, settings: DeliverySettings) -> str:
    """Record the outcome of an attempt: ``sent``, ``retry`` or ``given-up``."""
    at = _now()
    if error is None:
        values: dict[str, Any] = {"sent_at": at, "next_attempt_at": None, "last_error": None}
        outcome = "sent"
    elif message["attempts"] >= settings.max_attempts or message["removed_at"] is not None:
        values = {"failed_at": at, "next_attempt_at": None, "last_error": error[:2000]}
        outcome = "given-up"
    else:
        delay = backoff(message["attempts"], settings)
        values = {"next_attempt_at": at + dt.timedelta(seconds=delay), "last_error": error[:2000]}
        outcome = "retry"
    with write_transaction(engine) as conn:
        db.update_message(conn, message["id"], values)
    return outcome


def deliver_once(engine: Engine, settings: DeliverySettings | None = None) -> PassResult:
    """Claim the due messages, send each, mark each: one pass of the worker."""
    conf = settings or DeliverySettings()
    result = PassResult()
    for message in claim(engine, conf):
        result.claimed += 1
        error = None
        try:
            send(message, conf)
        except DeliveryFailed as exc:
            error = str(exc)
        outcome = mark(engine, message, error, conf)
        if outcome == "sent":
            result.sent += 1
        else:
            result.errors.append(f"{message['id']}: {error}")
            if outcome == "retry":
                result.failed += 1
            else:
                result.given_up += 1
    return result


def deliver_loop(
    engine: Engine,
    settings: DeliverySettings | None = None,
    *,
    interval: float = 5.0,
    passes: int | None = None,
) -> None:
    """Run passes until stopped (or ``passes`` of them), sleeping ``interval`` seconds when nothing was due."""
    done = 0
    while passes is None or done < passes:
        result = deliver_once(engine, settings)
        done += 1
        if result.claimed:
            log.info("alert delivery: %s", result.to_dict())
        else:
            time.sleep(interval)


def outbox(engine: Engine, alert_id: int | None = None) -> list[dict[str, Any]]:
    """The outbox's messages (without payloads), for the operator."""
    return [{k: v for k, v in r.items() if k != "payload"} for r in db.list_outbox(engine, alert_id)]
