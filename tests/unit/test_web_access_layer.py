"""The access layer's policy, the cursor codec and the rate limiter, without a server."""

from __future__ import annotations

import time

import pytest

from lodeline.api.access import (
    POLICY,
    Action,
    AuthenticationRequiredError,
    PermissionDeniedError,
    Role,
    authorise,
    check_row_visible,
    confidential_scope,
)
from lodeline.api.envelope import Cursor, CursorExpiredError, InvalidCursorError, decode_cursor, encode_cursor
from lodeline.api.limits import RateLimitedError, RateLimiter
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store.accounts import Principal

ANON = Principal.anonymous()
MEMBER = Principal(role="member", account_id=1, name="deu", org="DEU", token_id="t1")
PARTICIPANT = Principal(role="participant", account_id=2, name="acme", org="acme", token_id="t2")
AUDITOR = Principal(role="auditor", account_id=3, name="aud", token_id="t3")
ADMIN = Principal(role="admin", account_id=4, name="root", token_id="t4")


def test_every_action_has_a_policy_and_public_reads_are_open() -> None:
    assert set(POLICY) == set(Action)
    assert POLICY[Action.READ_PUBLISHED] == frozenset(Role)
    assert Role.PUBLIC not in POLICY[Action.SUBMIT_CONFIDENTIAL] | POLICY[Action.READ_CONFIDENTIAL]
    assert Role.AUDITOR not in POLICY[Action.SUBMIT_CONFIDENTIAL]  # auditors verify, they never write


def test_anonymous_gets_401_and_under_privileged_403() -> None:
    with pytest.raises(AuthenticationRequiredError):
        authorise(ANON, Action.SUBMIT_CONFIDENTIAL)
    with pytest.raises(PermissionDeniedError):
        authorise(AUDITOR, Action.SUBMIT_CONFIDENTIAL)
    with pytest.raises(PermissionDeniedError):
        authorise(MEMBER, Action.READ_AUDIT)
    assert authorise(MEMBER, Action.SUBMIT_CONFIDENTIAL) is MEMBER


def test_confidential_scope_is_the_callers_organisation() -> None:
    assert confidential_scope(MEMBER) == "DEU"
    assert confidential_scope(PARTICIPANT) == "acme"
    assert confidential_scope(AUDITOR) is None and confidential_scope(ADMIN) is None
    check_row_visible(MEMBER, "DEU", "row")
    with pytest.raises(NotFoundError):
        check_row_visible(MEMBER, "FRA", "row")
    with pytest.raises(NotFoundError):
        check_row_visible(PARTICIPANT, "globex", "row")
    with pytest.raises(NotFoundError):
        check_row_visible(AUDITOR, None, "row")  # missing rows look the same to everyone
    with pytest.raises(PermissionDeniedError):
        confidential_scope(Principal(role="member", account_id=9, org=None))


def test_cursor_round_trip_and_rejections() -> None:
    text = encode_cursor(Cursor("7-abc", "q1", 200))
    assert decode_cursor(text, "7-abc", "q1", 500) == 200
    with pytest.raises(CursorExpiredError):
        decode_cursor(text, "8-def", "q1", 500)
    with pytest.raises(InvalidCursorError, match="different query"):
        decode_cursor(text, "7-abc", "q2", 500)
    reasons = {
        "": "malformed",
        "!!!": "malformed",
        "eyJ4IjoxfQ": "malformed",  # {"x":1}
        "A" * 513: "malformed",
        encode_cursor(Cursor("7-abc", "q1", -5)): "out-of-range",
        text: "out-of-range",  # offset 200 of 150 rows
    }
    for bad, reason in reasons.items():
        with pytest.raises(InvalidCursorError) as caught:
            decode_cursor(bad, "7-abc", "q1", 150)
        assert caught.value.reason == reason and isinstance(caught.value, InvalidArgumentError)


def test_rate_limiter_refills_at_its_rate() -> None:
    limiter = RateLimiter(rate_per_second=50.0, burst=2)
    limiter.hit("a")
    limiter.hit("a")
    with pytest.raises(RateLimitedError) as info:
        limiter.hit("a")
    assert 0 < info.value.retry_after <= 0.02 + 1e-9
    limiter.hit("b")  # another caller has its own bucket
    time.sleep(0.05)
    limiter.hit("a")
    assert not RateLimiter(0, 1).enabled
