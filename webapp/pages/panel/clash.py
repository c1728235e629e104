"""Scheduling a panel meeting over a clash: the site already has a meeting at about that time.

``schedule_panel_meeting`` raises ``core.errors.Clash`` when another scheduled meeting at the
site starts within ``core.services.clashes.PANEL_MEETING_SLOT``. The page then shows a warning
listing those meetings (site and time), keeps the form as typed (its fields are the browser's),
and offers "Save anyway" (the same meeting, ``save_anyway=True``: core audits what it was saved
over) or "Change the time" (back to the date, the warning gone).
"""

from __future__ import annotations

from collections.abc import Iterable

import reflex as rx

from core.errors import Clash
from core.schemas.clashes import MeetingClash
from core.schemas.panels import PanelMeetingCreate
from core.services import panels
from ui.i18n import Translator
from webapp.components.clash import ClashRow, clash_warning
from webapp.components.forms import focus
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.panel.checks import SCHEDULE_DATE
from webapp.pages.panel.rows import WHEN

WARNING_ID = "meeting-clash-warning"


def meeting_clash_rows(clashes: Iterable[object], words: Translator) -> list[ClashRow]:
    """Each scheduled meeting the new one would clash with: its site and start."""
    return [
        ClashRow(
            key=str(clash.meeting_id),
            text=f"{clash.site_code} · {words.format_datetime(clash.starts_at, WHEN)}",
        )
        for clash in clashes
        if isinstance(clash, MeetingClash)
    ]


class ScheduleClash(rx.State, mixin=True):
    """The warning's state and its two buttons, mixed into ``PanelState``."""

    meeting_clashes: list[ClashRow] = []
    _pending_meeting: PanelMeetingCreate | None = None

    def _warn_of_clash(
        self, data: PanelMeetingCreate, clash: Clash, words: Translator
    ) -> rx.event.EventSpec:
        self._pending_meeting = data
        self.meeting_clashes = meeting_clash_rows(clash.clashes, words)
        return focus(WARNING_ID, scroll=True)

    def _drop_meeting_clash(self) -> None:
        self.meeting_clashes = []
        self._pending_meeting = None

    @rx.event
    @signed_in
    async def save_meeting_anyway(self, caller: Caller):  # type: ignore[no-untyped-def]
        """Schedule the meeting the warning was shown for, as it was typed."""
        data = self._pending_meeting
        if data is None:
            return
        self._drop_meeting_clash()
        meeting = await panels.schedule_panel_meeting(
            uow=caller.uow(), actor=caller.actor, data=data, save_anyway=True
        )
        yield await self._scheduled(caller, meeting)  # type: ignore[attr-defined]

    @rx.event
    def change_meeting_time(self) -> rx.event.EventSpec:
        """Back to the date and time, the form still filled in."""
        self._drop_meeting_clash()
        return focus(SCHEDULE_DATE, scroll=True)


def meeting_clash_warning(state: type[ScheduleClash]) -> rx.Component:
    """The warning above the scheduling form while a clash waits for a choice."""
    return clash_warning(
        state.meeting_clashes,
        heading=_("Another panel meeting at this site is at about that time"),
        advice=_("Change the time, or schedule it anyway if both are meant to happen."),
        save_anyway=rx.el.button(
            _("Save anyway"),
            type="button",
            id="save-meeting-anyway",
            on_click=state.save_meeting_anyway,
            class_name="button button-warning",
        ),
        change_time=state.change_meeting_time,
        warning_id=WARNING_ID,
    )
