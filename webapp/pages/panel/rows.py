"""What the Panel page holds for the browser: typed rows made from core's ``PanelPage``.

Strings for display only (case references, never names of the people on a case); booleans
say which buttons to offer. Core decides again on every press.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.enums import PanelActionStatus
from core.schemas.panels import (
    AgendaItemRead,
    PanelActionRead,
    PanelMeetingDetail,
    PanelMeetingRead,
    PanelPlanningChoices,
    UpcomingPanelMeeting,
)
from ui.i18n import Translator
from ui.labels import label
from webapp import routes

WHEN = "EEE d MMM yyyy, HH:mm"
DAY = "d MMM yyyy"


@dataclass(frozen=True)
class MeetingCard:
    id: str
    heading: str
    place: str
    reply: str
    can_plan: bool


@dataclass(frozen=True)
class ActionCard:
    id: str
    reference: str
    description: str
    owner: str
    due: str
    status: str
    meeting: str  # where it was agreed ('' inside its own meeting's card)
    can_finish: bool
    can_reopen: bool


@dataclass(frozen=True)
class AgendaEntry:
    """A case on a meeting's agenda: its reference, and its page if the reader may open it."""

    reference: str
    case_url: str = ""


def agenda_entry(item: AgendaItemRead) -> AgendaEntry:
    return AgendaEntry(
        reference=item.case_reference,
        case_url=routes.case_path(item.case_id) if item.may_open_case else "",
    )


@dataclass(frozen=True)
class Choice:
    """One option of a select: the value sent back and the words shown."""

    id: str
    label: str


@dataclass(frozen=True)
class OwnerChoice:
    id: str
    label: str
    agency: str  # the owner's agency value at the site ('' if none)


def meeting_heading(site_code: str, starts_at_text: str, words: Translator) -> str:
    return words.gettext("Panel {site}, {time}", site=site_code, time=starts_at_text)


def meeting_label(meeting: PanelMeetingRead, words: Translator) -> str:
    """A coming meeting's heading: its site and when it starts."""
    return meeting_heading(meeting.site_code, words.format_datetime(meeting.starts_at, WHEN), words)


def _owner(action: PanelActionRead, words: Translator) -> str:
    agency = label(action.owner_agency, words) if action.owner_agency is not None else ""
    if action.owner_name and agency:
        return f"{action.owner_name} ({agency})"
    return action.owner_name or agency or words.gettext("A member of staff")


def action_card(action: PanelActionRead, words: Translator, held: str = "") -> ActionCard:
    open_ = action.status is PanelActionStatus.OPEN
    return ActionCard(
        id=str(action.id),
        reference=action.case_reference,
        description=action.description,
        owner=_owner(action, words),
        due=words.format_date(action.due_on, DAY),
        status=label(action.status, words),
        meeting=held,
        can_finish=action.may_update and open_,
        can_reopen=action.may_update and not open_,
    )


def held_actions(detail: PanelMeetingDetail, words: Translator) -> list[ActionCard]:
    """The actions agreed at a held meeting, each saying where it was agreed."""
    held = meeting_heading(
        detail.meeting.site_code, words.format_date(detail.meeting.starts_at, DAY), words
    )
    return [action_card(action, words, held) for action in detail.actions]


def meeting_card(coming: UpcomingPanelMeeting, words: Translator) -> MeetingCard:
    meeting = coming.detail.meeting
    reply = (
        words.gettext("You have not replied yet.")
        if coming.my_rsvp is None
        else words.gettext("Your reply: {answer}", answer=label(coming.my_rsvp, words))
    )
    return MeetingCard(
        id=str(meeting.id),
        heading=meeting_label(meeting, words),
        place=meeting.place or "",
        reply=reply,
        can_plan=coming.planning is not None,
    )


def agenda_choices(detail: PanelMeetingDetail, choices: PanelPlanningChoices) -> list[Choice]:
    """The site's open cases not yet on the meeting's agenda."""
    on_agenda = {item.case_id for item in detail.agenda}
    return [
        Choice(id=str(c.case_id), label=c.reference)
        for c in choices.cases
        if c.case_id not in on_agenda
    ]


def action_case_choices(detail: PanelMeetingDetail) -> list[Choice]:
    """The cases on the meeting's agenda: an action is agreed for one of them."""
    return [Choice(id=str(item.case_id), label=item.case_reference) for item in detail.agenda]


def owner_choices(choices: PanelPlanningChoices, words: Translator) -> list[OwnerChoice]:
    return [
        OwnerChoice(
            id=str(o.user_id),
            label=f"{o.display_name} ({label(o.agency, words)})" if o.agency else o.display_name,
            agency=o.agency.value if o.agency else "",
        )
        for o in choices.owners
    ]
