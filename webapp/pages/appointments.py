"""Appointments: book, reschedule, cancel, and record what happened, then book the next one.

One address, one question at a time: the list (past appointments still waiting for an outcome
first, since they matter most, then the upcoming ones), and for each task its own short form
with its own heading, as a GOV.UK service would use separate pages. "Back" returns to the
list. ``?case=ID`` (the case page's "Book an appointment" link) opens the booking form with the
case chosen. After an outcome is recorded the page offers "Book the next appointment", filled
in for the same case, a week on at the same time.

Core decides everything (``core.services.appointments``), again on every press: who may book
on which case, which appointments may still change. The page only checks that what was typed
is a real date and time, in the future for a booking. Cards show a case reference, a time and
a kind of place: never a name or an address. Times are Europe/London, formatted by Babel.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.enums import AppointmentStatus, PlaceKind
from core.errors import AppointmentEndsBeforeStart, DomainError, NotFound, NotPermitted
from core.rules import is_ahead
from core.schemas.actor import Actor
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
)
from core.schemas.common import LONG_TEXT_MAX_LENGTH, text_problem
from core.services import appointments, caseload_lookup, cases
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import LABELS, label
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
from webapp.components.layout import MAIN_ID, page
from webapp.i18n import _, both_languages, translator
from webapp.state import AppState

LIST, BOOK, RESCHEDULE, CANCEL, OUTCOME = "list", "book", "reschedule", "cancel", "outcome"
DURATIONS = (30, 45, 60, 90)
DEFAULT_MINUTES = 60
MAX_CASE_RADIOS = 10  # more open cases than this: a drop-down list instead of radios
UPCOMING_DAYS = 90
MOMENT = "EEE d MMM yyyy, HH:mm"
OUTCOMES = (AppointmentStatus.ATTENDED, AppointmentStatus.DID_NOT_ATTEND)

MISSING_CASE = N_("Select the case the appointment is for")
BAD_WHEN = N_("Enter the date and time of the appointment, like 27/3/2025 and 14:30")
PAST_WHEN = N_("The date and time of the appointment must be in the future")
MISSING_PLACE = N_("Select where the appointment is")
MISSING_OUTCOME = N_("Select whether the appointment happened")
ALREADY_CHANGED = N_(
    "This appointment has already been changed. Check the list of appointments and try again."
)


def _minutes(appointment: AppointmentRead) -> int:
    return int((appointment.ends_at - appointment.starts_at).total_seconds() // 60)


def _row(appointment: AppointmentRead, words: Translator) -> dict[str, str]:
    """What one appointment card shows: strings only, so the browser gets nothing else."""
    local = words.local(appointment.starts_at)
    return {
        "id": str(appointment.id),
        "case_id": str(appointment.case_id),
        "reference": appointment.case_reference,
        "when": words.format_datetime(appointment.starts_at, MOMENT),
        "datetime": appointment.starts_at.isoformat(),
        "place": label(appointment.place_kind, words),
        "place_kind": appointment.place_kind.value,
        "length": words.gettext("{minutes} min", minutes=_minutes(appointment)),
        "minutes": str(_minutes(appointment)),
        "date": local.date().isoformat(),
        "time": local.strftime("%H:%M"),
    }


class AppointmentsState(AppState):
    loaded: bool = False
    not_found: bool = False
    view: str = LIST
    awaiting: list[dict[str, str]] = []  # started, still "scheduled": each needs an outcome
    upcoming: list[dict[str, str]] = []
    cases: list[dict[str, str]] = []  # {"id", "reference"}: the cases I may book on
    confirmation: str = ""
    chosen: dict[str, str] = {}  # the appointment being rescheduled, cancelled or answered
    # The open form (a new form_key re-mounts it with these defaults).
    form_key: str = ""
    selected_case: str = ""
    minutes: str = str(DEFAULT_MINUTES)
    place_kind: str = ""
    form_date: str = ""
    form_time: str = ""
    saving: bool = False
    errors: list[dict[str, str]] = []
    case_error: str = ""
    when_error: str = ""
    place_error: str = ""
    outcome_error: str = ""
    note_error: str = ""
    # After an outcome: the offer to book the next one on the same case.
    next_case_id: str = ""
    next_reference: str = ""
    _next_place: str = ""
    _next_minutes: str = ""
    _next_start: str = ""  # ISO, the appointment just answered

    @rx.var
    def case_field_id(self) -> str:
        """Where the error summary's link for the case goes: the first choice."""
        if len(self.cases) > MAX_CASE_RADIOS or not self.cases:
            return "case-select"
        return f"case-{self.cases[0]['id']}"

    @rx.var
    def many_cases(self) -> bool:
        return len(self.cases) > MAX_CASE_RADIOS

    # --- loading ---------------------------------------------------------------------------

    async def _refresh(self, actor: Actor) -> None:
        from webapp.backend import container

        app_container = container()
        words = translator(self.locale)
        now = app_container.clock.now()
        awaiting = await appointments.list_my_appointments_awaiting_outcome(
            uow=app_container.uow(), actor=actor
        )
        upcoming = await appointments.list_my_appointments(
            uow=app_container.uow(),
            actor=actor,
            starts_from=now,
            starts_before=now + timedelta(days=UPCOMING_DAYS),
        )
        self.awaiting = [_row(item, words) for item in awaiting]
        self.upcoming = [_row(item, words) for item in upcoming if item.starts_at > now]

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
        self._clear_messages()
        self.next_case_id = self.next_reference = ""
        await self._refresh(actor)
        self.view = LIST
        answering = self.router.url.query_parameters.get("outcome", "").strip()
        if answering:
            # From Today's "Record outcome": the form, if it still waits for one (answered
            # since, or not mine: the list, which says what is waiting).
            row = next((r for r in self.awaiting if r["id"] == answering), None)
            if row is not None:
                self._open_change(OUTCOME, row)
            self.loaded = True
            return None
        requested = self.router.url.query_parameters.get("case", "").strip()
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
            self._open_booking(case_id=requested)
        self.loaded = True
        return None

    @rx.event
    async def relabel(self) -> rx.event.EventSpec | None:
        """After a language switch: the same view, its dates and labels in the new language
        (``load`` would close an open form)."""
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        await self._refresh(actor)
        if self.chosen:
            self.chosen = self._find(self.chosen["id"]) or self.chosen
        return None

    # --- switching between the list and the forms --------------------------------------------

    def _clear_messages(self) -> None:
        self.errors = []
        self.case_error = self.when_error = self.place_error = ""
        self.outcome_error = self.note_error = ""
        self.confirmation = ""

    def _new_form(self, view: str) -> None:
        self._clear_messages()
        self.view = view
        self.form_key = uuid.uuid4().hex
        self.saving = False

    def _open_booking(
        self,
        *,
        case_id: str = "",
        place_kind: str = "",
        minutes: str = str(DEFAULT_MINUTES),
        day: str = "",
        at: str = "",
    ) -> None:
        only_case = self.cases[0]["id"] if len(self.cases) == 1 else ""
        self.selected_case = case_id or only_case
        self.place_kind = place_kind
        self.minutes = minutes if minutes in {str(m) for m in DURATIONS} else str(DEFAULT_MINUTES)
        self.form_date, self.form_time = day, at
        self.chosen = {}
        self._new_form(BOOK)

    def _find(self, appointment_id: str) -> dict[str, str] | None:
        for row in [*self.awaiting, *self.upcoming]:
            if row["id"] == appointment_id:
                return row
        return None

    @rx.event
    async def start_booking(self):  # type: ignore[no-untyped-def]
        if await self.actor() is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        self.next_case_id = self.next_reference = ""
        self._open_booking()
        yield focus(MAIN_ID, scroll=True)

    @rx.event
    async def book_next(self):  # type: ignore[no-untyped-def]
        """The booking form for the case whose outcome was just recorded: a week on, same time,
        same place and length (the next free week if that is already past)."""
        from webapp.backend import container

        if await self.actor() is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        day = at = ""
        if self._next_start:
            # A week on by the wall clock (the same local time across a clock change).
            now = words.local(container().clock.now())
            local = words.local(datetime.fromisoformat(self._next_start))
            week = 1
            while _at(local, week) <= now:
                week += 1
            start = _at(local, week)
            day, at = start.date().isoformat(), start.strftime("%H:%M")
        case_id = self.next_case_id
        self._open_booking(
            case_id=case_id if case_id in {c["id"] for c in self.cases} else "",
            place_kind=self._next_place,
            minutes=self._next_minutes,
            day=day,
            at=at,
        )
        self.next_case_id = self.next_reference = ""
        yield focus(MAIN_ID, scroll=True)

    @rx.event
    async def start_change(self, view: str, appointment_id: str):  # type: ignore[no-untyped-def]
        """Open the reschedule, cancel or outcome form for one appointment in the list."""
        if await self.actor() is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        row = self._find(appointment_id)
        if row is None or view not in (RESCHEDULE, CANCEL, OUTCOME):
            return
        self._open_change(view, row)
        yield focus(MAIN_ID, scroll=True)

    def _open_change(self, view: str, row: dict[str, str]) -> None:
        self.chosen = row
        self.place_kind = row["place_kind"]
        self.minutes = row["minutes"]
        self.form_date = self.form_time = ""
        self.next_case_id = self.next_reference = ""
        self._new_form(view)

    @rx.event
    async def back(self):  # type: ignore[no-untyped-def]
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        self._clear_messages()
        self.view = LIST
        self.form_key = ""
        await self._refresh(actor)
        yield focus(MAIN_ID, scroll=True)

    # --- the forms ---------------------------------------------------------------------------

    def _fresh_submit(self, form: dict[str, Any], view: str) -> bool:
        """False for a second tap on the button, or a form that is not the one showing."""
        return (
            not self.saving
            and self.view == view
            and bool(self.form_key)
            and form.get("form_key") == self.form_key
        )

    def _show(self, problems: dict[str, tuple[str, str]]) -> None:
        self.case_error = problems.get("case", ("", ""))[1]
        self.when_error = problems.get("when", ("", ""))[1]
        self.place_error = problems.get("place", ("", ""))[1]
        self.outcome_error = problems.get("outcome", ("", ""))[1]
        self.note_error = problems.get("note", ("", ""))[1]
        order = ("case", "when", "place", "outcome", "note")
        self.errors = [
            {"field": problems[kind][0], "message": problems[kind][1]}
            for kind in order
            if kind in problems
        ]

    def _when(
        self, form: dict[str, Any], words: Translator, problems: dict[str, tuple[str, str]]
    ) -> datetime | None:
        from webapp.backend import container

        self.form_date = str(form.get("appointment_date") or "")
        self.form_time = str(form.get("appointment_time") or "")
        starts_at = parse_local_datetime(self.form_date, self.form_time, words)
        if starts_at is None:
            problems["when"] = ("appointment_date", words.gettext(BAD_WHEN))
        elif not is_ahead(starts_at, container().clock.now()):
            problems["when"] = ("appointment_date", words.gettext(PAST_WHEN))
        return starts_at

    def _minutes_chosen(self, form: dict[str, Any]) -> int:
        self.minutes = str(form.get("minutes") or DEFAULT_MINUTES)
        return int(self.minutes) if self.minutes in {str(m) for m in DURATIONS} else DEFAULT_MINUTES

    def _place_chosen(
        self, form: dict[str, Any], words: Translator, problems: dict[str, tuple[str, str]]
    ) -> PlaceKind | None:
        self.place_kind = str(form.get("place_kind") or "")
        try:
            return PlaceKind(self.place_kind)
        except ValueError:
            problems["place"] = (f"place_kind-{_first_place()}", words.gettext(MISSING_PLACE))
            return None

    def _core_problem(self, error: DomainError, words: Translator) -> dict[str, tuple[str, str]]:
        if isinstance(error, AppointmentEndsBeforeStart) or error.details.get("field") in (
            "starts_at",
            "ends_at",
        ):
            return {"when": ("appointment_date", error_message(error, words))}
        if error.details.get("rule") == "not_scheduled":
            return {"when": ("appointment_date", words.gettext(ALREADY_CHANGED))}
        if self.view == BOOK:
            return {"case": (self.case_field_id, error_message(error, words))}
        if self.view == OUTCOME:
            return {"outcome": (f"status-{OUTCOMES[0].value}", error_message(error, words))}
        return {"when": ("appointment_date", error_message(error, words))}

    async def _finish(self, actor: Actor, message: str) -> None:
        self._clear_messages()
        self.confirmation = message
        self.view = LIST
        self.form_key = ""
        self.chosen = {}
        await self._refresh(actor)

    @rx.event
    async def book(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        if not self._fresh_submit(form, BOOK):
            return
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        problems: dict[str, tuple[str, str]] = {}
        self.selected_case = str(form.get("case") or "")
        chosen = {c["id"]: c["reference"] for c in self.cases}
        if self.selected_case not in chosen:
            problems["case"] = (self.case_field_id, words.gettext(MISSING_CASE))
        starts_at = self._when(form, words, problems)
        minutes = self._minutes_chosen(form)
        place = self._place_chosen(form, words, problems)
        if problems or starts_at is None or place is None:
            self._show(problems)
            yield focus("error-summary", scroll=True)
            return
        try:
            data = AppointmentCreate(
                case_id=int(self.selected_case),
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                place_kind=place,
            )
        except (ValueError, ValidationError):
            self._show({"case": (self.case_field_id, words.gettext(MISSING_CASE))})
            yield focus("error-summary", scroll=True)
            return
        self.saving = True
        yield  # the browser disables the button now
        try:
            booked = await appointments.book_appointment(
                uow=container().uow(), actor=actor, data=data
            )
        except DomainError as error:
            self._show(self._core_problem(error, words))
            yield focus("error-summary", scroll=True)
            return
        finally:
            self.saving = False
        await self._finish(
            actor,
            words.gettext(
                "Appointment booked for {reference} on {when}.",
                reference=booked.case_reference,
                when=words.format_datetime(booked.starts_at, MOMENT),
            ),
        )
        yield focus("confirmation", scroll=True)

    @rx.event
    async def reschedule(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        if not self._fresh_submit(form, RESCHEDULE) or not self.chosen:
            return
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        problems: dict[str, tuple[str, str]] = {}
        starts_at = self._when(form, words, problems)
        place = self._place_chosen(form, words, problems)
        if problems or starts_at is None or place is None:
            self._show(problems)
            yield focus("error-summary", scroll=True)
            return
        minutes = int(self.chosen["minutes"])
        data = AppointmentReschedule(
            starts_at=starts_at, ends_at=starts_at + timedelta(minutes=minutes), place_kind=place
        )
        self.saving = True
        yield
        try:
            moved = await appointments.reschedule_appointment(
                uow=container().uow(),
                actor=actor,
                appointment_id=int(self.chosen["id"]),
                data=data,
            )
        except DomainError as error:
            self._show(self._core_problem(error, words))
            yield focus("error-summary", scroll=True)
            return
        finally:
            self.saving = False
        await self._finish(
            actor,
            words.gettext(
                "Appointment for {reference} moved to {when}.",
                reference=moved.case_reference,
                when=words.format_datetime(moved.starts_at, MOMENT),
            ),
        )
        yield focus("confirmation", scroll=True)

    @rx.event
    async def cancel(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        if not self._fresh_submit(form, CANCEL) or not self.chosen:
            return
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        self.saving = True
        yield
        try:
            cancelled = await appointments.cancel_appointment(
                uow=container().uow(), actor=actor, appointment_id=int(self.chosen["id"])
            )
        except DomainError as error:
            message = (
                words.gettext(ALREADY_CHANGED)
                if error.details.get("rule") == "not_scheduled"
                else error_message(error, words)
            )
            self.errors = [{"field": "cancel-button", "message": message}]
            yield focus("error-summary", scroll=True)
            return
        finally:
            self.saving = False
        await self._finish(
            actor,
            words.gettext(
                "Appointment for {reference} on {when} cancelled.",
                reference=cancelled.case_reference,
                when=words.format_datetime(cancelled.starts_at, MOMENT),
            ),
        )
        yield focus("confirmation", scroll=True)

    @rx.event
    async def record_outcome(self, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        from webapp.backend import container

        if not self._fresh_submit(form, OUTCOME) or not self.chosen:
            return
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        words = translator(self.locale)
        problems: dict[str, tuple[str, str]] = {}
        answer = str(form.get("status") or "")
        status = next((s for s in OUTCOMES if s.value == answer), None)
        if status is None:
            problems["outcome"] = (f"status-{OUTCOMES[0].value}", words.gettext(MISSING_OUTCOME))
        note = str(form.get("note") or "")
        note_problem = text_problem(note, field="outcome")
        if note_problem is not None:
            problems["note"] = ("note", error_message(note_problem, words))
        note = note.strip()
        if problems or status is None:
            self._show(problems)
            yield focus("error-summary", scroll=True)
            return
        self.saving = True
        yield
        try:
            answered = await appointments.record_appointment_outcome(
                uow=container().uow(),
                actor=actor,
                appointment_id=int(self.chosen["id"]),
                data=AppointmentOutcome(status=status, outcome=note or None),
            )
        except DomainError as error:
            self._show(self._core_problem(error, words))
            yield focus("error-summary", scroll=True)
            return
        finally:
            self.saving = False
        await self._finish(
            actor,
            words.gettext(
                "Outcome recorded for {reference}: {outcome}.",
                reference=answered.case_reference,
                outcome=label(answered.status, words),
            ),
        )
        self.next_case_id = str(answered.case_id)
        self.next_reference = answered.case_reference
        self._next_place = answered.place_kind.value
        self._next_minutes = str(_minutes(answered))
        self._next_start = answered.starts_at.isoformat()
        yield focus("confirmation", scroll=True)


def _at(local: datetime, weeks: int) -> datetime:
    """``local`` moved on ``weeks`` weeks, at the same wall-clock time in the same zone."""
    day = local.date() + timedelta(weeks=weeks)
    return datetime.combine(day, local.time().replace(tzinfo=None), local.tzinfo)


def _first_place() -> str:
    return next(iter(PlaceKind)).value


# --- the parts of a form ----------------------------------------------------------------------


def _case_question() -> rx.Component:
    state = AppointmentsState
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
        aria_describedby=rx.cond(state.case_error != "", "case-error", ""),
    )
    return rx.cond(
        state.many_cases,
        rx.el.div(
            rx.el.label(
                _("Which case is the appointment for?"),
                html_for="case-select",
                class_name="label",
            ),
            field_error(state.case_error, "case-error"),
            select,
            class_name=group_class(state.case_error),
        ),
        fieldset(
            "case-legend",
            _("Which case is the appointment for?"),
            radios,
            error=state.case_error,
            error_id="case",
        ),
    )


def _when_question(legend: Any, hint: Any) -> rx.Component:
    state = AppointmentsState
    return rx.el.div(
        rx.el.fieldset(
            rx.el.legend(legend, class_name="fieldset-legend"),
            rx.el.div(hint, id="when-hint", class_name="hint"),
            field_error(state.when_error, "when-error"),
            rx.el.div(
                rx.el.div(
                    rx.el.label(_("Date"), html_for="appointment_date", class_name="label"),
                    rx.el.input(
                        type="date",
                        id="appointment_date",
                        name="appointment_date",
                        default_value=state.form_date,
                        class_name=rx.cond(
                            state.when_error != "",
                            "input input-date input-error",
                            "input input-date",
                        ),
                    ),
                    class_name="date-time-item",
                ),
                rx.el.div(
                    rx.el.label(_("Time"), html_for="appointment_time", class_name="label"),
                    rx.el.input(
                        type="time",
                        id="appointment_time",
                        name="appointment_time",
                        default_value=state.form_time,
                        class_name=rx.cond(
                            state.when_error != "",
                            "input input-time input-error",
                            "input input-time",
                        ),
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


def _length_question() -> rx.Component:
    state = AppointmentsState
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
    return fieldset("minutes-legend", _("How long will it be?"), items, inline=True)


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


def _back_button() -> rx.Component:
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
        _detail(_("Case reference"), chosen["reference"]),
        _detail(_("Date and time"), rx.el.time(chosen["when"], date_time=chosen["datetime"])),
        _detail(_("Place"), chosen["place"]),
        _detail(_("Length"), chosen["length"]),
        class_name="summary-list",
    )


def _detail(term: Any, value: Any) -> rx.Component:
    return rx.el.div(
        rx.el.dt(term, class_name="summary-key"),
        rx.el.dd(value, class_name="summary-value"),
        class_name="summary-row",
    )


# --- the forms --------------------------------------------------------------------------------


def _book_form() -> rx.Component:
    state = AppointmentsState
    return rx.el.form(
        _hidden_key(),
        _case_question(),
        _when_question(_("When is it?"), _("For example, 27/3/2025 and 14:30. Times are UK time.")),
        _length_question(),
        _place_question(),
        rx.el.div(
            _submit(_("Book appointment")),
            _back_button(),
            class_name="button-group",
        ),
        key=state.form_key,
        on_submit=state.book,
        no_validate=True,
    )


def _reschedule_form() -> rx.Component:
    state = AppointmentsState
    return rx.el.form(
        _hidden_key(),
        _chosen_summary(),
        _when_question(
            _("When is the new time?"),
            _("For example, 27/3/2025 and 14:30. It keeps the same length."),
        ),
        _place_question(),
        rx.el.div(
            _submit(_("Reschedule appointment")),
            _back_button(),
            class_name="button-group",
        ),
        key=state.form_key,
        on_submit=state.reschedule,
        no_validate=True,
    )


def _cancel_form() -> rx.Component:
    state = AppointmentsState
    return rx.el.form(
        _hidden_key(),
        _chosen_summary(),
        rx.el.p(_("The reminders for this appointment will not be sent.")),
        rx.el.div(
            _submit(_("Yes, cancel the appointment"), warning=True, element_id="cancel-button"),
            _back_button(),
            class_name="button-group",
        ),
        key=state.form_key,
        on_submit=state.cancel,
        no_validate=True,
    )


def _outcome_form() -> rx.Component:
    state = AppointmentsState
    count, recount = character_count("note", LONG_TEXT_MAX_LENGTH)
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
    return rx.el.form(
        _hidden_key(),
        _chosen_summary(),
        fieldset(
            "status-legend",
            _("Did the appointment happen?"),
            items,
            error=state.outcome_error,
            error_id="status",
        ),
        rx.el.div(
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
                rows=3,
                max_length=2 * LONG_TEXT_MAX_LENGTH,  # a stop to a megabyte's paste
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
        ),
        rx.el.div(
            _submit(_("Record outcome")),
            _back_button(),
            class_name="button-group",
        ),
        key=state.form_key,
        on_submit=state.record_outcome,
        no_validate=True,
    )


# --- the list ---------------------------------------------------------------------------------


def _card(row: rx.Var, *, awaiting: bool) -> rx.Component:
    state = AppointmentsState
    if awaiting:
        actions = [
            rx.el.button(
                _("Record outcome"),
                rx.el.span(" ", row["reference"], class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(OUTCOME, row["id"]),
                class_name="button",
            ),
        ]
    else:
        actions = [
            rx.el.button(
                _("Reschedule"),
                rx.el.span(" ", row["reference"], class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(RESCHEDULE, row["id"]),
                class_name="button button-secondary",
            ),
            rx.el.button(
                _("Cancel"),
                rx.el.span(" ", row["reference"], class_name="visually-hidden"),
                type="button",
                on_click=state.start_change(CANCEL, row["id"]),
                class_name="button button-secondary",
            ),
        ]
    return rx.el.li(
        rx.el.h3(
            rx.el.time(row["when"], date_time=row["datetime"]),
            class_name="card-title",
        ),
        rx.el.dl(
            rx.el.div(
                rx.el.dt(_("Case reference")),
                rx.el.dd(row["reference"], class_name="case-reference"),
                class_name="card-row",
            ),
            rx.el.div(rx.el.dt(_("Place")), rx.el.dd(row["place"]), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Length")), rx.el.dd(row["length"]), class_name="card-row"),
            class_name="card-details",
        ),
        rx.el.div(*actions, class_name="button-group card-actions"),
        key=row["id"],
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


def _booking_body() -> rx.Component:
    return rx.cond(
        AppointmentsState.cases.length() > 0,  # type: ignore[attr-defined]
        _book_form(),
        rx.fragment(
            rx.el.p(_("You have no open cases to book an appointment for.")),
            _back_button(),
        ),
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
                    (BOOK, _booking_body()),
                    (RESCHEDULE, _reschedule_form()),
                    (CANCEL, _cancel_form()),
                    (OUTCOME, _outcome_form()),
                    _list(),
                ),
            ),
            rx.el.p(_("Loading…"), role="status", class_name="hint"),
        ),
    )
    return page(
        title,
        rx.el.div(body, class_name="appointments-page"),
        on_language_change=[state.relabel],
    )
