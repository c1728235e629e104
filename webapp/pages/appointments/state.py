"""The appointments page's state: the lists, the open form, and one handler per press.

Core decides everything (``core.services.appointments``), again on every press: who may book
on which case, which appointments may still change. The page only checks that what was typed
is a real date and time, in the future for a booking.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any

import reflex as rx

from core.errors import AppointmentEndsBeforeStart, DomainError
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentReschedule,
)
from core.services import appointments
from ui.labels import label
from webapp.components.forms import (
    DATE_PARTS,
    FieldError,
    date_parts,
    focus,
)
from webapp.components.layout import MAIN_ID
from webapp.handlers import Caller, signed_in
from webapp.i18n import translator
from webapp.pages.appointments.booking import read_booking_form, read_minutes, read_place, read_when
from webapp.pages.appointments.clash import BookingClash
from webapp.pages.appointments.outcome import read_outcome_form
from webapp.pages.appointments.rows import (
    ALREADY_CHANGED,
    BOOK,
    CANCEL,
    DEFAULT_MINUTES,
    DURATIONS,
    LIST,
    MOMENT,
    NO_APPOINTMENT,
    OUTCOME,
    OUTCOMES,
    RESCHEDULE,
    UPCOMING_DAYS,
    AppointmentRow,
    NextBooking,
    appointment_row,
    next_booking,
    next_free_week,
)
from webapp.pages.case_options import CaseChoice
from webapp.pages.log_contact.form import client_key_of
from webapp.state import AppState

# What went wrong, by question: (the id of the field the summary links to, the message).
Problems = dict[str, tuple[str, str]]
QUESTIONS = ("case", "when", "place", "outcome", "note")


class AppointmentsState(BookingClash, CaseChoice, AppState):
    loaded: bool = False
    view: str = LIST
    awaiting: list[AppointmentRow] = []  # started, still "scheduled": each needs an outcome
    upcoming: list[AppointmentRow] = []
    confirmation: str = ""
    chosen: AppointmentRow = NO_APPOINTMENT  # the appointment being changed or answered
    # The open form (a new form_key re-mounts it with these defaults).
    form_key: str = ""
    minutes: str = str(DEFAULT_MINUTES)
    place_kind: str = ""
    form_date: list[str] = ["", "", ""]  # day, month, year
    form_time: str = ""
    saving: bool = False
    errors: list[FieldError] = []
    when_error: str = ""
    place_error: str = ""
    outcome_error: str = ""
    note_error: str = ""
    # After an outcome: the offer to book the next one on the same case.
    next_case_id: str = ""
    next_reference: str = ""
    _next: NextBooking = NextBooking()

    # --- hooks of ``signed_in`` -----------------------------------------------------------------

    def _clear_messages(self) -> None:
        """Each handler drops the old messages itself, when it changes what shows: a second
        tap on a button whose form has gone must not wipe the confirmation it led to."""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec:
        """Core refused a change: its reason against the question it is about."""
        self.saving = False
        if self.view == CANCEL:
            self.errors = [FieldError("cancel-button", self._refusal(message, error))]
        else:
            self._show(self._core_problem(message, error))
        return focus("error-summary", scroll=True)

    def _refusal(self, message: str, error: DomainError) -> str:
        if error.details.get("rule") == "not_scheduled":
            return translator(self.locale).gettext(ALREADY_CHANGED)
        return message

    def _core_problem(self, message: str, error: DomainError) -> Problems:
        if isinstance(error, AppointmentEndsBeforeStart) or error.details.get("field") in (
            "starts_at",
            "ends_at",
        ):
            return {"when": ("appointment_date", message)}
        if error.details.get("rule") == "not_scheduled":
            return {"when": ("appointment_date", self._refusal(message, error))}
        if self.view == BOOK:
            return {"case": (self.case_field_id, message)}
        if self.view == OUTCOME:
            return {"outcome": (f"status-{OUTCOMES[0].value}", message)}
        return {"when": ("appointment_date", message)}

    def _drop_messages(self) -> None:
        self.errors = []
        self.case_error = self.when_error = self.place_error = ""
        self.outcome_error = self.note_error = ""
        self.confirmation = ""
        self._drop_clash()

    # --- loading ---------------------------------------------------------------------------

    async def _refresh(self, caller: Caller) -> None:
        lists = await appointments.my_appointment_lists(
            uow=caller.uow(), actor=caller.actor, upcoming_days=UPCOMING_DAYS
        )
        self.awaiting = [appointment_row(item, caller.words) for item in lists.awaiting]
        self.upcoming = [appointment_row(item, caller.words) for item in lists.upcoming]

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.loaded = False
        query = self.router.url.query_parameters
        answering = query.get("outcome", "").strip()
        requested = "" if answering else query.get("case", "").strip()
        if not await self._load_cases(caller, requested):
            return
        self._drop_messages()
        self.next_case_id = self.next_reference = ""
        await self._refresh(caller)
        self.view = LIST
        # From Today's "Record outcome": the form, if it still waits for one (answered since,
        # or not mine: the list, which says what is waiting).
        row = self._find_awaiting(answering)
        if row is not None:
            self._open_change(OUTCOME, row)
        elif requested:
            self._open_booking(case_id=requested)
        self.loaded = True

    @rx.event
    @signed_in
    async def relabel(self, caller: Caller) -> None:
        """After a language switch: the same view, its dates and labels in the new language
        (``load`` would close an open form)."""
        await self._refresh(caller)
        if self.chosen.id:
            self.chosen = self._find(self.chosen.id) or self.chosen

    # --- switching between the list and the forms --------------------------------------------

    def _new_form(self, view: str) -> None:
        self._drop_messages()
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
        only_case = self.cases[0].id if len(self.cases) == 1 else ""
        self.selected_case = case_id or only_case
        self.place_kind = place_kind
        self.minutes = minutes if minutes in {str(m) for m in DURATIONS} else str(DEFAULT_MINUTES)
        self.form_date = list(date_parts(date.fromisoformat(day) if day else None))
        self.form_time = at
        self.chosen = NO_APPOINTMENT
        self._new_form(BOOK)

    def _find_awaiting(self, appointment_id: str) -> AppointmentRow | None:
        return next((r for r in self.awaiting if appointment_id and r.id == appointment_id), None)

    def _find(self, appointment_id: str) -> AppointmentRow | None:
        return next((r for r in [*self.awaiting, *self.upcoming] if r.id == appointment_id), None)

    @rx.event
    @signed_in
    async def start_booking(self, caller: Caller):  # type: ignore[no-untyped-def]
        self.next_case_id = self.next_reference = ""
        self._open_booking()
        yield focus(MAIN_ID, scroll=True)

    @rx.event
    @signed_in
    async def book_next(self, caller: Caller):  # type: ignore[no-untyped-def]
        """The booking form for the case whose outcome was just recorded: a week on, same time,
        same place and length (the next free week if that is already past)."""
        last = self._next
        day, at = ("", "")
        if last.start:
            day, at = next_free_week(last.start, caller.container.clock.now(), caller.words)
        self._open_booking(
            case_id=last.case_id if last.case_id in {c.id for c in self.cases} else "",
            place_kind=last.place_kind,
            minutes=last.minutes,
            day=day,
            at=at,
        )
        self.next_case_id = self.next_reference = ""
        yield focus(MAIN_ID, scroll=True)

    @rx.event
    @signed_in
    async def start_change(self, caller: Caller, view: str, appointment_id: str):  # type: ignore[no-untyped-def]
        """Open the reschedule, cancel or outcome form for one appointment in the list."""
        row = self._find(appointment_id)
        if row is None or view not in (RESCHEDULE, CANCEL, OUTCOME):
            return
        self._open_change(view, row)
        yield focus(MAIN_ID, scroll=True)

    def _open_change(self, view: str, row: AppointmentRow) -> None:
        self.chosen = row
        self.place_kind = row.place_kind
        self.minutes = row.minutes
        self.form_date = ["", "", ""]
        self.form_time = ""
        self.next_case_id = self.next_reference = ""
        self._new_form(view)

    @rx.event
    @signed_in
    async def back(self, caller: Caller):  # type: ignore[no-untyped-def]
        self._drop_messages()
        self.view = LIST
        self.form_key = ""
        await self._refresh(caller)
        yield focus(MAIN_ID, scroll=True)

    # --- reading the forms -------------------------------------------------------------------

    def _fresh_submit(self, form: dict[str, Any], view: str) -> bool:
        """False for a second tap on the button, or a form that is not the one showing."""
        return (
            not self.saving
            and self.view == view
            and bool(self.form_key)
            and form.get("form_key") == self.form_key
            and (view == BOOK or bool(self.chosen.id))
        )

    def _show(self, problems: Problems) -> rx.event.EventSpec:
        """Each problem under its question and in the summary; focus the summary."""
        self.case_error = problems.get("case", ("", ""))[1]
        self.when_error = problems.get("when", ("", ""))[1]
        self.place_error = problems.get("place", ("", ""))[1]
        self.outcome_error = problems.get("outcome", ("", ""))[1]
        self.note_error = problems.get("note", ("", ""))[1]
        self.errors = [FieldError(*problems[kind]) for kind in QUESTIONS if kind in problems]
        return focus("error-summary", scroll=True)

    def _when(self, form: dict[str, Any], caller: Caller, problems: Problems) -> datetime | None:
        self._keep_typed(form)
        return read_when(form, caller.words, problems, caller.container.clock.now())

    def _keep_typed(self, form: dict[str, Any]) -> None:
        """What was typed stays in the form when it is shown again with its problems."""
        self.form_date = [
            str(form.get(f"appointment_date_{part}") or "") for part, *_ in DATE_PARTS
        ]
        self.form_time = str(form.get("appointment_time") or "")
        if "minutes" in form:  # the booking form's; a reschedule keeps the appointment's length
            self.minutes = str(read_minutes(form))
        self.place_kind = str(form.get("place_kind") or "")

    def _booking(
        self, form: dict[str, Any], caller: Caller, problems: Problems
    ) -> AppointmentCreate | None:
        """The booking the form asks for, or None (``problems`` says why)."""
        self._keep_typed(form)
        self.selected_case = str(form.get("case") or "")
        return read_booking_form(
            form,
            caller.words,
            problems,
            now=caller.container.clock.now(),
            case_ids={c.id for c in self.cases},
            case_field_id=self.case_field_id,
        )

    def _move(
        self, form: dict[str, Any], caller: Caller, problems: Problems
    ) -> AppointmentReschedule | None:
        """The new time and place the form asks for, or None (``problems`` says why)."""
        starts_at = self._when(form, caller, problems)
        place = read_place(form, caller.words, problems)
        if problems or starts_at is None or place is None:
            return None
        ends_at = starts_at + timedelta(minutes=int(self.chosen.minutes))
        return AppointmentReschedule(starts_at=starts_at, ends_at=ends_at, place_kind=place)

    async def _finish(self, caller: Caller, message: str) -> rx.event.EventSpec:
        self.saving = False
        self._drop_messages()
        self.confirmation = message
        self.view = LIST
        self.form_key = ""
        self.chosen = NO_APPOINTMENT
        await self._refresh(caller)
        return focus("confirmation", scroll=True)

    # --- the presses -------------------------------------------------------------------------

    @rx.event
    @signed_in
    async def book(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh_submit(form, BOOK):
            return
        self._drop_clash()
        problems: Problems = {}
        data = self._booking(form, caller, problems)
        if data is None:
            yield self._show(problems)
            return
        self.saving = True
        yield  # the browser disables the button now
        # Or the warning of a clash (``clash``). The form's key books it once, however sent.
        yield await self._book(caller, data, client_key=client_key_of(form))

    @rx.event
    @signed_in
    async def reschedule(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh_submit(form, RESCHEDULE):
            return
        problems: Problems = {}
        data = self._move(form, caller, problems)
        if data is None:
            yield self._show(problems)
            return
        self.saving = True
        yield
        moved = await appointments.reschedule_appointment(
            uow=caller.uow(), actor=caller.actor, appointment_id=int(self.chosen.id), data=data
        )
        said = caller.words.gettext(
            "Appointment for {reference} moved to {when}.",
            reference=moved.case_reference,
            when=caller.words.format_datetime(moved.starts_at, MOMENT),
        )
        yield await self._finish(caller, said)

    @rx.event
    @signed_in
    async def cancel(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh_submit(form, CANCEL):
            return
        self.saving = True
        yield
        cancelled = await appointments.cancel_appointment(
            uow=caller.uow(), actor=caller.actor, appointment_id=int(self.chosen.id)
        )
        said = caller.words.gettext(
            "Appointment for {reference} on {when} cancelled.",
            reference=cancelled.case_reference,
            when=caller.words.format_datetime(cancelled.starts_at, MOMENT),
        )
        yield await self._finish(caller, said)

    @rx.event
    @signed_in
    async def record_outcome(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        if not self._fresh_submit(form, OUTCOME):
            return
        problems: Problems = {}
        data = read_outcome_form(form, caller.words, problems)
        if data is None:
            yield self._show(problems)
            return
        self.saving = True
        yield
        answered = await appointments.record_appointment_outcome(
            uow=caller.uow(),
            actor=caller.actor,
            appointment_id=int(self.chosen.id),
            data=data,
            client_key=client_key_of(form),
        )
        said = caller.words.gettext(
            "Outcome recorded for {reference}: {outcome}.",
            reference=answered.case_reference,
            outcome=label(answered.status, caller.words),
        )
        done = await self._finish(caller, said)
        self.next_case_id, self.next_reference = str(answered.case_id), answered.case_reference
        self._next = next_booking(answered)
        yield done
