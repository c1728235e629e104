from __future__ import annotations

from datetime import datetime

from core.enums import AppointmentStatus, PlaceKind
from core.schemas.common import AwareDatetime, InputModel, LongText, ReadModel


class AppointmentCreate(InputModel):
    case_id: int
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place_kind: PlaceKind
    staff_id: int | None = None  # defaults to the actor


class AppointmentReschedule(InputModel):
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    place_kind: PlaceKind | None = None


class AppointmentOutcome(InputModel):
    status: AppointmentStatus
    outcome: LongText | None = None


class AppointmentRead(ReadModel):
    id: int
    case_id: int
    case_reference: str
    staff_id: int
    starts_at: datetime
    ends_at: datetime
    place_kind: PlaceKind
    status: AppointmentStatus
    outcome: str | None
    rescheduled_to_id: int | None
    # Started and still scheduled (``core.rules.is_awaiting_outcome``), as of the read; False
    # from a service that does not say.
    awaiting_outcome: bool = False


class MyAppointmentsRead(ReadModel):
    """The appointments page's lists (``appointments.my_appointment_lists``)."""

    awaiting: tuple[AppointmentRead, ...]  # started, still scheduled: each needs an outcome
    upcoming: tuple[AppointmentRead, ...]  # not started yet, soonest first
