"""The Panel page's state and event handlers.

The page is read in one call (``panels.panel_page``): the coming meetings at my sites with
their agendas, actions and my reply, the actions from the last meeting held at each site, and,
for whoever runs the panel somewhere, the planning and broadcast choices. Each handler is parse,
one service call, then that one read again.

A broadcast is previewed first: the text members get (rendered by ``ui.notifications``, as the
channels render it) and how many will get it. The preview's ``broadcast_key`` stays on the
server; Send hands it back to core, so pressing Send twice queues each message once.
"""

from __future__ import annotations

import json
from typing import Any

import reflex as rx
from pydantic import ValidationError

from core.enums import Agency, AttendanceStatus, PanelActionStatus
from core.errors import Clash, DomainError, ValidationFailed
from core.schemas.broadcasts import BroadcastPreview
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate, PanelMeetingRead, PanelPage
from core.services import broadcasts, panels
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from ui.notifications import render
from webapp.components.forms import FieldError, focus
from webapp.handlers import Caller, signed_in
from webapp.i18n import translator
from webapp.pages.panel.checks import (
    ACTION_CASE,
    ACTION_DESCRIPTION,
    ACTION_DUE,
    AGENDA_CASE,
    ALREADY_ON_AGENDA,
    CHOOSE_AGENDA_CASE,
    ENTER_DESCRIPTION,
    SCHEDULE_DATE,
    SCHEDULE_PLACE,
    SCHEDULE_SITE,
    SCHEDULE_TIME,
    ActionForm,
    Problem,
    ScheduleForm,
    action_problems,
    schedule_problems,
)
from webapp.pages.panel.clash import ScheduleClash
from webapp.pages.panel.rows import (
    DAY,
    ActionCard,
    AgendaEntry,
    Choice,
    MeetingCard,
    OwnerChoice,
    action_card,
    action_case_choices,
    agenda_choices,
    agenda_entry,
    held_actions,
    meeting_card,
    meeting_label,
    owner_choices,
)
from webapp.state import AppState

MEETING_FIELD = "broadcast-meeting"
CHOOSE_MEETING = N_("Choose the panel meeting to tell people about")


def _agenda_refusal(error: DomainError, words: Translator) -> str:
    if isinstance(error, ValidationFailed) and error.details.get("rule") == "already_on_agenda":
        return words.gettext(ALREADY_ON_AGENDA)
    return error_message(error, words)


def _action_create(sent: ActionForm, owner_agency: str) -> PanelActionCreate:
    assert sent.due_on is not None
    return PanelActionCreate(
        meeting_id=int(sent.key),
        case_id=int(sent.case_id),
        description=sent.description,
        owner_user_id=int(sent.owner_id),
        # The owner's agency at the site too, for reports by agency.
        owner_agency=Agency(owner_agency) if owner_agency else None,
        due_on=sent.due_on,
    )


def _action_problem(key: str, error: DomainError | ValidationError, words: Translator) -> Problem:
    """What core (or the model) refused in a new panel action, by the field it is about."""
    if isinstance(error, DomainError) and error.details.get("field") == "due_on":
        # core's rule: due today or later
        return Problem("action_due_error", ACTION_DUE + key, error_message(error, words))
    message = (
        error_message(error, words)
        if isinstance(error, DomainError)
        else words.gettext(ENTER_DESCRIPTION)
    )
    return Problem("action_case_error", ACTION_CASE + key, message)


def _clear(*element_ids: str) -> rx.event.EventSpec:
    """Empty a form's fields after it was saved (the fields are the browser's, not state)."""
    return rx.call_script(
        f"{json.dumps(list(element_ids))}.forEach(id => {{"
        " const field = document.getElementById(id); if (field) field.value = ''; })"
    )


