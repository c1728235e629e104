"""The Reflex app: pages, the global stylesheet, the backend's extra route and lifespan task."""

from __future__ import annotations

import reflex as rx

from ui.i18n import N_
from webapp import backend, routes
from webapp.i18n import page_title
from webapp.pages.account import AccountState, account_page
from webapp.pages.account_link import AccountLinkState, account_link_page
from webapp.pages.admin import AdminState, admin_page
from webapp.pages.alerts import AlertsState, alerts_page
from webapp.pages.appointments import AppointmentsState, appointments_page
from webapp.pages.audit import AuditState, audit_page
from webapp.pages.authenticator import AuthenticatorState, authenticator_page
from webapp.pages.case import (
    AllocateState,
    CaseState,
    CloseState,
    IncidentState,
    MaracState,
    ReopenState,
    RiskState,
    StageState,
    TransferState,
    allocate_page,
    case_page,
    close_page,
    incident_page,
    marac_page,
    reopen_page,
    risk_page,
    stage_page,
    transfer_page,
)
from webapp.pages.caseload import CaseloadState, caseload_page
from webapp.pages.inbox import InboxState, inbox_page
from webapp.pages.interventions import InterventionState, intervention_page
from webapp.pages.log_contact import LogContactState, log_contact
from webapp.pages.my_cases import MyCasesState, my_cases_page
from webapp.pages.notification_channels import NotificationChannelsState, notification_channels_page
from webapp.pages.panel import PanelState, panel_page
from webapp.pages.panel_meeting import PanelMeetingState, panel_meeting_page
from webapp.pages.passkeys import PasskeysState, passkeys_page
from webapp.pages.people import PersonState, person_page
from webapp.pages.referral import ReferralState, referral_page
from webapp.pages.reports import ReportsState, reports_page
from webapp.pages.sar import SarState, sar_page
from webapp.pages.sign_in import SignInState, sign_in
from webapp.pages.staff_sign_in import StaffSignInState, staff_sign_in_page
from webapp.pages.team import TeamState, team_page
from webapp.pages.today import TodayState, today
from webapp.session_guard import SessionGuard
from webapp.state import AppState

backend.protect_state_files()

app = rx.App(
    html_lang="en-GB",
    stylesheets=["/webapp.css"],
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.meta(name="theme-color", content="#0b0c0c"),  # webapp.css --header
        # Installable, and opens with no signal: the manifest, its icons, and the script that
        # registers the service worker (assets/sw.js) and keeps the last caseload's references.
        rx.el.link(rel="manifest", href="/manifest.webmanifest"),
        rx.el.link(rel="icon", href="/icon.svg", type="image/svg+xml"),
        rx.el.link(rel="apple-touch-icon", href="/icon-192.png"),
        rx.el.script(src="/shell.js"),
        rx.el.script(src="/focus.js"),  # the skip link and error summary links move focus
        rx.el.script(src="/passkeys.js"),  # the browser's side of passkey ceremonies
        rx.el.script(src="/held.js"),  # drafts, and a Save without signal held and sent later
    ],
    # No toast region: nothing here makes toasts, and its label ("Notifications alt+T") was
    # English on Welsh pages.
    toaster=None,
    # Our routes beside Reflex's, then the origin check around all of them (outermost).
    api_transformer=[backend.api(), backend.refuse_foreign_origins],
)
# Nor Reflex's connection overlay: its toast ("Cannot connect to server: websocket error ...")
# was English on Welsh pages and covered the Save button. Each page's own banner says it in the
# reader's language instead (layout._connection_banner).
app.app_wraps = {key: wrap for key, wrap in app.app_wraps.items() if key[1] != "Overlay"}
app.register_lifespan_task(backend.notifications_lifespan)
app.add_middleware(SessionGuard())

