"""The failed sign-in throttle holds in total across a real ``lodeline serve --workers 2``, on SQLite and
PostgreSQL. Every attempt travels on its own connection, from a chosen loopback source address (127.0.0.0/8), to a
chosen worker process (the test reads which worker holds each connection from the operating system), so the
failures are split between the two workers. The limits per address and per account hold exactly in total,
blocked attempts write nothing, the audit keeps one row per key and window, and ``lodeline admin throttle reset``
from another process reaches both running workers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from benchmarks.server import free_port
from sqlalchemy import Engine, func, select

from lodeline.store.accounts import audit_log, create_token, read_audit
from lodeline.store.throttle import auth_throttle

LODELINE = str(Path(sys.executable).parent / "lodeline")
PER_ADDRESS, PER_ACCOUNT, WINDOW = 6, 4, 600


@dataclass
class Server:
    base: str
    port: int
    pid: int

    def _sockets(self) -> Iterator[tuple[int, Any]]:
        """(process id, connection) of every socket on the server's port held by one of its processes."""
        for child in psutil.Process(self.pid).children(recursive=True):
            try:
                connections = child.net_connections("tcp")
            except psutil.NoSuchProcess:  # a helper process that has just exited
                continue
            yield from ((child.pid, c) for c in connections if c.laddr.port == self.port)

    def workers(self) -> list[int]:
        """The worker processes: the children that accept on the server's listening socket."""
        return sorted({pid for pid, c in self._sockets() if c.status == psutil.CONN_LISTEN})

    def worker_of(self, client_port: int) -> int | None:
        return next((pid for pid, c in self._sockets() if c.raddr and c.raddr.port == client_port), None)

    def connections(self, source: str, per_worker: int) -> dict[int, list[httpx.Client]]:
        """``per_worker`` keep-alive connections from ``source`` accepted by each worker process."""
        workers = self.workers()
        pool: dict[int, list[httpx.Client]] = {w: [] for w in workers}
        extra: list[httpx.Client] = []
        for _ in range(40 * per_worker * len(workers)):
            transport = httpx.HTTPTransport(local_address=source, verify=False)  # no TLS: skip loading CAs
            client = httpx.Client(base_url=self.base, transport=transport, timeout=30)
            port = client.get("/health").extensions["network_stream"].get_extra_info("client_addr")[1]
            worker = self.worker_of(port)
            # the worker that did not accept this one is waiting in accept(): keep this connection open so the
            # next one is not accepted by the same worker again
            (pool[worker] if worker in pool and len(pool[worker]) < per_worker else extra).append(client)
            if all(len(clients) == per_worker for clients in pool.values()):
                break
        for client in extra:
            client.close()
        assert all(len(clients) == per_worker for clients in pool.values()), {
            w: len(c) for w, c in pool.items()
        }
        return pool


