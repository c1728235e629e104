"""What each person can see: panels, interventions, risk, victims, case lists and diaries.

Reads are checked through the services on both backends, with the permission edges (another
site, another role) next to the happy path.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from core.clock import FixedClock
from core.enums import (
    Agency,
    AttendanceStatus,
    InterventionStatus,
    PanelActionStatus,
    PanelMeetingStatus,
    PersonKind,
    PlaceKind,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import NotFound, NotPermitted, ValidationFailed
from core.models import Intervention
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentRead
from core.schemas.cases import CaseRead
from core.schemas.interventions import InterventionCreate, InterventionStatusUpdate
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate, PanelMeetingRead
from core.schemas.people import LinkedPersonCreate
from core.schemas.risk import RiskAssessmentCreate
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import interventions as intervention_services
from core.services import panels as panel_services
from core.services import people as people_services
from core.services import risk as risk_services
from tests.factories import World

# The clock stands at 2026-03-02 09:00 UTC (tests/conftest.py).
TODAY = date(2026, 3, 2)


# --- panels ---------------------------------------------------------------------------------


async def schedule(world: World, site: str = "HER", days_ahead: int = 28) -> PanelMeetingRead:
    return await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR, site),
        data=PanelMeetingCreate(
            site_id=world.sites[site].id,
            starts_at=world.container.clock.now() + timedelta(days=days_ahead),
            place="Police HQ, room 2",
            link="https://meet.example.invalid/panel",
        ),
    )


async def test_a_panel_meeting_carries_its_agenda_actions_and_replies(
    world: World, clock: FixedClock
) -> None:
    coordinator = world.actor(Role.PANEL_COORDINATOR)
    member = world.actor(Role.PANEL_MEMBER)
    first, second = await world.allocated_case(), await world.allocated_case()
    meeting = await schedule(world)
    for case in (second, first):
        await panel_services.add_agenda_item(
            uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id, case_id=case.id
        )
    action = await panel_services.add_panel_action(
        uow=world.container.uow(),
        actor=coordinator,
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=first.id,
            description="Check licence conditions with the offender manager",
            owner_user_id=member.user_id,
            due_on=date(2026, 3, 16),
        ),
    )
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=member,
        meeting_id=meeting.id,
        status=AttendanceStatus.ATTENDING,
    )
    await panel_services.rsvp_panel_meeting(
        uow=world.container.uow(),
        actor=member,
        meeting_id=meeting.id,
        status=AttendanceStatus.APOLOGIES,
    )
    done = await panel_services.update_panel_action_status(
        uow=world.container.uow(), actor=member, action_id=action.id, status=PanelActionStatus.DONE
    )

    detail = await panel_services.get_panel_meeting(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )

    assert (meeting.site_code, meeting.status, meeting.starts_at) == (
        "HER",
        PanelMeetingStatus.SCHEDULED,
        clock.now() + timedelta(days=28),
    )
    assert [(item.case_reference, item.position) for item in detail.agenda] == [
        (second.reference, 1),
        (first.reference, 2),
    ]
    assert (done.status, done.completed_on) == (PanelActionStatus.DONE, TODAY)
    assert [
        (a.case_reference, a.owner_user_id, a.due_on, a.status, a.completed_on)
        for a in detail.actions
    ] == [(first.reference, member.user_id, date(2026, 3, 16), PanelActionStatus.DONE, TODAY)]
    # Changing a reply updates the one row; the member's agency comes from their membership.
    assert [(a.user_id, a.agency, a.status) for a in detail.attendance] == [
        (member.user_id, Agency.PROBATION, AttendanceStatus.APOLOGIES)
    ]


async def test_a_panel_member_of_the_other_site_cannot_see_the_meeting(world: World) -> None:
    meeting = await schedule(world, "HER")
    outsider = world.actor(Role.PANEL_MEMBER, "WOR")
    insider = world.actor(Role.PANEL_MEMBER, "HER")

    with pytest.raises(NotPermitted):
        await panel_services.get_panel_meeting(
            uow=world.container.uow(), actor=outsider, meeting_id=meeting.id
        )
    with pytest.raises(NotPermitted):
        await panel_services.rsvp_panel_meeting(
            uow=world.container.uow(),
            actor=outsider,
            meeting_id=meeting.id,
            status=AttendanceStatus.ATTENDING,
        )

    seen = await panel_services.get_panel_meeting(
        uow=world.container.uow(), actor=insider, meeting_id=meeting.id
    )
    assert seen.meeting.id == meeting.id


async def test_only_the_owner_of_a_panel_action_among_the_agencies_may_update_it(
    world: World,
) -> None:
    case = await world.allocated_case()
    meeting = await schedule(world)
    owner = world.actor(Role.PANEL_MEMBER)
    action = await panel_services.add_panel_action(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Refer to housing enforcement",
            owner_user_id=owner.user_id,
            due_on=date(2026, 3, 23),
        ),
    )

    for not_the_owner in (
        world.actor(Role.POLICE_FELLOW),
        world.actor(Role.IDVA),
        world.actor(Role.PANEL_MEMBER, "WOR"),
    ):
        with pytest.raises(NotPermitted):
            await panel_services.update_panel_action_status(
                uow=world.container.uow(),
                actor=not_the_owner,
                action_id=action.id,
                status=PanelActionStatus.CANCELLED,
            )
    # The case manager may, for a case on their own caseload.
    updated = await panel_services.update_panel_action_status(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        action_id=action.id,
        status=PanelActionStatus.CANCELLED,
    )

    assert (updated.status, updated.completed_on) == (PanelActionStatus.CANCELLED, None)


async def test_a_panel_action_needs_an_owner_from_the_meetings_site(world: World) -> None:
    case = await world.allocated_case()
    meeting = await schedule(world)
    coordinator = world.actor(Role.PANEL_COORDINATOR)

    def action(**owner: object) -> PanelActionCreate:
        return PanelActionCreate(
            meeting_id=meeting.id,
            case_id=case.id,
            description="Share intelligence",
            due_on=date(2026, 3, 20),
            **owner,  # type: ignore[arg-type]
        )

    with pytest.raises(ValidationFailed) as no_owner:
        await panel_services.add_panel_action(
            uow=world.container.uow(), actor=coordinator, data=action()
        )
    with pytest.raises(ValidationFailed) as other_site:
        await panel_services.add_panel_action(
            uow=world.container.uow(),
            actor=coordinator,
            data=action(owner_user_id=world.actor(Role.PANEL_MEMBER, "WOR").user_id),
        )
    with pytest.raises(ValidationFailed) as other_sites_case:
        await panel_services.add_agenda_item(
            uow=world.container.uow(),
            actor=coordinator,
            meeting_id=meeting.id,
            case_id=(await world.allocated_case("WOR")).id,
        )

    assert no_owner.value.details == {"field": "owner", "rule": "required"}
    assert other_site.value.details == {"field": "owner_user_id", "rule": "not_at_site"}
    assert other_sites_case.value.details == {"field": "case_id", "rule": "other_site"}
    detail = await panel_services.get_panel_meeting(
        uow=world.container.uow(), actor=coordinator, meeting_id=meeting.id
    )
    assert (detail.agenda, detail.actions) == ((), ())


# --- interventions --------------------------------------------------------------------------


async def test_the_intervention_catalogue_offers_all_three_kinds_of_work(world: World) -> None:
    kinds = await intervention_services.list_intervention_kinds(uow=world.container.uow())

    assert {kind.category for kind in kinds} == set(WorkCategory)
    by_code = {kind.code: kind.category for kind in kinds}
    assert by_code["dvpn_dvpo"] is WorkCategory.DISRUPTION
    assert by_code["housing"] is WorkCategory.SUPPORT
    assert by_code["one_to_one_sessions"] is WorkCategory.BEHAVIOUR_CHANGE
    categories_in_order = [kind.category for kind in kinds]
    assert categories_in_order == sorted(categories_in_order)


async def test_an_intervention_of_an_unknown_kind_is_refused_and_not_recorded(
    world: World,
) -> None:
    case = await world.allocated_case()

    with pytest.raises(ValidationFailed) as refused:
        await intervention_services.add_intervention(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=InterventionCreate(
                case_id=case.id, kind_code="curfew_by_wishful_thinking", agency=Agency.POLICE
            ),
        )

    assert refused.value.details == {"field": "kind_code", "rule": "unknown_kind"}
    async with world.container.session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Intervention)) == 0


async def test_a_cases_interventions_are_listed_with_their_category_and_status(
    world: World,
) -> None:
    case = await world.allocated_case()
    case_manager, police = world.actor(Role.CASE_MANAGER), world.actor(Role.POLICE_FELLOW)
    housing = await intervention_services.add_intervention(
        uow=world.container.uow(),
        actor=case_manager,
        data=InterventionCreate(
            case_id=case.id,
            kind_code="housing",
            agency=Agency.HOUSING,
            status=InterventionStatus.STARTED,
            started_on=date(2026, 3, 1),
        ),
    )
    await intervention_services.add_intervention(
        uow=world.container.uow(),
        actor=police,
        data=InterventionCreate(case_id=case.id, kind_code="dvpn_dvpo", agency=Agency.POLICE),
    )
    with pytest.raises(ValidationFailed) as ends_first:
        await intervention_services.update_intervention_status(
            uow=world.container.uow(),
            actor=case_manager,
            intervention_id=housing.id,
            data=InterventionStatusUpdate(
                status=InterventionStatus.COMPLETED, ended_on=date(2026, 2, 1)
            ),
        )
    await intervention_services.update_intervention_status(
        uow=world.container.uow(),
        actor=case_manager,
        intervention_id=housing.id,
        data=InterventionStatusUpdate(
            status=InterventionStatus.COMPLETED, ended_on=date(2026, 3, 2)
        ),
    )

    listed = await intervention_services.list_case_interventions(
        uow=world.container.uow(), actor=world.actor(Role.IDVA), case_id=case.id
    )

    assert ends_first.value.details == {"field": "ended_on", "rule": "before_start"}
    assert [(i.kind_code, i.category, i.agency, i.status, i.ended_on) for i in listed] == [
        (
            "housing",
            WorkCategory.SUPPORT,
            Agency.HOUSING,
            InterventionStatus.COMPLETED,
            date(2026, 3, 2),
        ),
        ("dvpn_dvpo", WorkCategory.DISRUPTION, Agency.POLICE, InterventionStatus.OFFERED, None),
    ]


# --- risk -----------------------------------------------------------------------------------


async def test_risk_history_is_listed_oldest_first_whatever_order_it_was_recorded_in(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    recorded = [
        (world.actor(Role.CASE_MANAGER), datetime(2026, 2, 25, 14, 0, tzinfo=clock.now().tzinfo)),
        (world.actor(Role.IDVA), datetime(2026, 1, 10, 9, 30, tzinfo=clock.now().tzinfo)),
        (world.actor(Role.SERVICE_MANAGER), None),  # now
        (world.actor(Role.IDVA), datetime(2026, 2, 25, 14, 0, tzinfo=clock.now().tzinfo)),
    ]
    levels = [RiskLevel.HIGH, RiskLevel.MEDIUM, RiskLevel.STANDARD, RiskLevel.HIGH]
    ids = []
    for (actor, assessed_at), level in zip(recorded, levels, strict=True):
        assessment = await risk_services.record_risk_assessment(
            uow=world.container.uow(),
            actor=actor,
            data=RiskAssessmentCreate(case_id=case.id, level=level, assessed_at=assessed_at),
        )
        ids.append(assessment.id)

    history = await risk_services.risk_history(
        uow=world.container.uow(), actor=world.actor(Role.POLICE_FELLOW), case_id=case.id
    )

    assert [(h.id, h.assessed_at, h.level, h.assessor_role) for h in history] == [
        (ids[1], recorded[1][1], RiskLevel.MEDIUM, Role.IDVA),
        (ids[0], recorded[0][1], RiskLevel.HIGH, Role.CASE_MANAGER),
        (ids[3], recorded[3][1], RiskLevel.HIGH, Role.IDVA),
        (ids[2], clock.now(), RiskLevel.STANDARD, Role.SERVICE_MANAGER),
    ]


# --- victims --------------------------------------------------------------------------------


async def test_victims_are_shown_to_the_idva_and_refused_to_the_case_manager(
    world: World,
) -> None:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)
    await people_services.add_linked_person(
        uow=world.container.uow(),
        actor=idva,
        data=LinkedPersonCreate(
            case_id=case.id,
            kind=PersonKind.VICTIM,
            name="Victim Person",
            address="1 Safe Street",
            safety_notes="Call before visiting",
        ),
    )
    await people_services.add_linked_person(
        uow=world.container.uow(),
        actor=idva,
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.CHILD, name="Child Person"),
    )

    shown = (
        await people_services.case_people(uow=world.container.uow(), actor=idva, case_id=case.id)
    ).current
    refused_to: list[str] = []
    for role, site in (
        (Role.CASE_MANAGER, "HER"),
        (Role.POLICE_FELLOW, "HER"),
        (Role.PANEL_COORDINATOR, "HER"),
        (Role.PANEL_MEMBER, "HER"),
        (Role.IDVA, "WOR"),
    ):
        try:
            await people_services.case_people(
                uow=world.container.uow(), actor=world.actor(role, site), case_id=case.id
            )
        except NotPermitted:
            refused_to.append(f"{role.value}@{site}")

    assert [(p.kind, p.name, p.address, p.safety_notes) for p in shown] == [
        (PersonKind.VICTIM, "Victim Person", "1 Safe Street", "Call before visiting"),
        (PersonKind.CHILD, "Child Person", None, None),
    ]
    assert refused_to == [
        "case_manager@HER",
        "police_fellow@HER",
        "panel_coordinator@HER",
        "panel_member@HER",
        "idva@WOR",
    ]
    # The case manager sees only that there are linked people, not who they are.
    seen_by_case_manager = await case_services.get_case(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    assert seen_by_case_manager.linked_people_count == 2


async def test_a_case_manager_cannot_add_a_victim(world: World) -> None:
    case = await world.allocated_case()

    with pytest.raises(NotPermitted):
        await people_services.add_linked_person(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="Someone"),
        )

    shown = (
        await people_services.case_people(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=case.id
        )
    ).current
    assert shown == ()


# --- finding cases --------------------------------------------------------------------------


async def three_cases(world: World) -> tuple[CaseRead, CaseRead, CaseRead]:
    return (
        await world.referral("HER"),
        await world.allocated_case("HER"),
        await world.referral("WOR"),
    )


async def references(actor: Actor, world: World, **filters: object) -> list[str]:
    summaries = await case_services.list_cases(
        uow=world.container.uow(),
        actor=actor,
        **filters,  # type: ignore[arg-type]
    )
    return [summary.reference for summary in summaries]


async def test_list_cases_returns_only_cases_at_the_actors_own_sites(world: World) -> None:
    await three_cases(world)
    both_sites = await world.add_actor(
        "manager.both@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )

    assert await references(world.actor(Role.CASE_MANAGER, "HER"), world) == [
        "HER-0001",
        "HER-0002",
    ]
    assert await references(world.actor(Role.SERVICE_MANAGER, "WOR"), world) == ["WOR-0001"]
    assert await references(both_sites, world) == ["HER-0001", "HER-0002", "WOR-0001"]
    # Panel members work from the panel, not the case list.
    assert await references(world.actor(Role.PANEL_MEMBER, "HER"), world) == []


async def test_list_cases_filters_by_stage_case_manager_and_reference(world: World) -> None:
    _, allocated, _ = await three_cases(world)
    both_sites = await world.add_actor(
        "manager.both@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    case_manager = world.actor(Role.CASE_MANAGER, "HER")

    assert await references(both_sites, world, stages={Stage.REFERRED}) == [
        "HER-0001",
        "WOR-0001",
    ]
    assert await references(both_sites, world, case_manager_id=case_manager.user_id) == [
        allocated.reference
    ]
    assert await references(both_sites, world, reference_contains="wor-") == ["WOR-0001"]
    assert await references(both_sites, world, site_id=world.sites["HER"].id) == [
        "HER-0001",
        "HER-0002",
    ]


async def test_list_cases_for_a_site_the_actor_does_not_belong_to_is_refused(
    world: World,
) -> None:
    await three_cases(world)

    with pytest.raises(NotPermitted):
        await references(
            world.actor(Role.CASE_MANAGER, "HER"), world, site_id=world.sites["WOR"].id
        )


async def test_find_case_finds_a_case_by_its_reference_as_typed(world: World) -> None:
    _, allocated, _ = await three_cases(world)

    found = await case_services.find_case(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), reference="  her-0002 "
    )

    assert (found.id, found.reference, found.stage) == (
        allocated.id,
        "HER-0002",
        Stage.ALLOCATED,
    )


async def test_find_case_does_not_find_a_case_at_another_site(world: World) -> None:
    await three_cases(world)

    for actor in (world.actor(Role.CASE_MANAGER, "WOR"), world.actor(Role.PANEL_MEMBER, "HER")):
        with pytest.raises(NotFound):
            await case_services.find_case(
                uow=world.container.uow(), actor=actor, reference="HER-0001"
            )


# --- my appointments ------------------------------------------------------------------------


async def book_at(
    world: World, case: CaseRead, starts_at: datetime, actor: Actor
) -> AppointmentRead:
    return await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=actor,
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=50),
            place_kind=PlaceKind.COMMUNITY_VENUE,
        ),
    )


async def test_my_appointments_are_my_own_scheduled_ones_inside_the_window(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    case_manager, service_manager = (
        world.actor(Role.CASE_MANAGER),
        world.actor(Role.SERVICE_MANAGER),
    )
    now, day = clock.now(), timedelta(days=1)
    at_window_start = await book_at(world, case, now, case_manager)
    in_an_hour = await book_at(world, case, now + timedelta(hours=1), case_manager)
    this_afternoon = await book_at(world, case, now + timedelta(hours=5), case_manager)
    cancelled = await book_at(world, case, now + timedelta(hours=3), case_manager)
    await appointment_services.cancel_appointment(
        uow=world.container.uow(), actor=case_manager, appointment_id=cancelled.id
    )
    an_hour_ago = await book_at(world, case, now - timedelta(hours=1), case_manager)
    await book_at(world, case, now + day, case_manager)  # the window's end is excluded
    await book_at(world, case, now + 2 * day, case_manager)
    someone_elses = await book_at(world, case, now + timedelta(hours=4), service_manager)

    mine = await appointment_services.my_appointment_lists(
        uow=world.container.uow(), actor=case_manager, upcoming_days=1
    )
    theirs = await appointment_services.my_appointment_lists(
        uow=world.container.uow(), actor=service_manager, upcoming_days=1
    )

    assert [(a.id, a.case_reference) for a in mine.upcoming] == [
        (in_an_hour.id, case.reference),
        (this_afternoon.id, case.reference),
    ]
    # Started and still scheduled: waiting for an outcome, newest first.
    assert [a.id for a in mine.awaiting] == [at_window_start.id, an_hour_ago.id]
    assert [a.id for a in theirs.upcoming] == [someone_elses.id]


async def test_my_appointments_are_empty_for_a_case_manager_with_no_bookings(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    await book_at(world, case, clock.now() + timedelta(hours=2), world.actor(Role.CASE_MANAGER))

    nothing = await appointment_services.my_appointment_lists(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER, "WOR"), upcoming_days=7
    )

    assert nothing.awaiting == nothing.upcoming == ()
