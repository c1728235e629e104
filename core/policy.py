"""The one permission policy: role x action x scope. Every service calls ``authorize``.

Read the table as: *who* (role) may do *what* (action) *where* (scope).

- ``SITE``: the actor holds the role at the site the record belongs to.
- ``CASELOAD``: as ``SITE``, and the case is allocated to the actor.
- ``SELF``: as ``SITE``, and the record is the actor's own (a panel action they own, their RSVP).
- ``ANY_SITE``: the actor holds the role at any site (for actions not tied to one site).

Anything the table does not state is refused.
"""

from __future__ import annotations

from enum import StrEnum

from core.enums import Role
from core.errors import NotPermitted
from core.schemas.actor import Actor


class Action(StrEnum):
    SITE_CREATE = "site.create"
    SITE_VIEW = "site.view"
    SITE_MANAGE = "site.manage"
    USER_MANAGE = "user.manage"
    USER_VIEW = "user.view"
    USER_UNLOCK = "user.unlock"
    ACCOUNT_RESET = "account.reset"
    CASE_CREATE = "case.create"
    CASE_VIEW = "case.view"
    CASE_UPDATE = "case.update"
    CASE_ALLOCATE = "case.allocate"
    CASE_CHANGE_STAGE = "case.change_stage"
    CASE_CLOSE = "case.close"
    CASE_REOPEN = "case.reopen"
    CASE_TRANSFER = "case.transfer"
    CASE_NOTES_VIEW = "case_notes.view"
    VICTIM_VIEW = "victim.view"
    VICTIM_MANAGE = "victim.manage"
    VICTIM_ASSIGN = "victim.assign"
    RISK_RECORD = "risk.record"
    MARAC_RECORD = "marac.record"
    INCIDENT_RECORD = "incident.record"
    APPOINTMENT_MANAGE = "appointment.manage"
    CONTACT_LOG = "contact.log"
    INTERVENTION_MANAGE = "intervention.manage"
    PANEL_VIEW = "panel.view"
    PANEL_MANAGE = "panel.manage"
    PANEL_ACTION_UPDATE = "panel_action.update"
    PANEL_RSVP = "panel.rsvp"
    AUDIT_VIEW = "audit.view"
    ALERT_RAISE = "alert.raise"
    ALERT_RESPOND = "alert.respond"
    TELEGRAM_LINK_MANAGE = "telegram_link.manage"
    TEAM_VIEW = "team.view"
    NOTIFICATION_ADMIN = "notification.admin"
    REPORT_VIEW = "report.view"
    SAR_EXPORT = "sar.export"
    RETENTION_MANAGE = "retention.manage"


class Scope(StrEnum):
    ANY_SITE = "any_site"
    SITE = "site"
    CASELOAD = "caseload"
    SELF = "self"


CM, SM, PC, PF, IDVA, PM, ADMIN = (
    Role.CASE_MANAGER,
    Role.SERVICE_MANAGER,
    Role.PANEL_COORDINATOR,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.PANEL_MEMBER,
    Role.ADMIN,
)
SITE, CASELOAD, SELF, ANY_SITE = Scope.SITE, Scope.CASELOAD, Scope.SELF, Scope.ANY_SITE

# Staff who work the case itself and may read its record (not victims' details).
_CASE_READERS = {CM: SITE, SM: SITE, PC: SITE, PF: SITE, IDVA: SITE, ADMIN: SITE}

