"""Bounded reading of what a user hands Lodeline: a file a command is given, a scenario uploaded over HTTP, a file
the Python facade is pointed at. A missing, unreadable, oversized or hostile input is one clear error naming it and
the reason, never a traceback, and never unbounded work.

This is the one place JSON and YAML from outside are decoded (layer 1: it imports only :mod:`lodeline.errors`,
so the CLI, the services and the Python facade all use it). The bounds limit what a hostile input can make the
parser or the code after it do:

- at most :attr:`Bounds.max_bytes` are read (``/dev/zero`` or a multi-gigabyte file is refused, not swallowed);
- arrays/objects nest at most :attr:`Bounds.max_depth` levels (Python's parsers and everything downstream recurse);
- an integer literal has at most :data:`MAX_INT_DIGITS` digits (Python refuses to convert more than 4300, and a
  tree size or a tonnage never needs more than 20), a JSON number must be finite, and ``NaN``/``Infinity`` are not
  JSON (RFC 8259 §6);
- a YAML document expands (aliases included) to at most :attr:`Bounds.max_nodes` values, so a "billion laughs"
  document is refused instead of walked.

Two layers: :func:`decode_text`, :func:`parse_json` and :func:`parse_yaml` work on bytes/text and raise
:class:`InputRejected` carrying only the reason; :func:`read_bytes`, :func:`read_text`, :func:`read_json` and
:func:`read_yaml` read a file and raise :class:`InvalidArgumentError` naming it. A caller with its own error
type (an uploaded scenario is a ``ScenarioError``) wraps the reason.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much one input may hold: bytes, nesting depth and values (YAML aliases expanded)."""

    max_bytes: int = MAX_FILE_BYTES
    max_depth: int = MAX_DEPTH
    max_nodes: int = MAX_NODES


#: The bounds of a file a command (or the Python facade) is given.
FILE_BOUNDS = Bounds()


class InputRejected(ValueError):
    """Bytes or text refused by a bound or a parser; ``reason`` says why (without naming the input)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------------------------------- bytes and text
def decode_text(raw: str | bytes, bounds: Bounds = FILE_BOUNDS) -> str:
    """``raw`` as text: at most ``bounds.max_bytes`` bytes of UTF-8."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > bounds.max_bytes:
        raise InputRejected(f"larger than {bounds.max_bytes:,} bytes")
    if isinstance(raw, str):
        return raw
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputRejected(f"not UTF-8 (byte {exc.start}: {exc.reason})") from None


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


def parse_json(raw: str | bytes, bounds: Bounds = FILE_BOUNDS) -> Any:
    """The JSON value in ``raw`` (UTF-8), within ``bounds``."""
    text = decode_text(raw, bounds)
    try:
        value = json.loads(
            text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant
        )
    except RecursionError:
        raise InputRejected(f"nested deeper than {bounds.max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError and the hooks above
        raise InputRejected(f"not valid JSON: {str(exc)[:_MAX_REASON]}") from None
    check_shape(value, bounds)
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


def _yaml_reason(exc: yaml.YAMLError) -> str:
    """The parser's problem and where it is (``… (line 2, column 11)``), else its whole message, shortened."""
    problem = getattr(exc, "problem", None)
    mark = getattr(exc, "problem_mark", None)
    if not problem:
        return str(exc)[:_MAX_REASON]
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
    return f"{str(problem)[:_MAX_REASON]}{where}"


def parse_yaml(raw: str | bytes, bounds: Bounds = FILE_BOUNDS) -> Any:
    """The YAML value in ``raw`` (UTF-8; safe loader: plain data only), within ``bounds``."""
    text = decode_text(raw, bounds)
    try:
        value = yaml.load(text, Loader=_BoundedLoader)  # a SafeLoader: plain data only
    except RecursionError:
        raise InputRejected(f"nested deeper than {bounds.max_depth} levels") from None
    except yaml.YAMLError as exc:
        raise InputRejected(f"not valid YAML: {_yaml_reason(exc)}") from None
    check_shape(value, bounds)
    return value


def check_shape(value: Any, bounds: Bounds = FILE_BOUNDS) -> None:
    """Depth, size and integer bounds of a decoded value, in one iterative walk (no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if seen > bounds.max_nodes:
            raise InputRejected(f"more than {bounds.max_nodes:,} values (YAML aliases expanded)")
        if isinstance(node, dict):
            children: Any = [*node.keys(), *node.values()]
        elif isinstance(node, list):
            children = node
        else:  # YAML's .nan/.inf are left to the schema of each file
            if isinstance(node, int) and node.bit_length() > _MAX_INT_BITS:
                raise InputRejected(f"an integer longer than {MAX_INT_DIGITS} digits")
            continue
        if depth >= bounds.max_depth:
            raise InputRejected(f"nested deeper than {bounds.max_depth} levels")
        stack.extend((child, depth + 1) for child in children)


# ------------------------------------------------------------------------------------------- files
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
    """At most ``limit`` bytes of the file (more is refused, never read whole)."""
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
    """The file as UTF-8 text, within :data:`FILE_BOUNDS`."""
    try:
        return decode_text(read_bytes(path, what), FILE_BOUNDS)
    except InputRejected as exc:
        raise _error(path, what, exc.reason) from None


def read_json(path: Path, what: str = "file") -> Any:
    """The JSON value in a UTF-8 file, within :data:`FILE_BOUNDS`."""
    try:
        return parse_json(read_bytes(path, what), FILE_BOUNDS)
    except InputRejected as exc:
        raise _error(path, what, exc.reason) from None


def read_yaml(path: Path, what: str = "file") -> Any:
    """The YAML value in a UTF-8 file (safe loader: plain data only), within :data:`FILE_BOUNDS`."""
    try:
        return parse_yaml(read_bytes(path, what), FILE_BOUNDS)
    except InputRejected as exc:
        raise _error(path, what, exc.reason) from None


def first_validation_error(exc: Any) -> tuple[str, str]:
    """The field path (``a.b.0``; ``(root)`` for the whole document) and the reason of a pydantic
    ``ValidationError``'s first error, as the errors of a validated file name them."""
    err = exc.errors()[0]
    field = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-")) or "(root)"
    return field, str(err["msg"]).removeprefix("Value error, ")