class PanelState(ScheduleClash, AppState):
    meetings: list[MeetingCard] = []
    agendas: dict[str, list[AgendaEntry]] = {}
    meeting_actions: dict[str, list[ActionCard]] = {}
    # Planning choices, per meeting: cases not yet on its agenda, the cases on it, the staff.
    agenda_choices: dict[str, list[Choice]] = {}
    action_case_choices: dict[str, list[Choice]] = {}
    owner_choices: dict[str, list[OwnerChoice]] = {}
    schedule_sites: list[Choice] = []
    actions: list[ActionCard] = []
    can_broadcast: bool = False
    broadcast_choices: list[Choice] = []
    preview_text: str = ""
    preview_count: str = ""
    preview_heading: str = ""
    broadcast_sent: bool = False
    confirmation: str = ""
    errors: list[FieldError] = []
    meeting_error: str = ""
    # The planning form in error: its meeting's id ("" for the schedule form), and its fields'.
    error_meeting: str = ""
    # The meeting whose planning forms were last used: they stay unfolded for it.
    planned_meeting: str = ""
    agenda_case_error: str = ""
    action_case_error: str = ""
    action_description_error: str = ""
    action_owner_error: str = ""
    action_due_error: str = ""
    schedule_site_error: str = ""
    schedule_when_error: str = ""
    schedule_place_error: str = ""
    _broadcast_key: str = ""  # backend only: the browser never holds it
    _broadcast_meeting_id: int = 0
    _sent_message: str = ""

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.errors = []
        self.meeting_error = ""
        self.error_meeting = ""
        self.agenda_case_error = ""
        self.action_case_error = ""
        self.action_description_error = ""
        self.action_owner_error = ""
        self.action_due_error = ""
        self.schedule_site_error = ""
        self.schedule_when_error = ""
        self.schedule_place_error = ""
        self.meeting_clashes = []  # "Save anyway" still finds the meeting it was shown for

    def _show_error(self, message: str, error: DomainError) -> None:
        self.errors = [FieldError(field=str(error.details.get("field") or ""), message=message)]

    async def _refresh(self, caller: Caller) -> None:
        self._show_page(await panels.panel_page(uow=caller.uow(), actor=caller.actor), caller.words)

    def _show_page(self, found: PanelPage, words: Translator) -> None:
        self.meetings = [meeting_card(coming, words) for coming in found.upcoming]
        details = {str(c.detail.meeting.id): c.detail for c in found.upcoming}
        self.agendas = {k: [agenda_entry(i) for i in d.agenda] for k, d in details.items()}
        self.meeting_actions = {
            key: [action_card(action, words) for action in detail.actions]
            for key, detail in details.items()
        }
        planned = {str(c.detail.meeting.id): c for c in found.upcoming if c.planning is not None}
        self.agenda_choices = {
            key: agenda_choices(c.detail, c.planning)
            for key, c in planned.items()
            if c.planning is not None
        }
        self.action_case_choices = {k: action_case_choices(c.detail) for k, c in planned.items()}
        self.owner_choices = {
            key: owner_choices(c.planning, words)
            for key, c in planned.items()
            if c.planning is not None
        }
        self.schedule_sites = [
            Choice(id=str(site.site_id), label=site.site_code) for site in found.planning_sites
        ]
        self.actions = [card for detail in found.last_held for card in held_actions(detail, words)]
        self.can_broadcast = found.can_broadcast
        self.broadcast_choices = [
            Choice(id=str(m.id), label=meeting_label(m, words)) for m in found.broadcastable
        ]

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        self.preview_text = ""
        self.broadcast_sent = False
        self._broadcast_key = ""
        await self._refresh(caller)

    @rx.event
    @signed_in
    async def rsvp(self, caller: Caller, meeting_id: str, answer: str) -> None:
        words = caller.words
        try:
            row = await panels.rsvp_panel_meeting(
                uow=caller.uow(),
                actor=caller.actor,
                meeting_id=int(meeting_id),
                status=AttendanceStatus(answer),
            )
        except (DomainError, ValueError) as error:
            self._fail(f"meeting-{meeting_id}", error, words)
        else:
            self.confirmation = words.gettext(
                "Your reply: {answer}", answer=label(row.status, words)
            )
        await self._refresh(caller)

    def _show(self, meeting_key: str, problems: list[Problem]) -> rx.event.EventSpec:
        """Show ``problems`` on one planning form, and take the person to the summary."""
        self.error_meeting = meeting_key
        for problem in problems:
            setattr(self, problem.attribute, problem.message)
        self.errors = [FieldError(field=p.element, message=p.message) for p in problems]
        return focus("error-summary")

    @rx.event
    @signed_in
    async def add_to_agenda(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        words = caller.words
        key = str(form.get("meeting_id") or "")
        self.planned_meeting = key
        case_id = str(form.get("case_id") or "")
        field = AGENDA_CASE + key
        if not key.isdigit() or case_id not in {c.id for c in self.agenda_choices.get(key, [])}:
            yield self._show(
                key, [Problem("agenda_case_error", field, words.gettext(CHOOSE_AGENDA_CASE))]
            )
            return
        try:
            item = await panels.add_agenda_item(
                uow=caller.uow(), actor=caller.actor, meeting_id=int(key), case_id=int(case_id)
            )
        except DomainError as error:
            yield self._show(
                key, [Problem("agenda_case_error", field, _agenda_refusal(error, words))]
            )
            return
        self.confirmation = words.gettext(
            "{reference} added to the agenda.", reference=item.case_reference
        )
        await self._refresh(caller)
        yield focus("confirmation")

    @rx.event
    @signed_in
    async def add_action(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        words = caller.words
        sent = ActionForm.parse(form)
        self.planned_meeting = key = sent.key
        owners = {o.id: o.agency for o in self.owner_choices.get(key, [])}
        cases = {c.id for c in self.action_case_choices.get(key, [])}
        problems = action_problems(sent, cases, set(owners), words)
        if problems or not key.isdigit():
            yield self._show(key, problems)
            return
        try:  # the model's own checks (ValidationError) as well as core's
            data = _action_create(sent, owners[sent.owner_id])
            action = await panels.add_panel_action(uow=caller.uow(), actor=caller.actor, data=data)
        except (DomainError, ValidationError) as error:
            yield self._show(key, [_action_problem(key, error, words)])
            return
        self.confirmation = words.gettext(
            "Action added for {reference}, due {due}.",
            reference=action.case_reference,
            due=words.format_date(action.due_on, DAY),
        )
        await self._refresh(caller)
        due = ACTION_DUE + key
        yield [
            _clear(ACTION_DESCRIPTION + key, due, due + "-month", due + "-year"),
            focus("confirmation"),
        ]

    @rx.event
    @signed_in
    async def set_action_status(self, caller: Caller, action_id: str, status: str):  # type: ignore[no-untyped-def]
        words = caller.words
        try:
            action = await panels.update_panel_action_status(
                uow=caller.uow(),
                actor=caller.actor,
                action_id=int(action_id),
                status=PanelActionStatus(status),
            )
        except (DomainError, ValueError) as error:
            self._fail(f"action-{action_id}", error, words)
        else:
            self.confirmation = words.gettext(
                "Action for {reference} is now: {status}.",
                reference=action.case_reference,
                status=label(action.status, words),
            )
        await self._refresh(caller)
        yield focus("error-summary" if self.errors else "confirmation")

    @rx.event
    @signed_in
    async def schedule(self, caller: Caller, form: dict[str, Any]):  # type: ignore[no-untyped-def]
        words = caller.words
        sent = ScheduleForm.parse(form, words)
        sites = {site.id for site in self.schedule_sites}
        problems = schedule_problems(sent, sites, words)
        if problems or sent.starts_at is None:
            yield self._show("", problems)
            return
        data = PanelMeetingCreate(
            site_id=int(sent.site_id), starts_at=sent.starts_at, place=sent.place or None
        )
        try:
            meeting = await panels.schedule_panel_meeting(
                uow=caller.uow(), actor=caller.actor, data=data
            )
        except Clash as clash:  # another meeting at the site then: warn (``clash``)
            yield self._warn_of_clash(data, clash, words)
            return
        except DomainError as error:
            message = error_message(error, words)
            if error.details.get("field") == "starts_at":  # core's rule: in the future
                yield self._show("", [Problem("schedule_when_error", SCHEDULE_DATE, message)])
            else:
                yield self._show("", [Problem("schedule_site_error", SCHEDULE_SITE, message)])
            return
        yield await self._scheduled(caller, meeting)

    async def _scheduled(self, caller: Caller, meeting: PanelMeetingRead) -> list[Any]:
        self._drop_meeting_clash()
        self.confirmation = caller.words.gettext(
            "Panel meeting scheduled: {meeting}.", meeting=meeting_label(meeting, caller.words)
        )
        await self._refresh(caller)
        when = (SCHEDULE_DATE, SCHEDULE_DATE + "-month", SCHEDULE_DATE + "-year", SCHEDULE_TIME)
        return [_clear(*when, SCHEDULE_PLACE), focus("confirmation")]

    def _fail(self, field: str, error: Exception, words: Translator) -> None:
        message = (
            error_message(error, words)
            if isinstance(error, DomainError)
            else words.gettext(CHOOSE_MEETING)
        )
        self.errors = [FieldError(field=field, message=message)]
        if field == MEETING_FIELD:
            self.meeting_error = message

    @rx.event
    @signed_in
    async def preview(self, caller: Caller, form: dict[str, Any]) -> None:
        self.preview_text = ""
        self.broadcast_sent = False
        self._sent_message = ""
        meeting_id = str(form.get("meeting_id") or "")
        if not meeting_id.isdigit():
            self._fail(MEETING_FIELD, ValueError(meeting_id), caller.words)
            return
        try:
            preview = await broadcasts.preview_panel_broadcast(
                uow=caller.uow(), actor=caller.actor, meeting_id=int(meeting_id)
            )
        except DomainError as error:
            self._fail(MEETING_FIELD, error, caller.words)
            return
        self._show_preview(preview, caller.words)

    def _show_preview(self, preview: BroadcastPreview, words: Translator) -> None:
        self._broadcast_key = preview.broadcast_key
        self._broadcast_meeting_id = preview.meeting.id
        self.preview_heading = meeting_label(preview.meeting, words)
        self.preview_text = render(preview.message_key, preview.params, self.locale)
        self.preview_count = words.ngettext(
            "{n} person will get this message.",
            "{n} people will get this message.",
            preview.recipients,
        )

    @rx.event
    @signed_in
    async def send(self, caller: Caller) -> None:
        if not self._broadcast_key:
            self._fail(MEETING_FIELD, ValueError(""), caller.words)
            return
        already_sent = self.broadcast_sent
        try:
            sent = await broadcasts.broadcast_panel_meeting(
                uow=caller.uow(),
                actor=caller.actor,
                meeting_id=self._broadcast_meeting_id,
                broadcast_key=self._broadcast_key,  # kept: a second press queues nothing more
            )
        except DomainError as error:
            self._fail(MEETING_FIELD, error, caller.words)
            return
        self.broadcast_sent = True
        self.confirmation = self._sent(sent.queued, already_sent, caller.words)

    def _sent(self, queued: int, already_sent: bool, words: Translator) -> str:
        if queued == 0 and already_sent:
            # A repeat press (a double click): nothing more was queued, so the first
            # confirmation, with its count, still says what happened.
            return self._sent_message or words.gettext(
                "This broadcast was already sent. Nothing more was queued."
            )
        self._sent_message = words.ngettext(
            "Broadcast queued for {n} person.", "Broadcast queued for {n} people.", queued
        )
        return self._sent_message

    @rx.event
    def cancel_preview(self) -> None:
        self._clear_messages()
        self.preview_text = ""
        self.broadcast_sent = False
        self._broadcast_key = ""
        self.confirmation = translator(self.locale).gettext(
            "Broadcast cancelled. Nothing was sent."
        )
