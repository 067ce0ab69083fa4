"""Stable error codes of the traceability registry.

Every rejection names the event (index and eventID when known), the field and the reason, so a submitter can
fix the document without reading our code.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
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


#: The most bytes a rejection's issues take as JSON, each character counted as its ``\\u`` escape (so the bound
#: holds for ASCII-only and UTF-8 encodings alike). Each issue's texts are already cut at a few hundred
#: characters, but a hundred of them can still reach 150 kB; an answer names the problems, it never echoes a
#: megabyte document back.
MAX_REPORT_BYTES = 32 * 1024
#: The most characters of issues the one-line-per-issue message lists (what the CLI prints); the ``issues``
#: list carries the rest.
MAX_MESSAGE_CHARS = 3_000


def _json_size(issue: EventIssue) -> int:
    return len(json.dumps(issue.to_dict()))


#: The most characters of one text (reason, field, event ID) of an issue: so the first issue always fits.
MAX_ISSUE_TEXT = 1_000


def _clip(issue: EventIssue) -> EventIssue:
    def cut(text: str | None) -> str | None:
        return text if text is None or len(text) <= MAX_ISSUE_TEXT else text[:MAX_ISSUE_TEXT] + "…"

    if max(len(issue.reason), len(issue.field or ""), len(issue.event_id or "")) <= MAX_ISSUE_TEXT:
        return issue
    return replace(
        issue, reason=cut(issue.reason) or "", field=cut(issue.field), event_id=cut(issue.event_id)
    )


def fit_report(issues: list[EventIssue]) -> list[EventIssue]:
    """The issues within MAX_REPORT_BYTES, each text at most MAX_ISSUE_TEXT characters: when some must be left
    out, the last one listed is a ``too-many-issues`` counting them (and repeating the count of an earlier cut)."""
    issues = [_clip(i) for i in issues]
    if sum(map(_json_size, issues)) <= MAX_REPORT_BYTES:
        return issues
    earlier = issues[-1] if issues[-1].code == "too-many-issues" else None
    body = issues[:-1] if earlier else issues
    budget, kept = MAX_REPORT_BYTES - 1_024, []  # room for the summary issue
    for issue in body:
        budget -= _json_size(issue)
        if budget < 0:
            break
        kept.append(issue)
    reason = (
        f"only the first {len(kept)} problems are listed (a report is at most {MAX_REPORT_BYTES:,} bytes); "
        f"{len(body) - len(kept)} more problem(s) not listed"
    )
    if earlier is not None:
        reason += f"; before that cut: {earlier.reason[:300]}"
    return [*kept, EventIssue(code="too-many-issues", reason=reason)]


def _message(head: str, issues: list[EventIssue]) -> str:
    lines: list[str] = []
    room = MAX_MESSAGE_CHARS
    for issue in issues:
        text = str(issue)
        if len(text) > room:
            break
        room -= len(text)
        lines.append(text)
    if len(lines) < len(issues):
        tail = (
            issues[-1] if issues[-1].code == "too-many-issues" else None
        )  # the count of the rest stays in view
        lines.append(f"… and {len(issues) - len(lines) - (tail is not None)} more not shown here")
        if tail is not None:
            lines.append(str(tail))
    return f"{head}{len(issues)} problem(s):\n  " + "\n  ".join(lines)


class TraceError(LodelineError):
    """A document or request was rejected; ``issues`` lists every problem with its stable code (at most
    MAX_ISSUES and MAX_REPORT_BYTES of them, then one ``too-many-issues`` counting the rest)."""

    code = "trace-error"
    http_status = 422

    def __init__(self, issues: list[EventIssue], *, file: str | None = None) -> None:
        issues = fit_report(cap_issues(issues)) if issues else issues
        head = f"{file}: " if file else ""
        super().__init__(
            _message(head, issues),
            file=file,
            issues=[i.to_dict() for i in issues],
        )
        self.issues = issues
        # The first issue's code is the document's code, so callers and tests can match on one value.
        self.code = issues[0].code if issues else self.code


def reject(code: str, reason: str, **where: Any) -> TraceError:
    """A TraceError with a single issue."""
    return TraceError([EventIssue(code=code, reason=reason, **where)])
