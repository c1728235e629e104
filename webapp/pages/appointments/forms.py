"""The appointments page's forms: book, reschedule, cancel, record an outcome.

Each is its own short form with its own heading, as a GOV.UK service would use separate pages;
a new ``form_key`` re-mounts a form with the state's defaults.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from core.enums import AppointmentStatus, PlaceKind
from ui.labels import LABELS
from webapp.components.case_question import case_question
from webapp.components.contact_questions import minutes_question, note_question
from webapp.components.forms import (
    date_time_input,
    fieldset,
    radio,
)
from webapp.i18n import _
from webapp.pages.appointments.rows import DURATIONS, OUTCOMES
from webapp.pages.appointments.state import AppointmentsState

# --- the parts of a form ----------------------------------------------------------------------


def _case_question() -> rx.Component:
    return case_question(AppointmentsState, _("Which case is the appointment for?"))


def _when_question(legend: Any, hint: Any) -> rx.Component:
    state = AppointmentsState
    return date_time_input(
        name="appointment_date",
        time_name="appointment_time",
        legend=legend,
        hint=hint,
        error=state.when_error,
        defaults=(state.form_date[0], state.form_date[1], state.form_date[2]),
        time_default=state.form_time,
    )


def _place_question() -> rx.Component:
    state = AppointmentsState
    items = [
        radio(
            "place_kind",
            member.value,
            _(LABELS[PlaceKind][member]),
            f"place_kind-{member.value}",
            state.place_kind == member.value,
        )
        for member in PlaceKind
    ]
    return fieldset(
        "place_kind-legend",
        _("Where is it?"),
        items,
        hint=_("Only the kind of place is kept, never an address."),
        error=state.place_error,
        error_id="place_kind",
    )


def _submit(text: Any, *, warning: bool = False, element_id: str | None = None) -> rx.Component:
    state = AppointmentsState
    extra = {"id": element_id} if element_id else {}
    return rx.el.button(
        rx.cond(state.saving, _("Saving…"), text),
        type="submit",
        **extra,
        disabled=state.saving | ~rx.State.is_hydrated,
        aria_disabled=state.saving,
        class_name="button button-warning" if warning else "button",
    )


def back_button() -> rx.Component:
    return rx.el.button(
        _("Back to appointments"),
        type="button",
        on_click=AppointmentsState.back,
        class_name="button button-secondary",
    )


def _hidden_key() -> rx.Component:
    return rx.el.input(type="hidden", name="form_key", value=AppointmentsState.form_key)


def _chosen_summary() -> rx.Component:
    """Which appointment a change is about: reference, time, place, length."""
    chosen = AppointmentsState.chosen
    return rx.el.dl(
        _detail(_("Case reference"), chosen.reference),
        _detail(_("Date and time"), rx.el.time(chosen.when, date_time=chosen.datetime)),
        _detail(_("Place"), chosen.place),
        _detail(_("Length"), chosen.duration),
        class_name="summary-list",
    )


def _detail(term: Any, value: Any) -> rx.Component:
    return rx.el.div(
        rx.el.dt(term, class_name="summary-key"),
        rx.el.dd(value, class_name="summary-value"),
        class_name="summary-row",
    )


# --- the forms --------------------------------------------------------------------------------


def _form(
    *questions: rx.Component, submit: rx.Component, on_submit: Any, **more: Any
) -> rx.Component:
    """One of the page's forms: its one-time key, the questions, the submit button and Back."""
    return rx.el.form(
        _hidden_key(),
        *questions,
        rx.el.div(submit, back_button(), class_name="button-group"),
        key=AppointmentsState.form_key,
        on_submit=on_submit,
        no_validate=True,
        **more,
    )


def book_form() -> rx.Component:
    state = AppointmentsState
    return _form(
        _case_question(),
        _when_question(_("When is it?"), _("For example, 27 3 2026 and 14:30. Times are UK time.")),
        minutes_question(_("How long will it be?"), DURATIONS, state.minutes),
        _place_question(),
        # The device's key for this booking (assets/held.js): a booking made without signal is
        # held on the phone, sent later and booked once.
        rx.el.input(type="hidden", name="client_key", default_value=""),
        submit=_submit(_("Book appointment")),
        on_submit=state.book,
        custom_attrs={"data-held-kind": "booking"},
    )


def reschedule_form() -> rx.Component:
    return _form(
        _chosen_summary(),
        _when_question(
            _("When is the new time?"),
            _("For example, 27 3 2026 and 14:30. It keeps the same length."),
        ),
        _place_question(),
        submit=_submit(_("Reschedule appointment")),
        on_submit=AppointmentsState.reschedule,
    )


def cancel_form() -> rx.Component:
    return _form(
        _chosen_summary(),
        rx.el.p(_("The reminders for this appointment will not be sent.")),
        submit=_submit(_("Yes, cancel the appointment"), warning=True, element_id="cancel-button"),
        on_submit=AppointmentsState.cancel,
    )


def outcome_form() -> rx.Component:
    state = AppointmentsState
    items = [
        radio(
            "status",
            status.value,
            _(LABELS[AppointmentStatus][status]),
            f"status-{status.value}",
            False,
        )
        for status in OUTCOMES
    ]
    return _form(
        _chosen_summary(),
        fieldset(
            "status-legend",
            _("Did the appointment happen?"),
            items,
            error=state.outcome_error,
            error_id="status",
        ),
        note_question(state.note_error, rows=3),
        # Which appointment, and the device's key for this answer (assets/held.js): an answer
        # given without signal is held on the phone, sent later and recorded once.
        rx.el.input(type="hidden", name="appointment", value=state.chosen.id),
        rx.el.input(type="hidden", name="client_key", default_value=""),
        submit=_submit(_("Record outcome")),
        on_submit=state.record_outcome,
        # Its draft is the appointment's own (data-held-subject): never another's form.
        custom_attrs={"data-held-kind": "outcome", "data-held-subject": state.chosen.id},
    )


def booking_body() -> rx.Component:
    return rx.cond(
        AppointmentsState.cases.length() > 0,  # type: ignore[attr-defined]
        book_form(),
        rx.fragment(
            rx.el.p(_("You have no open cases to book an appointment for.")),
            back_button(),
        ),
    )
