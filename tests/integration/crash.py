"""Run the real ``lodeline`` entry point in a child process and SIGKILL it at a chosen moment (crash tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

# The CLI's main() in a fresh interpreter, as the installed `lodeline` script runs it.
LODELINE = [
    sys.executable,
    "-c",
    "import sys; from lodeline.cli.main import main; sys.argv = ['lodeline', *sys.argv[1:]]; main()",
]


def kill_when(
    args: list[str],
    env: dict[str, str],
    ready: Callable[[], bool],
    *,
    timeout: float = 120,
    children: list[int] | None = None,
) -> bool:
    """Start ``lodeline *args``; SIGKILL it as soon as ``ready()`` holds. True if it was killed (still running).
    ``children``, when given, receives the pids of the processes it had started (worker pools) at that moment."""
    proc = subprocess.Popen([*LODELINE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    if killed:
        if children is not None:
            listed = subprocess.run(
                ["ps", "-o", "pid=", "--ppid", str(proc.pid)], capture_output=True, text=True
            )
            children.extend(int(p) for p in listed.stdout.split())
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed


def gone_within(pids: list[int], seconds: float) -> list[int]:
    """The pids still alive after waiting up to ``seconds`` for them to exit."""
    deadline = time.monotonic() + seconds
    alive = [p for p in pids if _alive(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if _alive(p)]
    return alive


def _alive(pid: int) -> bool:
    """Running (a zombie — exited, not yet reaped by its new parent — counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False