POLICY: dict[Action, dict[Role, Scope]] = {
    Action.SITE_CREATE: {ADMIN: ANY_SITE},
    Action.SITE_VIEW: {r: SITE for r in Role},
    # Site settings, such as how long the bot's messages are kept.
    Action.SITE_MANAGE: {ADMIN: SITE},
    Action.USER_MANAGE: {ADMIN: SITE},
    Action.USER_VIEW: {ADMIN: SITE, SM: SITE, PC: SITE},
    # Lifting a sign-in lock (core.services.lockout): at any one of the account's sites.
    Action.USER_UNLOCK: {ADMIN: SITE, SM: SITE},
    # A colleague's sign-in: reset their password or second factor, send their invitation
    # again (core.services.accounts). Never one's own: that is "My account".
    Action.ACCOUNT_RESET: {ADMIN: SITE, SM: SITE},
    # A new referral: the service manager and the panel coordinator; a site may let other roles
    # do it too (``sites.referral_roles``, checked by core.services.referrals on top of this).
    Action.CASE_CREATE: {SM: SITE, PC: SITE},
    Action.CASE_VIEW: _CASE_READERS,
    Action.CASE_UPDATE: {SM: SITE, CM: CASELOAD},
    Action.CASE_ALLOCATE: {SM: SITE},
    Action.CASE_CHANGE_STAGE: {SM: SITE, CM: CASELOAD},
    Action.CASE_CLOSE: {SM: SITE, CM: CASELOAD},
    Action.CASE_REOPEN: {SM: SITE},
    # Checked at both sites: the one the case leaves and the one it goes to.
    Action.CASE_TRANSFER: {SM: SITE, ADMIN: SITE},
    # The free text of the case work (contact notes and next steps, appointment outcomes, the
    # reasons for a risk level, what was done about an alert): the staff who work the case.
    # Panel coordinators and admins see that the work happened, not what was said.
    Action.CASE_NOTES_VIEW: {CM: SITE, SM: SITE, PF: SITE, IDVA: SITE},
    # Victims' and children's details: IDVAs, service managers and admins only.
    Action.VICTIM_VIEW: {IDVA: SITE, SM: SITE, ADMIN: SITE},
    Action.VICTIM_MANAGE: {IDVA: SITE, SM: SITE},
    # Which IDVA supports a victim or child (an IDVA adding one is assigned to it herself).
    Action.VICTIM_ASSIGN: {SM: SITE},
    Action.RISK_RECORD: {SM: SITE, CM: CASELOAD, IDVA: SITE},
    Action.MARAC_RECORD: {SM: SITE, CM: CASELOAD, IDVA: SITE, PC: SITE},
    Action.INCIDENT_RECORD: {SM: SITE, CM: CASELOAD, PF: SITE},
    Action.APPOINTMENT_MANAGE: {SM: SITE, CM: CASELOAD},
    Action.CONTACT_LOG: {SM: SITE, CM: CASELOAD},
    Action.INTERVENTION_MANAGE: {SM: SITE, CM: CASELOAD, PF: SITE},
    Action.PANEL_VIEW: {r: SITE for r in Role},
    Action.PANEL_MANAGE: {PC: SITE, SM: SITE},
    Action.PANEL_ACTION_UPDATE: {PC: SITE, SM: SITE, CM: CASELOAD, PF: SELF, IDVA: SELF, PM: SELF},
    Action.PANEL_RSVP: {r: SELF for r in Role},
    Action.AUDIT_VIEW: {ADMIN: SITE},
    # Disruption alerts: a case manager calls for police disruption on their case; the police
    # fellow (or the service manager) acknowledges and acts.
    Action.ALERT_RAISE: {SM: SITE, CM: CASELOAD},
    Action.ALERT_RESPOND: {PF: SITE, SM: SITE},
    # Issuing a Telegram link code or revoking a link: anyone for their own account, an admin
    # for any account at their site.
    Action.TELEGRAM_LINK_MANAGE: {r: SELF for r in Role} | {ADMIN: SITE},
    # The team view: each case manager's caseload at the site, and new referrals to allocate.
    Action.TEAM_VIEW: {SM: SITE},
    # Failed notifications to the site's staff: see them (never their contents) and send again.
    Action.NOTIFICATION_ADMIN: {ADMIN: SITE},
    # Funder returns and outcome measures: aggregate figures, never a person's details.
    Action.REPORT_VIEW: {SM: SITE, ADMIN: SITE},
    # A subject access bundle (everything held about the person, third parties redacted).
    Action.SAR_EXPORT: {ADMIN: SITE},
    # The site's retention policy, and running it.
    Action.RETENTION_MANAGE: {ADMIN: SITE},
}


# What the host operator (``Actor.system()``) may do: set up sites and accounts, never case data.
SYSTEM_ACTIONS = frozenset(
    {
        Action.SITE_CREATE,
        Action.SITE_VIEW,
        Action.SITE_MANAGE,
        Action.USER_MANAGE,
        Action.USER_VIEW,
        Action.USER_UNLOCK,
        Action.ACCOUNT_RESET,
        Action.TELEGRAM_LINK_MANAGE,
    }
)


def is_allowed(
    actor: Actor,
    action: Action,
    *,
    site_id: int | None = None,
    case_manager_id: int | None = None,
    owner_user_id: int | None = None,
) -> bool:
    """True when some role the actor holds grants ``action`` in the given context.

    ``site_id`` is the site of the record (None only for ``ANY_SITE`` actions);
    ``case_manager_id`` the case's allocated case manager (for ``CASELOAD``);
    ``owner_user_id`` the record's owner (for ``SELF``).
    """
    if actor.is_system:
        return action in SYSTEM_ACTIONS
    grants = POLICY.get(action, {})
    for membership in actor.memberships:
        scope = grants.get(membership.role)
        if scope is None:
            continue
        if scope is ANY_SITE:
            return True
        if site_id is None or membership.site_id != site_id:
            continue
        if scope is SITE:
            return True
        if scope is CASELOAD and case_manager_id is not None and case_manager_id == actor.user_id:
            return True
        if scope is SELF and owner_user_id is not None and owner_user_id == actor.user_id:
            return True
    return False


def authorize(
    actor: Actor,
    action: Action,
    *,
    site_id: int | None = None,
    case_manager_id: int | None = None,
    owner_user_id: int | None = None,
) -> None:
    """Raise ``NotPermitted`` unless the policy allows it."""
    if not is_allowed(
        actor,
        action,
        site_id=site_id,
        case_manager_id=case_manager_id,
        owner_user_id=owner_user_id,
    ):
        raise NotPermitted(action=str(action), actor=actor, site_id=site_id)


def sites_where(actor: Actor, action: Action) -> set[int]:
    """The sites at which the actor may do ``action`` with at least some scope (for listings)."""
    grants = POLICY.get(action, {})
    return {m.site_id for m in actor.memberships if m.role in grants}


def allowed_somewhere(actor: Actor, action: Action) -> bool:
    """True when the actor may do ``action`` at some site (to offer a command or a listing)."""
    return bool(sites_where(actor, action))


def authorize_somewhere(actor: Actor, action: Action) -> None:
    """Raise ``NotPermitted`` unless the actor may do ``action`` at some site at least."""
    if not allowed_somewhere(actor, action):
        raise NotPermitted(action=str(action), actor=actor)
