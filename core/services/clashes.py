"""Clashes: a second appointment on a case at the same time, two panel meetings at a site at once.

The saves (``appointments.book_appointment``, ``appointments.reschedule_appointment``,
``panels.schedule_panel_meeting``) look for clashes in their own transaction and raise
``core.errors.Clash``, carrying what they clash with, unless called with ``save_anyway=True``:
the faces show that as a warning and offer "save anyway". A save that goes ahead over a clash
records the clashing ids in its audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.enums import AppointmentStatus, PanelMeetingStatus
from core.errors import Clash
from core.models import Appointment, Case, PanelMeeting, Site
from core.schemas.clashes import AppointmentClash, MeetingClash
from core.uow import UnitOfWork

# A panel meeting has a start and no end: two at one site starting closer than this clash.
PANEL_MEETING_SLOT = timedelta(hours=3)


async def find_appointment_clashes(
    uow: UnitOfWork,
    case: Case,
    starts_at: datetime,
    ends_at: datetime,
    *,
    exclude_appointment_id: int | None = None,
) -> list[AppointmentClash]:
    """Scheduled appointments on ``case`` overlapping [starts_at, ends_at), in an open uow."""
    query = (
        select(Appointment)
        .where(
            Appointment.case_id == case.id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.starts_at < ends_at,
            Appointment.ends_at > starts_at,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if exclude_appointment_id is not None:
        query = query.where(Appointment.id != exclude_appointment_id)
    return [
        AppointmentClash(
            appointment_id=row.id,
            case_id=row.case_id,
            case_reference=case.reference,
            staff_id=row.staff_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            place_kind=row.place_kind,
        )
        for row in await uow.session.scalars(query)
    ]


async def find_meeting_clashes(
    uow: UnitOfWork,
    site: Site,
    starts_at: datetime,
    *,
    exclude_meeting_id: int | None = None,
) -> list[MeetingClash]:
    """Scheduled meetings at ``site`` within ``PANEL_MEETING_SLOT`` of ``starts_at``."""
    query = (
        select(PanelMeeting)
        .where(
            PanelMeeting.site_id == site.id,
            PanelMeeting.status == PanelMeetingStatus.SCHEDULED,
            PanelMeeting.starts_at > starts_at - PANEL_MEETING_SLOT,
            PanelMeeting.starts_at < starts_at + PANEL_MEETING_SLOT,
        )
        .order_by(PanelMeeting.starts_at, PanelMeeting.id)
    )
    if exclude_meeting_id is not None:
        query = query.where(PanelMeeting.id != exclude_meeting_id)
    return [
        MeetingClash(
            meeting_id=row.id, site_id=site.id, site_code=site.code, starts_at=row.starts_at
        )
        for row in await uow.session.scalars(query)
    ]


def refuse_unless_saving_anyway(
    clashes: list[AppointmentClash] | list[MeetingClash], *, kind: str, save_anyway: bool
) -> dict[str, list[int]]:
    """Raise ``Clash`` for clashes not overridden; else the audit details of the override."""
    if not clashes:
        return {}
    if not save_anyway:
        raise Clash(clashes=tuple(clashes), kind=kind)
    ids = [
        clash.appointment_id if isinstance(clash, AppointmentClash) else clash.meeting_id
        for clash in clashes
    ]
    return {"saved_over_clash_with": ids}
