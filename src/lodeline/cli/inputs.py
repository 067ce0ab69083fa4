"""Reading the files a command is given: the bounded readers of :mod:`lodeline.inputs` (size, nesting,
integer-length and YAML alias bounds), under the name the CLI's command modules import.

Every command that reads a file goes through here; a missing, unreadable, oversized or hostile file is one clear
error naming it and the reason (:class:`~lodeline.errors.InvalidArgumentError`, exit status 2), never a traceback.
The decoding itself lives one layer down, in :mod:`lodeline.inputs`, so the services (uploaded scenarios) and the
Python facade read with the same code and the same bounds.
"""

from __future__ import annotations

from lodeline.inputs import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_INT_DIGITS,
    MAX_NODES,
    is_file,
    read_bytes,
    read_json,
    read_text,
    read_yaml,
)

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_INT_DIGITS",
    "MAX_NODES",
    "is_file",
    "read_bytes",
    "read_json",
    "read_text",
    "read_yaml",
]
