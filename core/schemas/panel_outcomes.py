"""After a panel meeting: held (with who attended) or cancelled; the register to mark it from."""

from __future__ import annotations

from core.enums import Agency, AttendanceStatus
from core.schemas.common import InputModel, ReadModel
from core.schemas.panels import PanelMeetingRead


class MeetingHeld(InputModel):
    """The people who attended; everyone else on the register is recorded absent."""

    attended_user_ids: frozenset[int] = frozenset()


class RegisterRow(ReadModel):
    """A member of staff at the meeting's site and what is known of their attendance: their
    RSVP (invited, attending, apologies) before it is marked, attended or absent after."""

    user_id: int
    display_name: str
    agency: Agency | None
    status: AttendanceStatus | None


class PanelRegisterRead(ReadModel):
    meeting: PanelMeetingRead
    rows: tuple[RegisterRow, ...]
    attended: int  # how many marked attended
    absent: int
