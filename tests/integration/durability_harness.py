"""Helpers for the durability tests: the real ``lodeline serve`` in a child process that a test can SIGTERM or
SIGKILL, a copy of a built SQLite store, and what the server process has open and mapped (/proc)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import httpx
from benchmarks.server import free_port
from crash import LODELINE  # same folder: pytest puts it on sys.path

# Every build of SQLite carries its file-header magic string; a mapped object that contains it has SQLite in it
# (Python's libsqlite3.so.0, or a copy linked statically into another library such as an ADBC driver).
SQLITE_MAGIC = b"SQLite format 3\x00"


class Server:
    """``lodeline serve`` (the installed entry point, one worker) on a free loopback port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 90.0) -> Server:
        args = [*LODELINE, "serve", "--port", str(self.port), "--graceful-timeout", "10"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(args, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                raise RuntimeError(
                    f"lodeline serve did not become ready; log:\n{self.log.read_text()[-3000:]}"
                )
            time.sleep(0.2)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int | None:
        """Send ``sig`` and wait for the process to exit (SIGKILL after ``timeout``); its exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code


def copy_sqlite(source: str, dest: Path) -> str:
    """Copy the SQLite store at ``source`` (a file path) to ``dest`` with SQLite's online backup API; its URL."""
    src, dst = sqlite3.connect(source), sqlite3.connect(dest)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite:///{dest}"


def deleted_store_files(pid: int, store: Path) -> list[str]:
    """Files of the store (``store``, ``-wal``, ``-shm``) that ``pid`` holds open although they were deleted."""
    found = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(store)) and target.endswith("(deleted)"):
            found.append(target)
    return found


def sqlite_libraries(pid: int) -> list[str]:
    """The distinct files mapped into ``pid`` that contain a build of SQLite."""
    mapped = set()
    for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
        parts = line.split(maxsplit=5)
        if len(parts) == 6 and parts[5].startswith("/") and not parts[5].endswith("(deleted)"):
            mapped.add(parts[5])
    found = []
    for path in sorted(mapped):
        try:
            data = Path(path).read_bytes()
        except OSError:
            continue
        if SQLITE_MAGIC in data:
            found.append(path)
    return found
