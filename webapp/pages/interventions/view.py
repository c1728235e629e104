"""Add an intervention (kind, agency, start date, status) or change one's status, with an
end date for one that has finished. One page for both routes."""

from __future__ import annotations

from typing import Any

import reflex as rx

from webapp.components.forms import (
    button,
    date_input,
    error_summary,
    field_error,
    fieldset,
    group_class,
    radio,
)
from webapp.components.layout import loading, page
from webapp.components.saved import saved_on_case
from webapp.i18n import _
from webapp.pages.interventions.state import FOUND, MISSING, SAVED, InterventionState

S = InterventionState


def _error(field: str) -> Any:
    return S.field_errors.get(field, "")


def _select(name: str, label: Any, options: Any, first: Any) -> rx.Component:
    error = _error(name)
    return rx.el.div(
        rx.el.label(label, html_for=name, class_name="label"),
        field_error(error, f"{name}-error"),
        rx.el.select(
            rx.el.option(first, value=""),
            rx.foreach(options, lambda choice: rx.el.option(choice.text, value=choice.value)),
            id=name,
            name=name,
            class_name="select",
            aria_describedby=rx.cond(error != "", f"{name}-error", ""),
        ),
        class_name=group_class(error),
    )


def _status_question(current: Any) -> rx.Component:
    return fieldset(
        "status-legend",
        _("Status"),
        rx.foreach(
            S.statuses,
            lambda choice: radio(
                "status",
                choice.value,
                choice.text,
                "status-" + choice.value,
                choice.value == current,
            ),
        ),
        error=_error("status-offered"),
        error_id="status",
    )


def _add_form() -> rx.Component:
    return rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=S.form_key),
        _select("kind", _("Kind of intervention"), S.kinds, _("Choose a kind")),
        _select("agency", _("Agency delivering it"), S.agencies, _("Choose an agency")),
        date_input(
            name="started_on",
            legend=_("Start date (optional)"),
            hint=_("For example, 27 3 2025"),
            error=_error("started_on"),
        ),
        _status_question("offered"),
        button(_("Save"), type="submit"),
        key=S.form_key,
        on_submit=S.add,
        class_name="form",
    )


def _update_form() -> rx.Component:
    return rx.el.form(
        rx.el.dl(
            rx.el.div(
                rx.el.dt(_("Intervention"), class_name="summary-key"),
                rx.el.dd(S.kind_text, class_name="summary-value"),
                class_name="summary-row",
            ),
            rx.el.div(
                rx.el.dt(_("Agency"), class_name="summary-key"),
                rx.el.dd(S.agency_text, class_name="summary-value"),
                class_name="summary-row",
            ),
            rx.el.div(
                rx.el.dt(_("Started on"), class_name="summary-key"),
                rx.el.dd(rx.cond(S.started_text != "", S.started_text, _("Not started"))),
                class_name="summary-row",
            ),
            class_name="summary-list",
        ),
        rx.el.input(type="hidden", name="form_key", value=S.form_key),
        _status_question(S.current_status),
        date_input(
            name="ended_on",
            legend=_("End date"),
            hint=_("Only for an intervention that is completed, declined or ended"),
            error=_error("ended_on"),
        ),
        button(_("Save"), type="submit"),
        key=S.form_key,
        on_submit=S.update,
        class_name="form",
    )


def intervention_page() -> rx.Component:
    title = rx.match(
        S.status,
        (MISSING, _("Page not found")),
        (SAVED, _("Saved")),
        rx.cond(S.editing, _("Intervention status"), _("Add an intervention")),
    )
    back = rx.el.p(rx.el.a(_("Back to the case"), " ", S.case_reference, href=S.case_href))
    return page(
        title,
        rx.match(
            S.status,
            (
                FOUND,
                rx.fragment(
                    back,
                    error_summary(S.errors),
                    rx.cond(S.editing, _update_form(), _add_form()),
                ),
            ),
            (SAVED, saved_on_case(S.saved_message, S.case_reference, S.case_href)),
            (MISSING, rx.el.p(_("If you typed the web address, check it is correct."))),
            loading(),
        ),
        on_language_change=[S.load],
    )
