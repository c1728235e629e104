"""Which areas a person may open and which buttons to show them, so faces offer only those.

Offering is not deciding: every service call still checks the policy itself. This only keeps
menus honest (a case manager is not shown Team or Admin, which would refuse them anyway).
"""

from __future__ import annotations

from enum import StrEnum

from core.enums import Role, Stage
from core.policy import Action, allowed_somewhere, is_allowed, sites_where
from core.schemas.actor import Actor
from core.schemas.cases import CaseRead


class Area(StrEnum):
    TODAY = "today"
    CASELOAD = "caseload"
    MY_CASES = "my_cases"
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


def areas_for(actor: Actor) -> list[Area]:
    """The areas to offer ``actor``, in menu order."""
    roles = {m.role for m in actor.memberships}
    return [
        area
        for area, needs in _NEEDS.items()
        if (needs is None or any(allowed_somewhere(actor, action) for action in needs))
        and (area not in _ROLE_AREAS or _ROLE_AREAS[area] in roles)
    ]


class Offer(StrEnum):
    """A button, link or form a face may show. Showing is not doing: the service decides."""

    BOOK_APPOINTMENT = "book_appointment"
    RAISE_ALERT = "raise_alert"
    ANSWER_ALERTS = "answer_alerts"
    BROADCAST = "broadcast"
    MANAGE_STAFF = "manage_staff"
    CREATE_SITE = "create_site"
    FAILED_NOTIFICATIONS = "failed_notifications"
    TEAM = "team"
    REPORTS = "reports"
    AUDIT_SEARCH = "audit_search"
    SAR_EXPORT = "sar_export"
    LINKED_PEOPLE = "linked_people"
    MANAGE_PEOPLE = "manage_people"  # add or edit a victim or child, end the link
    ASSIGN_IDVA = "assign_idva"
    MANAGE_INTERVENTIONS = "manage_interventions"
    OPEN_CASE = "open_case"  # a case reference links to the case's page
    PANEL_MEETING = "panel_meeting"  # mark a meeting held or cancelled, and who attended


_OFFER_ACTION: dict[Offer, Action] = {
    Offer.BOOK_APPOINTMENT: Action.APPOINTMENT_MANAGE,
    Offer.RAISE_ALERT: Action.ALERT_RAISE,
    Offer.ANSWER_ALERTS: Action.ALERT_RESPOND,
    Offer.BROADCAST: Action.PANEL_MANAGE,
    Offer.MANAGE_STAFF: Action.USER_MANAGE,
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
    Offer.OPEN_CASE: Action.CASE_VIEW,
    Offer.PANEL_MEETING: Action.PANEL_MANAGE,
}


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
    """True when ``offer`` may be shown on ``case``'s page (a closed case offers no booking)."""
    if actor.is_system:
        return False
    if offer is Offer.BOOK_APPOINTMENT and case.stage is Stage.CLOSED:
        return False
    return is_allowed(
        actor,
        _OFFER_ACTION[offer],
        site_id=case.site_id,
        case_manager_id=case.case_manager_id,
    )
