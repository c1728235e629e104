"""Panel: the coming panel meetings at my sites, their agendas, my reply, and the actions from
the last panels with their owners and due dates; for the panel coordinator, the broadcast.

A broadcast is previewed first: the text members get (rendered by ``ui.notifications``, as the
channels render it) and how many will get it. The preview's ``broadcast_key`` stays on the
server; Send hands it back to core, so pressing Send twice queues each message once.
"""

from __future__ import annotations

from datetime import timedelta

import reflex as rx

from core.enums import AttendanceStatus, PanelMeetingStatus
from core.errors import DomainError, NotPermitted
from core.schemas.actor import Actor
from core.schemas.panels import PanelActionRead
from core.services import broadcasts, panels, users
from ui.errors import error_message
from ui.i18n import N_, Translator
from ui.labels import label
from ui.notifications import render
from webapp import routes
from webapp.components.forms import button, error_summary, field_error
from webapp.components.layout import page
from webapp.i18n import _, translator
from webapp.state import AppState

MEETING_FIELD = "broadcast-meeting"
CHOOSE_MEETING = N_("Choose the panel meeting to tell people about")
WHEN = "EEE d MMM yyyy, HH:mm"
PAST_PANELS_LOOKED_AT = timedelta(days=120)


def _meeting_heading(site_code: str, starts_at_text: str, words: Translator) -> str:
    return words.gettext("Panel {site}, {time}", site=site_code, time=starts_at_text)


def _owner(action: PanelActionRead, names: dict[int, str], words: Translator) -> str:
    if action.owner_user_id is not None and action.owner_user_id in names:
        return names[action.owner_user_id]
    if action.owner_agency is not None:
        return label(action.owner_agency, words)
    return words.gettext("A member of staff")


class PanelState(AppState):
    meetings: list[dict[str, str]] = []
    agendas: dict[str, list[str]] = {}
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
    _broadcast_key: str = ""  # backend only: the browser never holds it
    _broadcast_meeting_id: int = 0
    _sent_message: str = ""

    def _clear_messages(self) -> None:
        self.confirmation = ""
        self.errors = []
        self.meeting_error = ""

    async def _refresh(self, actor: Actor) -> None:
        from webapp.backend import container

        app = container()
        words = translator(self.locale)
        upcoming = await panels.my_upcoming_panel_meetings(uow=app.uow(), actor=actor)
        self.meetings = []
        self.agendas = {}
        for invitation in upcoming:
            meeting = invitation.meeting
            detail = await panels.get_panel_meeting(
                uow=app.uow(), actor=actor, meeting_id=meeting.id
            )
            when = words.format_datetime(meeting.starts_at, WHEN)
            reply = (
                words.gettext("You have not replied yet.")
                if invitation.my_rsvp is None
                else words.gettext("Your reply: {answer}", answer=label(invitation.my_rsvp, words))
            )
            self.meetings.append(
                {
                    "id": str(meeting.id),
                    "heading": _meeting_heading(meeting.site_code, when, words),
                    "place": meeting.place or "",
                    "reply": reply,
                }
            )
            self.agendas[str(meeting.id)] = [item.case_reference for item in detail.agenda]
        await self._refresh_actions(actor, words)
        try:
            choices = await broadcasts.broadcastable_meetings(uow=app.uow(), actor=actor)
            self.can_broadcast = True
        except NotPermitted:
            choices = []
            self.can_broadcast = False
        self.broadcast_choices = [
            {
                "id": str(m.id),
                "label": _meeting_heading(
                    m.site_code, words.format_datetime(m.starts_at, WHEN), words
                ),
            }
            for m in choices
        ]

    async def _refresh_actions(self, actor: Actor, words: Translator) -> None:
        """The actions from the last panel held at each of my sites."""
        from webapp.backend import container

        app = container()
        now = app.clock.now()
        recent = await panels.list_panel_meetings(
            uow=app.uow(), actor=actor, starts_from=now - PAST_PANELS_LOOKED_AT
        )
        last_held: dict[int, int] = {}
        for meeting in recent:  # oldest first, so the last one seen per site wins
            if meeting.status is PanelMeetingStatus.HELD and meeting.starts_at <= now:
                last_held[meeting.site_id] = meeting.id
        try:
            names = {
                u.id: u.display_name for u in await users.list_users(uow=app.uow(), actor=actor)
            }
        except NotPermitted:  # owners then show by agency
            names = {}
        self.actions = []
        for meeting_id in last_held.values():
            detail = await panels.get_panel_meeting(
                uow=app.uow(), actor=actor, meeting_id=meeting_id
            )
            held = _meeting_heading(
                detail.meeting.site_code,
                words.format_date(detail.meeting.starts_at, "d MMM yyyy"),
                words,
            )
            for action in detail.actions:
                self.actions.append(
                    {
                        "reference": action.case_reference,
                        "description": action.description,
                        "owner": _owner(action, names, words),
                        "due": words.format_date(action.due_on, "d MMM yyyy"),
                        "status": label(action.status, words),
                        "meeting": held,
                    }
                )

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


def _confirmation() -> rx.Component:
    return rx.cond(
        PanelState.confirmation != "",
        rx.el.div(
            rx.el.p(PanelState.confirmation, class_name="banner-text"),
            role="status",
            class_name="banner-success",
        ),
    )


def _meeting_card(meeting: rx.Var) -> rx.Component:
    agenda = PanelState.agendas[meeting["id"].to(str)]
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
        rx.el.p(meeting["reply"], id="meeting-" + meeting["id"].to(str), tab_index=-1),
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
        class_name="card",
    )


def _action_card(action: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.el.h3(
            rx.el.span(action["reference"], class_name="case-reference"),
            " · ",
            action["description"],
            class_name="card-title",
        ),
        rx.el.dl(
            rx.el.div(rx.el.dt(_("Owner")), rx.el.dd(action["owner"]), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Due")), rx.el.dd(action["due"]), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Status")), rx.el.dd(action["status"]), class_name="card-row"),
            rx.el.div(rx.el.dt(_("Agreed at")), rx.el.dd(action["meeting"]), class_name="card-row"),
            class_name="card-details",
        ),
        class_name="card",
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
        error_summary(PanelState.errors),
        _confirmation(),
        rx.el.section(
            rx.el.h2(_("Upcoming meetings"), id="upcoming-heading", class_name="heading-m"),
            rx.cond(
                PanelState.meetings.length() > 0,  # type: ignore[attr-defined]
                rx.el.ul(rx.foreach(PanelState.meetings, _meeting_card), class_name="card-list"),
                rx.el.p(_("No panel meetings are coming up at your sites.")),
            ),
            aria_labelledby="upcoming-heading",
        ),
        # The coordinator's task comes before the long list of actions.
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
        on_language_change=[PanelState.load],
    )
