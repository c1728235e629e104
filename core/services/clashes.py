"""Clashes: a second appointment on a case at the same time, two panel meetings at a site at once.

Faces call ``appointment_clashes`` / ``meeting_clashes`` before saving, to warn and offer "save
anyway". The saves themselves (``appointments.book_appointment``,
``appointments.reschedule_appointment``, ``panels.schedule_panel_meeting``) check again in their
own transaction and raise ``core.errors.Clash`` unless called with ``save_anyway=True``; a save
that goes ahead over a clash records the clashing ids in its audit event.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from core.enums import AppointmentStatus, PanelMeetingStatus
from core.errors import Clash
from core.models import Appointment, Case, PanelMeeting, Site
from core.policy import Action, authorize
from core.rules import check_appointment_times
from core.schemas.actor import Actor
from core.schemas.clashes import AppointmentClash, MeetingClash
from core.services.access import get_or_404, load_case
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


async def appointment_clashes(
    *,
    uow: UnitOfWork,
    actor: Actor,
    case_id: int,
    starts_at: datetime,
    ends_at: datetime,
    exclude_appointment_id: int | None = None,
) -> list[AppointmentClash]:
    """What booking (or moving, with ``exclude_appointment_id``) this time on the case would
    clash with; empty when nothing does. Needs ``appointment.manage`` on the case."""
    check_appointment_times(starts_at, ends_at)
    async with uow:
        case = await load_case(uow, actor, case_id, Action.APPOINTMENT_MANAGE)
        return await find_appointment_clashes(
            uow, case, starts_at, ends_at, exclude_appointment_id=exclude_appointment_id
        )


async def meeting_clashes(
    *,
    uow: UnitOfWork,
    actor: Actor,
    site_id: int,
    starts_at: datetime,
    exclude_meeting_id: int | None = None,
) -> list[MeetingClash]:
    """The site's scheduled panel meetings a meeting at ``starts_at`` would clash with.
    Needs ``panel.manage`` at the site."""
    async with uow:
        authorize(actor, Action.PANEL_MANAGE, site_id=site_id)
        site = await get_or_404(uow, Site, site_id)
        return await find_meeting_clashes(
            uow, site, starts_at, exclude_meeting_id=exclude_meeting_id
        )
