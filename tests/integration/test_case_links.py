"""Getting to a case in one tap (issue 19 item 7): the reads behind Today's cards and the panel
agenda say, case by case, whether the reader may open the case's page; core decides, on SQLite
and PostgreSQL, so a page never links a reference its reader would be refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.enums import PlaceKind, Role
from core.schemas.appointments import AppointmentCreate
from core.schemas.panels import PanelMeetingCreate
from core.services import appointments, panels, today
from tests.factories import World

# The clock stands at 2026-03-02 09:00 UTC (tests/conftest.py).
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_todays_cards_may_open_the_case_managers_own_case(world: World) -> None:
    manager = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    await appointments.book_appointment(
        uow=world.container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=NOW + timedelta(hours=3),
            ends_at=NOW + timedelta(hours=4),
            place_kind=PlaceKind.OFFICE,
        ),
    )

    mine = await today.my_today(uow=world.container.uow(), actor=manager)

    assert [item.case_id for item in mine.my_day.appointments] == [case.id]
    assert mine.openable_case_ids == frozenset({case.id})


async def test_an_agenda_links_a_case_for_the_manager_and_not_for_a_panel_member(
    world: World,
) -> None:
    case = await world.allocated_case()
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    meeting = await panels.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id, starts_at=NOW + timedelta(days=7), place="Room 2"
        ),
    )
    await panels.add_agenda_item(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id, case_id=case.id
    )

    seen = {}
    for role in (Role.SERVICE_MANAGER, Role.PANEL_MEMBER):
        detail = await panels.get_panel_meeting(
            uow=world.container.uow(), actor=world.actor(role), meeting_id=meeting.id
        )
        seen[role] = [(item.case_reference, item.may_open_case) for item in detail.agenda]

    assert seen[Role.SERVICE_MANAGER] == [(case.reference, True)]
    assert seen[Role.PANEL_MEMBER] == [(case.reference, False)]
