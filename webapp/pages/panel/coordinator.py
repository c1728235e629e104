"""The coordinator's parts of the Panel page: planning a meeting (agenda and actions),
scheduling one, and telling the panel about one (preview first, then send)."""

from __future__ import annotations

import reflex as rx

from webapp.components.forms import button, date_input, date_time_input, field_error
from webapp.i18n import _
from webapp.pages.panel.checks import (
    ACTION_CASE,
    ACTION_DESCRIPTION,
    ACTION_DUE,
    ACTION_OWNER,
    AGENDA_CASE,
    SCHEDULE_DATE,
    SCHEDULE_PLACE,
    SCHEDULE_SITE,
    SCHEDULE_TIME,
)
from webapp.pages.panel.fields import described_by, select_field
from webapp.pages.panel.state import MEETING_FIELD, PanelState


def _agenda_form(meeting: rx.Var) -> rx.Component:
    key = meeting.id
    in_error = (PanelState.error_meeting == key) & (PanelState.agenda_case_error != "")
    choices = PanelState.agenda_choices[key]
    return rx.el.form(
        rx.el.h4(_("Add a case to the agenda"), class_name="heading-xs"),
        rx.el.input(type="hidden", name="meeting_id", value=key),
        select_field(
            field_id=AGENDA_CASE + key,
            name="case_id",
            label_text=_("Case reference"),
            hint=_("The site's open cases. Only the reference is shown."),
            error=PanelState.agenda_case_error,
            in_error=in_error,
            placeholder=_("Choose a case"),
            options=choices,
        ),
        button(_("Add to agenda"), type="submit"),
        on_submit=PanelState.add_to_agenda,
        no_validate=True,
    )


def _action_form(meeting: rx.Var) -> rx.Component:
    key = meeting.id
    mine = PanelState.error_meeting == key
    case_error = mine & (PanelState.action_case_error != "")
    description_error = mine & (PanelState.action_description_error != "")
    due_error = mine & (PanelState.action_due_error != "")
    description_id = ACTION_DESCRIPTION + key
    due_id = ACTION_DUE + key
    return rx.el.form(
        rx.el.h4(_("Add an action"), class_name="heading-xs"),
        rx.el.input(type="hidden", name="meeting_id", value=key),
        select_field(
            field_id=ACTION_CASE + key,
            name="case_id",
            label_text=_("Case"),
            hint=_("A case on this meeting's agenda."),
            error=PanelState.action_case_error,
            in_error=case_error,
            placeholder=_("Choose a case"),
            options=PanelState.action_case_choices[key],
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
                aria_describedby=described_by(
                    description_id + "-hint", description_id + "-error", description_error
                ),
            ),
            class_name=rx.cond(description_error, "form-group form-group-error", "form-group"),
        ),
        select_field(
            field_id=ACTION_OWNER + key,
            name="owner_user_id",
            label_text=_("Owner"),
            hint=_("The member of staff who will do it."),
            error=PanelState.action_owner_error,
            in_error=mine & (PanelState.action_owner_error != ""),
            placeholder=_("Choose an owner"),
            options=PanelState.owner_choices[key],
        ),
        date_input(
            name="due_on",
            legend=_("Due date"),
            hint=_("For example, 27 3 2026"),
            error=PanelState.action_due_error,
            element_id=due_id,
            in_error=due_error,
        ),
        button(_("Add action"), type="submit"),
        on_submit=PanelState.add_action,
        no_validate=True,
    )


def planning(meeting: rx.Var) -> rx.Component:
    """The coordinator's forms for one meeting, folded away until wanted (a phone shows many
    meetings); unfolded again for the meeting being planned, so its errors and fields show."""
    key = meeting.id
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


def schedule_section() -> rx.Component:
    mine = PanelState.error_meeting == ""
    site_error = mine & (PanelState.schedule_site_error != "")
    when_error = mine & (PanelState.schedule_when_error != "")
    place_error = mine & (PanelState.schedule_place_error != "")
    return rx.el.section(
        rx.el.h2(_("Schedule a panel meeting"), id="schedule-heading", class_name="heading-m"),
        rx.el.form(
            select_field(
                field_id=rx.Var.create(SCHEDULE_SITE),
                name="site_id",
                label_text=_("Site"),
                hint=_("Where the panel meets."),
                error=PanelState.schedule_site_error,
                in_error=site_error,
                placeholder=_("Choose a site"),
                options=PanelState.schedule_sites,
            ),
            date_time_input(
                name="meeting_date",
                time_name="meeting_time",
                legend=_("When is it?"),
                hint=_("For example, 27 3 2026 and 10:00."),
                error=PanelState.schedule_when_error,
                element_id=SCHEDULE_DATE,
                time_id=SCHEDULE_TIME,
                in_error=when_error,
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
                    aria_describedby=described_by(
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


def broadcast_section() -> rx.Component:
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
                            lambda choice: rx.el.option(choice.label, value=choice.id),
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
