"""Run ``lodeline`` in-process through its real entry point (``lodeline.cli.main.main``: the error handling a user
gets) inside typer's CliRunner isolation, and judge the outcome of a hostile input."""

from __future__ import annotations

import sys
import time
import traceback
from dataclasses import dataclass

from typer.testing import CliRunner

from lodeline.cli.main import main

#: Bounds on any command given hostile input: time, and how much it may print about it.
MAX_SECONDS = 20.0
MAX_ERROR_CHARS = 4_000


@dataclass
class Outcome:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str
    seconds: float
    crash: str | None  # the traceback of an exception that escaped main()

    def rejected_cleanly(self) -> str | None:
        """Why this is not a clean rejection (non-zero exit, one short error, no traceback), or None."""
        where = " ".join(a[:40] for a in self.args)[:200]
        if self.crash:
            return f"{where}: escaped main(): {self.crash.strip().splitlines()[-1]}"
        if "Traceback (most recent call last)" in self.stdout + self.stderr:
            return f"{where}: printed a traceback"
        if self.exit_code == 0:
            return f"{where}: accepted (exit 0)"
        if self.seconds > MAX_SECONDS:
            return f"{where}: took {self.seconds:.1f} s"
        errors = [line for line in self.stderr.splitlines() if line.startswith("error (")]
        usage = "Usage:" in self.stderr or "Error" in self.stderr
        if not errors and not usage:
            return f"{where}: exit {self.exit_code} without an error message: {self.stderr[-300:]!r}"
        # echoing the user's own argument back is fine; anything beyond it is bounded
        if len(self.stderr) > MAX_ERROR_CHARS + 2 * sum(len(a) for a in self.args):
            return f"{where}: {len(self.stderr)} characters of error output"
        return None


def run(args: list[str], env: dict[str, str] | None = None) -> Outcome:
    runner = CliRunner()
    argv = sys.argv
    crash, code = None, 0
    start = time.perf_counter()
    with runner.isolation(env=env) as (out, err, _):
        sys.argv = ["lodeline", *args]
        try:
            main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # what a user would see as a traceback
            crash, code = traceback.format_exc(), 1
        finally:
            sys.argv = argv
        stdout = out.getvalue().decode("utf-8", "replace")
        stderr = err.getvalue().decode("utf-8", "replace")
    return Outcome(args, code, stdout, stderr, time.perf_counter() - start, crash)
