"""The one access layer: what each role may see and do.

Routes never look at roles. They declare the action they perform (``Allowed(Action.…)``) and, for
confidential rows, ask this module for the scope of rows the caller may read. Changing who may do what is
a change to ``POLICY`` and nothing else.

Roles (docs/web.md): ``public`` (published aggregates only), ``member`` (a country delegation: alliance
analyses and its own confidential submissions), ``participant`` (a company: its own facilities and lots),
``auditor`` (read-only verification across participants), ``admin``, ``secretariat`` (the stockpile exchange's
secretariat: reads every member's stock submissions for verification, each read audited; nothing else
confidential).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from lodeline.errors import LodelineError, NotFoundError
from lodeline.store.accounts import Principal


class Role(StrEnum):
    PUBLIC = "public"
    MEMBER = "member"
    PARTICIPANT = "participant"
    AUDITOR = "auditor"
    ADMIN = "admin"
    SECRETARIAT = "secretariat"


class Action(StrEnum):
    READ_PUBLISHED = "published:read"  # market indicators and the catalog, built from public data
    READ_ALLIANCE = "alliance:read"  # alliance dependency analyses and targets
    SUBMIT_CONFIDENTIAL = "confidential:submit"  # write a confidential row owned by the caller's organisation
    READ_CONFIDENTIAL = "confidential:read"  # read confidential rows (scope decided by confidential_scope)
    READ_AUDIT = "audit:read"  # the audit log
    READ_SELF = "self:read"  # who am I
    CAPTURE_EPCIS = "registry:capture"  # submit a signed EPCIS document as the caller's company
    READ_REGISTRY_LOG = "registry-log:read"  # checkpoints and proofs: public by design (anyone may verify)
    READ_REGISTRY = "registry:read"  # lots, origin shares and events (scope decided by registry_scope)
    RUN_SIM = "sim:run"  # start a stress-test job and read its status and results (the caller's own jobs)
    SUBMIT_STOCKS = "stocks:submit"  # submit (or amend) the caller's delegation's stockpile submission
    READ_STOCKS = "stocks:read"  # read stock submissions (scope decided by stocks_scope)
    READ_ALERTS = "alerts:read"  # recorded alerts (public callers only when published: check_alerts_readable)
    MANAGE_ALERTS = "alerts:manage"  # acknowledge, escalate, close an alert
    SUBSCRIBE_ALERTS = "alerts:subscribe"  # the caller's delegation's own alert subscriptions
    RECORD_ALERTS = (
        "alerts:record"  # record today's scan in the lifecycle (opens alerts, notifies subscribers)
    )
    CHECK_COMPLIANCE = "comply:check"  # check/screen a lot (participants: lots they held; check_lot_visible)
    AMEND_DEALS = "deals:amend"  # add or amend a row of the deals register (each change a new version)
    SUBMIT_PROJECT = "projects:submit"  # add or update a project owned by the caller's organisation
    ISSUE_PASSPORT = "passport:issue"  # draft and store a passport of a lot the caller's company produced
    READ_PASSPORT = "passport:read"  # fetch and verify passports: public by design (anyone may verify)


_EVERYONE = frozenset(Role)
_SIGNED_IN = frozenset(Role) - {Role.PUBLIC}

#: action -> roles allowed to perform it. The only table of permissions in the code base.
POLICY: dict[Action, frozenset[Role]] = {
    Action.READ_PUBLISHED: _EVERYONE,
    # Alliance analyses are computed from public data, so they are published too; members see the same
    # numbers plus their own confidential rows.
    Action.READ_ALLIANCE: _EVERYONE,
    Action.SUBMIT_CONFIDENTIAL: frozenset({Role.MEMBER, Role.PARTICIPANT}),
    Action.READ_CONFIDENTIAL: frozenset({Role.MEMBER, Role.PARTICIPANT, Role.AUDITOR, Role.ADMIN}),
    Action.READ_AUDIT: frozenset({Role.AUDITOR, Role.ADMIN}),
    Action.READ_SELF: _SIGNED_IN,
    Action.CAPTURE_EPCIS: frozenset({Role.PARTICIPANT}),
    Action.READ_REGISTRY_LOG: _EVERYONE,
    Action.READ_REGISTRY: frozenset({Role.PARTICIPANT, Role.AUDITOR, Role.ADMIN}),
    # Running work costs the shared server CPU time: signed-in callers only (scenarios themselves are published).
    Action.RUN_SIM: _SIGNED_IN,
    # Stockpile submissions: a member its own; the secretariat every member's (each read audited by the caller).
    # Admins and auditors do not read them: the members agreed to share with the secretariat only.
    Action.SUBMIT_STOCKS: frozenset({Role.MEMBER}),
    Action.READ_STOCKS: frozenset({Role.MEMBER, Role.SECRETARIAT}),
    # Alerts: signed-in callers read them, the public too when the alliance publishes them (a setting).
    Action.READ_ALERTS: _EVERYONE,
    Action.MANAGE_ALERTS: frozenset({Role.MEMBER, Role.SECRETARIAT, Role.ADMIN}),
    Action.SUBSCRIBE_ALERTS: frozenset({Role.MEMBER}),
    # Recording a scan opens alerts for the whole alliance and notifies every subscriber: the secretariat that runs
    # the mechanism, and admins.
    Action.RECORD_ALERTS: frozenset({Role.SECRETARIAT, Role.ADMIN}),
    # Compliance checks read a lot's upstream facts and log verdicts: the registry's readers, scoped like it.
    Action.CHECK_COMPLIANCE: frozenset({Role.PARTICIPANT, Role.AUDITOR, Role.ADMIN}),
    Action.AMEND_DEALS: frozenset({Role.MEMBER, Role.SECRETARIAT}),
    # Project register: members and companies record their projects; confidential fields are read only by the
    # owner and the secretariat (project_viewer), the rest of the register is published.
    Action.SUBMIT_PROJECT: frozenset({Role.MEMBER, Role.PARTICIPANT}),
    Action.ISSUE_PASSPORT: frozenset({Role.PARTICIPANT}),
    Action.READ_PASSPORT: _EVERYONE,
}

#: Roles that read confidential rows across organisations (read-only verification and administration).
_CROSS_ORGANISATION = frozenset({Role.AUDITOR, Role.ADMIN})


class AuthenticationRequiredError(LodelineError):
    code = "unauthenticated"
    http_status = 401

    def __init__(self, action: Action) -> None:
        super().__init__(
            f"{action.value} needs a signed-in caller: send 'Authorization: Bearer <token>' "
            "(create one with `lodeline admin token create`) or sign in at /login",
            action=action.value,
        )


class PermissionDeniedError(LodelineError):
    code = "forbidden"
    http_status = 403

    def __init__(self, role: str, action: Action, what: str | None = None) -> None:
        on = f" on {what}" if what else ""
        super().__init__(f"role {role!r} may not perform {action.value}{on}", role=role, action=action.value)


def can(principal: Principal, action: Action) -> bool:
    return Role(principal.role) in POLICY[action]


def authorise(principal: Principal, action: Action) -> Principal:
    """Return ``principal`` if it may perform ``action``; else 401 (anonymous) or 403 (under-privileged)."""
    if can(principal, action):
        return principal
    if not principal.authenticated:
        raise AuthenticationRequiredError(action)
    raise PermissionDeniedError(principal.role, action)


def confidential_scope(principal: Principal) -> str | None:
    """The organisation whose confidential rows ``principal`` may read; None means every organisation."""
    authorise(principal, Action.READ_CONFIDENTIAL)
    if Role(principal.role) in _CROSS_ORGANISATION:
        return None
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.READ_CONFIDENTIAL)
    return principal.org


def check_row_visible(principal: Principal, owner_org: str | None, what: str) -> None:
    """Raise 404 when a confidential row exists but belongs to another organisation.

    404, not 403: telling a caller that another organisation's row exists would itself leak.
    """
    scope = confidential_scope(principal)
    if owner_org is None or (scope is not None and owner_org != scope):
        raise NotFoundError(f"no {what} visible to this account")


def stocks_scope(principal: Principal) -> str | None:
    """The member whose stock submissions ``principal`` may read; None (the secretariat) means every member's,
    and the caller must write each read of a member's row to the audit log (``record_audit``)."""
    authorise(principal, Action.READ_STOCKS)
    if Role(principal.role) is Role.SECRETARIAT:
        return None
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.READ_STOCKS)
    return principal.org