# Every signed-in page: its component, route, the loader that runs after the session check, and
# its name for the browser's title (each page's own, in the reader's language: WCAG 2.4.2).
SIGNED_IN_PAGES = (
    (today, routes.TODAY, TodayState.load, N_("Today")),
    (inbox_page, routes.INBOX, InboxState.load, N_("Inbox")),
    (alerts_page, routes.ALERTS, AlertsState.load, N_("Alerts")),
    (panel_page, routes.PANEL, PanelState.load, N_("Panel")),
    (log_contact, routes.LOG_CONTACT, LogContactState.load, N_("Log a contact")),
    (caseload_page, routes.CASELOAD, CaseloadState.load, N_("Caseload")),
    (case_page, routes.CASE, CaseState.load, N_("Case")),
    (allocate_page, routes.CASE_ALLOCATE, AllocateState.load, N_("Allocate the case")),
    (stage_page, routes.CASE_STAGE, StageState.load, N_("Change stage")),
    (close_page, routes.CASE_CLOSE, CloseState.load, N_("Close the case")),
    (reopen_page, routes.CASE_REOPEN, ReopenState.load, N_("Reopen the case")),
    (transfer_page, routes.CASE_TRANSFER, TransferState.load, N_("Transfer the case")),
    (risk_page, routes.CASE_RISK, RiskState.load, N_("Record risk")),
    (marac_page, routes.CASE_MARAC, MaracState.load, N_("Record a MARAC appearance")),
    (incident_page, routes.CASE_INCIDENT, IncidentState.load, N_("Record a police incident")),
    (team_page, routes.TEAM, TeamState.load, N_("Team")),
    (admin_page, routes.ADMIN, AdminState.load, N_("Admin")),
    (audit_page, routes.AUDIT, AuditState.load, N_("Search the audit")),
    (account_page, routes.ACCOUNT, AccountState.load, N_("My account")),
    (
        authenticator_page,
        routes.ACCOUNT_AUTHENTICATOR,
        AuthenticatorState.load,
        N_("Change your authenticator app"),
    ),
    (staff_sign_in_page, routes.STAFF_SIGN_IN, StaffSignInState.load, N_("Staff sign-in")),
    (sar_page, routes.SAR, SarState.load, N_("Subject access request")),
    (appointments_page, routes.APPOINTMENTS, AppointmentsState.load, N_("Appointments")),
    (reports_page, routes.REPORTS, ReportsState.load, N_("Reports")),
    (referral_page, routes.REFERRAL, ReferralState.load, N_("New referral")),
    (my_cases_page, routes.MY_CASES, MyCasesState.load, N_("My cases")),
    (panel_meeting_page, routes.PANEL_MEETING, PanelMeetingState.load, N_("Panel meeting")),
    (passkeys_page, routes.ACCOUNT_PASSKEYS, PasskeysState.load, N_("Your passkeys")),
    (
        notification_channels_page,
        routes.NOTIFICATION_CHANNELS,
        NotificationChannelsState.load,
        N_("How you get messages"),
    ),
    (person_page, routes.CASE_PERSON_NEW, PersonState.load, N_("Add a victim or child")),
    (person_page, routes.CASE_PERSON, PersonState.load, N_("A victim or child")),
    (
        intervention_page,
        routes.CASE_INTERVENTION_NEW,
        InterventionState.load,
        N_("Add an intervention"),
    ),
    (
        intervention_page,
        routes.CASE_INTERVENTION,
        InterventionState.load,
        N_("Intervention status"),
    ),
)
for component, route, load, name in SIGNED_IN_PAGES:
    app.add_page(
        component,
        route=route,
        title=page_title(name),
        on_load=[AppState.require_session, load],
    )
app.add_page(
    sign_in,
    route=routes.SIGN_IN,
    title=page_title(N_("Sign in")),
    on_load=[AppState.show_language, SignInState.check_passkeys],
)
# Where an invitation or reset link leads: signed out, like the sign-in page.
app.add_page(
    account_link_page,
    route=routes.ACCOUNT_LINK,
    title=page_title(N_("Set up your account")),
    on_load=AccountLinkState.load,
)
