"""The schedulers, on both databases: what they queue, when, for whom, and never twice.

Each test sets the scene through the services, moves the clock, runs a scheduler and reads the
outbox as the dispatcher would.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    LANE_ORDER,
    AppointmentStatus,
    AttendanceStatus,
    Channel,
    ClosureReason,
    Lane,
    NotificationKind,
    OutboxState,
    PlaceKind,
    Role,
)
from core.models import OutboxMessage, User
from core.notifications import schedulers
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
)
from core.schemas.cases import CaseClose, CaseRead, CaseUpdate
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.services import alerts as alert_services
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import panels as panel_services
from tests.factories import World

SUBJECT_NAME = "Quorvath Brindlemoss"
SUBJECT_ADDRESS = "9 Pumpernickel Row, Oddington"

# Everything a queued message may carry: references, times, place kinds, ids and counts.
ALLOWED_PARAMS = {
    "reference",
    "starts_at",
    "place_kind",
    "appointment_id",
    "lead_minutes",
    "date",
    "appointments_today",
    "overdue_panel_actions",
    "meeting_id",
    "site_code",
    "when",
    "alert_id",
    "raised_at",
}
EXPECTED_LANES = {
    NotificationKind.APPOINTMENT_REMINDER: Lane.HIGH,
    NotificationKind.MISSED_APPOINTMENT: Lane.HIGH,
    NotificationKind.DAILY_DIGEST: Lane.NORMAL,
    NotificationKind.PANEL_REMINDER: Lane.NORMAL,
    NotificationKind.DISRUPTION_ALERT: Lane.CRITICAL,
    NotificationKind.ESCALATION: Lane.CRITICAL,
}


async def outbox(container: Container, **where: object) -> list[OutboxMessage]:
    async with container.session_factory() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        for name, value in where.items():
            query = query.where(getattr(OutboxMessage, name) == value)
        return list(await session.scalars(query))


async def set_lead_minutes(container: Container, user_id: int, minutes: list[int] | None) -> None:
    async with container.session_factory() as session:
        await session.execute(
            update(User).where(User.id == user_id).values(reminder_lead_minutes=minutes)
        )
        await session.commit()


async def book(world: World, case: CaseRead, starts_at: datetime) -> AppointmentRead:
    # Some tests book two at one time on purpose: the clash warning is not what they test.
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=PlaceKind.HOME_VISIT,
        ),
        save_anyway=True,
    )


async def named_case(world: World) -> CaseRead:
    """An allocated case whose subject has a name and an address, to show they never leave."""
    case = await world.allocated_case()
    return await case_services.update_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseUpdate(
            version=case.version, subject_name=SUBJECT_NAME, subject_address=SUBJECT_ADDRESS
        ),
    )


def reminders(rows: list[OutboxMessage]) -> list[tuple[int, datetime, OutboxState]]:
    return sorted(
        (row.params["lead_minutes"], row.not_before, row.state)
        for row in rows
        if row.kind is NotificationKind.APPOINTMENT_REMINDER
    )


# --- appointment reminders ------------------------------------------------------------------


async def test_a_user_with_default_lead_times_is_reminded_a_day_and_an_hour_before(
    world: World, clock: FixedClock
) -> None:
    case = await named_case(world)
    starts_at = clock.now() + timedelta(hours=30)
    appointment = await book(world, case, starts_at)

    queued = await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    rows = await outbox(world.container, appointment_id=appointment.id)
    assert queued == 2
    assert reminders(rows) == [
        (60, starts_at - timedelta(hours=1), OutboxState.QUEUED),
        (1440, starts_at - timedelta(days=1), OutboxState.QUEUED),
    ]
    case_manager = world.actor(Role.CASE_MANAGER)
    assert {row.recipient_user_id for row in rows} == {case_manager.user_id}
    assert {(row.lane, row.channel, row.case_id) for row in rows} == {
        (Lane.HIGH, Channel.TELEGRAM, case.id)
    }
    assert {row.dedupe_key for row in rows} == {
        f"reminder:appointment:{appointment.id}:1440",
        f"reminder:appointment:{appointment.id}:60",
    }
    assert rows[0].params == {
        "reference": case.reference,
        "starts_at": starts_at.isoformat(),
        "place_kind": "home_visit",
        "appointment_id": appointment.id,
        "lead_minutes": rows[0].params["lead_minutes"],
    }


async def test_a_user_who_chose_thirty_minutes_gets_one_reminder_thirty_minutes_before(
    world: World, clock: FixedClock
) -> None:
    case_manager = world.actor(Role.CASE_MANAGER)
    await set_lead_minutes(world.container, case_manager.user_id, [30])
    case = await world.allocated_case()
    starts_at = clock.now() + timedelta(hours=30)
    appointment = await book(world, case, starts_at)

    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    rows = await outbox(world.container, appointment_id=appointment.id)
    assert reminders(rows) == [(30, starts_at - timedelta(minutes=30), OutboxState.QUEUED)]


async def test_a_lead_time_already_passed_is_skipped_and_a_far_appointment_waits(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    soon = await book(world, case, clock.now() + timedelta(hours=2))
    beyond_horizon = await book(world, case, clock.now() + timedelta(days=5))

    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    assert [r[0] for r in reminders(await outbox(world.container, appointment_id=soon.id))] == [60]
    assert await outbox(world.container, appointment_id=beyond_horizon.id) == []


async def test_rescheduling_cancels_the_old_reminders_and_the_new_time_gets_its_own(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    old = await book(world, case, clock.now() + timedelta(hours=30))
    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    new_start = clock.now() + timedelta(hours=40)
    new = await appointment_services.reschedule_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=old.id,
        data=AppointmentReschedule(starts_at=new_start, ends_at=new_start + timedelta(hours=1)),
    )
    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    old_rows = await outbox(world.container, appointment_id=old.id)
    assert {row.state for row in old_rows} == {OutboxState.CANCELLED}
    assert len(old_rows) == 2
    assert reminders(await outbox(world.container, appointment_id=new.id)) == [
        (60, new_start - timedelta(hours=1), OutboxState.QUEUED),
        (1440, new_start - timedelta(days=1), OutboxState.QUEUED),
    ]


async def test_cancelling_an_appointment_cancels_its_reminders_for_good(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() + timedelta(hours=30))
    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    await appointment_services.cancel_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=appointment.id,
    )
    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    rows = await outbox(world.container, appointment_id=appointment.id)
    assert [row.state for row in rows] == [OutboxState.CANCELLED, OutboxState.CANCELLED]


async def test_closing_a_case_cancels_its_pending_notifications(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    other_case = await world.allocated_case()
    await book(world, case, clock.now() + timedelta(hours=30))
    await book(world, other_case, clock.now() + timedelta(hours=30))
    await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    await schedulers.schedule_appointment_reminders(uow=world.container.uow())

    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.COMPLETED),
    )
    clock.advance(timedelta(hours=5))
    await schedulers.run_all_schedulers(uow_factory=world.container.uow)

    closed = await outbox(world.container, case_id=case.id)
    assert len(closed) == 3  # two reminders and the police fellow's alert
    assert {row.state for row in closed} == {OutboxState.CANCELLED}
    still_open = await outbox(world.container, case_id=other_case.id)
    assert {row.state for row in still_open} == {OutboxState.QUEUED}


# --- missed appointments --------------------------------------------------------------------


async def test_a_missed_appointment_prompt_comes_an_hour_after_the_start_only_without_outcome(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    starts_at = clock.now() + timedelta(minutes=30)
    forgotten = await book(world, case, starts_at)
    recorded = await book(world, case, starts_at)
    clock.advance(timedelta(minutes=45))
    await appointment_services.record_appointment_outcome(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=recorded.id,
        data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
    )

    too_early = await schedulers.schedule_missed_appointment_prompts(uow=world.container.uow())
    clock.set(starts_at + timedelta(hours=1))
    on_time = await schedulers.schedule_missed_appointment_prompts(uow=world.container.uow())

    assert (too_early, on_time) == (0, 1)
    prompts = await outbox(world.container, kind=NotificationKind.MISSED_APPOINTMENT)
    assert [
        (p.appointment_id, p.recipient_user_id, p.lane, p.not_before, p.dedupe_key) for p in prompts
    ] == [
        (
            forgotten.id,
            world.actor(Role.CASE_MANAGER).user_id,
            Lane.HIGH,
            starts_at + timedelta(hours=1),
            f"missed:appointment:{forgotten.id}",
        )
    ]


async def test_recording_the_outcome_cancels_a_queued_missed_appointment_prompt(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() - timedelta(hours=2))
    await schedulers.schedule_missed_appointment_prompts(uow=world.container.uow())

    await appointment_services.record_appointment_outcome(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.DID_NOT_ATTEND),
    )

    rows = await outbox(world.container, appointment_id=appointment.id)
    assert [(row.kind, row.state) for row in rows] == [
        (NotificationKind.MISSED_APPOINTMENT, OutboxState.CANCELLED)
    ]


async def test_record_it_after_asks_once_at_the_end_time_and_not_once_the_outcome_is_in(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    manager = world.actor(Role.CASE_MANAGER)
    appointment = await book(world, case, clock.now() + timedelta(hours=2))
    for _reminder in ("24 hours before", "an hour before"):  # a tap under each reminder
        await appointment_services.ask_for_outcome_after(
            uow=world.container.uow(), actor=manager, appointment_id=appointment.id
        )
    clock.set(appointment.starts_at + timedelta(hours=1))
    assert await schedulers.schedule_missed_appointment_prompts(uow=world.container.uow()) == 0

    [prompt] = await outbox(world.container, kind=NotificationKind.MISSED_APPOINTMENT)
    assert (prompt.recipient_user_id, prompt.not_before, prompt.dedupe_key, prompt.state) == (
        manager.user_id,
        appointment.ends_at,
        f"missed:appointment:{appointment.id}",
        OutboxState.QUEUED,
    )
    assert set(prompt.params) <= ALLOWED_PARAMS

    await appointment_services.record_appointment_outcome(
        uow=world.container.uow(),
        actor=manager,
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
    )
    [prompt] = await outbox(world.container, kind=NotificationKind.MISSED_APPOINTMENT)
    assert prompt.state is OutboxState.CANCELLED


async def test_record_it_after_an_appointment_has_ended_asks_at_once(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() - timedelta(hours=3))
    await appointment_services.ask_for_outcome_after(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=appointment.id,
    )
    [prompt] = await outbox(world.container, kind=NotificationKind.MISSED_APPOINTMENT)
    assert prompt.not_before == clock.now()


# --- the daily digest -----------------------------------------------------------------------


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


DIGEST_TIMES = {
    # name: (when the scheduler runs, the local date of the digest, when it should go)
    "winter-morning": (utc(2026, 1, 14, 6, 0), date(2026, 1, 14), utc(2026, 1, 14, 8, 0)),
    "winter-evening": (utc(2026, 1, 14, 20, 30), date(2026, 1, 15), utc(2026, 1, 15, 8, 0)),
    "summer-morning": (utc(2026, 7, 15, 5, 0), date(2026, 7, 15), utc(2026, 7, 15, 7, 0)),
    "summer-late-morning": (utc(2026, 7, 15, 9, 0), date(2026, 7, 15), utc(2026, 7, 15, 7, 0)),
    # 2026-03-29: clocks go forward at 01:00 UTC; 08:00 that day is already BST.
    "march-change-night-before": (
        utc(2026, 3, 28, 21, 0),
        date(2026, 3, 29),
        utc(2026, 3, 29, 7, 0),
    ),
    "march-change-day": (utc(2026, 3, 29, 0, 30), date(2026, 3, 29), utc(2026, 3, 29, 7, 0)),
    # 2026-10-25: clocks go back at 01:00 UTC; 08:00 that day is GMT again.
    "october-change-night-before": (
        utc(2026, 10, 24, 20, 30),
        date(2026, 10, 25),
        utc(2026, 10, 25, 8, 0),
    ),
    "october-change-day": (utc(2026, 10, 25, 0, 30), date(2026, 10, 25), utc(2026, 10, 25, 8, 0)),
}


@pytest.mark.parametrize("name", list(DIGEST_TIMES))
async def test_the_daily_digest_is_queued_for_eight_oclock_london_time(
    world: World, clock: FixedClock, name: str
) -> None:
    runs_at, local_day, goes_at = DIGEST_TIMES[name]
    clock.set(runs_at)

    await schedulers.schedule_daily_digests(uow=world.container.uow())

    digests = await outbox(world.container, kind=NotificationKind.DAILY_DIGEST)
    staff = {
        world.actor(role, site).user_id
        for role in (Role.CASE_MANAGER, Role.SERVICE_MANAGER)
        for site in ("HER", "WOR")
    }
    assert {d.recipient_user_id for d in digests} == staff
    assert {(d.not_before, d.lane, d.params["date"]) for d in digests} == {
        (goes_at, Lane.NORMAL, local_day.isoformat())
    }
    assert {d.dedupe_key for d in digests} == {
        f"digest:{user_id}:{local_day.isoformat()}" for user_id in staff
    }


async def test_the_digest_counts_todays_appointments_and_overdue_panel_actions(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    clock.set(utc(2026, 2, 16, 9, 0))  # the panel, two weeks ago: its actions were due ahead
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=utc(2026, 2, 16, 10)),
    )
    for due_on in (date(2026, 2, 20), date(2026, 2, 27), date(2026, 3, 20)):
        await panel_services.add_panel_action(
            uow=world.container.uow(),
            actor=world.actor(Role.PANEL_COORDINATOR),
            data=PanelActionCreate(
                meeting_id=meeting.id,
                case_id=case.id,
                description="Check",
                due_on=due_on,
                owner_user_id=world.actor(Role.POLICE_FELLOW).user_id,
            ),
        )
    # START is Monday 2 March 2026, 09:00 GMT: the digest for tomorrow is queued after 20:00.
    clock.set(utc(2026, 3, 2, 21, 0))
    await book(world, case, utc(2026, 3, 3, 10, 0))
    await book(world, case, utc(2026, 3, 3, 15, 0))
    await book(world, case, utc(2026, 3, 4, 10, 0))

    await schedulers.schedule_daily_digests(uow=world.container.uow())

    case_manager = world.actor(Role.CASE_MANAGER)
    [digest] = await outbox(world.container, recipient_user_id=case_manager.user_id)
    assert digest.params == {
        "date": "2026-03-03",
        "appointments_today": 2,
        "overdue_panel_actions": 2,
    }


# --- panel reminders ------------------------------------------------------------------------


async def test_panel_reminders_go_two_days_before_and_on_the_morning_of_the_meeting(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    other_case_manager = await world.add_actor(
        "second.cm@test.invalid", [("HER", Role.CASE_MANAGER)]
    )
    starts_at = utc(2026, 3, 4, 10, 0)  # START + 49 h, a Wednesday in winter
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=starts_at),
    )
    await panel_services.add_agenda_item(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        meeting_id=meeting.id,
        case_id=case.id,
    )
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.IDVA),
        meeting_id=meeting.id,
        status=AttendanceStatus.APOLOGIES,
    )

    await schedulers.schedule_panel_reminders(uow=world.container.uow())

    rows = await outbox(world.container, kind=NotificationKind.PANEL_REMINDER)
    expected_people = {
        world.actor(role).user_id
        for role in (
            Role.PANEL_MEMBER,
            Role.PANEL_COORDINATOR,
            Role.POLICE_FELLOW,
            Role.SERVICE_MANAGER,
            Role.CASE_MANAGER,  # has a case on the agenda
        )
    }
    assert other_case_manager.user_id not in expected_people
    assert {(row.recipient_user_id, row.params["when"], row.not_before) for row in rows} == {
        (user_id, when, due)
        for user_id in expected_people
        for when, due in (
            ("2d", starts_at - timedelta(hours=48)),
            ("morning", utc(2026, 3, 4, 8, 0)),
        )
    }
    assert {row.lane for row in rows} == {Lane.NORMAL}
    assert f"panel:{meeting.id}:{world.actor(Role.PANEL_MEMBER).user_id}:2d" in {
        row.dedupe_key for row in rows
    }


async def test_a_summer_panel_morning_reminder_goes_at_seven_utc(
    world: World, clock: FixedClock
) -> None:
    clock.set(utc(2026, 7, 13, 9, 0))
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(site_id=world.sites["HER"].id, starts_at=utc(2026, 7, 14, 13, 0)),
    )

    await schedulers.schedule_panel_reminders(uow=world.container.uow())

    rows = await outbox(world.container, kind=NotificationKind.PANEL_REMINDER)
    # Booked a day ahead: the two-day reminder's moment has passed, the morning one stands.
    assert {(row.params["when"], row.not_before) for row in rows} == {
        ("morning", utc(2026, 7, 14, 7, 0))
    }
    assert {row.params["meeting_id"] for row in rows} == {meeting.id}


# --- every scheduler, twice, and at once ------------------------------------------------------


async def busy_day(world: World, clock: FixedClock) -> None:
    """One thing for every scheduler to find."""
    case = await named_case(world)
    await book(world, case, clock.now() + timedelta(hours=30))
    await book(world, case, clock.now() - timedelta(hours=3))
    await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id, starts_at=clock.now() + timedelta(hours=50)
        ),
    )
    await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    clock.advance(timedelta(hours=4))


async def test_running_every_scheduler_twice_queues_each_message_once(
    world: World, clock: FixedClock
) -> None:
    await busy_day(world, clock)

    first = await schedulers.run_all_schedulers(uow_factory=world.container.uow)
    rows_after_first = await outbox(world.container)
    second = await schedulers.run_all_schedulers(uow_factory=world.container.uow)
    rows_after_second = await outbox(world.container)

    assert all(count > 0 for count in first.values()), first
    assert set(second.values()) == {0}
    assert [row.id for row in rows_after_second] == [row.id for row in rows_after_first]
    assert len({row.dedupe_key for row in rows_after_second}) == len(rows_after_second)


async def test_two_processes_running_the_schedulers_at_once_queue_each_message_once(
    world: World, clock: FixedClock
) -> None:
    await busy_day(world, clock)
    container = world.container

    counts = await asyncio.gather(
        schedulers.schedule_appointment_reminders(uow=container.uow()),
        schedulers.schedule_appointment_reminders(uow=container.uow()),
        schedulers.schedule_daily_digests(uow=container.uow()),
        schedulers.schedule_daily_digests(uow=container.uow()),
        schedulers.escalate_unacknowledged_alerts(uow=container.uow()),
        schedulers.escalate_unacknowledged_alerts(uow=container.uow()),
    )

    rows = await outbox(container)
    keys = [row.dedupe_key for row in rows]
    assert len(keys) == len(set(keys))
    scheduled = [row for row in rows if row.kind is not NotificationKind.DISRUPTION_ALERT]
    assert sum(counts) == len(scheduled)
    assert {row.kind for row in scheduled} == {
        NotificationKind.APPOINTMENT_REMINDER,
        NotificationKind.DAILY_DIGEST,
        NotificationKind.ESCALATION,
    }


async def test_each_kind_goes_in_its_lane_and_carries_no_names_or_addresses(
    world: World, clock: FixedClock
) -> None:
    await busy_day(world, clock)

    await schedulers.run_all_schedulers(uow_factory=world.container.uow)

    rows = await outbox(world.container)
    assert {row.kind for row in rows} == set(EXPECTED_LANES)
    assert {(row.kind, row.lane) for row in rows} == set(EXPECTED_LANES.items())
    assert all(row.lane_rank == LANE_ORDER[row.lane] for row in rows)
    for row in rows:
        assert set(row.params) <= ALLOWED_PARAMS, row.kind
        text = repr(row.params)
        assert SUBJECT_NAME not in text and SUBJECT_ADDRESS not in text
        assert "Test " not in text  # display names of staff


async def test_the_dispatch_order_puts_critical_before_high_before_normal(
    world: World, clock: FixedClock
) -> None:
    await busy_day(world, clock)
    await schedulers.run_all_schedulers(uow_factory=world.container.uow)

    rows = await outbox(world.container)
    in_claim_order = sorted(rows, key=lambda row: (row.lane_rank, row.not_before, row.id))
    lanes = [row.lane for row in in_claim_order]
    assert lanes == sorted(lanes, key=LANE_ORDER.__getitem__)
    assert lanes[0] is Lane.CRITICAL and Lane.HIGH in lanes and lanes[-1] is Lane.NORMAL
