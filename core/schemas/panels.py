from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints

from core.enums import Agency, AttendanceStatus, PanelActionStatus, PanelMeetingStatus
from core.schemas.case_choice import CaseChoice
from core.schemas.common import AwareDatetime, InputModel, ReadModel, ShortText

Link = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https://")
]


class PanelMeetingCreate(InputModel):
    site_id: int
    starts_at: AwareDatetime
    place: ShortText | None = None
    link: Link | None = None


class PanelMeetingRead(ReadModel):
    id: int
    site_id: int
    site_code: str
    starts_at: datetime
    place: str | None
    link: str | None
    status: PanelMeetingStatus


class AgendaItemRead(ReadModel):
    case_id: int
    case_reference: str
    position: int
    may_open_case: bool = False  # the reader may open the case's page (policy ``case.view``)


class PanelActionCreate(InputModel):
    meeting_id: int
    case_id: int
    description: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)
    ]
    owner_agency: Agency | None = None
    owner_user_id: int | None = None
    due_on: date


class PanelActionRead(ReadModel):
    id: int
    meeting_id: int
    case_id: int
    case_reference: str
    description: str
    owner_agency: Agency | None
    owner_user_id: int | None
    due_on: date
    status: PanelActionStatus
    completed_on: date | None
    # Filled by the batch read (``get_panel_meetings``): the owner's name (staff, never a
    # victim) and whether the reader may change this action's status.
    owner_name: str | None = None
    may_update: bool = False


class AttendanceRead(ReadModel):
    user_id: int
    agency: Agency | None
    status: AttendanceStatus


class PanelMeetingDetail(ReadModel):
    meeting: PanelMeetingRead
    agenda: tuple[AgendaItemRead, ...]
    actions: tuple[PanelActionRead, ...]
    attendance: tuple[AttendanceRead, ...]


class PanelOwnerChoice(ReadModel):
    """A member of staff at the site who can own a panel action: a name and an agency only."""

    user_id: int
    display_name: str
    agency: Agency | None


class PanelPlanningChoices(ReadModel):
    """What a coordinator picks from when planning a panel at one site: the site's open cases
    (by reference only) and the staff who can own an action."""

    site_id: int
    site_code: str
    cases: tuple[CaseChoice, ...]
    owners: tuple[PanelOwnerChoice, ...]


class UpcomingPanelMeeting(ReadModel):
    """A coming meeting at one of my sites: its agenda and actions, my reply (if any), and, when
    I run the panel at its site, what I may plan it with."""

    detail: PanelMeetingDetail
    my_rsvp: AttendanceStatus | None
    planning: PanelPlanningChoices | None


class PanelPage(ReadModel):
    """Everything the Panel page shows, read in one unit of work.

    ``last_held``: at each of my sites, the last meeting held (started, marked held) within the
    look-back, with its actions. ``planning_sites``: where I may schedule a meeting (empty if
    none). ``broadcastable``: the coming meetings I may tell the panel about.
    """

    upcoming: tuple[UpcomingPanelMeeting, ...]
    last_held: tuple[PanelMeetingDetail, ...]
    planning_sites: tuple[PanelPlanningChoices, ...]
    can_broadcast: bool
    broadcastable: tuple[PanelMeetingRead, ...]
