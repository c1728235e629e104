from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import StringConstraints

from core.enums import Agency, AttendanceStatus, PanelActionStatus, PanelMeetingStatus
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


class AttendanceRead(ReadModel):
    user_id: int
    agency: Agency | None
    status: AttendanceStatus


class PanelMeetingDetail(ReadModel):
    meeting: PanelMeetingRead
    agenda: tuple[AgendaItemRead, ...]
    actions: tuple[PanelActionRead, ...]
    attendance: tuple[AttendanceRead, ...]
