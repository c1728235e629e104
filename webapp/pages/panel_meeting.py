"""One panel meeting after the event: the register from the RSVPs, tick who attended and mark
it held, or cancel it (issue 19). Core decides who may (``panel.manage`` at the site: panel
coordinators, service managers) and when (not before it starts, not once cancelled); staff names
only, never a case's people."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.enums import AttendanceStatus, PanelMeetingStatus
from core.errors import DomainError, NotFound, NotPermitted
from core.schemas.panel_outcomes import MeetingHeld, PanelRegisterRead
from core.services import panel_outcomes
from ui.i18n import Translator
from ui.labels import label
from webapp import routes
from webapp.components.forms import FieldError, button, error_summary, fieldset, focus
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.pages.panel.rows import WHEN, meeting_heading
from webapp.state import AppState

_ID = re.compile(r"[1-9]\d{0,9}")
LOADING, FOUND, MISSING = "loading", "found", "missing"
_TICKED = frozenset({AttendanceStatus.ATTENDED, AttendanceStatus.ATTENDING})


@dataclass(frozen=True)
class RegisterCard:
    id: str
    name: str
    agency: str
    reply: str  # the RSVP, or attended/absent once marked
    ticked: bool


class PanelMeetingState(AppState):
    status: str = LOADING
    heading: str = ""
    meeting_status: str = ""
    scheduled: bool = False
    register: list[RegisterCard] = []
    form_key: str = ""
    notice: str = ""
    errors: list[FieldError] = []
    _meeting_id: int = 0

    def _clear_messages(self) -> None:
        self.errors = []
        self.notice = ""

    def _show_error(self, message: str, error: DomainError) -> rx.event.EventSpec | None:
        if isinstance(error, NotFound | NotPermitted):
            self.status = MISSING
            return None
        self.errors = [FieldError("attendance-legend", message)]
        return focus("error-summary")

    def _show(self, read: PanelRegisterRead, words: Translator) -> None:
        meeting = read.meeting
        self.heading = meeting_heading(
            meeting.site_code, words.format_datetime(meeting.starts_at, WHEN), words
        )
        self.meeting_status = label(meeting.status, words)
        self.scheduled = meeting.status is PanelMeetingStatus.SCHEDULED
        self.register = [
            RegisterCard(
                id=str(row.user_id),
                name=row.display_name,
                agency=label(row.agency, words) if row.agency else "",
                reply=label(row.status, words) if row.status else words.gettext("No reply"),
                ticked=row.status in _TICKED,
            )
            for row in read.rows
        ]
        self.form_key = f"{meeting.id}-{meeting.status.value}-{read.attended}-{read.absent}"
        self.status = FOUND

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.status = LOADING
        raw = str(self.router.page.params.get("meeting_id", ""))
        if not _ID.fullmatch(raw):
            self.status = MISSING
            return
        self._meeting_id = int(raw)
        read = await panel_outcomes.panel_register(
            uow=caller.uow(), actor=caller.actor, meeting_id=self._meeting_id
        )
        self._show(read, caller.words)

    @rx.event
    @signed_in
    async def mark_held(self, caller: Caller, form: dict[str, Any]) -> rx.event.EventSpec:
        attended = frozenset(
            int(key.removeprefix("attended-"))
            for key, value in form.items()
            if key.startswith("attended-") and value and key[9:].isdigit()
        )
        read = await panel_outcomes.mark_panel_meeting_held(
            uow=caller.uow(),
            actor=caller.actor,
            meeting_id=self._meeting_id,
            data=MeetingHeld(attended_user_ids=attended),
        )
        self._show(read, caller.words)
        self.notice = caller.words.gettext(
            "Marked as held: {attended} attended, {absent} absent.",
            attended=read.attended,
            absent=read.absent,
        )
        return focus("notice")

    @rx.event
    @signed_in
    async def cancel(self, caller: Caller) -> rx.event.EventSpec:
        await panel_outcomes.cancel_panel_meeting(
            uow=caller.uow(), actor=caller.actor, meeting_id=self._meeting_id
        )
        read = await panel_outcomes.panel_register(
            uow=caller.uow(), actor=caller.actor, meeting_id=self._meeting_id
        )
        self._show(read, caller.words)
        self.notice = caller.words.gettext("The meeting is cancelled.")
        return focus("notice")


def _person(card: Any) -> rx.Component:
    return rx.el.div(
        rx.el.input(
            type="checkbox",
            name="attended-" + card.id,
            value="yes",
            id="attended-" + card.id,
            default_checked=card.ticked,
            class_name="checkboxes-input",
        ),
        rx.el.label(
            card.name,
            rx.cond(card.agency != "", rx.el.span(" (", card.agency, ")")),
            rx.el.span(" — ", card.reply, class_name="hint"),
            html_for="attended-" + card.id,
            class_name="checkboxes-label",
        ),
        class_name="checkboxes-item",
    )


def _found() -> rx.Component:
    state = PanelMeetingState
    return rx.fragment(
        rx.el.p(rx.el.a(_("Back to Panel"), href=routes.PANEL)),
        rx.el.p(_("Status"), ": ", state.meeting_status),
        rx.cond(
            state.notice != "",
            rx.el.div(state.notice, id="notice", tab_index=-1, role="status", class_name="panel"),
        ),
        error_summary(state.errors),
        rx.el.form(
            fieldset(
                "attendance-legend",
                _("Who attended?"),
                rx.foreach(state.register, _person),
                hint=_("Everyone not ticked is recorded absent."),
            ),
            button(_("Mark as held"), type="submit"),
            key=state.form_key,
            on_submit=state.mark_held,
            class_name="form",
        ),
        rx.cond(
            state.scheduled,
            button(
                _("Cancel the meeting"),
                type="button",
                variant="button-warning",
                on_click=state.cancel,
            ),
        ),
    )


def panel_meeting_page() -> rx.Component:
    state = PanelMeetingState
    return page(
        rx.match(
            state.status,
            (FOUND, state.heading),
            (MISSING, _("Page not found")),
            _("Panel meeting"),
        ),
        rx.match(
            state.status,
            (FOUND, _found()),
            (MISSING, rx.el.p(_("If you typed the web address, check it is correct."))),
            loading(),
        ),
        on_language_change=[state.load],
    )
