"""Alerts: disruption alerts still waiting on someone.

A police fellow (or service manager) sees the open alerts at their sites, acknowledges one and
records the action taken; a case manager sees the alerts on their caseload and raises one for a
case of their own ("Disruption needed"). Only the case reference is ever shown, never a name.
Core decides who may see and do what (``core.services.alerts``); the page asks it again on every
press, and hides what it would refuse only to spare a useless button.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.enums import AlertStatus
from core.errors import DomainError
from core.schemas.alerts import AlertRead
from core.services import alerts
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from webapp.components.forms import FieldError, button, error_summary, field_error
from webapp.components.layout import page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

RAISE_FIELD = "raise-case"
ACTION_FIELD_PREFIX = "action-taken-"
ENTER_ACTION = N_("Enter the action taken")
CHOOSE_CASE = N_("Choose the case that needs disruption")


@dataclass(frozen=True)
class AlertCard:
    """What one alert card shows: strings to read, and which answers to offer."""

    id: str
    reference: str
    raised: str
    status: str
    can_acknowledge: bool
    can_act: bool
    field_id: str


@dataclass(frozen=True)
class CaseOption:
    id: str
    reference: str


def _alert_card_row(alert: AlertRead, words: Translator, *, can_answer: bool) -> AlertCard:
    unresolved = alert.status in (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)
    return AlertCard(
        id=str(alert.id),
        reference=alert.case_reference,
        raised=words.gettext(
            "Raised {time}", time=words.format_datetime(alert.raised_at, "EEE d MMM, HH:mm")
        ),
        status=words.gettext("Status: {status}", status=label(alert.status, words)),
        can_acknowledge=can_answer and alert.status is AlertStatus.OPEN,
        can_act=can_answer and unresolved,
        field_id=f"{ACTION_FIELD_PREFIX}{alert.id}",
    )


class AlertsState(AppState):
    alert_rows: list[AlertCard] = []
    can_answer: bool = False
    can_raise: bool = False
    case_choices: list[CaseOption] = []
    confirmation: str = ""
    errors: list[FieldError] = []
    error_field: str = ""
    error_text: str = ""

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.errors = []
        self.error_field = ""
        self.error_text = ""

    def _show_error(self, message: str, error: DomainError) -> None:
        self._fail(str(error.details.get("field") or ""), message)

    def _fail(self, field: str, message: str) -> None:
        self.error_field = field
        self.error_text = message
        self.errors = [FieldError(field=field, message=message)]

    async def _refresh(self, caller: Caller) -> None:
        shown = await alerts.alerts_page(uow=caller.uow(), actor=caller.actor)
        self.can_raise, self.can_answer = shown.can_raise, shown.can_answer
        self.alert_rows = [
            _alert_card_row(a, caller.words, can_answer=shown.can_answer) for a in shown.alerts
        ]
        self.case_choices = [
            CaseOption(id=str(c.case_id), reference=c.reference) for c in shown.case_choices
        ]

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def acknowledge(self, caller: Caller, alert_id: str) -> None:
        words = caller.words
        try:
            alert = await alerts.acknowledge_alert(
                uow=caller.uow(), actor=caller.actor, alert_id=int(alert_id)
            )
        except (DomainError, ValueError) as error:
            self._fail(f"{ACTION_FIELD_PREFIX}{alert_id}", _problem(error, words))
        else:
            self.confirmation = words.gettext(
                "Alert for {reference} acknowledged.", reference=alert.case_reference
            )
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def record_action(self, caller: Caller, form: dict[str, Any]) -> None:
        words = caller.words
        alert_id = str(form.get("alert_id") or "")
        field = f"{ACTION_FIELD_PREFIX}{alert_id}"
        text = str(form.get("action_taken") or "").strip()
        if not text:
            self._fail(field, words.gettext(ENTER_ACTION))
            return
        try:
            alert = await alerts.record_alert_action(
                uow=caller.uow(), actor=caller.actor, alert_id=int(alert_id), action_taken=text
            )
        except (DomainError, ValueError) as error:
            self._fail(field, _problem(error, words))
        else:
            self.confirmation = words.gettext(
                "Action recorded for {reference}.", reference=alert.case_reference
            )
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def raise_alert(self, caller: Caller, form: dict[str, Any]) -> None:
        words = caller.words
        case_id = str(form.get("case_id") or "")
        if not case_id.isdigit():
            self._fail(RAISE_FIELD, words.gettext(CHOOSE_CASE))
            return
        already_open = {row.reference for row in self.alert_rows}
        try:
            alert = await alerts.raise_disruption_alert(
                uow=caller.uow(), actor=caller.actor, case_id=int(case_id)
            )
        except DomainError as error:
            self._fail(RAISE_FIELD, _problem(error, words))
        else:
            self.confirmation = _raised(alert.case_reference, already_open, words)
        await self._refresh(caller)


def _raised(reference: str, already_open: set[str], words: Translator) -> str:
    if reference in already_open:
        return words.gettext(
            "There is already an open disruption alert for {reference}.", reference=reference
        )
    return words.gettext(
        "Disruption alert raised for {reference}. The police fellows have been told.",
        reference=reference,
    )


def _problem(error: Exception, words: Translator) -> str:
    if isinstance(error, DomainError):
        return error_message(error, words)
    return words.gettext(ENTER_ACTION)


def _confirmation() -> rx.Component:
    return rx.cond(
        AlertsState.confirmation != "",
        rx.el.div(
            rx.el.p(AlertsState.confirmation, class_name="banner-text"),
            role="status",
            class_name="banner-success",
        ),
    )


def _action_form(row: rx.Var) -> rx.Component:
    field_id = row.field_id
    in_error = AlertsState.error_field == field_id
    return rx.el.form(
        rx.el.input(type="hidden", name="alert_id", value=row.id),
        rx.el.div(
            rx.el.label(_("What action was taken?"), html_for=field_id, class_name="label"),
            rx.el.div(
                _("A few words, for example: DVPN served. Do not write names."),
                id=field_id.to(str) + "-hint",
                class_name="hint",
            ),
            field_error(AlertsState.error_text, field_id.to(str) + "-error", in_error),
            rx.el.textarea(
                id=field_id,
                name="action_taken",
                rows=3,
                class_name=rx.cond(in_error, "input textarea input-error", "input textarea"),
                aria_describedby=rx.cond(
                    in_error,
                    field_id.to(str) + "-hint " + field_id.to(str) + "-error",
                    field_id.to(str) + "-hint",
                ),
            ),
            class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
        ),
        button(_("Record action taken"), type="submit"),
        on_submit=AlertsState.record_action,
        reset_on_submit=True,
        no_validate=True,
    )


def _alert_card(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(
            _("Disruption alert"),
            " · ",
            rx.el.span(row.reference, class_name="case-reference"),
            class_name="card-title",
        ),
        rx.el.p(row.raised, class_name="card-meta"),
        rx.el.p(row.status, class_name="card-meta"),
        rx.cond(
            row.can_acknowledge,
            rx.el.button(
                _("Acknowledge"),
                type="button",
                on_click=AlertsState.acknowledge(row.id),
                class_name="button button-secondary",
            ),
        ),
        rx.cond(row.can_act, _action_form(row)),
        class_name="card card-alert",
    )


def _raise_section() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Ask for disruption"), id="raise-heading", class_name="heading-m"),
        rx.cond(
            AlertsState.case_choices.length() > 0,  # type: ignore[attr-defined]
            rx.el.form(
                rx.el.div(
                    rx.el.label(_("Case"), html_for=RAISE_FIELD, class_name="label"),
                    rx.el.div(
                        _("The police fellows at the case's site are told at once."),
                        id=f"{RAISE_FIELD}-hint",
                        class_name="hint",
                    ),
                    field_error(
                        AlertsState.error_text,
                        f"{RAISE_FIELD}-error",
                        AlertsState.error_field == RAISE_FIELD,
                    ),
                    rx.el.select(
                        rx.el.option(_("Choose a case"), value=""),
                        rx.foreach(
                            AlertsState.case_choices,
                            lambda choice: rx.el.option(choice.reference, value=choice.id),
                        ),
                        id=RAISE_FIELD,
                        name="case_id",
                        class_name="input select",
                        aria_describedby=rx.cond(
                            AlertsState.error_field == RAISE_FIELD,
                            f"{RAISE_FIELD}-hint {RAISE_FIELD}-error",
                            f"{RAISE_FIELD}-hint",
                        ),
                    ),
                    class_name=rx.cond(
                        AlertsState.error_field == RAISE_FIELD,
                        "form-group form-group-error",
                        "form-group",
                    ),
                ),
                button(_("Disruption needed"), type="submit", variant="button-warning"),
                on_submit=AlertsState.raise_alert,
                no_validate=True,
            ),
            rx.el.p(_("You have no open cases to raise an alert for.")),
        ),
        aria_labelledby="raise-heading",
    )


def alerts_page() -> rx.Component:
    return page(
        _("Alerts"),
        error_summary(AlertsState.errors),
        _confirmation(),
        rx.el.h2(_("Open disruption alerts"), class_name="heading-m"),
        rx.cond(
            AlertsState.alert_rows.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(AlertsState.alert_rows, _alert_card), class_name="card-list"),
            rx.el.p(_("There are no open disruption alerts.")),
        ),
        rx.cond(AlertsState.can_raise, _raise_section()),
        on_language_change=[AlertsState.load],
    )
