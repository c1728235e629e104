"""Clashes: a second appointment on a case at the same time, two panel meetings at a site at once.

The read services say what would clash; the saves refuse with ``Clash`` unless told to save
anyway, and a save over a clash is on the audit trail with what it clashed with.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.enums import PlaceKind, Role
from core.errors import Clash
from core.models import Appointment, AuditEvent, PanelMeeting
from core.schemas.appointments import AppointmentCreate, AppointmentReschedule
from core.schemas.clashes import AppointmentClash, MeetingClash
from core.schemas.panels import PanelMeetingCreate
from core.services import appointments, panels
from tests.conftest import START
from tests.factories import World

TEN = START + timedelta(days=1, hours=1)  # 10:00 the next day


def _booking(case_id: int, starts_offset_minutes: int = 0, minutes: int = 60) -> AppointmentCreate:
    starts = TEN + timedelta(minutes=starts_offset_minutes)
    return AppointmentCreate(
        case_id=case_id,
        starts_at=starts,
        ends_at=starts + timedelta(minutes=minutes),
        place_kind=PlaceKind.OFFICE,
    )


async def _count(world: World, model: type, *where: object) -> int:
    async with world.container.uow() as uow:
        return int(await uow.session.scalar(select(func.count(model.id)).where(*where)) or 0)


async def test_an_overlapping_second_appointment_on_a_case_is_refused_with_what_it_clashes_with(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    first = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id)
    )

    with pytest.raises(Clash) as raised:
        await appointments.book_appointment(
            uow=world.container.uow(), actor=manager, data=_booking(case.id, 30)
        )

    found = list(raised.value.clashes)
    assert [clash.appointment_id for clash in found] == [first.id]  # type: ignore[attr-defined]
    assert isinstance(found[0], AppointmentClash) and found[0].case_reference == case.reference
    assert raised.value.code == "clash"
    assert await _count(world, Appointment, Appointment.case_id == case.id) == 1


async def test_back_to_back_appointments_and_other_cases_do_not_clash(world: World) -> None:
    case = await world.allocated_case()
    other = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id)
    )

    await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id, 60)
    )
    await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(other.id)
    )

    assert await _count(world, Appointment, Appointment.case_id == case.id) == 2
    assert await _count(world, Appointment, Appointment.case_id == other.id) == 1


async def test_saving_anyway_books_over_the_clash_and_the_audit_names_what_it_clashed_with(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    first = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id)
    )

    second = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id, 15), save_anyway=True
    )

    async with world.container.uow() as uow:
        details = await uow.session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.action == "appointment.book", AuditEvent.entity_id == second.id
            )
        )
    assert details["saved_over_clash_with"] == [first.id]


async def test_moving_an_appointment_ignores_itself_but_not_the_others_on_the_case(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    first = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id)
    )
    later = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=_booking(case.id, 120)
    )

    moved = await appointments.reschedule_appointment(
        uow=world.container.uow(),
        actor=manager,
        appointment_id=first.id,
        data=AppointmentReschedule(
            starts_at=TEN + timedelta(minutes=30), ends_at=TEN + timedelta(minutes=90)
        ),
    )
    with pytest.raises(Clash):
        await appointments.reschedule_appointment(
            uow=world.container.uow(),
            actor=manager,
            appointment_id=moved.id,
            data=AppointmentReschedule(starts_at=later.starts_at, ends_at=later.ends_at),
        )

    assert moved.starts_at == TEN + timedelta(minutes=30)


async def test_a_second_panel_meeting_at_a_site_at_the_same_time_is_refused_unless_saved_anyway(
    world: World,
) -> None:
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    site_id = world.sites["HER"].id
    starts = START + timedelta(days=7)
    first = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelMeetingCreate(site_id=site_id, starts_at=starts, place="Room 1"),
    )

    with pytest.raises(Clash) as raised:
        await panels.schedule_panel_meeting(
            uow=world.container.uow(),
            actor=coordinator,
            data=PanelMeetingCreate(site_id=site_id, starts_at=starts + timedelta(hours=1)),
        )
    assert await _count(world, PanelMeeting, PanelMeeting.site_id == site_id) == 1
    again = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelMeetingCreate(site_id=site_id, starts_at=starts + timedelta(hours=1)),
        save_anyway=True,
    )

    found = list(raised.value.clashes)
    assert [clash.meeting_id for clash in found] == [first.id]  # type: ignore[attr-defined]
    assert isinstance(found[0], MeetingClash) and found[0].site_code == "HER"
    assert raised.value.details == {"kind": "panel_meeting", "count": 1}
    async with world.container.uow() as uow:
        details = await uow.session.scalar(
            select(AuditEvent.details).where(
                AuditEvent.action == "panel.schedule", AuditEvent.entity_id == again.id
            )
        )
    assert details["saved_over_clash_with"] == [first.id]


async def test_meetings_at_other_sites_or_hours_apart_do_not_clash(world: World) -> None:
    starts = START + timedelta(days=7)
    for code, offset in (("HER", 0), ("WOR", 0), ("HER", 4)):
        await panels.schedule_panel_meeting(
            uow=world.container.uow(),
            actor=world.actor(Role.PANEL_COORDINATOR, code),
            data=PanelMeetingCreate(
                site_id=world.sites[code].id, starts_at=starts + timedelta(hours=offset)
            ),
        )

    assert await _count(world, PanelMeeting) == 3
