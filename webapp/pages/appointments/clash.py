"""Booking over a clash: core refused because the case already has an appointment then.

``book_appointment`` raises ``core.errors.Clash`` when another scheduled appointment on the case
overlaps the time. The page then shows a warning listing what it clashes with (times and the
kind of place only, never a name), keeps the form as it was typed, and offers "Save anyway"
(the same booking, ``save_anyway=True``: core audits what it was saved over) or "Change the
time" (back to the date, the warning gone).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import reflex as rx

from core.errors import Clash
from core.schemas.appointments import AppointmentCreate
from core.schemas.clashes import AppointmentClash
from core.services import appointments
from ui.i18n import Translator
from ui.labels import label
from webapp.components.clash import ClashRow
from webapp.components.clash import clash_warning as warning
from webapp.components.forms import focus
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.appointments.rows import MOMENT

WARNING_ID = "clash-warning"


def clash_rows(clashes: Iterable[object], words: Translator) -> list[ClashRow]:
    """Each appointment the booking would overlap: when, and the kind of place."""
    rows = []
    for clash in clashes:
        if isinstance(clash, AppointmentClash):
            when = words.gettext(
                "{starts} to {ends}",
                starts=words.format_datetime(clash.starts_at, MOMENT),
                ends=words.format_time(clash.ends_at, "HH:mm"),
            )
            place = label(clash.place_kind, words)
            rows.append(ClashRow(key=str(clash.appointment_id), text=f"{when} · {place}"))
    return rows


class BookingClash(rx.State, mixin=True):
    """The warning's state and its two buttons, mixed into ``AppointmentsState``."""

    clashes: list[ClashRow] = []
    _pending: AppointmentCreate | None = None
    _pending_key: str = ""  # the form's client_key (assets/held.js): saved once however sent

    async def _book(
        self,
        caller: Caller,
        data: AppointmentCreate,
        *,
        save_anyway: bool = False,
        client_key: uuid.UUID | None = None,
    ) -> rx.event.EventSpec:
        """Book, or show what it clashes with and keep ``data`` for "Save anyway"."""
        try:
            booked = await appointments.book_appointment(
                uow=caller.uow(),
                actor=caller.actor,
                data=data,
                save_anyway=save_anyway,
                client_key=client_key,
            )
        except Clash as clash:
            self.saving = False  # type: ignore[attr-defined]
            self._pending = data
            self._pending_key = str(client_key or "")
            self.clashes = clash_rows(clash.clashes, caller.words)
            return focus(WARNING_ID, scroll=True)
        self._drop_clash()
        said = caller.words.gettext(
            "Appointment booked for {reference} on {when}.",
            reference=booked.case_reference,
            when=caller.words.format_datetime(booked.starts_at, MOMENT),
        )
        return await self._finish(caller, said)  # type: ignore[attr-defined,no-any-return]

    def _drop_clash(self) -> None:
        self.clashes = []
        self._pending = None
        self._pending_key = ""

    @rx.event
    @signed_in
    async def save_anyway(self, caller: Caller):  # type: ignore[no-untyped-def]
        """Book what the warning was shown for, as it was typed."""
        if self.saving or self._pending is None:  # type: ignore[attr-defined]
            return
        self.saving = True  # type: ignore[attr-defined]
        yield
        key = uuid.UUID(self._pending_key) if self._pending_key else None
        yield await self._book(caller, self._pending, save_anyway=True, client_key=key)

    @rx.event
    def change_time(self) -> rx.event.EventSpec:
        """Back to the date and time, the form still filled in."""
        self._drop_clash()
        return focus("appointment_date", scroll=True)


def clash_warning(state: type[BookingClash]) -> rx.Component:
    """The warning above the booking form while a clash is waiting for a choice."""
    return warning(
        state.clashes,
        heading=_("This case already has an appointment at that time"),
        advice=_("Change the time, or book it anyway if both are meant to happen."),
        save_anyway=rx.el.button(
            rx.cond(state.saving, _("Saving…"), _("Save anyway")),  # type: ignore[attr-defined]
            type="button",
            id="save-anyway",
            on_click=state.save_anyway,
            disabled=state.saving,  # type: ignore[attr-defined]
            class_name="button button-warning",
        ),
        change_time=state.change_time,
        warning_id=WARNING_ID,
    )
