"""Log a contact: one short page, with defaults, so a log on a phone takes a few taps.

One page rather than one question per page: every question but the case and the kinds of work
already has an answer (now, face to face, 30 minutes, no note), so a log is: pick the case, tick
the work, Save. Splitting that over five pages would add four page loads on a phone signal and
nothing for the user to decide. The fields are GOV.UK radios and checkboxes in fieldsets with
legends; a missing answer shows the error summary linking to the field.

Saving calls the bot's service (``core.services.contacts.log_contact``). A contact with the
disruption category offers, like the bot, "Raise a disruption alert"
(``core.services.alerts.raise_disruption_alert``). A double tap on Save logs one contact:
every rendering of the form carries a one-time key, and Reflex runs one event at a time per
browser tab, so the second submit finds the key already used and changes nothing; the button
is also disabled while saving.

Opened with no signal (the service worker's copy of the page), the server has sent nothing: the
same form offers the cases the device kept the last time the page was shown online
(``webapp.components.device_caseload``: references only), with the device's "now". Its Save is
the held save of ``assets/held.js``.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.components.core.banner import has_connection_errors

from core.enums import ContactType, WorkCategory
from ui.labels import LABELS
from webapp import routes
from webapp.components.case_question import case_question
from webapp.components.contact_questions import minutes_question, note_question
from webapp.components.device_caseload import (
    DEVICE_CASES,
    DEVICE_NOW,
    DEVICE_TODAY,
    device_caseload,
)
from webapp.components.forms import (
    date_time_input,
    error_summary,
    fieldset,
    radio,
)
from webapp.components.layout import page
from webapp.i18n import OPENED_OFFLINE, _
from webapp.pages.log_contact.form import DURATIONS
from webapp.pages.log_contact.state import LogContactState

# --- the form ---------------------------------------------------------------------------------


def _case_question(cases: rx.Var | None) -> rx.Component:
    return case_question(LogContactState, _("Which case is this contact on?"), cases)


def _contact_type_question() -> rx.Component:
    state = LogContactState
    items = [
        radio(
            "contact_type",
            member.value,
            _(LABELS[ContactType][member]),
            f"contact_type-{member.value}",
            state.contact_type == member.value,
        )
        for member in ContactType
    ]
    return fieldset("contact_type-legend", _("What kind of contact was it?"), *items)


def _category_question() -> rx.Component:
    state = LogContactState
    items = [
        rx.el.div(
            rx.el.input(
                type="checkbox",
                name=f"category-{member.value}",
                value="yes",
                id=f"category-{member.value}",
                class_name="checkboxes-input",
            ),
            rx.el.label(
                _(LABELS[WorkCategory][member]),
                html_for=f"category-{member.value}",
                class_name="checkboxes-label",
            ),
            class_name="checkboxes-item",
        )
        for member in WorkCategory
    ]
    return fieldset(
        "category-legend",
        _("Which kinds of work?"),
        *items,
        hint=_("Select all that apply."),
        error=state.category_error,
        error_id="category",
    )


def _when_question(today: tuple[Any, Any, Any] | None, now: Any) -> rx.Component:
    state = LogContactState
    return date_time_input(
        name="contact_date",
        time_name="contact_time",
        legend=_("When was it?"),
        hint=_("For example, 27 3 2026 and 14:30. Now, unless you change it."),
        error=state.when_error,
        defaults=today or (state.contact_date[0], state.contact_date[1], state.contact_date[2]),
        time_default=state.contact_time if now is None else now,
    )


def _form(offline: bool = False) -> rx.Component:
    """The form; ``offline``: the one a page opened with no signal shows, over the device's
    cases and clock (the server has sent no state)."""
    state = LogContactState
    return rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=state.form_key),
        # The device's key for this save, made by assets/held.js when the form is first shown
        # and kept with its draft: sent twice (held offline, a lost answer), it is logged once.
        rx.el.input(type="hidden", name="client_key", default_value=""),
        _case_question(DEVICE_CASES if offline else None),
        _category_question(),
        _contact_type_question(),
        minutes_question(_("How long did it take?"), DURATIONS, state.minutes),
        _when_question(DEVICE_TODAY if offline else None, DEVICE_NOW if offline else None),
        note_question(state.note_error, rows=4),
        rx.el.button(
            rx.cond(state.saving, _("Saving…"), _("Save contact")),
            type="submit",
            # Until the page has its state; or, with no connection at all, for assets/held.js.
            disabled=state.saving | (~rx.State.is_hydrated & ~has_connection_errors),
            aria_disabled=state.saving,
            class_name="button",
        ),
        key=state.form_key,
        on_submit=state.submit,
        no_validate=True,
        # assets/held.js keeps a draft of it and holds a Save pressed without a connection.
        custom_attrs={"data-held-kind": "contact"},
    )


def _confirmation() -> rx.Component:
    state = LogContactState
    return rx.el.div(
        rx.el.div(
            rx.el.h2(_("Contact logged"), class_name="panel-title"),
            rx.el.p(state.saved_summary, class_name="panel-body"),
            id="confirmation",
            tab_index=-1,
            role="status",
            class_name="panel",
        ),
        rx.cond(
            state.saved_disruption,
            rx.el.div(
                rx.cond(
                    state.alert_message != "",
                    rx.el.p(state.alert_message, role="status", class_name="inset-text"),
                    rx.el.div(
                        rx.el.p(
                            _(
                                "You logged disruption work. If the police need to act,"
                                " ask the site's police Drive Fellows."
                            )
                        ),
                        rx.el.button(
                            _("Raise a disruption alert"),
                            type="button",
                            on_click=state.raise_alert,
                            class_name="button button-warning",
                        ),
                    ),
                ),
            ),
        ),
        rx.el.ul(
            rx.el.li(
                rx.el.a(
                    _("Go to the case"),
                    " ",
                    rx.el.span(state.saved_reference),
                    href=state.saved_case_href,
                    class_name="link-large",
                )
            ),
            rx.el.li(
                rx.el.button(
                    _("Log another contact"),
                    type="button",
                    on_click=state.log_another,
                    class_name="button button-secondary",
                )
            ),
            class_name="next-steps",
        ),
    )


def _not_found() -> rx.Component:
    return rx.el.div(
        rx.el.p(_("If you typed the web address, check it is correct.")),
        rx.el.p(rx.el.a(_("Log a contact on one of my cases"), href=routes.LOG_CONTACT)),
    )


def _opened_offline() -> rx.Component:
    """The page as the service worker's copy shows it with no signal."""
    return rx.cond(
        DEVICE_CASES.length() > 0,
        rx.el.div(
            rx.el.p(
                _(
                    "You opened this page without signal. It offers the cases this phone saw"
                    " last time it had signal: references only."
                ),
                class_name="inset-text",
            ),
            _form(offline=True),
        ),
        rx.el.p(
            _(
                "This phone has no cases to offer yet. Open this page once when you have signal"
                " and your cases will be here next time."
            )
        ),
    )


def log_contact() -> rx.Component:
    state = LogContactState
    body = rx.cond(
        state.not_found,
        _not_found(),
        rx.cond(
            state.loaded,
            rx.cond(
                state.saved_summary != "",
                _confirmation(),
                rx.cond(
                    state.cases.length() > 0,  # type: ignore[attr-defined]
                    rx.el.div(error_summary(state.errors), _form()),
                    rx.el.p(_("You have no open cases to log a contact on.")),
                ),
            ),
            rx.cond(OPENED_OFFLINE, _opened_offline(), rx.el.p(_("Loading…"), class_name="hint")),
        ),
    )
    return page(
        rx.cond(state.not_found, _("Page not found"), _("Log a contact")),
        rx.el.div(body, class_name="log-contact"),
        rx.cond(state.loaded, device_caseload(state.device_caseload)),
    )
