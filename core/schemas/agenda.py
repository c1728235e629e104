"""What a staff member's day looks like: their appointments and the panel actions now overdue.

Both carry the case reference, times, the kind of place and dates only: never a name, an address,
a note or an action's free-text description, so a face may show them in a chat message.
"""

from __future__ import annotations

from datetime import date

from core.enums import Agency
from core.schemas.appointments import AppointmentRead
from core.schemas.common import ReadModel


class OverdueActionRead(ReadModel):
    id: int
    case_id: int
    case_reference: str
    owner_agency: Agency | None
    due_on: date


class MyDayRead(ReadModel):
    day: date
    appointments: tuple[AppointmentRead, ...]
    overdue_actions: tuple[OverdueActionRead, ...]
