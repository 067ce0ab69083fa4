"""Reading the files a command is given: a missing, unreadable, oversized or hostile file is one clear error naming
it and the reason, never a traceback, and never unbounded work.

Every command that reads a file goes through here. JSON and YAML are decoded with bounds on what a hostile file
can make the parser or the code after it do:

- at most :data:`MAX_FILE_BYTES` are read (``/dev/zero`` or a multi-gigabyte file is refused, not swallowed);
- arrays/objects nest at most :data:`MAX_DEPTH` levels (Python's parsers and everything downstream recurse);
- an integer literal has at most :data:`MAX_INT_DIGITS` digits (Python refuses to convert more than 4300, and a
  tree size or a tonnage never needs more than 20), a JSON number must be finite, and ``NaN``/``Infinity`` are not
  JSON (RFC 8259 §6);
- a YAML file expands (aliases included) to at most :data:`MAX_NODES` values, so a "billion laughs" file is
  refused instead of walked.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import yaml

from lodeline.errors import InvalidArgumentError

#: The largest file a command reads.
MAX_FILE_BYTES = 64 * 1024 * 1024
#: The deepest nesting of arrays/objects (mappings/sequences) a JSON or YAML file may have.
MAX_DEPTH = 64
#: The most digits an integer literal may have.
MAX_INT_DIGITS = 64
#: The most values (after expanding YAML aliases) a decoded file may hold.
MAX_NODES = 1_000_000
_MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
#: How much of a parser's own message is quoted.
_MAX_REASON = 300


def _error(path: Path, what: str, reason: str) -> InvalidArgumentError:
    return InvalidArgumentError(f"{path}: cannot read the {what}: {reason}", file=str(path))


def is_file(path: Path) -> bool:
    """Whether ``path`` names a regular file; False (not an exception) for a name the OS cannot even look up
    (too long, a NUL byte), so an argument that is either a file or a plain value can be told apart safely."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def read_bytes(path: Path, what: str = "file", *, limit: int = MAX_FILE_BYTES) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InvalidArgumentError(
            f"{path}: cannot read the {what} ({exc.strerror or exc})", file=str(path)
        ) from exc
    except ValueError as exc:  # a NUL byte in the name
        raise InvalidArgumentError(f"cannot read the {what}: the file name is not valid ({exc})") from exc
    if len(data) > limit:
        raise _error(path, what, f"larger than {limit:,} bytes")
    return data


def read_text(path: Path, what: str = "file") -> str:
    try:
        return read_bytes(path, what).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidArgumentError(
            f"{path}: cannot read the {what}: not UTF-8 ({exc})", file=str(path)
        ) from exc


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {digits} digits (at most {MAX_INT_DIGITS} are allowed)")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]}{'…' if len(text) > 40 else ''} is too large")
    return value


def _parse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number (RFC 8259 §6 allows only finite numbers)")


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON value in a UTF-8 file, within the bounds of this module."""
    text = read_text(path, what)
    try:
        value = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except RecursionError:
        raise _error(path, what, f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError and the hooks above
        raise _error(path, what, f"not valid JSON: {str(exc)[:_MAX_REASON]}") from None
    _check_shape(value, path, what)
    return value


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader (plain data only) with integer literals of at most MAX_INT_DIGITS digits."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        digits = sum(c.isalnum() for c in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"an integer of {digits} digits (at most {MAX_INT_DIGITS} are allowed)",
                node.start_mark,
            )
        return super().construct_yaml_int(node)


_BoundedLoader.add_constructor("tag:yaml.org,2002:int", _BoundedLoader.construct_yaml_int)


def read_yaml(path: Path, what: str = "file") -> Any:
    """The YAML value in a UTF-8 file (safe loader: plain data only), within the bounds of this module."""
    text = read_text(path, what)
    try:
        value = yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: plain data only
    except RecursionError:
        raise _error(path, what, f"nested deeper than {MAX_DEPTH} levels") from None
    except yaml.YAMLError as exc:
        raise _error(path, what, f"not valid YAML: {str(exc)[:_MAX_REASON]}") from None
    _check_shape(value, path, what)
    return value


def _check_shape(value: Any, path: Path, what: str) -> None:
    """Depth, size and integer bounds, in one iterative walk (no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > MAX_NODES:
            raise _error(path, what, f"more than {MAX_NODES:,} values (YAML aliases expanded)")
        if isinstance(node, dict):
            children: Any = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:  # YAML's .nan/.inf are left to the schema of each file
            if isinstance(node, int) and node.bit_length() > _MAX_INT_BITS:
                raise _error(path, what, f"an integer longer than {MAX_INT_DIGITS} digits")
            continue
        if depth >= MAX_DEPTH:
            raise _error(path, what, f"nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)
