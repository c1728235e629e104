"""The web Appointments page's "Record an outcome" list: my appointments that have started
and still say *scheduled*, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import AppointmentStatus, PlaceKind, Role
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentOutcome, AppointmentRead
from core.services import appointments
from tests.factories import World


async def _book(
    container: Container, actor: Actor, case_id: int, starts_in: timedelta, now: FixedClock
) -> AppointmentRead:
    starts_at = now.now() + starts_in
    return await appointments.book_appointment(
        uow=container.uow(),
        actor=actor,
        data=AppointmentCreate(
            case_id=case_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def test_started_unanswered_appointments_are_listed_newest_first_and_answered_ones_leave(
    world: World, clock: FixedClock
) -> None:
    c = world.container
    cm = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    older = await _book(c, cm, case.id, timedelta(days=-3), clock)
    newer = await _book(c, cm, case.id, timedelta(hours=-2), clock)
    answered = await _book(c, cm, case.id, timedelta(days=-1), clock)
    await _book(c, cm, case.id, timedelta(days=2), clock)  # not started: upcoming, not here
    await appointments.record_appointment_outcome(
        uow=c.uow(),
        actor=cm,
        appointment_id=answered.id,
        data=AppointmentOutcome(status=AppointmentStatus.DID_NOT_ATTEND),
    )

    waiting = (await appointments.my_appointment_lists(uow=c.uow(), actor=cm)).awaiting

    assert [a.id for a in waiting] == [newer.id, older.id]
    assert {a.case_reference for a in waiting} == {case.reference}
    assert all(a.status is AppointmentStatus.SCHEDULED for a in waiting)


async def test_another_case_managers_unanswered_appointments_are_not_in_my_list(
    world: World, clock: FixedClock
) -> None:
    c = world.container
    mine, theirs = world.actor(Role.CASE_MANAGER), world.actor(Role.CASE_MANAGER, "WOR")
    their_case = await world.allocated_case("WOR")
    await _book(c, theirs, their_case.id, timedelta(hours=-1), clock)

    assert (await appointments.my_appointment_lists(uow=c.uow(), actor=mine)).awaiting == ()
    waiting = (await appointments.my_appointment_lists(uow=c.uow(), actor=theirs)).awaiting
    assert [a.case_reference for a in waiting] == [their_case.reference]


async def test_the_page_lists_a_just_started_appointment_in_awaiting_only_and_stops_at_the_window(
    world: World, clock: FixedClock
) -> None:
    c = world.container
    cm = world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    starting_now = await _book(c, cm, case.id, timedelta(0), clock)
    soon = await _book(c, cm, case.id, timedelta(days=1), clock)
    later = await _book(c, cm, case.id, timedelta(days=80), clock)
    await _book(c, cm, case.id, timedelta(days=95), clock)  # past the 90-day window

    lists = await appointments.my_appointment_lists(uow=c.uow(), actor=cm, upcoming_days=90)

    assert [a.id for a in lists.awaiting] == [starting_now.id]
    assert lists.awaiting[0].awaiting_outcome
    assert [a.id for a in lists.upcoming] == [soon.id, later.id]
