"""The Panel page's components: the coming meetings (agendas, actions, my reply), the
coordinator's sections (``coordinator``), and the actions from the last panels. Case
references only, never names."""

from __future__ import annotations

import reflex as rx

from core.enums import AttendanceStatus, PanelActionStatus
from webapp.components.forms import error_summary
from webapp.components.layout import page
from webapp.i18n import _
from webapp.pages.panel.clash import meeting_clash_warning
from webapp.pages.panel.coordinator import broadcast_section, planning, schedule_section
from webapp.pages.panel.state import PanelState


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


def _status_button(action: rx.Var) -> rx.Component:
    hidden = rx.el.span(" " + action.reference, class_name="visually-hidden")
    return rx.fragment(
        rx.cond(
            action.can_finish,
            rx.el.button(
                _("Mark as done"),
                hidden,
                type="button",
                on_click=PanelState.set_action_status(action.id, PanelActionStatus.DONE.value),
                class_name="button",
            ),
        ),
        rx.cond(
            action.can_reopen,
            rx.el.button(
                _("Reopen"),
                hidden,
                type="button",
                on_click=PanelState.set_action_status(action.id, PanelActionStatus.OPEN.value),
                class_name="button button-secondary",
            ),
        ),
    )


def _action_details(action: rx.Var, *, with_meeting: bool) -> rx.Component:
    rows = [
        rx.el.div(rx.el.dt(_("Owner")), rx.el.dd(action.owner), class_name="card-row"),
        rx.el.div(rx.el.dt(_("Due")), rx.el.dd(action.due), class_name="card-row"),
        rx.el.div(
            rx.el.dt(_("Status")),
            rx.el.dd(action.status, id="action-" + action.id, tab_index=-1),
            class_name="card-row",
        ),
    ]
    if with_meeting:
        rows.append(
            rx.el.div(rx.el.dt(_("Agreed at")), rx.el.dd(action.meeting), class_name="card-row")
        )
    return rx.el.dl(*rows, class_name="card-details")


def _action_card(action: rx.Var) -> rx.Component:
    """An action from the last panel (under a level-2 heading)."""
    return rx.el.li(
        rx.el.h3(
            rx.el.span(action.reference, class_name="case-reference"),
            " · ",
            action.description,
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
            rx.el.span(action.reference, class_name="case-reference"),
            " · ",
            action.description,
            class_name="heading-xs",
        ),
        _action_details(action, with_meeting=False),
        _status_button(action),
        class_name="panel-action",
    )


def _meeting_card(meeting: rx.Var) -> rx.Component:
    key = meeting.id
    agenda = PanelState.agendas[key]
    actions = PanelState.meeting_actions[key]
    return rx.el.li(
        rx.el.h3(meeting.heading, class_name="card-title"),
        rx.cond(meeting.place != "", rx.el.p(meeting.place, class_name="card-meta")),
        rx.el.h4(_("Cases on the agenda"), class_name="heading-xs"),
        rx.cond(
            agenda.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(
                rx.foreach(
                    agenda,
                    lambda entry: rx.el.li(
                        rx.cond(
                            entry.case_url != "",
                            rx.el.a(entry.reference, href=entry.case_url),
                            entry.reference,
                        ),
                        class_name="case-reference",
                    ),
                ),
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
        rx.el.p(meeting.reply, id="meeting-" + key, tab_index=-1),
        rx.el.div(
            rx.el.button(
                _("Attending"),
                type="button",
                on_click=PanelState.rsvp(meeting.id, AttendanceStatus.ATTENDING.value),
                class_name="button",
            ),
            rx.el.button(
                _("Apologies"),
                type="button",
                on_click=PanelState.rsvp(meeting.id, AttendanceStatus.APOLOGIES.value),
                class_name="button button-secondary",
            ),
            class_name="button-group",
        ),
        rx.cond(meeting.can_plan, planning(meeting)),
        rx.cond(
            meeting.can_plan,
            rx.el.p(
                rx.el.a(
                    _("Attendance, held or cancelled"),
                    href="/panel/meeting/" + key,
                    class_name="link-action",
                )
            ),
        ),
        class_name="card",
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
                rx.fragment(meeting_clash_warning(PanelState), schedule_section()),
            ),
            rx.cond(PanelState.can_broadcast, broadcast_section()),
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
