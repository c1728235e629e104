"""The log-contact page's state: the form's defaults, reading it, saving it, the alert.

A double tap on Save logs one contact: every rendering of the form carries a one-time key,
and Reflex runs one event at a time per browser tab, so the second submit finds the key
already used and changes nothing; the button is also disabled while saving.
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx

from core.enums import WorkCategory
from core.errors import DomainError
from core.schemas.contacts import ContactCreate
from core.services import alerts, contacts
from ui.errors import error_message
from ui.i18n import Translator
from webapp import routes
from webapp.components.device_caseload import for_device
from webapp.components.forms import FieldError, date_parts, focus
from webapp.handlers import Caller, signed_in
from webapp.pages.case_options import CaseChoice
from webapp.pages.log_contact.form import (
    DEFAULT_CONTACT_TYPE,
    DEFAULT_MINUTES,
    QUESTIONS,
    Problems,
    client_key_of,
    problem_of,
    read_contact_form,
)
from webapp.state import AppState


class LogContactState(CaseChoice, AppState):
    loaded: bool = False
    # My open cases for the device's copy (ids and references: webapp.components.device_caseload).
    device_caseload: str = "[]"
    # The form's defaults (re-applied by a new form_key, which re-mounts the form).
    form_key: str = ""
    contact_type: str = DEFAULT_CONTACT_TYPE.value
    minutes: str = str(DEFAULT_MINUTES)
    contact_date: list[str] = ["", "", ""]  # day, month, year
    contact_time: str = ""
    saving: bool = False
    errors: list[FieldError] = []
    category_error: str = ""
    when_error: str = ""
    note_error: str = ""
    # The confirmation after saving.
    saved_reference: str = ""
    saved_summary: str = ""
    saved_case_href: str = ""
    saved_disruption: bool = False
    alert_message: str = ""
    _saved_case_id: int = 0
    _requested_case: str = ""

    def _clear_messages(self) -> None:
        """Each handler changes the messages itself: a second tap on Save must not touch the
        confirmation the first one led to."""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Core's refusal (a date out of the case's life, a closed case, not mine) against the
        question it is about (the case, by default)."""
        self.saving = False
        return self._show(self._problem(message, error))

    def _fresh_form(self, caller: Caller) -> None:
        """Defaults for a new log: now, the last type and length used, the requested case."""
        now = caller.words.local(caller.container.clock.now())
        self.contact_date = list(date_parts(now.date()))
        self.contact_time = now.strftime("%H:%M")
        only_case = self.cases[0].id if len(self.cases) == 1 else ""
        self.selected_case = self._requested_case or only_case
        self.form_key = uuid.uuid4().hex
        self.errors = []
        self.case_error = self.category_error = self.when_error = self.note_error = ""
        self.saved_reference = self.saved_summary = self.saved_case_href = ""
        self.saved_disruption = False
        self.alert_message = ""
        self._saved_case_id = 0

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.loaded = False
        requested = self.router.url.query_parameters.get("case", "").strip()
        if not await self._load_cases(caller, requested):
            return
        self._requested_case = requested
        self.device_caseload = for_device((c.id, c.reference) for c in self.cases if c.mine)
        self._fresh_form(caller)
        self.loaded = True

    def _read_form(
        self, form: dict[str, Any], words: Translator, problems: Problems
    ) -> ContactCreate | None:
        """The contact the form describes, or None (``problems`` says why). Keeps the case,
        type and length entered, for when the form is shown again."""
        self.selected_case = str(form.get("case") or "")
        self.contact_type = str(form.get("contact_type") or DEFAULT_CONTACT_TYPE.value)
        self.minutes = str(form.get("minutes") or DEFAULT_MINUTES)
        return read_contact_form(
            form,
            words,
            problems,
            case_ids={c.id for c in self.cases},
            case_field_id=self.case_field_id,
        )

    @rx.event
    @signed_in
    async def submit(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if self.saving or form.get("form_key") != self.form_key or not self.form_key:
            return  # a second tap on Save, or an old form: already handled
        problems: Problems = {}
        data = self._read_form(form, caller.words, problems)
        if data is None:
            yield self._show(problems)
            return
        self.saving = True
        yield  # the browser disables Save now
        await contacts.log_contact(
            uow=caller.uow(), actor=caller.actor, data=data, client_key=client_key_of(form)
        )
        self._saved(data, caller.words)
        yield focus("confirmation")

    def _saved(self, data: ContactCreate, words: Translator) -> None:
        """The confirmation of ``data``, just logged."""
        self.saving = False
        self.form_key = ""  # this form is used up: a second submit of it does nothing
        self.errors = []
        reference = next(c.reference for c in self.cases if c.id == str(data.case_id))
        self._saved_case_id = data.case_id
        self.saved_reference = reference
        self.saved_summary = words.gettext(
            "Logged {minutes} min contact on {reference}.",
            minutes=data.duration_minutes,
            reference=reference,
        )
        self.saved_case_href = routes.case_path(data.case_id)
        self.saved_disruption = WorkCategory.DISRUPTION in data.categories

    def _problem(self, message: str, error: DomainError) -> Problems:
        """Core's refusal as a problem with the question it is about (the case, by default)."""
        return problem_of(error, message, self.case_field_id)

    def _show(self, problems: Problems) -> rx.event.EventSpec:
        """Each problem under its question and in the summary; focus the summary."""
        self.case_error = problems.get("case", ("", ""))[1]
        self.category_error = problems.get("category", ("", ""))[1]
        self.when_error = problems.get("when", ("", ""))[1]
        self.note_error = problems.get("note", ("", ""))[1]
        self.errors = [FieldError(*problems[kind]) for kind in QUESTIONS if kind in problems]
        return focus("error-summary")

    @rx.event
    @signed_in
    async def raise_alert(self, caller: Caller) -> None:
        """Ask the site's police fellows for disruption on the case just logged."""
        if not self._saved_case_id or self.alert_message:
            return  # nothing logged, or already raised (core also raises only one)
        try:
            alert = await alerts.raise_disruption_alert(
                uow=caller.uow(), actor=caller.actor, case_id=self._saved_case_id
            )
        except DomainError as error:  # shown beside the button, not in the form's summary
            self.alert_message = error_message(error, caller.words)
            return
        self.alert_message = caller.words.gettext(
            "Disruption alert raised on {reference}. The site's police Drive Fellows will be told.",
            reference=alert.case_reference,
        )

    @rx.event
    @signed_in
    async def log_another(self, caller: Caller) -> rx.event.EventSpec:
        self._fresh_form(caller)
        return focus("case-legend")
