"""My day and my next appointments, on both databases: the London day, the digest's overdue
rule, and only my own scheduled appointments at my own sites."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from core.clock import FixedClock
from core.enums import PlaceKind, Role
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.schemas.cases import CaseRead
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.services import agenda
from core.services import appointments as appointment_services
from core.services import panels as panel_services
from tests.factories import World


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def book(world: World, case: CaseRead, starts_at: datetime) -> AppointmentRead:
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def add_actions(world: World, case: CaseRead, *due_dates: date) -> None:
    """Actions agreed at a panel on 16 February 2026 (the clock set back to then: core takes a
    meeting and due dates ahead only), then the clock back where it was."""
    clock = world.container.clock
    assert isinstance(clock, FixedClock)
    now = clock.now()
    clock.set(utc(2026, 2, 16, 9))
    await _agree_actions(world, case, due_dates)
    clock.set(now)


async def _agree_actions(world: World, case: CaseRead, due_dates: tuple[date, ...]) -> None:
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=utc(2026, 2, 16, 10)),
    )
    for due_on in due_dates:
        await panel_services.add_panel_action(
            uow=world.container.uow(),
            actor=world.actor(Role.PANEL_COORDINATOR),
            data=PanelActionCreate(
                meeting_id=meeting.id,
                case_id=case.id,
                description="Check the bail conditions",
                due_on=due_on,
                owner_user_id=world.actor(Role.POLICE_FELLOW).user_id,
            ),
        )


async def test_my_day_lists_todays_appointments_in_london_and_my_overdue_panel_actions(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    await add_actions(world, case, date(2026, 6, 1), date(2026, 6, 14), date(2026, 6, 20))
    clock.set(utc(2026, 6, 14, 22, 30))  # 23:30 in London (BST), still Sunday 14 June
    await book(world, case, utc(2026, 6, 14, 22, 45))  # 23:45 London: today
    await book(world, case, utc(2026, 6, 15, 8, 0))  # Monday: not today
    day = await agenda.my_day(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), day=date(2026, 6, 14)
    )
    assert [a.starts_at for a in day.appointments] == [utc(2026, 6, 14, 22, 45)]
    assert [a.case_reference for a in day.appointments] == [case.reference]
    # Due before today and open; one due today is not yet overdue.
    assert [a.due_on for a in day.overdue_actions] == [date(2026, 6, 1)]
    assert day.overdue_actions[0].case_reference == case.reference


async def test_an_action_owner_sees_it_overdue_and_a_colleague_elsewhere_does_not(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    await add_actions(world, case, date(2026, 2, 20))
    fellow = await agenda.my_day(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW), day=date(2026, 3, 2)
    )
    other_site = await agenda.my_day(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER, "WOR"),
        day=date(2026, 3, 2),
    )
    manager = await agenda.my_day(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), day=date(2026, 3, 2)
    )
    assert len(fellow.overdue_actions) == 1
    assert other_site.overdue_actions == ()
    assert len(manager.overdue_actions) == 1


async def test_my_next_appointments_are_the_next_five_from_now_in_order(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    past = await book(world, case, clock.now() + timedelta(hours=1))
    starts = [clock.now() + timedelta(days=d, hours=2) for d in (6, 1, 3, 2, 5, 4)]
    for starts_at in starts:
        await book(world, case, starts_at)
    clock.set(past.starts_at + timedelta(minutes=5))
    upcoming = await agenda.my_next_appointments(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER)
    )
    assert [a.starts_at for a in upcoming] == sorted(starts)[:5]
    someone_else = await agenda.my_next_appointments(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW)
    )
    assert someone_else == []


async def test_an_appointment_that_has_started_without_an_outcome_is_awaiting_one(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    clock.set(utc(2026, 6, 14, 9, 0))
    started = await book(world, case, utc(2026, 6, 14, 10, 0))  # 11:00 London
    later = await book(world, case, utc(2026, 6, 14, 14, 0))
    clock.set(utc(2026, 6, 14, 10, 0))  # the first starts now
    day = await agenda.my_day(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), day=date(2026, 6, 14)
    )
    awaiting = {a.id: a.awaiting_outcome for a in day.appointments}
    assert awaiting == {started.id: True, later.id: False}
    # The list of appointments waiting for an answer agrees.
    lists = await appointment_services.my_appointment_lists(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER)
    )
    waiting = lists.awaiting
    assert [(a.id, a.awaiting_outcome) for a in waiting] == [(started.id, True)]
