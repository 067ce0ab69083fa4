"""Alert lifecycle and subscriptions (docs/alerts-delivery.md): thin routes over
:mod:`lodeline.services.alert_lifecycle`.

Who may do what is :mod:`lodeline.api.access`: signed-in callers read alerts, the public only when the alliance
publishes them (``LODELINE_ALERTS_PUBLIC``); members, the secretariat and admins acknowledge, escalate and close
(the caller is recorded as the actor, with the time, in the alert's events and the audit log); members manage
their own delegation's subscriptions only (another member's is "not found").
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from lodeline.api.access import Action, PermissionDeniedError, check_alerts_readable
from lodeline.api.deps import Allowed, ApiSettingsDep, EngineDep
from lodeline.api.envelope import ErrorBody
from lodeline.services import alert_lifecycle as lifecycle
from lodeline.store.accounts import Principal

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])

ERRORS: dict[int | str, dict[str, Any]] = {
    s: {"model": ErrorBody} for s in (400, 401, 403, 404, 409, 422, 429, 503)
}

ReaderDep = Annotated[Principal, Depends(Allowed(Action.READ_ALERTS))]
ManagerDep = Annotated[Principal, Depends(Allowed(Action.MANAGE_ALERTS))]
SubscriberDep = Annotated[Principal, Depends(Allowed(Action.SUBSCRIBE_ALERTS))]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000, description="Why (kept with the event)")


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mineral: str = Field(
        default="*", min_length=1, max_length=64, description="A mineral (name or alias) or *"
    )
    min_level: Literal["watch", "warning", "alert"] = "warning"
    channel: Literal["webhook", "email"]
    target: str = Field(min_length=3, max_length=2000, description="The webhook URL or the e-mail address")


def _actor(principal: Principal) -> str:
    who = principal.name or f"token {principal.token_id}"
    return f"{who} ({principal.role}{', ' + principal.org if principal.org else ''})"[:120]


@router.get("", responses=ERRORS, summary="Recorded alerts, newest first")
def list_alerts(
    engine: EngineDep,
    settings: ApiSettingsDep,
    principal: ReaderDep,
    mineral: Annotated[str | None, Query(max_length=64, description="A mineral (name or alias)")] = None,
    state: Annotated[
        Literal["open", "acknowledged", "escalated", "closed"] | None, Query(description="Only this state")
    ] = None,
) -> list[dict[str, Any]]:
    check_alerts_readable(principal, settings.alerts_public)
    return lifecycle.list_alerts(engine, mineral=mineral, state=state)


@router.get("/{alert_id:int}", responses=ERRORS, summary="One alert with its readings and events")
def show_alert(
    engine: EngineDep, settings: ApiSettingsDep, principal: ReaderDep, alert_id: AlertId
) -> dict[str, Any]:
    check_alerts_readable(principal, settings.alerts_public)
    return lifecycle.show(engine, alert_id)


def _transition(
    engine: Any, principal: Principal, alert_id: int, action: str, body: Note | None
) -> dict[str, Any]:
    return lifecycle.transition(
        engine, alert_id, action, _actor(principal), None if body is None else body.note
    )


@router.post("/{alert_id:int}/ack", responses=ERRORS, summary="Acknowledge an open alert")
def ack(
    engine: EngineDep, principal: ManagerDep, alert_id: AlertId, body: Note | None = None
) -> dict[str, Any]:
    return _transition(engine, principal, alert_id, "acknowledge", body)


@router.post("/{alert_id:int}/escalate", responses=ERRORS, summary="Escalate an open or acknowledged alert")
def escalate(
    engine: EngineDep, principal: ManagerDep, alert_id: AlertId, body: Note | None = None
) -> dict[str, Any]:
    return _transition(engine, principal, alert_id, "escalate", body)


@router.post("/{alert_id:int}/close", responses=ERRORS, summary="Close an alert")
def close(
    engine: EngineDep, principal: ManagerDep, alert_id: AlertId, body: Note | None = None
) -> dict[str, Any]:
    return _transition(engine, principal, alert_id, "close", body)


def _member(principal: Principal) -> str:
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.SUBSCRIBE_ALERTS)
    return principal.org


@router.get("/subscriptions", responses=ERRORS, summary="The caller's delegation's subscriptions")
def list_subscriptions(engine: EngineDep, principal: SubscriberDep) -> list[dict[str, Any]]:
    return lifecycle.subscriptions(engine, _member(principal))


@router.post(
    "/subscriptions",
    status_code=status.HTTP_201_CREATED,
    responses=ERRORS,
    summary="Subscribe the caller's delegation to alerts (a webhook's secret is returned once)",
)
def subscribe(engine: EngineDep, principal: SubscriberDep, body: SubscriptionIn) -> dict[str, Any]:
    return lifecycle.subscribe(
        engine, member=_member(principal), mineral=body.mineral, min_level=body.min_level,
        channel=body.channel, target=body.target, created_by=_actor(principal),
    )  # fmt: skip


@router.delete(
    "/subscriptions/{subscription_id:int}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=ERRORS,
    summary="Remove one of the caller's delegation's subscriptions",
)
def unsubscribe(
    engine: EngineDep, principal: SubscriberDep, subscription_id: Annotated[int, Path(ge=1, le=2**31 - 1)]
) -> Response:
    lifecycle.unsubscribe(engine, subscription_id, _member(principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
