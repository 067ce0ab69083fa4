"""The registry's access rules (api/access.py): who may capture, read lots and events, and whose."""

from __future__ import annotations

import pytest

from lodeline.api.access import (
    POLICY,
    Action,
    AuthenticationRequiredError,
    PermissionDeniedError,
    Role,
    capturing_participant,
    check_lot_visible,
    check_row_visible_to_participant,
    registry_scope,
)
from lodeline.errors import NotFoundError
from lodeline.store.accounts import Principal

ANON = Principal.anonymous()
MEMBER = Principal(role="member", account_id=1, name="deu", org="DEU", token_id="t1")
MINER = Principal(role="participant", account_id=2, name="m", org="pilbara-miner", token_id="t2")
AUDITOR = Principal(role="auditor", account_id=3, name="aud", token_id="t3")


def test_log_is_public_capture_is_participants_only() -> None:
    assert POLICY[Action.READ_REGISTRY_LOG] == frozenset(Role)
    assert POLICY[Action.CAPTURE_EPCIS] == frozenset({Role.PARTICIPANT})
    assert Role.MEMBER not in POLICY[Action.READ_REGISTRY] and Role.PUBLIC not in POLICY[Action.READ_REGISTRY]


def test_scopes_and_lot_visibility() -> None:
    assert registry_scope(MINER) == "pilbara-miner" and registry_scope(AUDITOR) is None
    # a participant may read the lots it held (produced, shipped, received or consumed), scoped to itself
    assert check_lot_visible(MINER, {"pilbara-miner", "sichuan-refiner"}, "lot") == "pilbara-miner"
    assert check_lot_visible(AUDITOR, {"sichuan-refiner"}, "lot") is None
    with pytest.raises(PermissionDeniedError):
        check_lot_visible(MINER, {"sichuan-refiner"}, "lot")
    with pytest.raises(PermissionDeniedError):
        check_lot_visible(MEMBER, {"DEU"}, "lot")
    with pytest.raises(AuthenticationRequiredError):
        check_lot_visible(ANON, set(), "lot")
    with pytest.raises(NotFoundError):
        check_row_visible_to_participant(MINER, "yilgarn-miner", "capture")
    with pytest.raises(PermissionDeniedError):
        registry_scope(Principal(role="participant", account_id=9, org=None))


def test_capture_is_recorded_for_the_callers_company() -> None:
    assert capturing_participant(MINER) == "pilbara-miner"
    with pytest.raises(PermissionDeniedError):
        capturing_participant(AUDITOR)
    with pytest.raises(PermissionDeniedError):
        capturing_participant(Principal(role="participant", account_id=9, org=None))
