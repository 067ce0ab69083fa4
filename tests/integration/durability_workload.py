"""The clients of the durability suite: one thread per role against a running ``lodeline serve``, and CLI writers in
their own processes. Every write the service acknowledges is written down in a :class:`Ledger`, so the test can
check after crashes and restarts that the store still holds it. Nothing here decides pass or fail except a response
that no crash can explain (a 5xx, an unexpected 4xx), which is recorded as a failure."""

from __future__ import annotations

import hashlib
import itertools
import re
import subprocess
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from crash import LODELINE
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lodeline.api.deps import SESSION_COOKIE
from lodeline.trace import keys
from lodeline.trace.chain_setup import document_bytes
from lodeline.trace.generator import T0, Chain, Events, FacilitySpec

PAUSE = 0.03  # between one client's requests: keeps the load bounded on a shared 2-core machine
RETRY_LATER = {429, 503}  # throttled, or the store is briefly unreachable: not an answer, try again
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Doc:
    data: bytes
    new_facility: str | None = None  # the CLI-registered facility this document names, if any

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class Ledger:
    """What the service acknowledged (and what it served), across every round."""

    captures: dict[str, list[str]] = field(default_factory=dict)  # captureID -> accepted event hash IDs
    replayed: set[str] = field(default_factory=set)  # 409 on a retried document: stored by an earlier attempt
    pending: list[Doc] = field(default_factory=list)  # in doubt (no answer) or queued: sent again later
    seen_facility_docs: set[str] = field(default_factory=set)  # 202/409 for documents at CLI-added facilities
    submissions: dict[int, str] = field(default_factory=dict)  # id -> note
    sessions: list[str] = field(default_factory=list)  # browser session cookies handed out
    audit_rows: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (event, at), as read
    checkpoints: list[dict[str, Any]] = field(default_factory=list)  # served checkpoints (JSON)
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (token id, token) printed by the CLI
    facilities: list[str] = field(default_factory=list)  # canonical ids registered by the CLI
    failures: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] += 1

    def fail(self, what: str, response: httpx.Response) -> None:
        with self.lock:
            self.failures.append(f"{what}: {response.status_code} {response.text[:300]}")

    def next_doc(self, fresh: Iterator[Doc]) -> Doc:
        with self.lock:
            if self.pending:
                return self.pending.pop(0)
        return next(fresh)

    def later(self, doc: Doc) -> None:
        with self.lock:
            self.pending.append(doc)


