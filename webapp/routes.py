"""Every path the web app serves, named once; pages, links and redirects use these."""

from __future__ import annotations

TODAY = "/"
SIGN_IN = "/sign-in"
CASELOAD = "/caseload"
CASE = "/case/[case_id]"  # the page; links use case_path()
LOG_CONTACT = "/log"  # ?case=ID picks the case (the case page links here)
INBOX = "/inbox"
ALERTS = "/alerts"
PANEL = "/panel"
APPOINTMENTS = "/appointments"  # ?case=ID books for that case; ?outcome=ID answers one
TEAM = "/team"  # service managers: caseloads and allocation
ADMIN = "/admin"  # admins: staff, roles, sites, Telegram links, failed notifications
AUDIT = "/admin/audit"  # admins: search the audit by case, staff member and period
SAR = "/admin/sar"  # admins: a case subject's access bundle (JSON and HTML)
REPORTS = "/reports"  # service managers and admins: funder return and outcome measures
# Case work from referral to closure (issue 19). A page's route has [case_id] (and the record's
# id) in it; links use the *_path() functions below.
REFERRAL = "/referral"  # a new referral: details, DASH checklist, possible duplicates
MY_CASES = "/my-cases"  # IDVAs: the open cases with victims assigned to them
CASE_ALLOCATE = "/case/[case_id]/allocate"
CASE_STAGE = "/case/[case_id]/stage"  # engaging, active, indirect work: a date and a reason
CASE_CLOSE = "/case/[case_id]/close"  # reason, and the four abuse types at closure
CASE_REOPEN = "/case/[case_id]/reopen"
CASE_TRANSFER = "/case/[case_id]/transfer"
CASE_RISK = "/case/[case_id]/risk"  # a new risk assessment: DASH checklist or score
CASE_MARAC = "/case/[case_id]/marac"  # a MARAC appearance
CASE_INCIDENT = "/case/[case_id]/incident"  # a police incident
CASE_PERSON_NEW = "/case/[case_id]/people/new"  # a victim or child (IDVAs, service managers)
CASE_PERSON = "/case/[case_id]/people/[person_id]"  # edit, assign an IDVA, end the link
CASE_INTERVENTION_NEW = "/case/[case_id]/interventions/new"
CASE_INTERVENTION = "/case/[case_id]/interventions/[intervention_id]"  # its status
ACCOUNT_PASSKEYS = "/account/passkeys"  # the signed-in person's own passkeys: add, remove
PANEL_MEETING = "/panel/meeting/[meeting_id]"  # held or cancelled, and who attended
# How you get messages: your mobile number and, per kind of message, the channels (issue 20).
# Linked from My account, not from the main menu.
NOTIFICATION_CHANNELS = "/account/notifications"
# Staff accounts (issue 20). ACCOUNT_LINK is where an invitation or reset link leads
# (core.services.accounts.LINK_PATH; ?token=...), signed out.
ACCOUNT = "/account"  # My account: own password, sessions, authenticator (every role)
ACCOUNT_AUTHENTICATOR = "/account/authenticator"  # change one's own authenticator app
ACCOUNT_LINK = "/account-link"
STAFF_SIGN_IN = "/staff-sign-in"  # service managers and admins: reset a colleague's sign-in
# Served by the backend (webapp.backend), not a page: swaps a one-time hand-off code for the
# session cookie, then redirects to TODAY.
AUTH_SESSION = "/auth/session"
SIGN_OUT = "/auth/sign-out"  # POST only, served by the backend
# Saves held on a phone without signal, sent when it returns (webapp.held; POST only).
HELD = "/api/held"
HELD_KEY = "/api/held/key"


def case_path(case_id: int | str) -> str:
    """The address of one case's page."""
    return f"/case/{case_id}"


def appointment_outcome_path(appointment_id: int | str) -> str:
    """The appointments page with the outcome form open for one appointment (Today links it)."""
    return f"{APPOINTMENTS}?outcome={appointment_id}"


def case_action_path(case_id: int | str, action: str) -> str:
    """A case's action page: ``action`` is the last part of its route ("stage", "close",
    "reopen", "transfer", "allocate", "risk", "marac", "incident")."""
    return f"/case/{case_id}/{action}"


def person_path(case_id: int | str, person_id: int | str | None = None) -> str:
    """Add a victim or child to a case (no ``person_id``), or one linked person's page."""
    return f"/case/{case_id}/people/{'new' if person_id is None else person_id}"


def intervention_path(case_id: int | str, intervention_id: int | str | None = None) -> str:
    """Add an intervention to a case (no ``intervention_id``), or one intervention's page."""
    return f"/case/{case_id}/interventions/{'new' if intervention_id is None else intervention_id}"


def panel_meeting_path(meeting_id: int | str) -> str:
    """One panel meeting's page: mark it held or cancelled, and who attended."""
    return f"/panel/meeting/{meeting_id}"
