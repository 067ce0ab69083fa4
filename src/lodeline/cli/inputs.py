"""Reading the files a command is given: a missing or unreadable file is a clear error naming it, not a traceback."""

from __future__ import annotations

from pathlib import Path

from lodeline.errors import InvalidArgumentError


def read_bytes(path: Path, what: str = "file") -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidArgumentError(
            f"{path}: cannot read the {what} ({exc.strerror})", file=str(path)
        ) from exc


def read_text(path: Path, what: str = "file") -> str:
    try:
        return read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{path}: cannot read the {what}: not UTF-8 ({exc})", file=str(path)
        ) from exc