def synthetic_docs(documents: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[Doc]:
    for _pid, doc in documents:
        yield Doc(document_bytes(doc))


def facility_doc(chain: Chain, number: int, destination: FacilitySpec) -> tuple[FacilitySpec, Doc]:
    """A new mine (not yet registered) and a document that commissions ore there and ships it to ``destination``."""
    operator = chain.participants[0][0]
    mine = FacilitySpec(f"new{number}", f"Durability mine {number}", "mine", "CAN", operator, 50.0, -100.0)
    mine.number = number
    staging = Chain(participants=chain.participants)
    when = T0 + timedelta(days=1, seconds=number)
    Events(staging).mine_and_ship(
        operator,
        mine,
        destination,
        f"NEW-{number}",
        "spodumene_concentrate_sc6",
        1_000,
        when,
        when + timedelta(hours=1),
    )
    return mine, Doc(document_bytes(staging.documents[0][1]), new_facility=mine.gln)


def _loop(stop: threading.Event, step: Callable[[httpx.Client], None], base: str, ledger: Ledger) -> None:
    with httpx.Client(base_url=base, timeout=30) as client:
        while not stop.is_set():
            try:
                step(client)
            except httpx.TransportError:  # the server was stopped or killed under this request
                time.sleep(0.1)
            except Exception as exc:  # a client bug or an answer of the wrong shape: fail the test, loudly
                with ledger.lock:
                    ledger.failures.append(f"{step.__qualname__}: {exc!r}")
                return
            time.sleep(PAUSE)


def participant(ledger: Ledger, fresh: Iterator[Doc], key: Ed25519PrivateKey, token: str) -> Callable:
    def step(client: httpx.Client) -> None:
        doc = ledger.next_doc(fresh)
        headers = {
            "Authorization": f"Bearer {token}",
            "Lodeline-Signature": keys.sign(key, doc.data),
            "Content-Type": "application/json",
        }
        try:
            r = client.post("/epcis/capture", content=doc.data, headers=headers)
        except httpx.TransportError:
            ledger.later(doc)  # in doubt: it may or may not have been stored; sending it again tells
            raise
        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        with ledger.lock:
            ledger.counts[f"capture {r.status_code}"] += 1
            if r.status_code == 202 and body.get("captureID") == doc.sha256:
                ledger.captures[doc.sha256] = list(body["report"]["accepted_hash_ids"])
            elif r.status_code == 409 and body.get("code") == "replayed-document":
                ledger.replayed.add(doc.sha256)
            elif r.status_code in RETRY_LATER:
                ledger.pending.append(doc)
                return
            else:
                ledger.failures.append(f"capture {doc.sha256[:12]}: {r.status_code} {r.text[:300]}")
                return
            if doc.new_facility:
                ledger.seen_facility_docs.add(doc.sha256)

    return step


def member(ledger: Ledger, token: str) -> Callable:
    def step(client: httpx.Client) -> None:
        note = f"durability {uuid.uuid4().hex}"
        body = {
            "mineral": "lithium",
            "year": 2025,
            "metric": "stockpile_t",
            "value": 1.5,
            "unit": "t",
            "note": note,
        }
        r = client.post("/api/v1/submissions", json=body, headers={"Authorization": f"Bearer {token}"})
        if r.status_code == 201:
            with ledger.lock:
                ledger.submissions[int(r.json()["id"])] = note
        elif r.status_code not in RETRY_LATER:
            ledger.fail("submission", r)

    return step


def _cookies(response: httpx.Response) -> dict[str, str]:
    out = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        out[name.strip()] = rest.split(";", 1)[0].strip().strip('"')
    return out


def browser(ledger: Ledger, token: str) -> Callable:
    """GET /login (its CSRF cookie and form field), POST /login: a session; then use it."""

    def step(client: httpx.Client) -> None:
        page = client.get("/login")
        if page.status_code in RETRY_LATER:
            return
        found = CSRF_FIELD.search(page.text)
        if page.status_code != 200 or not found:
            ledger.fail("login page", page)
            return
        cookie = "; ".join(f"{k}={v}" for k, v in _cookies(page).items())
        r = client.post(
            "/login", data={"token": token, "csrf_token": found.group(1)}, headers={"Cookie": cookie}
        )
        session = _cookies(r).get(SESSION_COOKIE)
        if r.status_code in RETRY_LATER:
            return
        if r.status_code != 303 or not session:
            ledger.fail("login", r)
            return
        with ledger.lock:
            ledger.sessions.append(session)
        me = client.get("/api/v1/me", headers={"Cookie": f"{SESSION_COOKIE}={session}"})
        if me.status_code not in (200, *RETRY_LATER):
            ledger.fail("session use", me)

    return step


def auditor(ledger: Ledger, token: str) -> Callable:
    def step(client: httpx.Client) -> None:
        r = client.get("/api/v1/audit", params={"limit": 200}, headers={"Authorization": f"Bearer {token}"})
        if r.status_code == 200:
            with ledger.lock:
                for row in r.json():
                    ledger.audit_rows[int(row["id"])] = (row["event"], row["at"])
        elif r.status_code not in RETRY_LATER:
            ledger.fail("audit read", r)

    return step


def reader(ledger: Ledger, paths: list[str]) -> Callable:
    """Anonymous reads in turn: the market (the columnar read path) or the signed checkpoint."""
    cycle = itertools.cycle(paths)

    def step(client: httpx.Client) -> None:
        path = next(cycle)
        r = client.get(path)
        ledger.count(f"{path.split('?')[0]} {r.status_code}")
        if r.status_code == 200 and "checkpoint" in path:
            with ledger.lock:
                ledger.checkpoints.append(r.json())
        elif r.status_code != 200 and r.status_code not in RETRY_LATER:
            ledger.fail(path, r)

    return step


def run_clients(
    base: str, roles: list[Callable], stop: threading.Event, ledger: Ledger
) -> list[threading.Thread]:
    threads = [threading.Thread(target=_loop, args=(stop, step, base, ledger), daemon=True) for step in roles]
    for t in threads:
        t.start()
    return threads


def cli_token(ledger: Ledger, env: dict[str, str], number: int) -> None:
    """While the server runs: an admin token through the CLI (its own process, its own engine)."""
    created = subprocess.run(
        [*LODELINE, "admin", "token", "create", "--account", f"admin-{number}", "--role", "admin"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    with ledger.lock:
        if created.returncode != 0:
            ledger.failures.append(f"admin token create: {created.returncode} {created.stderr[-300:]}")
            return
        token = created.stdout.strip().splitlines()[-1]
        ledger.tokens.append((token.split("_")[1], token))


def cli_facility(
    ledger: Ledger, env: dict[str, str], chain: Chain, number: int, destination: FacilitySpec
) -> None:
    """While the server runs: a new facility through the CLI. The capture at it goes to the participant's queue:
    the server must accept it (it sees what the CLI wrote), in this round or a later one."""
    mine, doc = facility_doc(chain, number, destination)
    added = subprocess.run(
        [*LODELINE, "trace", "facility", "add", mine.gln, "--name", mine.name, "--type", mine.facility_type,
         "--country", mine.country, "--operator", mine.operator, "--lat", str(mine.latitude),
         "--lon", str(mine.longitude)],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    with ledger.lock:
        if added.returncode != 0:
            ledger.failures.append(f"facility add: {added.returncode} {added.stderr[-300:]}")
            return
        ledger.facilities.append(mine.gln)
        ledger.pending.append(doc)
