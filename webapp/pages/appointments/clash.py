"""Booking over a clash: core refused because the case already has an appointment then.

``book_appointment`` raises ``core.errors.Clash`` when another scheduled appointment on the case
overlaps the time. The page then shows a warning listing what it clashes with (times and the
kind of place only, never a name), keeps the form as it was typed, and offers "Save anyway"
(the same booking, ``save_anyway=True``: core audits what it was saved over) or "Change the
time" (back to the date, the warning gone).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import reflex as rx

from core.errors import Clash
from core.schemas.appointments import AppointmentCreate
from core.schemas.clashes import AppointmentClash
from core.services import appointments
from ui.i18n import Translator
from ui.labels import label
from webapp.components.forms import focus
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.appointments.rows import MOMENT

WARNING_ID = "clash-warning"


@dataclass(frozen=True)
class ClashRow:
    """One appointment the booking would overlap: when, and the kind of place."""

    key: str = ""
    when: str = ""
    place: str = ""


def clash_rows(clashes: Iterable[object], words: Translator) -> list[ClashRow]:
    return [
        ClashRow(
            key=str(clash.appointment_id),
            when=words.gettext(
                "{starts} to {ends}",
                starts=words.format_datetime(clash.starts_at, MOMENT),
                ends=words.format_time(clash.ends_at, "HH:mm"),
            ),
            place=label(clash.place_kind, words),
        )
        for clash in clashes
        if isinstance(clash, AppointmentClash)
    ]


class BookingClash(rx.State, mixin=True):
    """The warning's state and its two buttons, mixed into ``AppointmentsState``."""

    clashes: list[ClashRow] = []
    _pending: AppointmentCreate | None = None

    async def _book(
        self, caller: Caller, data: AppointmentCreate, *, save_anyway: bool = False
    ) -> rx.event.EventSpec:
        """Book, or show what it clashes with and keep ``data`` for "Save anyway"."""
        try:
            booked = await appointments.book_appointment(
                uow=caller.uow(), actor=caller.actor, data=data, save_anyway=save_anyway
            )
        except Clash as clash:
            self.saving = False  # type: ignore[attr-defined]
            self._pending = data
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

    @rx.event
    @signed_in
    async def save_anyway(self, caller: Caller):  # type: ignore[no-untyped-def]
        """Book what the warning was shown for, as it was typed."""
        if self.saving or self._pending is None:  # type: ignore[attr-defined]
            return
        self.saving = True  # type: ignore[attr-defined]
        yield
        yield await self._book(caller, self._pending, save_anyway=True)

    @rx.event
    def change_time(self) -> rx.event.EventSpec:
        """Back to the date and time, the form still filled in."""
        self._drop_clash()
        return focus("appointment_date", scroll=True)


def clash_warning(state: type[BookingClash]) -> rx.Component:
    """The GOV.UK-style warning above the booking form while a clash is waiting for a choice."""
    row = lambda clash: rx.el.li(clash.when, " · ", clash.place, key=clash.key)  # noqa: E731
    return rx.cond(
        state.clashes.length() > 0,  # type: ignore[attr-defined]
        rx.el.div(
            rx.el.h2(
                _("This case already has an appointment at that time"), class_name="heading-m"
            ),
            rx.el.ul(rx.foreach(state.clashes, row), class_name="list clash-list"),
            rx.el.p(_("Change the time, or book it anyway if both are meant to happen.")),
            rx.el.div(
                rx.el.button(
                    rx.cond(state.saving, _("Saving…"), _("Save anyway")),  # type: ignore[attr-defined]
                    type="button",
                    id="save-anyway",
                    on_click=state.save_anyway,
                    disabled=state.saving,  # type: ignore[attr-defined]
                    class_name="button button-warning",
                ),
                rx.el.button(
                    _("Change the time"),
                    type="button",
                    on_click=state.change_time,
                    class_name="button button-secondary",
                ),
                class_name="button-group",
            ),
            id=WARNING_ID,
            tab_index=-1,
            role="alert",
            class_name="warning-panel",
        ),
    )
