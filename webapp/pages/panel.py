"""Panel: the coming panel meetings at my sites, their agendas (case references, never names)
and actions with owners and due dates, my reply, and the actions from the last panels; an
action's owner marks it done here. The panel coordinator (or service manager) also schedules a
meeting, puts cases on its agenda, agrees actions, and sends the broadcast.

All the meetings shown are read in one call (``panels.get_panel_meetings``), not one per meeting.

A broadcast is previewed first: the text members get (rendered by ``ui.notifications``, as the
channels render it) and how many will get it. The preview's ``broadcast_key`` stays on the
server; Send hands it back to core, so pressing Send twice queues each message once.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import reflex as rx
from pydantic import ValidationError

from core.areas import Offer, offers
from core.enums import Agency, AttendanceStatus, PanelActionStatus, PanelMeetingStatus
from core.errors import DomainError, ValidationFailed
from core.schemas.actor import Actor
from core.schemas.panels import (
    PanelActionCreate,
    PanelActionRead,
    PanelMeetingCreate,
    PanelMeetingDetail,
    PanelPlanningChoices,
)
from core.services import broadcasts, panels
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from ui.notifications import render
from webapp import routes
from webapp.components.forms import button, error_summary, field_error, focus, parse_local_datetime
from webapp.components.layout import page
from webapp.i18n import _, translator
from webapp.state import AppState

MEETING_FIELD = "broadcast-meeting"
CHOOSE_MEETING = N_("Choose the panel meeting to tell people about")
WHEN = "EEE d MMM yyyy, HH:mm"
DAY = "d MMM yyyy"
PAST_PANELS_LOOKED_AT = timedelta(days=120)
DESCRIPTION_MAX_LENGTH = 2000
PLACE_MAX_LENGTH = 200

# The planning forms: one of each per meeting, so their field ids end in the meeting's id.
AGENDA_CASE = "agenda-case-"
ACTION_CASE = "action-case-"
ACTION_DESCRIPTION = "action-description-"
ACTION_OWNER = "action-owner-"
ACTION_DUE = "action-due-"
SCHEDULE_SITE = "schedule-site"
SCHEDULE_DATE = "schedule-date"
SCHEDULE_TIME = "schedule-time"
SCHEDULE_PLACE = "schedule-place"

CHOOSE_AGENDA_CASE = N_("Choose a case to add to the agenda")
ALREADY_ON_AGENDA = N_("That case is already on the agenda")
CHOOSE_ACTION_CASE = N_("Choose the case the action is for")
ENTER_DESCRIPTION = N_("Enter what needs to be done")
DESCRIPTION_TOO_LONG = N_("The action must be 2000 characters or fewer")
CHOOSE_OWNER = N_("Choose who owns the action")
ENTER_DUE = N_("Enter the due date of the action")
DUE_IN_PAST = N_("The due date must be today or in the future")
CHOOSE_SITE = N_("Choose the site of the panel")
ENTER_WHEN = N_("Enter the date and time of the meeting")
WHEN_IN_PAST = N_("The meeting must be in the future")
PLACE_TOO_LONG = N_("The place must be 200 characters or fewer")


def _meeting_heading(site_code: str, starts_at_text: str, words: Translator) -> str:
    return words.gettext("Panel {site}, {time}", site=site_code, time=starts_at_text)


def _owner(action: PanelActionRead, words: Translator) -> str:
    agency = label(action.owner_agency, words) if action.owner_agency is not None else ""
    if action.owner_name and agency:
        return f"{action.owner_name} ({agency})"
    return action.owner_name or agency or words.gettext("A member of staff")


def _action_row(action: PanelActionRead, words: Translator, held: str = "") -> dict[str, str]:
    """What one action card shows: strings only, so the browser gets nothing else."""
    return {
        "id": str(action.id),
        "reference": action.case_reference,
        "description": action.description,
        "owner": _owner(action, words),
        "due": words.format_date(action.due_on, DAY),
        "status": label(action.status, words),
        "meeting": held,
        "can_finish": "1" if action.may_update and action.status is PanelActionStatus.OPEN else "",
        "can_reopen": "1"
        if action.may_update and action.status is not PanelActionStatus.OPEN
        else "",
    }


def _parse_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


class PanelState(AppState):
    meetings: list[dict[str, str]] = []
    agendas: dict[str, list[str]] = {}
    meeting_actions: dict[str, list[dict[str, str]]] = {}
    # Planning choices, per meeting: cases not yet on its agenda, the cases on it, the staff.
    agenda_choices: dict[str, list[dict[str, str]]] = {}
    action_case_choices: dict[str, list[dict[str, str]]] = {}
    owner_choices: dict[str, list[dict[str, str]]] = {}
    schedule_sites: list[dict[str, str]] = []
    actions: list[dict[str, str]] = []
    can_broadcast: bool = False
    broadcast_choices: list[dict[str, str]] = []
    preview_text: str = ""
    preview_count: str = ""
    preview_heading: str = ""
    broadcast_sent: bool = False
    confirmation: str = ""
    errors: list[dict[str, str]] = []
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

    async def _refresh(self, actor: Actor) -> None:
        from webapp.backend import container

        app = container()
        words = translator(self.locale)
        upcoming = await panels.my_upcoming_panel_meetings(uow=app.uow(), actor=actor)
        now = app.clock.now()
        recent = await panels.list_panel_meetings(
            uow=app.uow(), actor=actor, starts_from=now - PAST_PANELS_LOOKED_AT
        )
        last_held: dict[int, int] = {}
        for meeting in recent:  # oldest first, so the last one seen per site wins
            if meeting.status is PanelMeetingStatus.HELD and meeting.starts_at <= now:
                last_held[meeting.site_id] = meeting.id
        # One read for every meeting shown: the coming ones and the last held at each site.
        details = {
            detail.meeting.id: detail
            for detail in await panels.get_panel_meetings(
                uow=app.uow(),
                actor=actor,
                meeting_ids=[i.meeting.id for i in upcoming] + list(last_held.values()),
            )
        }
        planning = {}
        if offers(actor, Offer.BROADCAST):  # runs the panel somewhere (asked, not refused)
            planning = {
                choice.site_id: choice
                for choice in await panels.panel_planning_choices(uow=app.uow(), actor=actor)
            }
        self.schedule_sites = [
            {"id": str(site_id), "code": choice.site_code} for site_id, choice in planning.items()
        ]
        self.meetings = []
        self.agendas = {}
        self.meeting_actions = {}
        self.agenda_choices = {}
        self.action_case_choices = {}
        self.owner_choices = {}
        for invitation in upcoming:
            meeting = invitation.meeting
            detail = details[meeting.id]
            key = str(meeting.id)
            when = words.format_datetime(meeting.starts_at, WHEN)
            reply = (
                words.gettext("You have not replied yet.")
                if invitation.my_rsvp is None
                else words.gettext("Your reply: {answer}", answer=label(invitation.my_rsvp, words))
            )
            self.meetings.append(
                {
                    "id": key,
                    "heading": _meeting_heading(meeting.site_code, when, words),
                    "place": meeting.place or "",
                    "reply": reply,
                    "can_plan": "1" if meeting.site_id in planning else "",
                }
            )
            self.agendas[key] = [item.case_reference for item in detail.agenda]
            self.meeting_actions[key] = [_action_row(a, words) for a in detail.actions]
            if meeting.site_id in planning:
                self._plan_choices(key, detail, planning[meeting.site_id], words)
        self.actions = []
        for meeting_id in last_held.values():
            detail = details[meeting_id]
            held = _meeting_heading(
                detail.meeting.site_code, words.format_date(detail.meeting.starts_at, DAY), words
            )
            self.actions += [_action_row(action, words, held) for action in detail.actions]
        self.can_broadcast = offers(actor, Offer.BROADCAST)
        choices = (
            await broadcasts.broadcastable_meetings(uow=app.uow(), actor=actor)
            if self.can_broadcast
            else []
        )
        self.broadcast_choices = [
            {
                "id": str(m.id),
                "label": _meeting_heading(
                    m.site_code, words.format_datetime(m.starts_at, WHEN), words
                ),
            }
            for m in choices
        ]

    def _plan_choices(
        self,
        key: str,
        detail: PanelMeetingDetail,
        choices: PanelPlanningChoices,
        words: Translator,
    ) -> None:
        on_agenda = {item.case_id for item in detail.agenda}
        self.agenda_choices[key] = [
            {"id": str(c.case_id), "reference": c.reference}
            for c in choices.cases
            if c.case_id not in on_agenda
        ]
        self.action_case_choices[key] = [
            {"id": str(item.case_id), "reference": item.case_reference} for item in detail.agenda
        ]
        self.owner_choices[key] = [
            {
                "id": str(o.user_id),
                "agency": o.agency.value if o.agency else "",
                "label": (
                    f"{o.display_name} ({label(o.agency, words)})" if o.agency else o.display_name
                ),
            }
            for o in choices.owners
        ]

    @rx.event
    async def load(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        self._clear_messages()
        self.preview_text = ""
        self.broadcast_sent = False
        self._broadcast_key = ""
        await self._refresh(actor)
        return None

    @rx.event
    async def rsvp(self, meeting_id: str, answer: str) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        from webapp.backend import container

        words = translator(self.locale)
        self._clear_messages()
        try:
            status = AttendanceStatus(answer)
            row = await panels.rsvp_panel_meeting(
                uow=container().uow(), actor=actor, meeting_id=int(meeting_id), status=status
            )
        except (DomainError, ValueError) as error:
            self._fail(f"meeting-{meeting_id}", error, words)
        else:
            self.confirmation = words.gettext(
                "Your reply: {answer}", answer=label(row.status, words)
            )
        await self._refresh(actor)
        return None

    def _show(self, meeting_key: str, problems: list[tuple[str, str, str]]) -> None:
        """Show ``problems`` (state field, element id, message) on one planning form."""
        self.error_meeting = meeting_key
        for attribute, _element, message in problems:
            setattr(self, attribute, message)
        self.errors = [{"field": element, "message": message} for _a, element, message in problems]

    @rx.event
    async def add_to_agenda(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        from webapp.backend import container

        words = translator(self.locale)
        self._clear_messages()
        key = str(form.get("meeting_id") or "")
        self.planned_meeting = key
        case_id = str(form.get("case_id") or "")
        field = AGENDA_CASE + key
        offered = {c["id"]: c["reference"] for c in self.agenda_choices.get(key, [])}
        if not key.isdigit() or case_id not in offered:
            self._show(key, [("agenda_case_error", field, words.gettext(CHOOSE_AGENDA_CASE))])
            yield focus("error-summary")
            return
        try:
            item = await panels.add_agenda_item(
                uow=container().uow(), actor=actor, meeting_id=int(key), case_id=int(case_id)
            )
        except DomainError as error:
            message = (
                words.gettext(ALREADY_ON_AGENDA)
                if isinstance(error, ValidationFailed)
                and error.details.get("rule") == "already_on_agenda"
                else error_message(error, words)
            )
            self._show(key, [("agenda_case_error", field, message)])
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "{reference} added to the agenda.", reference=item.case_reference
        )
        await self._refresh(actor)
        yield focus("confirmation")

    @rx.event
    async def add_action(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        from webapp.backend import container

        app = container()
        words = translator(self.locale)
        self._clear_messages()
        key = str(form.get("meeting_id") or "")
        self.planned_meeting = key
        case_id = str(form.get("case_id") or "")
        description = str(form.get("description") or "").strip()
        owner_id = str(form.get("owner_user_id") or "")
        due_on = _parse_day(str(form.get("due_on") or ""))
        cases = {c["id"]: c["reference"] for c in self.action_case_choices.get(key, [])}
        owners = {o["id"]: o["agency"] for o in self.owner_choices.get(key, [])}
        problems: list[tuple[str, str, str]] = []
        if case_id not in cases:
            problems.append(
                ("action_case_error", ACTION_CASE + key, words.gettext(CHOOSE_ACTION_CASE))
            )
        if not description:
            problems.append(
                (
                    "action_description_error",
                    ACTION_DESCRIPTION + key,
                    words.gettext(ENTER_DESCRIPTION),
                )
            )
        elif len(description) > DESCRIPTION_MAX_LENGTH:
            problems.append(
                (
                    "action_description_error",
                    ACTION_DESCRIPTION + key,
                    words.gettext(DESCRIPTION_TOO_LONG),
                )
            )
        if owner_id not in owners:
            problems.append(("action_owner_error", ACTION_OWNER + key, words.gettext(CHOOSE_OWNER)))
        if due_on is None:
            problems.append(("action_due_error", ACTION_DUE + key, words.gettext(ENTER_DUE)))
        elif due_on < app.clock.now().astimezone(words.timezone).date():
            problems.append(("action_due_error", ACTION_DUE + key, words.gettext(DUE_IN_PAST)))
        if problems or not key.isdigit():
            self._show(key, problems)
            yield focus("error-summary")
            return
        assert due_on is not None
        try:
            action = await panels.add_panel_action(
                uow=app.uow(),
                actor=actor,
                data=PanelActionCreate(
                    meeting_id=int(key),
                    case_id=int(case_id),
                    description=description,
                    owner_user_id=int(owner_id),
                    # The owner's agency at the site too, for reports by agency.
                    owner_agency=Agency(owners[owner_id]) if owners[owner_id] else None,
                    due_on=due_on,
                ),
            )
        except (DomainError, ValidationError) as error:
            message = (
                error_message(error, words)
                if isinstance(error, DomainError)
                else words.gettext(ENTER_DESCRIPTION)
            )
            self._show(key, [("action_case_error", ACTION_CASE + key, message)])
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "Action added for {reference}, due {due}.",
            reference=action.case_reference,
            due=words.format_date(action.due_on, DAY),
        )
        await self._refresh(actor)
        yield [_clear(ACTION_DESCRIPTION + key, ACTION_DUE + key), focus("confirmation")]

    @rx.event
    async def set_action_status(self, action_id: str, status: str):  # type: ignore[no-untyped-def]
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        from webapp.backend import container

        words = translator(self.locale)
        self._clear_messages()
        try:
            action = await panels.update_panel_action_status(
                uow=container().uow(),
                actor=actor,
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
        await self._refresh(actor)
        yield focus("error-summary" if self.errors else "confirmation")

    @rx.event
    async def schedule(self, form: dict[str, str]):  # type: ignore[no-untyped-def]
        actor = await self.actor()
        if actor is None:
            yield rx.redirect(routes.SIGN_IN, replace=True)
            return
        from webapp.backend import container

        app = container()
        words = translator(self.locale)
        self._clear_messages()
        site_id = str(form.get("site_id") or "")
        starts_at = parse_local_datetime(
            str(form.get("meeting_date") or ""), str(form.get("meeting_time") or ""), words
        )
        place = str(form.get("place") or "").strip()
        problems: list[tuple[str, str, str]] = []
        if site_id not in {site["id"] for site in self.schedule_sites}:
            problems.append(("schedule_site_error", SCHEDULE_SITE, words.gettext(CHOOSE_SITE)))
        if starts_at is None:
            problems.append(("schedule_when_error", SCHEDULE_DATE, words.gettext(ENTER_WHEN)))
        elif starts_at <= app.clock.now():
            problems.append(("schedule_when_error", SCHEDULE_DATE, words.gettext(WHEN_IN_PAST)))
        if len(place) > PLACE_MAX_LENGTH:
            problems.append(("schedule_place_error", SCHEDULE_PLACE, words.gettext(PLACE_TOO_LONG)))
        if problems:
            self._show("", problems)
            yield focus("error-summary")
            return
        assert starts_at is not None
        try:
            meeting = await panels.schedule_panel_meeting(
                uow=app.uow(),
                actor=actor,
                data=PanelMeetingCreate(
                    site_id=int(site_id), starts_at=starts_at, place=place or None
                ),
            )
        except DomainError as error:
            self._show("", [("schedule_site_error", SCHEDULE_SITE, error_message(error, words))])
            yield focus("error-summary")
            return
        self.confirmation = words.gettext(
            "Panel meeting scheduled: {meeting}.",
            meeting=_meeting_heading(
                meeting.site_code, words.format_datetime(meeting.starts_at, WHEN), words
            ),
        )
        await self._refresh(actor)
        yield [_clear(SCHEDULE_DATE, SCHEDULE_TIME, SCHEDULE_PLACE), focus("confirmation")]

    def _fail(self, field: str, error: Exception, words: Translator) -> None:
        message = (
            error_message(error, words)
            if isinstance(error, DomainError)
            else words.gettext(CHOOSE_MEETING)
        )
        self.errors = [{"field": field, "message": message}]
        if field == MEETING_FIELD:
            self.meeting_error = message

    @rx.event
    async def preview(self, form: dict[str, str]) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        from webapp.backend import container

        words = translator(self.locale)
        self._clear_messages()
        self.preview_text = ""
        self.broadcast_sent = False
        self._sent_message = ""
        meeting_id = form.get("meeting_id") or ""
        if not meeting_id.isdigit():
            self._fail(MEETING_FIELD, ValueError(meeting_id), words)
            return None
        try:
            preview = await broadcasts.preview_panel_broadcast(
                uow=container().uow(), actor=actor, meeting_id=int(meeting_id)
            )
        except DomainError as error:
            self._fail(MEETING_FIELD, error, words)
            return None
        self._broadcast_key = preview.broadcast_key
        self._broadcast_meeting_id = preview.meeting.id
        self.preview_heading = _meeting_heading(
            preview.meeting.site_code,
            words.format_datetime(preview.meeting.starts_at, WHEN),
            words,
        )
        self.preview_text = render(preview.message_key, preview.params, self.locale)
        self.preview_count = words.ngettext(
            "{n} person will get this message.",
            "{n} people will get this message.",
            preview.recipients,
        )
        return None

    @rx.event
    async def send(self) -> rx.event.EventSpec | None:
        actor = await self.actor()
        if actor is None:
            return rx.redirect(routes.SIGN_IN, replace=True)
        from webapp.backend import container

        words = translator(self.locale)
        self._clear_messages()
        if not self._broadcast_key:
            self._fail(MEETING_FIELD, ValueError(""), words)
            return None
        already_sent = self.broadcast_sent
        try:
            sent = await broadcasts.broadcast_panel_meeting(
                uow=container().uow(),
                actor=actor,
                meeting_id=self._broadcast_meeting_id,
                broadcast_key=self._broadcast_key,  # kept: a second press queues nothing more
            )
        except DomainError as error:
            self._fail(MEETING_FIELD, error, words)
            return None
        self.broadcast_sent = True
        if sent.queued == 0 and already_sent:
            # A repeat press (a double click): nothing more was queued, so the first
            # confirmation, with its count, still says what happened.
            self.confirmation = self._sent_message or words.gettext(
                "This broadcast was already sent. Nothing more was queued."
            )
        else:
            self._sent_message = words.ngettext(
                "Broadcast queued for {n} person.", "Broadcast queued for {n} people.", sent.queued
            )
            self.confirmation = self._sent_message
        return None

    @rx.event
    def cancel_preview(self) -> None:
        self._clear_messages()
        self.preview_text = ""
        self.broadcast_sent = False
        self._broadcast_key = ""
        self.confirmation = translator(self.locale).gettext(
            "Broadcast cancelled. Nothing was sent."
        )


def _clear(*element_ids: str) -> rx.event.EventSpec:
    """Empty a form's fields after it was saved (the fields are the browser's, not state)."""
    return rx.call_script(
        f"{json.dumps(list(element_ids))}.forEach(id => {{"
        " const field = document.getElementById(id); if (field) field.value = ''; })"
    )


def _confirmation() -> rx.Component:
    return rx.cond(
        PanelState.confirmation != "",
        rx.el.div(
            rx.el.p(PanelState.confirmation, class_name="banner-text"),
            role="status",
            id="confirmation",
            tab_index=-1,
            class_name="banner-success",
        ),
    )


def _described_by(hint_id: rx.Var | str, error_id: rx.Var | str, in_error: rx.Var) -> rx.Var:
    return rx.cond(in_error, hint_id + " " + error_id, hint_id)  # type: ignore[operator]


def _select(
    *,
    field_id: rx.Var,
    name: str,
    label_text: str,
    hint: str,
    error: rx.Var,
    in_error: rx.Var,
    placeholder: str,
    options: rx.Var,
    option_label: str,
) -> rx.Component:
    """A labelled select with a hint and its own error line (GOV.UK select)."""
    hint_id = field_id.to(str) + "-hint"
    error_id = field_id.to(str) + "-error"
    return rx.el.div(
        rx.el.label(label_text, html_for=field_id, class_name="label"),
        rx.el.div(hint, id=hint_id, class_name="hint"),
        field_error(error, error_id, in_error),
        rx.el.select(
            rx.el.option(placeholder, value=""),
            rx.foreach(
                options, lambda choice: rx.el.option(choice[option_label], value=choice["id"])
            ),
            id=field_id,
            name=name,
            class_name=rx.cond(in_error, "input select input-error", "input select"),
            aria_describedby=_described_by(hint_id, error_id, in_error),
        ),
        class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
    )


def _status_button(action: rx.Var) -> rx.Component:
    hidden = rx.el.span(" " + action["reference"].to(str), class_name="visually-hidden")
    return rx.fragment(
        rx.cond(
            action["can_finish"] != "",
            rx.el.button(
                _("Mark as done"),
                hidden,
                type="button",
                on_click=PanelState.set_action_status(action["id"], PanelActionStatus.DONE.value),
                class_name="button",
            ),
        ),
        rx.cond(
            action["can_reopen"] != "",
            rx.el.button(
                _("Reopen"),
                hidden,
                type="button",
                on_click=PanelState.set_action_status(action["id"], PanelActionStatus.OPEN.value),
                class_name="button button-secondary",
            ),
        ),
    )


def _action_details(action: rx.Var, *, with_meeting: bool) -> rx.Component:
    rows = [
        rx.el.div(rx.el.dt(_("Owner")), rx.el.dd(action["owner"]), class_name="card-row"),
        rx.el.div(rx.el.dt(_("Due")), rx.el.dd(action["due"]), class_name="card-row"),
        rx.el.div(
            rx.el.dt(_("Status")),
            rx.el.dd(action["status"], id="action-" + action["id"].to(str), tab_index=-1),
            class_name="card-row",
        ),
    ]
    if with_meeting:
        rows.append(
            rx.el.div(rx.el.dt(_("Agreed at")), rx.el.dd(action["meeting"]), class_name="card-row")
        )
    return rx.el.dl(*rows, class_name="card-details")


def _action_card(action: rx.Var) -> rx.Component:
    """An action from the last panel (under a level-2 heading)."""
    return rx.el.li(
        rx.el.h3(
            rx.el.span(action["reference"], class_name="case-reference"),
            " · ",
            action["description"],
            class_name="card-title",
        ),
        _action_details(action, with_meeting=True),
        _status_button(action),
        class_name="card panel-action",
    )


def _meeting_action(action: rx.Var) -> rx.Component:
    """An action agreed for a coming meeting (inside the meeting's card)."""
    return rx.el.li(
        rx.el.h5(
            rx.el.span(action["reference"], class_name="case-reference"),
            " · ",
            action["description"],
            class_name="heading-xs",
        ),
        _action_details(action, with_meeting=False),
        _status_button(action),
        class_name="panel-action",
    )


def _agenda_form(meeting: rx.Var) -> rx.Component:
    key = meeting["id"].to(str)
    in_error = (PanelState.error_meeting == key) & (PanelState.agenda_case_error != "")
    choices = PanelState.agenda_choices[key]
    return rx.el.form(
        rx.el.h4(_("Add a case to the agenda"), class_name="heading-xs"),
        rx.el.input(type="hidden", name="meeting_id", value=key),
        _select(
            field_id=AGENDA_CASE + key,
            name="case_id",
            label_text=_("Case reference"),
            hint=_("The site's open cases. Only the reference is shown."),
            error=PanelState.agenda_case_error,
            in_error=in_error,
            placeholder=_("Choose a case"),
            options=choices,
            option_label="reference",
        ),
        button(_("Add to agenda"), type="submit"),
        on_submit=PanelState.add_to_agenda,
        no_validate=True,
    )


def _action_form(meeting: rx.Var) -> rx.Component:
    key = meeting["id"].to(str)
    mine = PanelState.error_meeting == key
    case_error = mine & (PanelState.action_case_error != "")
    description_error = mine & (PanelState.action_description_error != "")
    due_error = mine & (PanelState.action_due_error != "")
    description_id = ACTION_DESCRIPTION + key
    due_id = ACTION_DUE + key
    return rx.el.form(
        rx.el.h4(_("Add an action"), class_name="heading-xs"),
        rx.el.input(type="hidden", name="meeting_id", value=key),
        _select(
            field_id=ACTION_CASE + key,
            name="case_id",
            label_text=_("Case"),
            hint=_("A case on this meeting's agenda."),
            error=PanelState.action_case_error,
            in_error=case_error,
            placeholder=_("Choose a case"),
            options=PanelState.action_case_choices[key],
            option_label="reference",
        ),
        rx.el.div(
            rx.el.label(_("What needs to be done"), html_for=description_id, class_name="label"),
            rx.el.div(
                _("For example: check bail conditions and report back. Do not write names."),
                id=description_id + "-hint",
                class_name="hint",
            ),
            field_error(
                PanelState.action_description_error, description_id + "-error", description_error
            ),
            rx.el.textarea(
                id=description_id,
                name="description",
                rows=3,
                class_name=rx.cond(
                    description_error, "input textarea input-error", "input textarea"
                ),
                aria_describedby=_described_by(
                    description_id + "-hint", description_id + "-error", description_error
                ),
            ),
            class_name=rx.cond(description_error, "form-group form-group-error", "form-group"),
        ),
        _select(
            field_id=ACTION_OWNER + key,
            name="owner_user_id",
            label_text=_("Owner"),
            hint=_("The member of staff who will do it."),
            error=PanelState.action_owner_error,
            in_error=mine & (PanelState.action_owner_error != ""),
            placeholder=_("Choose an owner"),
            options=PanelState.owner_choices[key],
            option_label="label",
        ),
        rx.el.div(
            rx.el.label(_("Due date"), html_for=due_id, class_name="label"),
            rx.el.div(_("For example, 27/3/2026."), id=due_id + "-hint", class_name="hint"),
            field_error(PanelState.action_due_error, due_id + "-error", due_error),
            rx.el.input(
                type="date",
                id=due_id,
                name="due_on",
                class_name=rx.cond(due_error, "input input-date input-error", "input input-date"),
                aria_describedby=_described_by(due_id + "-hint", due_id + "-error", due_error),
            ),
            class_name=rx.cond(due_error, "form-group form-group-error", "form-group"),
        ),
        button(_("Add action"), type="submit"),
        on_submit=PanelState.add_action,
        no_validate=True,
    )


def _planning(meeting: rx.Var) -> rx.Component:
    """The coordinator's forms for one meeting, folded away until wanted (a phone shows many
    meetings); unfolded again for the meeting being planned, so its errors and fields show."""
    key = meeting["id"].to(str)
    return rx.el.details(
        rx.el.summary(_("Plan this meeting: agenda and actions"), class_name="plan-toggle"),
        _agenda_form(meeting),
        rx.cond(
            PanelState.action_case_choices[key].length() > 0,  # type: ignore[attr-defined]
            _action_form(meeting),
            rx.fragment(
                rx.el.h4(_("Add an action"), class_name="heading-xs"),
                rx.el.p(_("Add a case to the agenda first, then agree its actions.")),
            ),
        ),
        open=PanelState.planned_meeting == key,
        class_name="panel-planning",
    )


def _meeting_card(meeting: rx.Var) -> rx.Component:
    key = meeting["id"].to(str)
    agenda = PanelState.agendas[key]
    actions = PanelState.meeting_actions[key]
    return rx.el.li(
        rx.el.h3(meeting["heading"], class_name="card-title"),
        rx.cond(meeting["place"] != "", rx.el.p(meeting["place"], class_name="card-meta")),
        rx.el.h4(_("Cases on the agenda"), class_name="heading-xs"),
        rx.cond(
            agenda.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(agenda, lambda ref: rx.el.li(ref, class_name="case-reference")),
                class_name="plain-list",
            ),
            rx.el.p(_("No cases are on the agenda yet.")),
        ),
        rx.el.h4(_("Actions"), class_name="heading-xs"),
        rx.cond(
            actions.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(actions, _meeting_action), class_name="plain-list"),
            rx.el.p(_("No actions have been agreed for this meeting yet.")),
        ),
        rx.el.p(meeting["reply"], id="meeting-" + key, tab_index=-1),
        rx.el.div(
            rx.el.button(
                _("Attending"),
                type="button",
                on_click=PanelState.rsvp(meeting["id"], AttendanceStatus.ATTENDING.value),
                class_name="button",
            ),
            rx.el.button(
                _("Apologies"),
                type="button",
                on_click=PanelState.rsvp(meeting["id"], AttendanceStatus.APOLOGIES.value),
                class_name="button button-secondary",
            ),
            class_name="button-group",
        ),
        rx.cond(meeting["can_plan"] != "", _planning(meeting)),
        class_name="card",
    )


