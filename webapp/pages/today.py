"""Today: the first page after signing in (appointments, overdue actions, alerts, inbox).

One core call (``core.services.today.my_today``, the same parts the bot's /today uses). Each
line shows a case reference, a time or date and a kind of place: never a name or an address.
Phone first: each item is a card with a short list of details, never a wide table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import reflex as rx

from core.errors import DomainError
from core.schemas.agenda import OverdueActionRead
from core.schemas.alerts import AlertRead
from core.schemas.appointments import AppointmentRead
from core.services import today as today_service
from ui.i18n import Translator
from ui.labels import label
from webapp import routes
from webapp.components.layout import loading, page
from webapp.handlers import Caller, signed_in
from webapp.i18n import _
from webapp.state import AppState

MOMENT = "EEE d MMM, HH:mm"


@dataclass(frozen=True)
class AppointmentCard:
    time: str
    datetime: str
    reference: str
    case_url: str  # the case page, '' when the reader may not open it
    place: str
    status: str
    outcome_url: str  # '' unless it has started and still waits for an outcome


@dataclass(frozen=True)
class OverdueCard:
    reference: str
    case_url: str  # the case page, '' when the reader may not open it
    due: str
    owner: str


@dataclass(frozen=True)
class AlertCard:
    reference: str
    case_url: str  # the case page, '' when the reader may not open it
    status: str
    raised: str
    datetime: str


def _case_url(case_id: int, openable: frozenset[int]) -> str:
    return routes.case_path(case_id) if case_id in openable else ""


def _appointment(
    item: AppointmentRead, words: Translator, openable: frozenset[int]
) -> AppointmentCard:
    return AppointmentCard(
        case_url=_case_url(item.case_id, openable),
        time=words.format_time(item.starts_at),
        datetime=item.starts_at.isoformat(),
        reference=item.case_reference,
        place=label(item.place_kind, words),
        # Started and still scheduled: it needs an answer, and the card offers the form.
        status=words.gettext("Awaiting outcome")
        if item.awaiting_outcome
        else label(item.status, words),
        outcome_url=routes.appointment_outcome_path(item.id) if item.awaiting_outcome else "",
    )


def _overdue(item: OverdueActionRead, words: Translator, openable: frozenset[int]) -> OverdueCard:
    return OverdueCard(
        case_url=_case_url(item.case_id, openable),
        reference=item.case_reference,
        due=words.format_date(item.due_on),
        owner=label(item.owner_agency, words) if item.owner_agency else "",
    )


def _alert(item: AlertRead, words: Translator, openable: frozenset[int]) -> AlertCard:
    return AlertCard(
        case_url=_case_url(item.case_id, openable),
        reference=item.case_reference,
        status=label(item.status, words),
        raised=words.format_datetime(item.raised_at, MOMENT),
        datetime=item.raised_at.isoformat(),
    )


class TodayState(AppState):
    day_text: str = ""
    appointments: list[AppointmentCard] = []
    overdue_actions: list[OverdueCard] = []
    open_alerts: list[AlertCard] = []
    unread_inbox: int = 0
    unread_text: str = ""
    problem: str = ""
    loaded: bool = False

    def _clear_messages(self) -> None:
        self.problem = ""

    def _show_error(self, message: str, error: DomainError) -> None:
        self.problem = message
        self.loaded = True

    @rx.event
    @signed_in
    async def load(self, caller: Caller) -> None:
        mine = await today_service.my_today(uow=caller.uow(), actor=caller.actor)
        words = caller.words
        self.day_text = words.format_date(mine.my_day.day, "full")
        may_open = mine.openable_case_ids
        self.appointments = [
            _appointment(item, words, may_open) for item in mine.my_day.appointments
        ]
        self.overdue_actions = [
            _overdue(item, words, may_open) for item in mine.my_day.overdue_actions
        ]
        self.open_alerts = [_alert(item, words, may_open) for item in mine.open_alerts]
        self.unread_inbox = mine.unread_inbox
        self.unread_text = (
            words.ngettext(
                "You have {n} unread message.", "You have {n} unread messages.", mine.unread_inbox
            )
            if mine.unread_inbox
            else words.gettext("You have no unread messages.")
        )
        self.loaded = True


def _detail(term: rx.Var | str, value: rx.Var | str) -> rx.Component:
    return rx.el.div(rx.el.dt(term), rx.el.dd(value), class_name="card-row")


def _reference(item: rx.Var) -> rx.Component:
    """The case reference, linked to the case's page for whoever core says may open it."""
    return rx.cond(item.case_url != "", rx.el.a(item.reference, href=item.case_url), item.reference)