@contextmanager
def serving(url: str, tmp: Path, workers: int = 2) -> Iterator[Server]:
    """``lodeline serve --workers N`` on a free port (it builds the bundled data into an empty store first)."""
    port = free_port()
    env = {
        **os.environ,
        "LODELINE_DATABASE_URL": url,
        "LODELINE_DATA_DIR": str(tmp / "data"),
        "LODELINE_API_AUTH_FAILURES_PER_ADDRESS": str(PER_ADDRESS),
        "LODELINE_API_AUTH_FAILURES_PER_ACCOUNT": str(PER_ACCOUNT),
        "LODELINE_API_AUTH_FAILURE_WINDOW_SECONDS": str(WINDOW),
    }
    log = (tmp / "serve.log").open("w")
    command = [LODELINE, "serve", "--host", "0.0.0.0", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", port, proc.pid)
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                if httpx.get(f"{server.base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp / "serve.log").read_text()
            time.sleep(0.5)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        assert "Traceback" not in (tmp / "serve.log").read_text(), (tmp / "serve.log").read_text()


def _attempts(server: Server, calls: list[tuple[str, str | None]]) -> list[httpx.Response]:
    """Each (source address, bearer token) on its own connection, alternately on each worker, all at once."""
    by_source = Counter(source for source, _ in calls)
    pools = {source: server.connections(source, -(-n // 2)) for source, n in by_source.items()}
    clients, taken = [], Counter[str]()
    for source, _ in calls:
        workers = sorted(pools[source])
        clients.append(pools[source][workers[taken[source] % 2]].pop())
        taken[source] += 1

    def send(i: int) -> httpx.Response:
        token = calls[i][1]
        return clients[i].get("/api/v1/me", headers={"Authorization": f"Bearer {token}"} if token else {})

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(send, range(len(calls))))
    finally:
        for client in [*clients, *(c for p in pools.values() for cs in p.values() for c in cs)]:
            client.close()


def _writes(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        counted = conn.execute(select(func.coalesce(func.sum(audit_log.c.count), 0))).scalar_one()
        failures = conn.execute(select(func.coalesce(func.sum(auth_throttle.c.failures), 0))).scalar_one()
    return int(rows), int(counted), int(failures)


def test_limits_hold_across_two_workers(store: tuple[str, Engine], tmp_path: Path) -> None:
    url, engine = store
    token_id, token = create_token(engine, "deu", "member", "DEU")
    _, other = create_token(engine, "fra", "member", "FRA")
    with serving(url, tmp_path) as server:
        assert len(server.workers()) == 2

        # per address: 3x the limit of concurrent bad tokens from one address, half on each worker
        statuses = Counter(
            r.status_code for r in _attempts(server, [("127.0.0.2", "nonsense")] * (3 * PER_ADDRESS))
        )
        assert statuses == {401: PER_ADDRESS, 429: 2 * PER_ADDRESS}, statuses

        # per account: a wrong secret for one real token from many addresses, each under its own limit
        wrong = [(f"127.0.1.{i}", f"ll_{token_id}_wrong") for i in range(1, 3 * PER_ACCOUNT + 1)]
        responses = _attempts(server, wrong)
        statuses = Counter(r.status_code for r in responses)
        assert statuses == {401: PER_ACCOUNT, 429: 2 * PER_ACCOUNT}, statuses
        assert all(1 <= int(r.headers["retry-after"]) <= WINDOW for r in responses if r.status_code == 429)
        # the right token waits too, on either worker; another account does not
        assert {r.status_code for r in _attempts(server, [("127.0.2.1", token)] * 2)} == {429}
        assert {r.status_code for r in _attempts(server, [("127.0.2.1", other)] * 2)} == {200}

        # blocked attempts, on either worker, write nothing
        before = _writes(engine)
        blocked = _attempts(server, [("127.0.0.2", "nonsense"), ("127.0.2.2", token)] * 6)
        assert {r.status_code for r in blocked} == {429}
        assert _writes(engine) == before

        # one aggregated audit row per key and window
        failed = read_audit(engine, limit=1000, event="login.failed")
        subjects = Counter(r["subject"] for r in failed)
        assert set(subjects.values()) == {1}, subjects
        rows = {r["subject"]: r for r in failed}
        assert rows["client:127.0.0.2"]["count"] >= PER_ADDRESS
        assert rows[f"token:{token_id}"]["count"] >= PER_ACCOUNT
        assert "throttled until" in rows["client:127.0.0.2"]["detail"]

        # an administrator unblocks the account from another process; both workers see it within 5 s
        env = {**os.environ, "LODELINE_DATABASE_URL": url, "LODELINE_DATA_DIR": str(tmp_path / "data")}
        command = [LODELINE, "admin", "throttle", "reset", f"token:{token_id}"]
        reset = subprocess.run(command, env=env, capture_output=True, text=True)
        assert reset.returncode == 0, reset.stderr
        deadline = time.monotonic() + 15
        while {r.status_code for r in _attempts(server, [("127.0.3.1", token)] * 2)} != {200}:
            assert time.monotonic() < deadline, "the reset did not reach both workers"
            time.sleep(1)
