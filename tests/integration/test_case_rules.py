"""The case rules as a user meets them through the services, on SQLite and on PostgreSQL.

Each test checks what the service answers and what the database holds afterwards: a refused
change writes nothing, an allowed one writes the dated history the reports are built from.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pydantic
import pytest
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    AppointmentStatus,
    ClosureReason,
    ContactType,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import (
    AppointmentEndsBeforeStart,
    CaseClosed,
    ClosureReasonRequired,
    DuplicateReference,
    InvalidPlannedEnd,
    InvalidStageTransition,
    ValidationFailed,
)
from core.models import Appointment, Case, CaseStageChange, Contact
from core.rules import ALLOWED_TRANSITIONS
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
)
from core.schemas.cases import CaseAllocate, CaseClose, CaseCreate, CaseRead, CaseUpdate, StageMove
from core.schemas.contacts import ContactCreate
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from tests.factories import World


async def count(container: Container, model: type, *where: object) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def stored_case(container: Container, case_id: int) -> Case:
    async with container.session_factory() as session:
        case = await session.get(Case, case_id)
        assert case is not None
        return case


async def stage_changes(container: Container, case_id: int) -> list[CaseStageChange]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(CaseStageChange)
            .where(CaseStageChange.case_id == case_id)
            .order_by(CaseStageChange.id)
        )
        return list(rows)


async def close(world: World, case: CaseRead, reason: ClosureReason | None) -> CaseRead:
    return await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER, case.site_code),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=reason),
    )


async def case_at_stage(world: World, stage: Stage) -> CaseRead:
    """A HER case that has reached ``stage`` by the ordinary route."""
    if stage is Stage.REFERRED:
        return await world.referral()
    case = await world.allocated_case()
    if stage is Stage.ALLOCATED:
        return case
    if stage is Stage.CLOSED:
        return await close(world, case, ClosureReason.COMPLETED)
    return await case_services.change_stage(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=StageMove(version=case.version, to_stage=stage),
    )


async def move(world: World, case: CaseRead, to_stage: Stage) -> CaseRead:
    """Ask for the move through the service a face uses for it."""
    manager = world.actor(Role.SERVICE_MANAGER)
    uow = world.container.uow()
    if to_stage is Stage.CLOSED:
        return await close(world, case, ClosureReason.DISENGAGED)
    if to_stage is Stage.ALLOCATED and case.stage is Stage.REFERRED:
        return await case_services.allocate_case(
            uow=uow,
            actor=manager,
            case_id=case.id,
            data=CaseAllocate(
                version=case.version,
                case_manager_id=world.actor(Role.CASE_MANAGER).user_id,
            ),
        )
    return await case_services.change_stage(
        uow=uow,
        actor=manager,
        case_id=case.id,
        data=StageMove(version=case.version, to_stage=to_stage),
    )


def _pair_id(pair: tuple[Stage, Stage]) -> str:
    return f"{pair[0].value}->{pair[1].value}"


ALLOWED_MOVES = [
    (from_stage, to_stage)
    for from_stage, targets in ALLOWED_TRANSITIONS.items()
    for to_stage in sorted(targets)
]


# --- contacts on closed cases ---------------------------------------------------------------


async def test_a_case_manager_cannot_log_a_contact_on_a_closed_case(world: World) -> None:
    case = await world.allocated_case()
    await close(world, case, ClosureReason.COMPLETED)

    with pytest.raises(CaseClosed) as refused:
        await contact_services.log_contact(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=ContactCreate(
                categories=frozenset({WorkCategory.SUPPORT}),
                case_id=case.id,
                contact_type=ContactType.PHONE,
                duration_minutes=20,
            ),
        )

    assert refused.value.details == {"reference": case.reference}
    assert await count(world.container, Contact) == 0


# --- closure --------------------------------------------------------------------------------


async def test_closing_a_case_without_a_reason_is_refused_and_the_case_stays_open(
    world: World,
) -> None:
    case = await world.allocated_case()

    with pytest.raises(ClosureReasonRequired):
        await close(world, case, None)

    stored = await stored_case(world.container, case.id)
    assert stored.stage is Stage.ALLOCATED
    assert stored.closed_at is None
    assert stored.closure_reason is None
    assert stored.version == case.version
    assert [change.to_stage for change in await stage_changes(world.container, case.id)] == [
        Stage.REFERRED,
        Stage.ALLOCATED,
    ]


async def test_closing_a_case_records_the_reason_and_the_time_on_the_case_and_its_history(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    clock.advance(timedelta(days=90))

    closed = await close(world, case, ClosureReason.CUSTODY)

    assert closed.stage is Stage.CLOSED
    assert closed.closure_reason is ClosureReason.CUSTODY
    assert closed.closed_at == clock.now()
    last = (await stage_changes(world.container, case.id))[-1]
    assert (last.from_stage, last.to_stage) == (Stage.ALLOCATED, Stage.CLOSED)
    assert last.closure_reason is ClosureReason.CUSTODY
    assert last.changed_at == clock.now()


# --- stage moves ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("from_stage", "to_stage"), ALLOWED_MOVES, ids=map(_pair_id, ALLOWED_MOVES)
)
async def test_an_allowed_stage_move_succeeds_and_writes_a_dated_history_row(
    world: World, clock: FixedClock, from_stage: Stage, to_stage: Stage
) -> None:
    case = await case_at_stage(world, from_stage)
    history_before = await stage_changes(world.container, case.id)
    clock.advance(timedelta(days=3, hours=2))

    moved = await move(world, case, to_stage)

    assert moved.stage is to_stage
    assert moved.stage_changed_at == clock.now()
    assert moved.version == case.version + 1
    history = await stage_changes(world.container, case.id)
    assert len(history) == len(history_before) + 1
    new = history[-1]
    assert (new.from_stage, new.to_stage) == (from_stage, to_stage)
    assert new.changed_at == clock.now()
    assert new.changed_by_id == world.actor(Role.SERVICE_MANAGER).user_id
    stored = await stored_case(world.container, case.id)
    assert stored.stage is to_stage
    assert stored.stage_changed_at == clock.now()


@pytest.mark.parametrize("from_stage", list(Stage), ids=[stage.value for stage in Stage])
async def test_every_forbidden_stage_move_is_refused_and_changes_nothing(
    world: World, clock: FixedClock, from_stage: Stage
) -> None:
    # A refused move changes nothing, so one case can take every forbidden move in turn.
    case = await case_at_stage(world, from_stage)
    history_before = await stage_changes(world.container, case.id)
    clock.advance(timedelta(days=3))
    forbidden = [to for to in Stage if to not in ALLOWED_TRANSITIONS[from_stage]]

    outcomes: dict[Stage, str] = {}
    for to_stage in forbidden:
        try:
            await move(world, case, to_stage)
        except InvalidStageTransition:
            outcomes[to_stage] = "refused"
        else:
            outcomes[to_stage] = "moved"

    assert outcomes == dict.fromkeys(forbidden, "refused")
    stored = await stored_case(world.container, case.id)
    assert stored.stage is from_stage
    assert stored.version == case.version
    assert stored.stage_changed_at == case.stage_changed_at
    assert stored.updated_at < clock.now()
    assert len(await stage_changes(world.container, case.id)) == len(history_before)


def test_closed_is_the_only_stage_with_no_way_out() -> None:
    assert ALLOWED_TRANSITIONS[Stage.CLOSED] == frozenset()
    assert all(
        Stage.CLOSED in targets
        for stage, targets in ALLOWED_TRANSITIONS.items()
        if stage is not Stage.CLOSED
    )


async def test_a_closed_case_cannot_be_edited_reallocated_or_reopened(world: World) -> None:
    case = await case_at_stage(world, Stage.CLOSED)
    manager = world.actor(Role.SERVICE_MANAGER)

    with pytest.raises(CaseClosed):
        await case_services.update_case(
            uow=world.container.uow(),
            actor=manager,
            case_id=case.id,
            data=CaseUpdate(version=case.version, dash_score=3),
        )
    with pytest.raises(CaseClosed):
        await case_services.allocate_case(
            uow=world.container.uow(),
            actor=manager,
            case_id=case.id,
            data=CaseAllocate(
                version=case.version, case_manager_id=world.actor(Role.CASE_MANAGER).user_id
            ),
        )
    for stage in (Stage.ENGAGING, Stage.ACTIVE, Stage.INDIRECT):
        with pytest.raises(InvalidStageTransition):
            await move(world, case, stage)

    stored = await stored_case(world.container, case.id)
    assert (stored.stage, stored.version, stored.dash_score) == (
        Stage.CLOSED,
        case.version,
        case.dash_score,
    )


# --- allocation -----------------------------------------------------------------------------


async def test_allocating_a_referral_makes_it_allocated_with_a_planned_end_six_months_on(
    world: World, clock: FixedClock
) -> None:
    referral = await world.referral()
    case_manager = world.actor(Role.CASE_MANAGER)

    allocated = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=referral.id,
        data=CaseAllocate(version=referral.version, case_manager_id=case_manager.user_id),
    )

    assert allocated.stage is Stage.ALLOCATED
    assert allocated.case_manager_id == case_manager.user_id
    assert allocated.case_manager_name == case_manager.display_name
    assert allocated.allocated_at == clock.now()
    assert allocated.planned_end == date(2026, 9, 2)
    stored = await stored_case(world.container, referral.id)
    assert (stored.stage, stored.allocated_at, stored.planned_end) == (
        Stage.ALLOCATED,
        clock.now(),
        date(2026, 9, 2),
    )
    last = (await stage_changes(world.container, referral.id))[-1]
    assert (last.from_stage, last.to_stage, last.changed_at) == (
        Stage.REFERRED,
        Stage.ALLOCATED,
        clock.now(),
    )


async def test_reallocating_an_allocated_case_changes_the_case_manager_but_not_the_stage(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    other = await world.add_actor("second.cm.her@test.invalid", [("HER", Role.CASE_MANAGER)])
    clock.advance(timedelta(days=10))

    moved = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=CaseAllocate(version=case.version, case_manager_id=other.user_id),
    )

    assert moved.case_manager_id == other.user_id
    assert moved.stage is Stage.ALLOCATED
    assert moved.allocated_at == case.allocated_at
    assert moved.planned_end == case.planned_end
    assert len(await stage_changes(world.container, case.id)) == 2


@pytest.mark.parametrize(
    "planned_end",
    [date(2026, 6, 1), date(2026, 3, 3), date(2027, 3, 3), date(2028, 1, 1)],
    ids=["a-day-short-of-3-months", "tomorrow", "a-day-past-12-months", "two-years"],
)
async def test_allocating_with_a_planned_end_outside_three_to_twelve_months_is_refused(
    world: World, planned_end: date
) -> None:
    referral = await world.referral()

    with pytest.raises(InvalidPlannedEnd) as refused:
        await case_services.allocate_case(
            uow=world.container.uow(),
            actor=world.actor(Role.SERVICE_MANAGER),
            case_id=referral.id,
            data=CaseAllocate(
                version=referral.version,
                case_manager_id=world.actor(Role.CASE_MANAGER).user_id,
                planned_end=planned_end,
            ),
        )

    assert refused.value.details == {"earliest": "2026-06-02", "latest": "2027-03-02"}
    stored = await stored_case(world.container, referral.id)
    assert (stored.stage, stored.case_manager_id, stored.allocated_at, stored.planned_end) == (
        Stage.REFERRED,
        None,
        None,
        None,
    )
    assert len(await stage_changes(world.container, referral.id)) == 1


@pytest.mark.parametrize("planned_end", [date(2026, 6, 2), date(2027, 3, 2)])
async def test_a_planned_end_exactly_three_or_twelve_months_on_is_accepted(
    world: World, planned_end: date
) -> None:
    referral = await world.referral()

    allocated = await case_services.allocate_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=referral.id,
        data=CaseAllocate(
            version=referral.version,
            case_manager_id=world.actor(Role.CASE_MANAGER).user_id,
            planned_end=planned_end,
        ),
    )

    assert allocated.planned_end == planned_end


async def test_editing_the_planned_end_to_beyond_twelve_months_is_refused(
    world: World,
) -> None:
    case = await world.allocated_case()

    with pytest.raises(InvalidPlannedEnd):
        await case_services.update_case(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            case_id=case.id,
            data=CaseUpdate(version=case.version, planned_end=date(2027, 6, 1)),
        )

    stored = await stored_case(world.container, case.id)
    assert (stored.planned_end, stored.version) == (date(2026, 9, 2), case.version)


@pytest.mark.parametrize("field", ["referral_date", "referral_source", "referral_reason"])
async def test_emptying_a_required_referral_field_is_refused_as_invalid_input(
    world: World, field: str
) -> None:
    case = await world.allocated_case()

    # Either layer may refuse it: the schema (pydantic) or the service (ValidationFailed).
    with pytest.raises((ValidationFailed, pydantic.ValidationError)):
        await case_services.update_case(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            case_id=case.id,
            data=CaseUpdate.model_validate({"version": case.version, field: None}),
        )

    stored = await stored_case(world.container, case.id)
    assert (stored.version, getattr(stored, field)) == (case.version, getattr(case, field))


# --- appointments ---------------------------------------------------------------------------


async def book(
    world: World, case: CaseRead, starts_at: datetime, minutes: int = 60
) -> AppointmentRead:
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=minutes),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def stored_appointment(container: Container, appointment_id: int) -> Appointment:
    async with container.session_factory() as session:
        appointment = await session.get(Appointment, appointment_id)
        assert appointment is not None
        return appointment


@pytest.mark.parametrize("minutes", [0, -30], ids=["ends-at-start", "ends-before-start"])
async def test_an_appointment_that_ends_before_or_at_its_start_is_refused_and_nothing_is_booked(
    world: World, clock: FixedClock, minutes: int
) -> None:
    case = await world.allocated_case()
    starts_at = clock.now() + timedelta(days=1)

    with pytest.raises(AppointmentEndsBeforeStart):
        await appointment_services.book_appointment(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=AppointmentCreate(
                case_id=case.id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=minutes),
                place_kind=PlaceKind.OFFICE,
            ),
        )

    assert await count(world.container, Appointment) == 0


async def test_rescheduling_marks_the_old_appointment_rescheduled_and_points_at_the_new_one(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    old = await book(world, case, clock.now() + timedelta(days=1))
    new_start = clock.now() + timedelta(days=2, hours=3)

    new = await appointment_services.reschedule_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=old.id,
        data=AppointmentReschedule(
            starts_at=new_start,
            ends_at=new_start + timedelta(minutes=45),
            place_kind=PlaceKind.HOME_VISIT,
        ),
    )

    assert new.id != old.id
    assert (new.status, new.starts_at, new.place_kind, new.staff_id) == (
        AppointmentStatus.SCHEDULED,
        new_start,
        PlaceKind.HOME_VISIT,
        old.staff_id,
    )
    stored_old = await stored_appointment(world.container, old.id)
    assert stored_old.status is AppointmentStatus.RESCHEDULED
    assert stored_old.rescheduled_to_id == new.id
    async with world.container.session_factory() as session:
        listed = await session.scalars(
            select(Appointment).where(Appointment.case_id == case.id).order_by(Appointment.id)
        )
        assert [(a.id, a.status, a.rescheduled_to_id) for a in listed] == [
            (old.id, AppointmentStatus.RESCHEDULED, new.id),
            (new.id, AppointmentStatus.SCHEDULED, None),
        ]


async def test_rescheduling_to_a_time_that_ends_before_it_starts_keeps_the_old_appointment(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    old = await book(world, case, clock.now() + timedelta(days=1))
    new_start = clock.now() + timedelta(days=2)

    with pytest.raises(AppointmentEndsBeforeStart):
        await appointment_services.reschedule_appointment(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            appointment_id=old.id,
            data=AppointmentReschedule(
                starts_at=new_start, ends_at=new_start - timedelta(minutes=1)
            ),
        )

    stored_old = await stored_appointment(world.container, old.id)
    assert (stored_old.status, stored_old.rescheduled_to_id) == (AppointmentStatus.SCHEDULED, None)
    assert await count(world.container, Appointment) == 1


async def test_an_outcome_cannot_be_recorded_before_the_appointment_has_started(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() + timedelta(hours=2))

    with pytest.raises(ValidationFailed) as refused:
        await appointment_services.record_appointment_outcome(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            appointment_id=appointment.id,
            data=AppointmentOutcome(status=AppointmentStatus.ATTENDED, outcome="went well"),
        )

    assert refused.value.details == {"field": "status", "rule": "not_started_yet"}
    stored = await stored_appointment(world.container, appointment.id)
    assert (stored.status, stored.outcome) == (AppointmentStatus.SCHEDULED, None)


async def test_an_outcome_is_recorded_once_the_appointment_has_started(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() + timedelta(hours=2))
    clock.advance(timedelta(hours=2))

    recorded = await appointment_services.record_appointment_outcome(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.DID_NOT_ATTEND, outcome="no answer"),
    )

    assert (recorded.status, recorded.outcome) == (AppointmentStatus.DID_NOT_ATTEND, "no answer")
    stored = await stored_appointment(world.container, appointment.id)
    assert (stored.status, stored.outcome) == (AppointmentStatus.DID_NOT_ATTEND, "no answer")


async def test_an_outcome_must_be_attended_or_did_not_attend_and_is_recorded_only_once(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    appointment = await book(world, case, clock.now() - timedelta(hours=2))
    actor = world.actor(Role.CASE_MANAGER)

    with pytest.raises(ValidationFailed) as not_an_outcome:
        await appointment_services.record_appointment_outcome(
            uow=world.container.uow(),
            actor=actor,
            appointment_id=appointment.id,
            data=AppointmentOutcome(status=AppointmentStatus.CANCELLED),
        )
    await appointment_services.record_appointment_outcome(
        uow=world.container.uow(),
        actor=actor,
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
    )
    with pytest.raises(ValidationFailed) as twice:
        await appointment_services.record_appointment_outcome(
            uow=world.container.uow(),
            actor=actor,
            appointment_id=appointment.id,
            data=AppointmentOutcome(status=AppointmentStatus.DID_NOT_ATTEND),
        )

    assert not_an_outcome.value.details["rule"] == "not_an_outcome"
    assert twice.value.details["rule"] == "not_scheduled"
    stored = await stored_appointment(world.container, appointment.id)
    assert stored.status is AppointmentStatus.ATTENDED


# --- contacts in the future -----------------------------------------------------------------


@pytest.mark.parametrize("ahead", [timedelta(minutes=6), timedelta(days=1)], ids=["6min", "1day"])
async def test_a_contact_dated_in_the_future_is_refused_and_not_written(
    world: World, clock: FixedClock, ahead: timedelta
) -> None:
    case = await world.allocated_case()

    with pytest.raises(ValidationFailed) as refused:
        await contact_services.log_contact(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=ContactCreate(
                categories=frozenset({WorkCategory.SUPPORT}),
                case_id=case.id,
                occurred_at=clock.now() + ahead,
                contact_type=ContactType.FACE_TO_FACE,
                duration_minutes=50,
            ),
        )

    assert refused.value.details == {"field": "occurred_at", "rule": "in_future"}
    assert await count(world.container, Contact) == 0


async def test_a_contact_stamped_up_to_five_minutes_ahead_of_the_server_is_accepted(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()

    logged = await contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            occurred_at=clock.now() + timedelta(minutes=5),
            contact_type=ContactType.PHONE,
            duration_minutes=10,
        ),
    )

    assert logged.occurred_at == clock.now() + timedelta(minutes=5)
    assert await count(world.container, Contact, Contact.case_id == case.id) == 1


# --- references -----------------------------------------------------------------------------


async def test_references_are_numbered_per_site(world: World) -> None:
    first_her = await world.referral("HER")
    second_her = await world.referral("HER")
    first_wor = await world.referral("WOR")
    third_her = await world.referral("HER")

    assert [first_her.reference, second_her.reference, first_wor.reference] == [
        "HER-0001",
        "HER-0002",
        "WOR-0001",
    ]
    assert third_her.reference == "HER-0003"


async def test_numbering_carries_on_after_a_reference_given_by_hand(world: World) -> None:
    await world.referral("HER", reference="HER-0041")

    following = await world.referral("HER")

    assert following.reference == "HER-0042"


async def test_a_reference_already_used_at_the_site_is_refused(world: World) -> None:
    existing = await world.referral("HER")

    with pytest.raises(DuplicateReference) as refused:
        await world.referral("HER", reference=existing.reference)

    assert refused.value.details == {"reference": "HER-0001"}
    assert await count(world.container, Case) == 1


async def test_a_given_reference_must_carry_the_site_code(world: World) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await world.referral("WOR", reference="HER-0007")

    assert refused.value.details == {"field": "reference", "rule": "site_prefix"}
    assert await count(world.container, Case) == 0


async def test_a_referral_records_its_first_stage_and_details(
    world: World, clock: FixedClock
) -> None:
    created = await case_services.create_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=CaseCreate(
            site_id=world.sites["HER"].id,
            referral_date=date(2026, 2, 27),
            referral_source=ReferralSource.POLICE,
            referral_reason=ReferralReason.SERIAL,
            dash_score=12,
        ),
    )

    assert (created.stage, created.version, created.stage_changed_at) == (
        Stage.REFERRED,
        1,
        clock.now(),
    )
    [first] = await stage_changes(world.container, created.id)
    assert (first.from_stage, first.to_stage, first.changed_at) == (
        None,
        Stage.REFERRED,
        clock.now(),
    )
