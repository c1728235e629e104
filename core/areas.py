"""Which parts of the service a person may open, so each face offers only those.

Offering is not deciding: every service call still checks the policy itself. This only keeps
menus honest (a case manager is not shown Team or Admin, which would refuse them anyway).
"""

from __future__ import annotations

from enum import StrEnum

from core.policy import Action, allowed_somewhere
from core.schemas.actor import Actor


class Area(StrEnum):
    TODAY = "today"
    CASELOAD = "caseload"
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
    Area.LOG_CONTACT: (Action.CONTACT_LOG,),
    Area.APPOINTMENTS: (Action.APPOINTMENT_MANAGE,),
    Area.INBOX: None,
    Area.ALERTS: (Action.ALERT_RAISE, Action.ALERT_RESPOND),
    Area.PANEL: (Action.PANEL_VIEW,),
    Area.TEAM: (Action.TEAM_VIEW,),
    Area.REPORTS: (Action.REPORT_VIEW,),
    Area.ADMIN: (Action.USER_MANAGE, Action.NOTIFICATION_ADMIN, Action.AUDIT_VIEW),
}


def areas_for(actor: Actor) -> list[Area]:
    """The areas to offer ``actor``, in menu order."""
    return [
        area
        for area, needs in _NEEDS.items()
        if needs is None or any(allowed_somewhere(actor, action) for action in needs)
    ]
