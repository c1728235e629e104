"""Appointments: book, reschedule, cancel, and record what happened, then book the next one.

One address, one question at a time: the list (past appointments still waiting for an outcome
first, since they matter most, then the upcoming ones), and for each task its own short form
(``forms``). "Back" returns to the list. ``?case=ID`` (the case page's "Book an appointment"
link) opens the booking form with the case chosen. After an outcome is recorded the page offers
"Book the next appointment", filled in for the same case, a week on at the same time.

Cards show a case reference, a time and a kind of place: never a name or an address. Times are
Europe/London, formatted by Babel.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from webapp import routes
from webapp.components.forms import error_summary
from webapp.components.layout import loading, page
from webapp.i18n import _
from webapp.pages.appointments.clash import clash_warning
from webapp.pages.appointments.forms import (
    booking_body,
    cancel_form,
    outcome_form,
    reschedule_form,
)
from webapp.pages.appointments.rows import BOOK, CANCEL, OUTCOME, RESCHEDULE
from webapp.pages.appointments.state import AppointmentsState

# --- the list ---------------------------------------------------------------------------------


def _card(row: Any, *, awaiting: bool) -> rx.Component:
    state = AppointmentsState
    if awaiting:
        actions = [
            rx.el.button(
                _("Record outcome"),
                rx.el.span(" ", row.reference, class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(OUTCOME, row.id),
                class_name="button",
            ),
        ]
    else:
        actions = [
            rx.el.button(
                _("Reschedule"),
                rx.el.span(" ", row.reference, class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(RESCHEDULE, row.id),
                class_name="button button-secondary",
            ),
            rx.el.button(
                _("Cancel"),
                rx.el.span(" ", row.reference, class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(CANCEL, row.id),
                class_name="button button-secondary",
            ),
        ]
    return rx.el.li(
        rx.el.h3(
            rx.el.time(row.when, date_time=row.datetime),
            class_name="card-title",
        ),
        rx.el.dl(
            rx.el.div(
                rx.el.dt(_("Case reference")),
                rx.el.dd(row.reference, class_name="case-reference"),
                class_name="card-row",
            ),
            rx.el.div(rx.el.dt(_("Place")), rx.el.dd(row.place), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Length")), rx.el.dd(row.duration), class_name="card-row"),
            class_name="card-details",
        ),
        rx.el.div(*actions, class_name="button-group card-actions"),
        key=row.id,
        class_name="card card-overdue" if awaiting else "card",
    )


def _confirmation() -> rx.Component:
    state = AppointmentsState
    return rx.cond(
        state.confirmation != "",
        rx.el.div(
            rx.el.p(state.confirmation, class_name="banner-text"),
            rx.cond(
                state.next_case_id != "",
                rx.el.button(
                    _("Book the next appointment"),
                    rx.el.span(" ", state.next_reference, class_name="visually-hidden"),
                    type="button",
                    on_click=state.book_next,
                    class_name="button next-booking",
                ),
            ),
            id="confirmation",
            role="status",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def _list() -> rx.Component:
    state = AppointmentsState
    return rx.fragment(
        _confirmation(),
        rx.el.button(
            _("Book an appointment"),
            type="button",
            id="start-booking",
            on_click=state.start_booking,
            class_name="button",
        ),
        rx.cond(
            state.awaiting.length() > 0,  # type: ignore[attr-defined]
            rx.el.section(
                rx.el.h2(_("Record an outcome"), id="awaiting-heading", class_name="heading-m"),
                rx.el.p(_("These have started. Say whether each one happened."), class_name="hint"),
                rx.el.ul(
                    rx.foreach(state.awaiting, lambda row: _card(row, awaiting=True)),
                    class_name="card-list",
                ),
                aria_labelledby="awaiting-heading",
                class_name="appointments-section",
            ),
        ),
        rx.el.section(
            rx.el.h2(_("Upcoming"), id="upcoming-heading", class_name="heading-m"),
            rx.cond(
                state.upcoming.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(
                    rx.foreach(state.upcoming, lambda row: _card(row, awaiting=False)),
                    class_name="card-list",
                ),
                rx.el.p(_("You have no upcoming appointments."), class_name="empty-state"),
            ),
            aria_labelledby="upcoming-heading",
            class_name="appointments-section",
        ),
    )


def _not_found() -> rx.Component:
    return rx.el.div(
        rx.el.p(_("If you typed the web address, check it is correct.")),
        rx.el.p(rx.el.a(_("Go to my appointments"), href=routes.APPOINTMENTS)),
    )


def appointments_page() -> rx.Component:
    state = AppointmentsState
    title = rx.cond(
        state.not_found,
        _("Page not found"),
        rx.match(
            state.view,
            (BOOK, _("Book an appointment")),
            (RESCHEDULE, _("Reschedule an appointment")),
            (CANCEL, _("Cancel this appointment?")),
            (OUTCOME, _("Record an outcome")),
            _("Appointments"),
        ),
    )
    body = rx.cond(
        state.not_found,
        _not_found(),
        rx.cond(
            state.loaded,
            rx.fragment(
                error_summary(state.errors),
                rx.match(
                    state.view,
                    (BOOK, rx.fragment(clash_warning(state), booking_body())),
                    (RESCHEDULE, reschedule_form()),
                    (CANCEL, cancel_form()),
                    (OUTCOME, outcome_form()),
                    _list(),
                ),
            ),
            loading(),
        ),
    )
    return page(
        title,
        rx.el.div(body, class_name="appointments-page"),
        on_language_change=[state.relabel],
    )
