"""One exception hierarchy with stable error codes.

The CLI and the API map ``code`` to exit status / HTTP status; messages always name the place
(file, row, column, event, field) and the reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class LodelineError(Exception):
    """Base class. ``code`` is stable and documented; ``http_status`` is what the API returns."""

    code = "lodeline-error"
    http_status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            **{k: v for k, v in self.details.items() if v is not None},
        }


class MigrationError(LodelineError):
    """A schema migration refused to run (the store is left at its previous revision). ``code`` is the one the
    migration's own error carries (frozen migration code raises plain exceptions with ``code`` and ``message``)."""

    code = "migration-refused"
    http_status = 503

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class DataFormatError(LodelineError):
    """A bundled or uploaded file cannot be parsed. Names the file, row (1-based, header = 1), column and reason."""

    code = "data-format"

    def __init__(self, file: str, reason: str, *, row: int | None = None, column: str | None = None) -> None:
        where = file
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {reason}", file=file, row=row, column=column, reason=reason)
        self.file, self.row, self.column, self.reason = file, row, column, reason


class UnknownCountryError(LodelineError):
    code = "unknown-country"

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown country {name!r}.{hint}", name=name, suggestions=list(suggestions))


class UnknownMineralError(LodelineError):
    code = "unknown-mineral"
    http_status = 404

    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown mineral {name!r}.{hint}", name=name, suggestions=list(suggestions))


class UnknownGroupError(LodelineError):
    code = "unknown-group"
    http_status = 404

    def __init__(self, name: str, known: Sequence[str] = ()) -> None:
        super().__init__(f"unknown country group {name!r}; known groups: {', '.join(known)}", name=name)


class InvalidArgumentError(LodelineError):
    code = "invalid-argument"


class NotFoundError(LodelineError):
    code = "not-found"
    http_status = 404


class StoreNotBuiltError(LodelineError):
    code = "store-not-built"
    http_status = 503

    def __init__(self) -> None:
        super().__init__("the store holds no data yet; run `lodeline data build` first")


class InsufficientDataError(LodelineError):
    """A computation lacks the inputs it needs. Never silently replaced by zero."""

    code = "insufficient-data"
    http_status = 422
