"""The ``lodeline`` root is lazy: its help and ``version`` import no command group (and none of polars, the store,
FastAPI), every group still runs and is listed, and a mistyped group name is still answered with a suggestion.

Each case runs the real entry point (``lodeline.cli.main.main``) in a fresh interpreter and reads ``sys.modules``
after it (a figure of what was imported, not a timing: the timing is ``benchmarks/bench_startup.py``).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from lodeline.cli.main import COMMAND_GROUPS, COMMANDS

HEAVY = ("polars", "sqlalchemy", "fastapi", "numpy", "lodeline.store", "lodeline.services", "lodeline.trace")


def _run(*argv: str) -> tuple[int, str, list[str]]:
    """(exit status, stdout + stderr, the modules of interest imported) of ``lodeline *argv``."""
    probe = (
        "import json, sys\n"
        "from lodeline.cli.main import main\n"
        f"sys.argv = ['lodeline', *{list(argv)!r}]\n"
        "code = 0\n"
        "try:\n    main()\nexcept SystemExit as exc:\n    code = exc.code or 0\n"
        "mods = sorted(m for m in sys.modules if m.startswith('lodeline.cli.') or m.split('.')[0] in "
        f"{HEAVY!r} or m in {HEAVY!r})\n"
        "print('\\n' + json.dumps({'code': code, 'modules': mods}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return result["code"], done.stdout + done.stderr, result["modules"]


@pytest.mark.parametrize("argv", [["--help"], ["version"]])
def test_root_help_and_version_import_no_group(argv: list[str]) -> None:
    code, out, modules = _run(*argv)
    assert code == 0, out
    assert modules == ["lodeline.cli.main"], modules


def test_root_help_lists_every_group_and_command_with_its_help() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    for _, name, help_text in (*COMMANDS, *COMMAND_GROUPS):
        assert name in out
        assert help_text.split()[0] in out


def test_a_group_imports_its_own_module_only() -> None:
    """``lodeline admin --help`` loads lodeline.cli.admin and shows its commands, and no other group's module."""
    code, out, modules = _run("admin", "--help")
    assert code == 0, out
    assert "token" in out and "throttle" in out
    groups = {f"lodeline.cli.{module}" for module, _, _ in (*COMMANDS, *COMMAND_GROUPS)}
    assert sorted(groups & set(modules)) == ["lodeline.cli.admin"]


def test_a_mistyped_group_is_answered_with_a_suggestion() -> None:
    code, out, _ = _run("markt")
    assert code == 2
    assert "No such command 'markt'. Did you mean 'market'?" in out
