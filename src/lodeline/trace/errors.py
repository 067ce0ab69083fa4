"""Stable error codes of the traceability registry.

Every rejection names the event (index and eventID when known), the field and the reason, so a submitter can
fix the document without reading our code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from lodeline.errors import LodelineError


@dataclass(frozen=True)
class EventIssue:
    """One problem found in one event (``index`` is None for document-level problems)."""

    code: str
    reason: str
    index: int | None = None
    event_id: str | None = None
    field: str | None = None

    def __str__(self) -> str:
        where = "document" if self.index is None else f"event {self.index}"
        if self.event_id:
            where += f" ({self.event_id})"
        if self.field:
            where += f", field {self.field}"
        return f"{self.code} — {where}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


#: Issues listed per rejection; the rest are counted in one last ``too-many-issues`` issue, so a rejection's size
#: is bounded whatever the document.
MAX_ISSUES = 100


def cap_issues(issues: list[EventIssue]) -> list[EventIssue]:
    """The first MAX_ISSUES issues, then one ``too-many-issues`` counting the rest (a list already capped this
    way is returned as it is)."""
    if len(issues) <= MAX_ISSUES or (len(issues) == MAX_ISSUES + 1 and issues[-1].code == "too-many-issues"):
        return issues
    return [
        *issues[:MAX_ISSUES],
        EventIssue(
            code="too-many-issues",
            reason=f"only the first {MAX_ISSUES} problems are listed; {len(issues) - MAX_ISSUES} more problem(s) "
            "not listed",
        ),
    ]


class TraceError(LodelineError):
    """A document or request was rejected; ``issues`` lists every problem with its stable code."""

    code = "trace-error"
    http_status = 422

    def __init__(self, issues: list[EventIssue], *, file: str | None = None) -> None:
        issues = cap_issues(issues)
        head = f"{file}: " if file else ""
        shown = "\n  ".join(str(i) for i in issues[:50])
        more = f"\n  … and {len(issues) - 50} more" if len(issues) > 50 else ""
        super().__init__(
            f"{head}{len(issues)} problem(s):\n  {shown}{more}",
            file=file,
            issues=[i.to_dict() for i in issues],
        )
        self.issues = issues
        # The first issue's code is the document's code, so callers and tests can match on one value.
        self.code = issues[0].code if issues else self.code


def reject(code: str, reason: str, **where: Any) -> TraceError:
    """A TraceError with a single issue."""
    return TraceError([EventIssue(code=code, reason=reason, **where)])
