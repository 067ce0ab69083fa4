"""A rejection's report is bounded in bytes as well as in count: ``fit_report`` keeps the issues that fit in
MAX_REPORT_BYTES (each character counted as its JSON ``\\u`` escape) and counts the rest; the message lists issues
up to MAX_MESSAGE_CHARS. Sizes below are computed by hand from the JSON text of one issue."""

from __future__ import annotations

import json

from lodeline.trace.errors import MAX_MESSAGE_CHARS, MAX_REPORT_BYTES, EventIssue, TraceError, fit_report

# json.dumps({"code": "x", "reason": ""}) is 27 characters: with a 973-character reason one issue is 1,000 bytes
ISSUE = EventIssue(code="x", reason="r" * 973)


def test_one_issue_is_a_thousand_bytes() -> None:
    assert len(json.dumps(ISSUE.to_dict())) == 1_000


def test_issues_that_fit_are_kept_as_they_are() -> None:
    assert MAX_REPORT_BYTES == 32_768
    issues = [ISSUE] * 32  # 32,000 bytes <= 32,768
    assert fit_report(issues) == issues


def test_issues_past_the_byte_bound_are_counted_not_listed() -> None:
    # 100,000 bytes; the budget before the summary is 32,768 - 1,024 = 31,744: 31 whole issues
    fitted = fit_report([ISSUE] * 100)
    assert fitted[:-1] == [ISSUE] * 31
    assert fitted[-1].code == "too-many-issues"
    assert fitted[-1].reason.startswith(
        "only the first 31 problems are listed (a report is at most 32,768 bytes)"
    )
    assert "69 more problem(s) not listed" in fitted[-1].reason
    assert sum(len(json.dumps(i.to_dict())) for i in fitted) <= MAX_REPORT_BYTES


def test_an_earlier_count_is_carried_over() -> None:
    earlier = EventIssue(
        code="too-many-issues", reason="only the first 100 problems are listed; 7 more not listed"
    )
    fitted = fit_report([ISSUE] * 100 + [earlier])
    assert len(fitted) == 32 and "69 more problem(s) not listed" in fitted[-1].reason
    assert fitted[-1].reason.endswith(
        "before that cut: only the first 100 problems are listed; 7 more not listed"
    )


def test_non_ascii_counts_as_its_escape() -> None:
    wide = EventIssue(code="x", reason="é" * 973)  # 973 × 6 ("\\u00e9") + 27 = 5,865 bytes
    assert len(json.dumps(wide.to_dict())) == 5_865
    fitted = fit_report([wide] * 10)  # 58,650 bytes; 31,744 // 5,865 = 5 fit
    assert len(fitted) == 6 and "only the first 5 problems" in fitted[-1].reason


def test_the_message_is_bounded_and_keeps_the_count_in_view() -> None:
    assert MAX_MESSAGE_CHARS == 3_000
    error = TraceError([ISSUE] * 100, file="doc.json")
    # str(ISSUE) is "x — document: " (14) + 973 = 987 characters: 3 fit in 3,000
    assert len(str(ISSUE)) == 987
    lines = error.message.splitlines()
    assert lines[0] == "doc.json: 32 problem(s):"
    assert lines[1:4] == ["  " + str(ISSUE)] * 3
    assert lines[4] == "  … and 28 more not shown here"
    assert lines[5].startswith("  too-many-issues — document: only the first 31 problems are listed")
    assert len(lines) == 6 and len(error.issues) == 32


def test_one_oversized_issue_is_cut_not_dropped() -> None:
    # a reason quoting a 5,000-character path: 5,000 × 6 + 27 = 30,027 bytes, cut to 1,000 characters and "…"
    huge = EventIssue(code="bad-private-key", reason="é" * 5_000, field="f" * 2_000)
    fitted = fit_report([huge])
    assert len(fitted) == 1 and fitted[0].code == "bad-private-key"
    assert fitted[0].reason == "é" * 1_000 + "…" and fitted[0].field == "f" * 1_000 + "…"
    assert TraceError([huge]).issues == fitted