def _schedule_section() -> rx.Component:
    mine = PanelState.error_meeting == ""
    site_error = mine & (PanelState.schedule_site_error != "")
    when_error = mine & (PanelState.schedule_when_error != "")
    place_error = mine & (PanelState.schedule_place_error != "")
    return rx.el.section(
        rx.el.h2(_("Schedule a panel meeting"), id="schedule-heading", class_name="heading-m"),
        rx.el.form(
            _select(
                field_id=rx.Var.create(SCHEDULE_SITE),
                name="site_id",
                label_text=_("Site"),
                hint=_("Where the panel meets."),
                error=PanelState.schedule_site_error,
                in_error=site_error,
                placeholder=_("Choose a site"),
                options=PanelState.schedule_sites,
                option_label="code",
            ),
            rx.el.div(
                rx.el.fieldset(
                    rx.el.legend(_("When is it?"), class_name="label"),
                    rx.el.div(
                        _("For example, 27/3/2026 at 10:00."),
                        id="schedule-when-hint",
                        class_name="hint",
                    ),
                    field_error(PanelState.schedule_when_error, "schedule-when-error", when_error),
                    rx.el.div(
                        rx.el.div(
                            rx.el.label(_("Date"), html_for=SCHEDULE_DATE, class_name="label"),
                            rx.el.input(
                                type="date",
                                id=SCHEDULE_DATE,
                                name="meeting_date",
                                class_name=rx.cond(
                                    when_error, "input input-date input-error", "input input-date"
                                ),
                            ),
                            class_name="date-time-item",
                        ),
                        rx.el.div(
                            rx.el.label(_("Time"), html_for=SCHEDULE_TIME, class_name="label"),
                            rx.el.input(
                                type="time",
                                id=SCHEDULE_TIME,
                                name="meeting_time",
                                class_name=rx.cond(
                                    when_error, "input input-time input-error", "input input-time"
                                ),
                            ),
                            class_name="date-time-item",
                        ),
                        class_name="date-time",
                    ),
                    class_name="fieldset",
                    aria_describedby=_described_by(
                        "schedule-when-hint", "schedule-when-error", when_error
                    ),
                ),
                class_name=rx.cond(when_error, "form-group form-group-error", "form-group"),
            ),
            rx.el.div(
                rx.el.label(_("Place (optional)"), html_for=SCHEDULE_PLACE, class_name="label"),
                rx.el.div(
                    _("A room and building, for example: Room 4, County Hall."),
                    id=f"{SCHEDULE_PLACE}-hint",
                    class_name="hint",
                ),
                field_error(
                    PanelState.schedule_place_error, f"{SCHEDULE_PLACE}-error", place_error
                ),
                rx.el.input(
                    id=SCHEDULE_PLACE,
                    name="place",
                    class_name=rx.cond(
                        place_error, "input input-wide input-error", "input input-wide"
                    ),
                    aria_describedby=_described_by(
                        f"{SCHEDULE_PLACE}-hint", f"{SCHEDULE_PLACE}-error", place_error
                    ),
                ),
                class_name=rx.cond(place_error, "form-group form-group-error", "form-group"),
            ),
            button(_("Schedule meeting"), type="submit"),
            on_submit=PanelState.schedule,
            no_validate=True,
        ),
        aria_labelledby="schedule-heading",
    )


