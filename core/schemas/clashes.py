"""What a booking would clash with: shown before saving, so a person can choose to go ahead."""

from __future__ import annotations

from datetime import datetime

from core.enums import PlaceKind
from core.schemas.common import ReadModel


class AppointmentClash(ReadModel):
    """A scheduled appointment on the same case whose time overlaps the one being booked."""

    appointment_id: int
    case_id: int
    case_reference: str
    staff_id: int
    starts_at: datetime
    ends_at: datetime
    place_kind: PlaceKind


class MeetingClash(ReadModel):
    """A scheduled panel meeting at the same site within ``PANEL_MEETING_SLOT`` of the time."""

    meeting_id: int
    site_id: int
    site_code: str
    starts_at: datetime


ClashRead = AppointmentClash | MeetingClash
