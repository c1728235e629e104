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
# Served by the backend (webapp.backend), not a page: swaps a one-time hand-off code for the
# session cookie, then redirects to TODAY.
AUTH_SESSION = "/auth/session"
SIGN_OUT = "/auth/sign-out"  # POST only, served by the backend


def case_path(case_id: int | str) -> str:
    """The address of one case's page."""
    return f"/case/{case_id}"


def appointment_outcome_path(appointment_id: int | str) -> str:
    """The appointments page with the outcome form open for one appointment (Today links it)."""
    return f"{APPOINTMENTS}?outcome={appointment_id}"
