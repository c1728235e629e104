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
"""

from __future__ import annotations

import uuid
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.enums import ContactType, WorkCategory
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.common import LONG_TEXT_MAX_LENGTH, input_error, text_problem
from core.schemas.contacts import ContactCreate
from core.services import alerts, caseload_lookup, cases, contacts
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import LABELS
from webapp import routes
from webapp.components.forms import (
    character_count,
    error_summary,
    field_error,
    fieldset,
    focus,
    group_class,
    parse_local_datetime,
    radio,
)
from webapp.components.layout import page
from webapp.i18n import _, both_languages, translator
from webapp.state import AppState

DURATIONS = (15, 30, 45, 60, 90)  # the bot's presets
DEFAULT_MINUTES = 30
DEFAULT_CONTACT_TYPE = ContactType.FACE_TO_FACE
_DURATION_ANSWERS = frozenset(str(minutes) for minutes in DURATIONS)
MAX_CASE_RADIOS = 10  # more open cases than this: a drop-down list instead of radios

MISSING_CASE = N_("Select the case this contact is on")
MISSING_CATEGORY = N_("Select at least one kind of work")
BAD_WHEN = N_("Enter the date and time of the contact, like 27/3/2025 and 14:30")
# Core's refusals, by the field they name: which question on this form shows the message.
_QUESTION_OF_FIELD = {"occurred_at": "when", "notes": "note"}


class LogContactState(AppState):
    cases: list[dict[str, str]] = []  # {"id", "reference"}: my open cases, by reference
    loaded: bool = False
    not_found: bool = False
    # The form's defaults (re-applied by a new form_key, which re-mounts the form).
    form_key: str = ""
    selected_case: str = ""
    contact_type: str = DEFAULT_CONTACT_TYPE.value
    minutes: str = str(DEFAULT_MINUTES)
    contact_date: str = ""
    contact_time: str = ""
    saving: bool = False
    errors: list[dict[str, str]] = []
    case_error: str = ""
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

    @rx.var
    def case_field_id(self) -> str:
        """Where the error summary's link for the case goes: the first choice."""
        if len(self.cases) > MAX_CASE_RADIOS or not self.cases:
            return "case-select"
        return f"case-{self.cases[0]['id']}"

    @rx.var
    def many_cases(self) -> bool:
        return len(self.cases) > MAX_CASE_RADIOS

    def _fresh_form(self) -> None:
        """Defaults for a new log: now, the last type and length used, the requested case."""
        from webapp.backend import container

        words = translator(self.locale)
        now = words.local(container().clock.now())
        self.contact_date = now.date().isoformat()
        self.contact_time = now.strftime("%H:%M")
        only_case = self.cases[0]["id"] if len(self.cases) == 1 else ""
        self.selected_case = self._requested_case or only_case
        self.form_key = uuid.uuid4().hex
        self.errors = []
        self.case_error = self.category_error = self.when_error = self.note_error = ""
        self.saved_reference = self.saved_summary = self.saved_case_href = ""
        self.saved_disruption = False
        self.alert_message = ""
        self._saved_case_id = 0

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        from webapp.backend import container

        self.loaded = False
        self.not_found = False
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        choices = await caseload_lookup.my_open_case_choices(uow=container().uow(), actor=actor)
        self.cases = [{"id": str(c.case_id), "reference": c.reference} for c in choices]
        requested = self.router.url.query_parameters.get("case", "").strip()
        self._requested_case = ""
        if requested:
            if not requested.isdigit():
                self.not_found = True
                return None
            if requested not in {c["id"] for c in self.cases}:
                # Not on my caseload (a service manager's case at their site, say): core says
                # whether I may see it; anything I may not see looks like nothing at all.
                try:
                    case = await cases.get_case(
                        uow=container().uow(), actor=actor, case_id=int(requested)
                    )
                except (NotFound, NotPermitted):
                    self.not_found = True
                    return None
                self.cases = [{"id": str(case.id), "reference": case.reference}, *self.cases]
            self._requested_case = requested
        self._fresh_form()
        self.loaded = True
        return None

    @rx.event
    async def submit(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        if self.saving or form.get("form_key") != self.form_key or not self.form_key:
            return  # a second tap on Save, or an old form: already handled
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        case_id = str(form.get("case") or "")
        chosen = {c["id"]: c["reference"] for c in self.cases}
        categories = frozenset(
            member for member in WorkCategory if form.get(f"category-{member.value}")
        )
        contact_type = str(form.get("contact_type") or DEFAULT_CONTACT_TYPE.value)
        minutes = str(form.get("minutes") or DEFAULT_MINUTES)
        occurred_at = parse_local_datetime(
            str(form.get("contact_date") or ""), str(form.get("contact_time") or ""), words
        )
        note = str(form.get("note") or "")
        note_problem = text_problem(note, field="notes")
        note = note.strip()
        problems: dict[str, tuple[str, str]] = {}  # kind -> (field id, message)
        if case_id not in chosen:
            problems["case"] = (self.case_field_id, words.gettext(MISSING_CASE))
        if not categories:
            problems["category"] = (
                f"category-{WorkCategory.DISRUPTION.value}",
                words.gettext(MISSING_CATEGORY),
            )
        if occurred_at is None:
            problems["when"] = ("contact_date", words.gettext(BAD_WHEN))
        if note_problem is not None:
            problems["note"] = ("note", error_message(note_problem, words))
        # Keep what was entered when the form is shown again.
        self.selected_case = case_id
        self.contact_type = contact_type
        self.minutes = minutes
        if problems:
            self._show(problems)
            yield focus("error-summary")
            return
        assert occurred_at is not None
        try:
            data = ContactCreate(
                case_id=int(case_id),
                occurred_at=occurred_at,
                contact_type=contact_type,  # checked by the model
                duration_minutes=minutes if minutes in _DURATION_ANSWERS else DEFAULT_MINUTES,
                categories=categories,
                notes=note or None,
            )
        except ValidationError as invalid:
            self._show(self._problem(input_error(invalid), words))
            yield focus("error-summary")
            return
        self.saving = True
        yield  # the browser disables Save now
        try:
            await contacts.log_contact(uow=container().uow(), actor=actor, data=data)
        except DomainError as error:  # a date out of the case's life, a closed case, not mine
            self._show(self._problem(error, words))
            yield focus("error-summary")
            return
        finally:
            self.saving = False
        self.form_key = ""  # this form is used up: a second submit of it does nothing
        self.errors = []
        self._saved_case_id = int(case_id)
        self.saved_reference = chosen[case_id]
        self.saved_summary = words.gettext(
            "Logged {minutes} min contact on {reference}.",
            minutes=data.duration_minutes,
            reference=chosen[case_id],
        )
        self.saved_case_href = routes.case_path(int(case_id))
        self.saved_disruption = WorkCategory.DISRUPTION in categories
        yield focus("confirmation")

    def _problem(self, error: DomainError, words: Translator) -> dict[str, tuple[str, str]]:
        """Core's refusal as a problem with the question it is about (the case, by default)."""
        question = _QUESTION_OF_FIELD.get(str(error.details.get("field")), "case")
        field_id = {"when": "contact_date", "note": "note"}.get(question, self.case_field_id)
        return {question: (field_id, error_message(error, words))}

    def _show(self, problems: dict[str, tuple[str, str]]) -> None:
        self.case_error = problems.get("case", ("", ""))[1]
        self.category_error = problems.get("category", ("", ""))[1]
        self.when_error = problems.get("when", ("", ""))[1]
        self.note_error = problems.get("note", ("", ""))[1]
        order = ("case", "category", "when", "note")
        self.errors = [
            {"field": problems[kind][0], "message": problems[kind][1]}
            for kind in order
            if kind in problems
        ]

    @rx.event
    async def raise_alert(self) -> rx.event.EventSpec | None:
        """Ask the site's police fellows for disruption on the case just logged."""
        from webapp.backend import container

        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        if not self._saved_case_id or self.alert_message:
            return None  # nothing logged, or already raised (core also raises only one)
        words = translator(self.locale)
        try:
            alert = await alerts.raise_disruption_alert(
                uow=container().uow(), actor=actor, case_id=self._saved_case_id
            )
        except DomainError as error:
            self.alert_message = error_message(error, words)
            return None
        self.alert_message = words.gettext(
            "Disruption alert raised on {reference}. The site's police Drive Fellows will be told.",
            reference=alert.case_reference,
        )
        return None

    @rx.event
    async def log_another(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self._fresh_form()
        return focus("case-legend")


# --- the form ---------------------------------------------------------------------------------


def _case_question() -> rx.Component:
    state = LogContactState
    radios = rx.foreach(
        state.cases,
        lambda case: radio(
            "case",
            case["id"],
            case["reference"],
            "case-" + case["id"],
            case["id"] == state.selected_case,
        ),
    )
    select = rx.el.select(
        rx.el.option(_("Choose a case"), value=""),
        rx.foreach(state.cases, lambda case: rx.el.option(case["reference"], value=case["id"])),
        # Not id="case": Reflex's form would read the (unmounted) select over the radios.
        id="case-select",
        name="case",
        default_value=state.selected_case,
        class_name="select",
    )
    return rx.cond(
        state.many_cases,
        rx.el.div(
            rx.el.label(
                _("Which case is this contact on?"),
                html_for="case-select",
                id="case-legend",
                class_name="label",
                tab_index=-1,
            ),
            field_error(state.case_error, "case-error"),
            select,
            class_name=group_class(state.case_error),
        ),
        fieldset(
            "case-legend",
            _("Which case is this contact on?"),
            radios,
            error=state.case_error,
            error_id="case",
        ),
    )


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


def _duration_question() -> rx.Component:
    state = LogContactState
    items = [
        radio(
            "minutes",
            str(minutes),
            both_languages("{minutes} min", minutes=minutes),
            f"minutes-{minutes}",
            state.minutes == str(minutes),
        )
        for minutes in DURATIONS
    ]
    return fieldset("minutes-legend", _("How long did it take?"), *items, inline=True)


def _when_question() -> rx.Component:
    state = LogContactState
    return rx.el.div(
        rx.el.fieldset(
            rx.el.legend(_("When was it?"), class_name="fieldset-legend"),
            rx.el.div(_("Now, unless you change it."), id="when-hint", class_name="hint"),
            field_error(state.when_error, "when-error"),
            rx.el.div(
                rx.el.div(
                    rx.el.label(_("Date"), html_for="contact_date", class_name="label"),
                    rx.el.input(
                        type="date",
                        id="contact_date",
                        name="contact_date",
                        default_value=state.contact_date,
                        class_name="input input-date",
                    ),
                    class_name="date-time-item",
                ),
                rx.el.div(
                    rx.el.label(_("Time"), html_for="contact_time", class_name="label"),
                    rx.el.input(
                        type="time",
                        id="contact_time",
                        name="contact_time",
                        default_value=state.contact_time,
                        class_name="input input-time",
                    ),
                    class_name="date-time-item",
                ),
                class_name="date-time",
            ),
            class_name="fieldset",
            aria_describedby=rx.cond(state.when_error != "", "when-hint when-error", "when-hint"),
        ),
        class_name=group_class(state.when_error),
    )


def _note_question() -> rx.Component:
    state = LogContactState
    count, recount = character_count("note", LONG_TEXT_MAX_LENGTH)
    return rx.el.div(
        rx.el.label(_("Note (optional)"), html_for="note", class_name="label"),
        rx.el.div(
            _("What happened and what comes next. No victim's name or address."),
            id="note-hint",
            class_name="hint",
        ),
        field_error(state.note_error, "note-error"),
        rx.el.textarea(
            id="note",
            name="note",
            rows=4,
            # Not the limit itself (the count shows it, and core refuses more), but a stop to
            # a paste of a megabyte, which no browser could send to the server.
            max_length=2 * LONG_TEXT_MAX_LENGTH,
            class_name=rx.cond(state.note_error != "", "textarea textarea-error", "textarea"),
            aria_describedby=rx.cond(
                state.note_error != "",
                "note-hint note-error note-count-hint",
                "note-hint note-count-hint",
            ),
            on_change=recount,
        ),
        count,
        class_name=group_class(state.note_error),
    )


def _form() -> rx.Component:
    state = LogContactState
    return rx.el.form(
        rx.el.input(type="hidden", name="form_key", value=state.form_key),
        _case_question(),
        _category_question(),
        _contact_type_question(),
        _duration_question(),
        _when_question(),
        _note_question(),
        rx.el.button(
            rx.cond(state.saving, _("Saving…"), _("Save contact")),
            type="submit",
            disabled=state.saving | ~rx.State.is_hydrated,
            aria_disabled=state.saving,
            class_name="button",
        ),
        key=state.form_key,
        on_submit=state.submit,
        no_validate=True,
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
            rx.el.p(_("Loading…"), class_name="hint"),
        ),
    )
    return page(
        rx.cond(state.not_found, _("Page not found"), _("Log a contact")),
        rx.el.div(body, class_name="log-contact"),
    )
