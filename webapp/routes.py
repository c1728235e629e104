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
# Served by the backend (webapp.backend), not a page: swaps a one-time hand-off code for the
# session cookie, then redirects to TODAY.
AUTH_SESSION = "/auth/session"
SIGN_OUT = "/auth/sign-out"  # POST only, served by the backend


def case_path(case_id: int | str) -> str:
    """The address of one case's page."""
    return f"/case/{case_id}"
