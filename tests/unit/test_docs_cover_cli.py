"""Every CLI command is documented (README.md or docs/**/*.md name it as `lodeline <group> <command>`)."""

from __future__ import annotations

from pathlib import Path

import typer

from lodeline.cli.main import app

ROOT = Path(__file__).resolve().parents[2]


def command_paths() -> list[str]:
    root = typer.main.get_command(app)
    paths: list[str] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        sub = getattr(cmd, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, [*prefix, name])
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
