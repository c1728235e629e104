"""The Reflex app: pages, the global stylesheet, the backend's extra route and lifespan task."""

from __future__ import annotations

import reflex as rx

from webapp import backend, routes
from webapp.pages.alerts import AlertsState, alerts_page
from webapp.pages.case import CaseState, case_page
from webapp.pages.caseload import CaseloadState, caseload_page
from webapp.pages.inbox import InboxState, inbox_page
from webapp.pages.log_contact import LogContactState, log_contact
from webapp.pages.panel import PanelState, panel_page
from webapp.pages.sign_in import sign_in
from webapp.pages.today import TodayState, today
from webapp.state import AppState

app = rx.App(
    html_lang="en-GB",
    stylesheets=["/webapp.css"],
    head_components=[
        rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
        rx.el.meta(name="theme-color", content="#0b0c0c"),
    ],
    api_transformer=backend.api(),
)
app.register_lifespan_task(backend.notifications_lifespan)

app.add_page(
    today,
    route=routes.TODAY,
    title="Drive Assist",
    on_load=[AppState.require_session, TodayState.load],
)
app.add_page(
    inbox_page,
    route=routes.INBOX,
    title="Drive Assist",
    on_load=[AppState.require_session, InboxState.load],
)
app.add_page(
    alerts_page,
    route=routes.ALERTS,
    title="Drive Assist",
    on_load=[AppState.require_session, AlertsState.load],
)
app.add_page(
    panel_page,
    route=routes.PANEL,
    title="Drive Assist",
    on_load=[AppState.require_session, PanelState.load],
)
app.add_page(sign_in, route=routes.SIGN_IN, title="Drive Assist")
app.add_page(
    log_contact,
    route=routes.LOG_CONTACT,
    title="Drive Assist",
    on_load=[AppState.require_session, LogContactState.load],
)
app.add_page(
    caseload_page,
    route=routes.CASELOAD,
    title="Drive Assist",
    on_load=[AppState.require_session, CaseloadState.load],
)
app.add_page(
    case_page,
    route=routes.CASE,
    title="Drive Assist",
    on_load=[AppState.require_session, CaseState.load],
)