def stocks_member(principal: Principal) -> str:
    """The member a stock submission is recorded for: the caller's own delegation, never a body field."""
    authorise(principal, Action.SUBMIT_STOCKS)
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.SUBMIT_STOCKS)
    return principal.org


def check_alerts_readable(principal: Principal, published: bool) -> None:
    """Alerts are read by signed-in callers; by the public only when the alliance publishes them."""
    authorise(principal, Action.READ_ALERTS)
    if Role(principal.role) is Role.PUBLIC and not published:
        if not principal.authenticated:
            raise AuthenticationRequiredError(Action.READ_ALERTS)
        raise PermissionDeniedError(principal.role, Action.READ_ALERTS)


def registry_scope(principal: Principal) -> str | None:
    """The trace participant whose view of the registry ``principal`` gets (its own records in full, other
    parties' as custody facts: :mod:`lodeline.trace.visibility`); None means everything (auditors, admins).

    A participant account's organisation is its trace participant id (the company that signs documents).
    """
    authorise(principal, Action.READ_REGISTRY)
    if Role(principal.role) in _CROSS_ORGANISATION:
        return None
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.READ_REGISTRY)
    return principal.org


def check_lot_visible(principal: Principal, holders: Collection[str], lot: str) -> str | None:
    """The viewer to scope the lot's records to (None: everything); 403 when the caller is a participant that
    never held the lot (did not produce it, and nothing moved it at, to or from a facility it operates).

    403, not 404: lot identifiers appear on shipping documents and product labels, so the lot's existence is
    not the secret; its composition and custody events are. What a holder sees of other parties' records is
    :mod:`lodeline.trace.visibility`.
    """
    scope = registry_scope(principal)
    if scope is not None and scope not in holders:
        raise PermissionDeniedError(principal.role, Action.READ_REGISTRY, what=f"lot {lot}")
    return scope


