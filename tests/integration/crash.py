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
    args: list[str], env: dict[str, str], ready: Callable[[], bool], *, timeout: float = 120
) -> bool:
    """Start ``lodeline *args``; SIGKILL it as soon as ``ready()`` holds. True if it was killed (still running)."""
    proc = subprocess.Popen([*LODELINE, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if ready():
            break
        time.sleep(0.005)
    killed = proc.poll() is None
    if killed:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    return killed