def _empty(text: rx.Var | str) -> rx.Component:
    return rx.el.p(text, class_name="empty-state")


def _outcome_link(item: rx.Var) -> rx.Component:
    """To the outcome form of an appointment that has started and still waits for one."""
    return rx.el.div(
        rx.el.a(
            _("Record outcome"),
            rx.el.span(" ", item.reference, class_name="visually-hidden"),
            href=item.outcome_url,
            class_name="button",
        ),
        class_name="button-group card-actions",
    )


def _cards(
    heading: Any, heading_id: str, items: rx.Var, card: Callable[[Any], rx.Component], empty: Any
) -> rx.Component:
    """One of Today's lists: a heading, a card per item, or what it means that there are none."""
    return rx.el.section(
        rx.el.h2(heading, id=heading_id, class_name="heading-m"),
        rx.cond(
            items.length() > 0,  # type: ignore[attr-defined]
            rx.el.ul(rx.foreach(items, card), class_name="card-list"),
            _empty(empty),
        ),
        aria_labelledby=heading_id,
        class_name="today-section",
    )


def _appointment_card(item: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h3(rx.el.time(item.time, date_time=item.datetime), class_name="card-title"),
        rx.el.dl(
            _detail(_("Case reference"), _reference(item)),
            _detail(_("Place"), item.place),
            _detail(_("Status"), item.status),
            class_name="card-details",
        ),
        rx.cond(item.outcome_url != "", _outcome_link(item)),
        class_name=rx.cond(item.outcome_url != "", "card card-overdue", "card"),
    )


def _overdue_action_card(item: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h3(_reference(item), class_name="card-title"),
        rx.el.dl(
            _detail(_("Was due"), item.due),
            rx.cond(item.owner != "", _detail(_("Agency"), item.owner)),
            class_name="card-details",
        ),
        class_name="card card-overdue",
    )


def _alert_card(item: Any) -> rx.Component:
    return rx.el.li(
        rx.el.h3(_reference(item), class_name="card-title"),
        rx.el.dl(
            _detail(_("Status"), item.status),
            _detail(_("Raised"), rx.el.time(item.raised, date_time=item.datetime)),
            class_name="card-details",
        ),
        class_name="card card-alert",
    )


def _appointments() -> rx.Component:
    return _cards(
        _("Appointments"),
        "appointments-heading",
        TodayState.appointments,
        _appointment_card,
        _("You have no appointments today. To book one, open the case from your caseload."),
    )


def _overdue_actions() -> rx.Component:
    return _cards(
        _("Overdue panel actions"),
        "overdue-heading",
        TodayState.overdue_actions,
        _overdue_action_card,
        _(
            "You have no overdue panel actions. Panel actions you own show here once"
            " their due date has passed."
        ),
    )


def _open_alerts() -> rx.Component:
    return _cards(
        _("Open alerts"),
        "alerts-heading",
        TodayState.open_alerts,
        _alert_card,
        _("There are no open disruption alerts for you. New alerts show here and in your inbox."),
    )


def _inbox() -> rx.Component:
    return rx.el.section(
        rx.el.h2(_("Inbox"), id="inbox-heading", class_name="heading-m"),
        rx.el.p(TodayState.unread_text, id="unread-summary"),
        rx.el.p(rx.el.a(_("Open your inbox"), href=routes.INBOX, class_name="link-action")),
        aria_labelledby="inbox-heading",
        class_name="today-section",
    )


def today() -> rx.Component:
    return page(
        _("Today"),
        rx.cond(
            TodayState.problem != "",
            rx.el.div(TodayState.problem, role="alert", class_name="error-summary"),
        ),
        rx.cond(
            TodayState.loaded,
            rx.fragment(
                rx.el.p(TodayState.day_text, class_name="caption"),
                _appointments(),
                _overdue_actions(),
                _open_alerts(),
                _inbox(),
            ),
            loading(_("Loading your day…")),
        ),
        on_language_change=[TodayState.load],
    )