def _broadcast_section() -> rx.Component:
    in_error = PanelState.meeting_error != ""
    return rx.el.section(
        rx.el.h2(
            _("Tell the panel about a meeting"), id="broadcast-heading", class_name="heading-m"
        ),
        rx.cond(
            PanelState.broadcast_choices.length() > 0,  # type: ignore[attr-defined]
            rx.el.form(
                rx.el.div(
                    rx.el.label(_("Meeting"), html_for=MEETING_FIELD, class_name="label"),
                    rx.el.div(
                        _("You will see the message and who gets it before anything is sent."),
                        id=f"{MEETING_FIELD}-hint",
                        class_name="hint",
                    ),
                    field_error(PanelState.meeting_error, f"{MEETING_FIELD}-error", in_error),
                    rx.el.select(
                        rx.el.option(_("Choose a meeting"), value=""),
                        rx.foreach(
                            PanelState.broadcast_choices,
                            lambda choice: rx.el.option(choice["label"], value=choice["id"]),
                        ),
                        id=MEETING_FIELD,
                        name="meeting_id",
                        class_name=rx.cond(in_error, "input select input-error", "input select"),
                        aria_describedby=rx.cond(
                            in_error,
                            f"{MEETING_FIELD}-hint {MEETING_FIELD}-error",
                            f"{MEETING_FIELD}-hint",
                        ),
                    ),
                    class_name=rx.cond(in_error, "form-group form-group-error", "form-group"),
                ),
                button(_("Preview"), type="submit"),
                on_submit=PanelState.preview,
                no_validate=True,
            ),
            rx.el.p(_("There are no upcoming panel meetings to tell about.")),
        ),
        rx.cond(
            PanelState.preview_text != "",
            rx.el.div(
                rx.el.h3(_("Preview of the broadcast"), class_name="card-title"),
                rx.el.p(PanelState.preview_heading, class_name="card-meta"),
                rx.el.blockquote(PanelState.preview_text, class_name="inset-text"),
                rx.el.p(PanelState.preview_count, class_name="recipient-count"),
                rx.cond(
                    PanelState.broadcast_sent,
                    rx.fragment(),
                    rx.el.div(
                        button(_("Send"), type="button", on_click=PanelState.send),
                        rx.el.button(
                            _("Cancel"),
                            type="button",
                            on_click=PanelState.cancel_preview,
                            class_name="button button-secondary",
                        ),
                        class_name="button-group",
                    ),
                ),
                class_name="card",
                id="broadcast-preview",
            ),
        ),
        aria_labelledby="broadcast-heading",
    )


