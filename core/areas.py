"""Which areas a person may open and which buttons to show them, so faces offer only those.

Offering is not deciding: every service call still checks the policy itself. This only keeps
menus honest (a case manager is not shown Team or Admin, which would refuse them anyway).
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum

from core.enums import Role, Stage
from core.policy import Action, allowed_somewhere, is_allowed, sites_where
from core.schemas.actor import Actor
from core.schemas.cases import CaseRead


class Area(StrEnum):
    TODAY = "today"
    CASELOAD = "caseload"
    MY_CASES = "my_cases"
    REFERRAL = "referral"  # a new referral
    LOG_CONTACT = "log_contact"
    APPOINTMENTS = "appointments"
    INBOX = "inbox"
    ALERTS = "alerts"
    PANEL = "panel"
    TEAM = "team"
    REPORTS = "reports"
    ADMIN = "admin"


# An area is offered when the actor may do at least one of these somewhere; None: always offered.
_NEEDS: dict[Area, tuple[Action, ...] | None] = {
    Area.TODAY: None,
    Area.CASELOAD: (Action.CASE_VIEW,),
    Area.MY_CASES: (Action.VICTIM_VIEW,),  # and only for IDVAs: see _ROLE_AREAS
    # Also offered where a site lets one of the person's roles refer: see areas_for.
    Area.REFERRAL: (Action.CASE_CREATE,),
    Area.LOG_CONTACT: (Action.CONTACT_LOG,),
    Area.APPOINTMENTS: (Action.APPOINTMENT_MANAGE,),
    Area.INBOX: None,
    Area.ALERTS: (Action.ALERT_RAISE, Action.ALERT_RESPOND),
    Area.PANEL: (Action.PANEL_VIEW,),
    Area.TEAM: (Action.TEAM_VIEW,),
    Area.REPORTS: (Action.REPORT_VIEW,),
    Area.ADMIN: (Action.USER_MANAGE, Action.NOTIFICATION_ADMIN, Action.AUDIT_VIEW),
}


# An area only for people holding this role somewhere ("My cases": the IDVA's own caseload).
_ROLE_AREAS: dict[Area, Role] = {Area.MY_CASES: Role.IDVA}


def areas_for(actor: Actor, *, referral_sites: Collection[int] = ()) -> list[Area]:
    """The areas to offer ``actor``, in menu order.

    ``referral_sites``: the sites where ``actor`` may record a referral
    (``core.services.referrals.referral_sites``, which also reads each site's extra referring
    roles); a new referral is offered there even without the policy's ``case.create``.
    """
    roles = {m.role for m in actor.memberships}
    return [
        area
        for area, needs in _NEEDS.items()
        if (
            needs is None
            or any(allowed_somewhere(actor, action) for action in needs)
            or (area is Area.REFERRAL and bool(referral_sites) and not actor.is_system)
        )
        and (area not in _ROLE_AREAS or _ROLE_AREAS[area] in roles)
    ]


class Offer(StrEnum):
    """A button, link or form a face may show. Showing is not doing: the service decides."""

    BOOK_APPOINTMENT = "book_appointment"
    RAISE_ALERT = "raise_alert"
    ANSWER_ALERTS = "answer_alerts"
    BROADCAST = "broadcast"
    MANAGE_STAFF = "manage_staff"
    RESET_SIGN_IN = "reset_sign_in"  # a colleague's password, second factor, invitation
    CREATE_SITE = "create_site"
    FAILED_NOTIFICATIONS = "failed_notifications"
    TEAM = "team"
    REPORTS = "reports"
    AUDIT_SEARCH = "audit_search"
    SAR_EXPORT = "sar_export"
    LINKED_PEOPLE = "linked_people"
    MANAGE_PEOPLE = "manage_people"  # add or edit a victim or child, end the link
    ASSIGN_IDVA = "assign_idva"
    MANAGE_INTERVENTIONS = "manage_interventions"  # a case's interventions: update their status
    ADD_INTERVENTION = "add_intervention"
    OPEN_CASE = "open_case"  # a case reference links to the case's page
    PANEL_MEETING = "panel_meeting"  # mark a meeting held or cancelled, and who attended
    ALLOCATE_CASE = "allocate_case"  # choose a case's case manager
    # The rest of the case work on a case's page (issue 19).
    LOG_CONTACT = "log_contact"
    CHANGE_STAGE = "change_stage"
    CLOSE_CASE = "close_case"
    REOPEN_CASE = "reopen_case"
    TRANSFER_CASE = "transfer_case"
    RECORD_RISK = "record_risk"
    RECORD_MARAC = "record_marac"
    RECORD_INCIDENT = "record_incident"


_OFFER_ACTION: dict[Offer, Action] = {
    Offer.BOOK_APPOINTMENT: Action.APPOINTMENT_MANAGE,
    Offer.RAISE_ALERT: Action.ALERT_RAISE,
    Offer.ANSWER_ALERTS: Action.ALERT_RESPOND,
    Offer.BROADCAST: Action.PANEL_MANAGE,
    Offer.MANAGE_STAFF: Action.USER_MANAGE,
    Offer.RESET_SIGN_IN: Action.ACCOUNT_RESET,
    Offer.CREATE_SITE: Action.SITE_CREATE,
    Offer.FAILED_NOTIFICATIONS: Action.NOTIFICATION_ADMIN,
    Offer.TEAM: Action.TEAM_VIEW,
    Offer.REPORTS: Action.REPORT_VIEW,
    Offer.AUDIT_SEARCH: Action.AUDIT_VIEW,
    Offer.SAR_EXPORT: Action.SAR_EXPORT,
    Offer.LINKED_PEOPLE: Action.VICTIM_VIEW,
    Offer.MANAGE_PEOPLE: Action.VICTIM_MANAGE,
    Offer.ASSIGN_IDVA: Action.VICTIM_ASSIGN,
    Offer.MANAGE_INTERVENTIONS: Action.INTERVENTION_MANAGE,
    Offer.ADD_INTERVENTION: Action.INTERVENTION_MANAGE,
    Offer.OPEN_CASE: Action.CASE_VIEW,
    Offer.PANEL_MEETING: Action.PANEL_MANAGE,
    Offer.ALLOCATE_CASE: Action.CASE_ALLOCATE,
    Offer.LOG_CONTACT: Action.CONTACT_LOG,
    Offer.CHANGE_STAGE: Action.CASE_CHANGE_STAGE,
    Offer.CLOSE_CASE: Action.CASE_CLOSE,
    Offer.REOPEN_CASE: Action.CASE_REOPEN,
    Offer.TRANSFER_CASE: Action.CASE_TRANSFER,
    Offer.RECORD_RISK: Action.RISK_RECORD,
    Offer.RECORD_MARAC: Action.MARAC_RECORD,
    Offer.RECORD_INCIDENT: Action.INCIDENT_RECORD,
}

# Offered only while the case is open (core refuses them on a closed case), or only once closed.
_OPEN_CASE_ONLY = frozenset(
    {
        Offer.BOOK_APPOINTMENT,
        Offer.LOG_CONTACT,
        Offer.CHANGE_STAGE,
        Offer.ALLOCATE_CASE,
        Offer.CLOSE_CASE,
        Offer.TRANSFER_CASE,
        Offer.ADD_INTERVENTION,
    }
)
_CLOSED_CASE_ONLY = frozenset({Offer.REOPEN_CASE})


def offer_sites(actor: Actor, offer: Offer) -> frozenset[int]:
    """The sites at which ``offer`` may be shown to ``actor`` (empty: nowhere).

    The system actor (jobs, schedulers) is never offered anything: it has no face.
    """
    if actor.is_system:
        return frozenset()
    return frozenset(sites_where(actor, _OFFER_ACTION[offer]))


def offers(actor: Actor, offer: Offer) -> bool:
    """True when ``offer`` may be shown to ``actor`` at some site."""
    return bool(offer_sites(actor, offer))


def offers_on_case(actor: Actor, offer: Offer, case: CaseRead) -> bool:
    """True when ``offer`` may be shown on ``case``'s page: allowed on the case, and fitting its
    stage (a closed case offers no booking, only reopening; a referral waits for allocation
    before its stage can change; a transfer needs another site the actor may transfer to)."""
    if actor.is_system:
        return False
    closed = case.stage is Stage.CLOSED
    if (offer in _OPEN_CASE_ONLY and closed) or (offer in _CLOSED_CASE_ONLY and not closed):
        return False
    if offer is Offer.CHANGE_STAGE and case.stage is Stage.REFERRED:
        return False
    if offer is Offer.TRANSFER_CASE and not offer_sites(actor, offer) - {case.site_id}:
        return False
    return is_allowed(
        actor,
        _OFFER_ACTION[offer],
        site_id=case.site_id,
        case_manager_id=case.case_manager_id,
    )