def capturing_participant(principal: Principal) -> str:
    """The trace participant a capture is recorded for: the caller's own company, never a body field."""
    authorise(principal, Action.CAPTURE_EPCIS)
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.CAPTURE_EPCIS)
    return principal.org


def check_row_visible_to_participant(principal: Principal, owner: str | None, what: str) -> None:
    """404 when a registry record (a capture) is absent or belongs to another participant (not leaked)."""
    scope = registry_scope(principal)
    if owner is None or (scope is not None and owner != scope):
        raise NotFoundError(f"no {what} visible to this account")


def project_viewer(principal: Principal) -> tuple[str | None, bool]:
    """(organisation whose confidential project fields ``principal`` reads, whether it reads every
    organisation's): the owner its own, the secretariat all; everyone else (admins and auditors too) none."""
    role = Role(principal.role)
    if role is Role.SECRETARIAT:
        return None, True
    if role in POLICY[Action.SUBMIT_PROJECT] and principal.org:
        return principal.org, False
    return None, False


def project_owner(principal: Principal) -> str:
    """The organisation a project is recorded for: the caller's own, never a body field."""
    authorise(principal, Action.SUBMIT_PROJECT)
    if not principal.org:
        raise PermissionDeniedError(principal.role, Action.SUBMIT_PROJECT)
    return principal.org
