"""Every CLI command is documented (README.md or docs/**/*.md name it as `lodeline <group> <command>`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from lodeline.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def command_paths() -> list[str]:
    # through click's own listing (list_commands/get_command): the root loads its groups lazily, so its
    # ``commands`` holds only what has been loaded
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(cmd: Any, prefix: list[str]) -> None:
        if hasattr(cmd, "list_commands"):
            ctx = cmd.make_context(cmd.name, [], resilient_parsing=True)
            for name in cmd.list_commands(ctx):
                walk(cmd.get_command(ctx, name), [*prefix, name])
        else:
            paths.append(" ".join(["lodeline", *prefix]))

    walk(root, [])
    return paths


def test_every_command_is_documented() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in (ROOT / "docs").rglob("*.md"):
        text += doc.read_text(encoding="utf-8")
    missing = [p for p in command_paths() if p not in text]
    assert not missing, f"undocumented commands: {missing}"
