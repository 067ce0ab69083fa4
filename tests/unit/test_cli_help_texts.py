"""Every option and argument of every `lodeline` command explains itself in `--help`.

The command tree is the one the CLI runs (``typer.main.get_command(app)``), walked down to every leaf command.
Two rules, each a way the help page fails a reader:

- a parameter without a help text (the reader sees a name and a type, and must guess);
- a value placeholder that is a bare Python type where no value is taken: a switch such as ``--full`` shown as
  ``--full <bool>`` reads as if it wanted ``--full true``. A switch gets ``metavar=""``: nothing is shown.

The framework's own ``--help`` and the root's ``--install-completion``/``--show-completion`` are typer's, not the
project's (the same on every command), and are left out. This test covers every command group, including groups
whose help texts are fixed by another branch of issue 12: it fails on main until all of them are.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer
from typer import _click

from lodeline.cli.main import app

FRAMEWORK_OPTIONS = {"help", "install_completion", "show_completion"}
BARE_PLACEHOLDER = re.compile(r"<bool>|<bool range>")


def _commands(command: Any, path: tuple[str, ...]) -> Iterator[tuple[str, Any]]:
    """Every leaf command, through click's ``list_commands``/``get_command``: the lazy root's ``commands`` holds
    only what has been loaded."""
    if hasattr(command, "list_commands"):
        ctx = _click.Context(command)
        for name in sorted(command.list_commands(ctx)):
            yield from _commands(command.get_command(ctx, name), (*path, name))
    else:
        yield " ".join(path), command


def _params() -> Iterator[tuple[str, Any, _click.Context]]:
    for path, command in _commands(typer.main.get_command(app), ("lodeline",)):
        ctx = _click.Context(command)
        for param in command.get_params(ctx):
            if param.name not in FRAMEWORK_OPTIONS:
                yield path, param, ctx


def _framework_flags() -> Iterator[tuple[str, Any, _click.Context]]:
    """The flags Typer adds itself (--help everywhere, the root's completion flags)."""
    root = typer.main.get_command(app)
    for path, command in [("lodeline", root), *_commands(root, ("lodeline",))]:
        ctx = _click.Context(command)
        for param in command.get_params(ctx):
            if param.name in FRAMEWORK_OPTIONS:
                yield path, param, ctx


def _label(path: str, param: Any) -> str:
    return f"{path} {'/'.join(param.opts) if param.opts and param.opts[0].startswith('-') else param.name}"


def test_the_walk_reaches_the_whole_tree() -> None:
    """The walk is not vacuous: it sees leaf commands of every group, and their parameters."""
    paths = {path for path, _, _ in _params()}
    for expected in (
        "lodeline serve",
        "lodeline data build",
        "lodeline trace facility add",
        "lodeline witness serve",
    ):
        assert expected in paths
    for group in ("market", "risk", "sim", "admin"):
        assert any(p.startswith(f"lodeline {group} ") for p in paths), group
    assert sum(1 for _ in _params()) > 100


def test_every_option_and_argument_has_a_help_text() -> None:
    missing = sorted(_label(path, p) for path, p, _ in _params() if not (p.help or "").strip())
    assert not missing, "options/arguments without help text:\n" + "\n".join(missing)


def test_no_bare_bool_placeholder() -> None:
    bare = sorted(
        f"{_label(path, p)} shows {p.display_type_rich(ctx)}"
        for path, p, ctx in _params()
        if BARE_PLACEHOLDER.search(p.display_type_rich(ctx) or "")
    )
    assert not bare, 'switches shown with a value placeholder (give them metavar=""):\n' + "\n".join(bare)


def test_the_frameworks_own_flags_show_no_placeholder() -> None:
    """`lodeline --help` used to list `--help <bool>` and `--install-completion <bool>` (Typer 0.29 shows a flag's
    type); cli/main.py makes every flag show none."""
    flags = list(_framework_flags())
    assert {p.name for _, p, _ in flags} >= {"help", "install_completion", "show_completion"}
    bare = sorted(
        f"{_label(path, p)} shows {p.display_type_rich(ctx)}"
        for path, p, ctx in flags
        if p.display_type_rich(ctx)
    )
    assert not bare, "\n".join(bare)
    from typer.testing import CliRunner

    for argv in ([], ["market"], ["trace", "audit"]):
        result = CliRunner().invoke(app, [*argv, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "<bool>" not in result.output, argv


def test_a_switch_is_shown_without_placeholder_in_help() -> None:
    """What the reader sees: `lodeline trace audit --help` lists --full with its help and no `<bool>`."""
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["trace", "audit", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    full = next(line for line in result.output.splitlines() if "--full" in line)
    assert "Re-prepare every document" in full and "<bool>" not in full
