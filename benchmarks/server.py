"""Run ``lodeline``'s ASGI app under uvicorn in a child process (for browser tests and the API benchmark)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_server(
    database_url: str,
    *,
    env: dict[str, str] | None = None,
    workers: int = 1,
    ready_path: str = "/health",
    timeout: float = 60.0,
    extra_args: tuple[str, ...] = (),
) -> Iterator[str]:
    """Start uvicorn on a free loopback port against ``database_url``; yield its base URL; stop it after.

    Raises RuntimeError when the server does not answer ``ready_path`` with 200 within ``timeout`` seconds.
    """
    port = free_port()
    child_env = {**os.environ, "LODELINE_DATABASE_URL": database_url, **(env or {})}
    command = [
        sys.executable, "-m", "uvicorn", "lodeline.server:app_factory", "--factory", "--workers", str(workers),
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra_args,
    ]  # fmt: skip
    proc = subprocess.Popen(command, env=child_env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{base}{ready_path}", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError(f"the server did not answer {ready_path} within {timeout:.0f} s")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