def panel_page() -> rx.Component:
    return page(
        _("Panel"),
        rx.el.div(
            error_summary(PanelState.errors),
            _confirmation(),
            rx.el.section(
                rx.el.h2(_("Upcoming meetings"), id="upcoming-heading", class_name="heading-m"),
                rx.cond(
                    PanelState.meetings.length() > 0,  # type: ignore[attr-defined]
                    rx.el.ul(
                        rx.foreach(PanelState.meetings, _meeting_card), class_name="card-list"
                    ),
                    rx.el.p(_("No panel meetings are coming up at your sites.")),
                ),
                aria_labelledby="upcoming-heading",
            ),
            # The coordinator's tasks come before the long list of actions.
            rx.cond(
                PanelState.schedule_sites.length() > 0,  # type: ignore[attr-defined]
                _schedule_section(),
            ),
            rx.cond(PanelState.can_broadcast, _broadcast_section()),
            rx.el.section(
                rx.el.h2(
                    _("Actions from the last panel"), id="actions-heading", class_name="heading-m"
                ),
                rx.cond(
                    PanelState.actions.length() > 0,  # type: ignore[attr-defined]
                    rx.el.ul(rx.foreach(PanelState.actions, _action_card), class_name="card-list"),
                    rx.el.p(_("There are no actions from the last panel.")),
                ),
                aria_labelledby="actions-heading",
            ),
            class_name="panel-page",
        ),
        on_language_change=[PanelState.load],
    )
