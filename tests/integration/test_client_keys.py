"""A save sent again with the device's key is done once (issue 21, part 1): held on a phone
without signal and sent when it returns, retried after a lost answer, or sent twice at once.
A contact, a booking and an appointment's outcome; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import func, select

from core.bootstrap import Container
from core.enums import AppointmentStatus, ContactType, PlaceKind, Role, WorkCategory
from core.models import Appointment, AuditEvent, ClientSubmission, Contact
from core.schemas.appointments import AppointmentCreate, AppointmentOutcome
from core.schemas.contacts import ContactCreate, ContactRead
from core.services import appointments, contacts
from core.uow import UnitOfWork
from tests.factories import World


def a_contact(case_id: int, minutes: int = 30) -> ContactCreate:
    return ContactCreate(
        case_id=case_id,
        contact_type=ContactType.PHONE,
        duration_minutes=minutes,
        categories=frozenset({WorkCategory.SUPPORT}),
    )


async def stored_contacts(container: Container, case_id: int) -> int:
    async with container.session_factory() as session:
        return int(
            await session.scalar(
                select(func.count()).select_from(Contact).where(Contact.case_id == case_id)
            )
            or 0
        )


async def contact_events(container: Container, case_id: int) -> int:
    async with container.session_factory() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == "contact.log", AuditEvent.case_id == case_id)
            )
            or 0
        )


async def test_a_contact_sent_again_with_its_key_is_logged_once(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    key = uuid.uuid4()

    first = await contacts.log_contact(
        uow=world.container.uow(), actor=manager, data=a_contact(case.id), client_key=key
    )
    # The answer was lost; the phone sends it again (the same fields, the same key).
    again = await contacts.log_contact(
        uow=world.container.uow(), actor=manager, data=a_contact(case.id), client_key=key
    )

    assert again.id == first.id
    assert await stored_contacts(world.container, case.id) == 1
    assert await contact_events(world.container, case.id) == 1


async def test_two_saves_with_different_keys_are_two_contacts(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)

    for _ in range(2):
        await contacts.log_contact(
            uow=world.container.uow(),
            actor=manager,
            data=a_contact(case.id),
            client_key=uuid.uuid4(),
        )

    assert await stored_contacts(world.container, case.id) == 2


async def test_a_key_is_the_persons_own_another_persons_same_key_logs_their_own(
    world: World,
) -> None:
    case = await world.allocated_case()
    key = uuid.uuid4()
    mine = await contacts.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=a_contact(case.id),
        client_key=key,
    )
    theirs = await contacts.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=a_contact(case.id, minutes=45),
        client_key=key,
    )

    assert theirs.id != mine.id
    assert await stored_contacts(world.container, case.id) == 2


class HeldBeforeWriting(UnitOfWork):
    """A unit of work that waits at a barrier before its first write, so both saves have
    looked for their key (and found none) before either writes."""

    def __init__(self, container: Container, barrier: asyncio.Barrier) -> None:
        super().__init__(container.session_factory, container.clock, container.uow().zone)
        self._barrier: asyncio.Barrier | None = barrier

    async def connection(self):  # type: ignore[no-untyped-def]
        if self._barrier is not None:
            barrier, self._barrier = self._barrier, None
            await barrier.wait()
        return await super().connection()


async def test_the_same_save_sent_twice_at_once_is_logged_once(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    key = uuid.uuid4()
    barrier = asyncio.Barrier(2)

    async def send() -> ContactRead:
        return await contacts.log_contact(
            uow=HeldBeforeWriting(world.container, barrier),
            actor=manager,
            data=a_contact(case.id),
            client_key=key,
        )

    answers = await asyncio.wait_for(asyncio.gather(send(), send()), timeout=60)

    assert answers[0].id == answers[1].id
    assert await stored_contacts(world.container, case.id) == 1
    assert await contact_events(world.container, case.id) == 1
    async with world.container.session_factory() as session:
        keys = (await session.scalars(select(ClientSubmission.result_id))).all()
    assert list(keys) == [answers[0].id]


# --- the appointment forms: a booking and an outcome ----------------------------------------


async def events(container: Container, action: str, case_id: int) -> int:
    async with container.session_factory() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(AuditEvent)
                .where(AuditEvent.action == action, AuditEvent.case_id == case_id)
            )
            or 0
        )


async def test_a_booking_sent_again_with_its_key_books_once(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    starts = world.container.clock.now() + timedelta(days=2)
    booking = AppointmentCreate(
        case_id=case.id,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        place_kind=PlaceKind.OFFICE,
    )
    key = uuid.uuid4()

    first = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=booking, client_key=key
    )
    # Sent again: without the key this would be refused as a clash with the first booking.
    again = await appointments.book_appointment(
        uow=world.container.uow(), actor=manager, data=booking, client_key=key
    )

    assert again.id == first.id
    async with world.container.session_factory() as session:
        booked = await session.scalar(
            select(func.count()).select_from(Appointment).where(Appointment.case_id == case.id)
        )
    assert booked == 1
    assert await events(world.container, "appointment.book", case.id) == 1


async def test_an_outcome_sent_again_with_its_key_is_recorded_once(world: World) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    starts = world.container.clock.now() + timedelta(hours=1)
    booked = await appointments.book_appointment(
        uow=world.container.uow(),
        actor=manager,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    world.container.clock.advance(timedelta(hours=3))  # type: ignore[attr-defined]
    key = uuid.uuid4()
    answer = AppointmentOutcome(status=AppointmentStatus.ATTENDED)

    for _ in range(2):
        answered = await appointments.record_appointment_outcome(
            uow=world.container.uow(),
            actor=manager,
            appointment_id=booked.id,
            data=answer,
            client_key=key,
        )
        assert (answered.id, answered.status) == (booked.id, AppointmentStatus.ATTENDED)

    assert await events(world.container, "appointment.outcome", case.id) == 1


async def test_a_persons_keys_older_than_a_week_are_forgotten_at_their_next_keyed_save(
    world: World,
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    colleague = await world.add_actor("keys.cm@test.invalid", [("HER", Role.CASE_MANAGER)])
    theirs = await world.allocated_case(case_manager=colleague)
    old_key = uuid.uuid4()
    for actor, case_id in ((manager, case.id), (colleague, theirs.id)):
        await contacts.log_contact(
            uow=world.container.uow(), actor=actor, data=a_contact(case_id), client_key=old_key
        )
    world.container.clock.advance(timedelta(days=7, minutes=1))  # type: ignore[attr-defined]
    new_key = uuid.uuid4()

    await contacts.log_contact(
        uow=world.container.uow(), actor=manager, data=a_contact(case.id), client_key=new_key
    )

    async with world.container.session_factory() as session:
        rows = await session.execute(select(ClientSubmission.user_id, ClientSubmission.client_key))
        kept = {(user_id, key) for user_id, key in rows}
    # The manager's week-old key is gone; the colleague's goes at their own next keyed save.
    assert kept == {(manager.user_id, str(new_key)), (colleague.user_id, str(old_key))}
