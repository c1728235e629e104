"""The caseload listing, on SQLite and PostgreSQL: right cases, right figures, right people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest

from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import (
    AppointmentStatus,
    ContactType,
    Face,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
)
from core.errors import NotPermitted
from core.models import Appointment, Case, Contact, Membership, RiskAssessment, Site, User
from core.schemas.actor import Actor, MembershipRead
from core.services.caseload import list_caseload
from tests.conftest import START

NOW = START


@dataclass
class World:
    """Two sites; Alice and Bob manage cases at Hull, Carol at Hereford, Sam manages Hull."""

    hull: Site
    hereford: Site
    alice: Actor
    bob: Actor
    carol: Actor
    sam: Actor
    cases: dict[str, int]


def _actor(user: User, *memberships: tuple[Site, Role]) -> Actor:
    return Actor(
        user_id=user.id,
        email=user.email,
        display_name=user.display_name,
        face=Face.WEB,
        memberships=tuple(
            MembershipRead(site_id=site.id, site_code=site.code, role=role)
            for site, role in memberships
        ),
    )


def _case(site: Site, reference: str, manager: User | None, stage: Stage) -> Case:
    return Case(
        site_id=site.id,
        reference=reference,
        referral_date=date(2025, 11, 1),
        referral_source=ReferralSource.MARAC,
        referral_reason=ReferralReason.HIGH_RISK,
        stage=stage,
        stage_changed_at=NOW - timedelta(days=30),
        case_manager_id=manager.id if manager else None,
        allocated_at=NOW - timedelta(days=60),
        closed_at=NOW - timedelta(days=1) if stage is Stage.CLOSED else None,
        created_at=NOW - timedelta(days=90),
        updated_at=NOW - timedelta(days=30),
    )


def _contact(case: Case, staff: User, at: datetime) -> Contact:
    return Contact(
        case_id=case.id,
        staff_id=staff.id,
        occurred_at=at,
        contact_type=ContactType.FACE_TO_FACE,
        duration_minutes=45,
        created_at=at,
    )


def _appointment(
    case: Case, staff: User, at: datetime, status: AppointmentStatus, place: PlaceKind
) -> Appointment:
    return Appointment(
        case_id=case.id,
        staff_id=staff.id,
        starts_at=at,
        ends_at=at + timedelta(hours=1),
        place_kind=place,
        status=status,
        created_at=NOW - timedelta(days=10),
    )


async def _world(container: Container) -> World:
    async with container.uow() as uow:
        session = uow.session
        hull = Site(code="HUL", name="Hull", created_at=NOW)
        hereford = Site(code="HER", name="Hereford", created_at=NOW)
        people = {
            name: User(email=f"{name}@example.invalid", display_name=name.title(), created_at=NOW)
            for name in ("alice", "bob", "carol", "sam")
        }
        session.add_all([hull, hereford, *people.values()])
        await session.flush()
        alice, bob, carol, sam = (people[n] for n in ("alice", "bob", "carol", "sam"))
        session.add_all(
            [
                Membership(user_id=alice.id, site_id=hull.id, role=Role.CASE_MANAGER),
                Membership(user_id=bob.id, site_id=hull.id, role=Role.CASE_MANAGER),
                Membership(user_id=carol.id, site_id=hereford.id, role=Role.CASE_MANAGER),
                Membership(user_id=sam.id, site_id=hull.id, role=Role.SERVICE_MANAGER),
            ]
        )
        cases = {
            "HUL-0002": _case(hull, "HUL-0002", alice, Stage.ACTIVE),
            "HUL-0001": _case(hull, "HUL-0001", alice, Stage.ENGAGING),
            "HUL-0003": _case(hull, "HUL-0003", alice, Stage.CLOSED),
            "HUL-0004": _case(hull, "HUL-0004", bob, Stage.ACTIVE),
            "HER-0001": _case(hereford, "HER-0001", carol, Stage.INDIRECT),
        }
        session.add_all(cases.values())
        await session.flush()
        busy, closed, bobs = cases["HUL-0002"], cases["HUL-0003"], cases["HUL-0004"]
        scheduled, cancelled = AppointmentStatus.SCHEDULED, AppointmentStatus.CANCELLED
        session.add_all(
            [
                _contact(busy, alice, NOW - timedelta(days=3)),
                _contact(busy, alice, NOW - timedelta(days=1)),
                _contact(busy, alice, NOW - timedelta(days=7)),
                _contact(closed, alice, NOW - timedelta(hours=2)),
                _contact(bobs, bob, NOW - timedelta(hours=1)),
                # Past, even if never updated; cancelled; then the next one; then a later one.
                _appointment(busy, alice, NOW - timedelta(hours=1), scheduled, PlaceKind.OFFICE),
                _appointment(busy, alice, NOW + timedelta(days=1), cancelled, PlaceKind.PHONE),
                _appointment(busy, alice, NOW + timedelta(days=2), scheduled, PlaceKind.HOME_VISIT),
                _appointment(busy, alice, NOW + timedelta(days=5), scheduled, PlaceKind.VIDEO),
                _appointment(closed, alice, NOW + timedelta(days=1), scheduled, PlaceKind.OFFICE),
                RiskAssessment(
                    case_id=busy.id, assessed_at=NOW - timedelta(days=2), level=RiskLevel.MEDIUM
                ),
                RiskAssessment(
                    case_id=busy.id, assessed_at=NOW - timedelta(days=10), level=RiskLevel.HIGH
                ),
                RiskAssessment(
                    case_id=closed.id, assessed_at=NOW - timedelta(days=1), level=RiskLevel.HIGH
                ),
            ]
        )
        await uow.commit()
        return World(
            hull=hull,
            hereford=hereford,
            alice=_actor(alice, (hull, Role.CASE_MANAGER)),
            bob=_actor(bob, (hull, Role.CASE_MANAGER)),
            carol=_actor(carol, (hereford, Role.CASE_MANAGER)),
            sam=_actor(sam, (hull, Role.SERVICE_MANAGER)),
            cases={reference: case.id for reference, case in cases.items()},
        )


@pytest.fixture
async def world(container: Container) -> World:
    return await _world(container)


async def test_a_case_manager_sees_their_open_cases_in_reference_order(
    container: Container, world: World
) -> None:
    rows = await list_caseload(uow=container.uow(), actor=world.alice)

    assert [row.reference for row in rows] == ["HUL-0001", "HUL-0002"]
    assert [row.case_id for row in rows] == [world.cases["HUL-0001"], world.cases["HUL-0002"]]
    assert [row.stage for row in rows] == [Stage.ENGAGING, Stage.ACTIVE]
    assert all(row.site_id == world.hull.id for row in rows)
    assert all(row.referral_reason is ReferralReason.HIGH_RISK for row in rows)


async def test_each_row_has_the_last_contact_the_next_appointment_and_the_current_risk(
    container: Container, world: World
) -> None:
    rows = await list_caseload(uow=container.uow(), actor=world.alice)
    busy = next(row for row in rows if row.reference == "HUL-0002")

    assert busy.last_contact_at == NOW - timedelta(days=1)
    # The appointment an hour ago and the cancelled one tomorrow are not "next".
    assert busy.next_appointment_at == NOW + timedelta(days=2)
    assert busy.next_appointment_place is PlaceKind.HOME_VISIT
    # The latest assessment counts, though it lowered the level.
    assert busy.current_risk is RiskLevel.MEDIUM
    assert busy.current_risk_at == NOW - timedelta(days=2)


async def test_a_case_with_nothing_recorded_yet_shows_none(
    container: Container, world: World
) -> None:
    rows = await list_caseload(uow=container.uow(), actor=world.alice)
    quiet = next(row for row in rows if row.reference == "HUL-0001")

    assert quiet.last_contact_at is None
    assert quiet.next_appointment_at is None
    assert quiet.next_appointment_place is None
    assert quiet.current_risk is None
    assert quiet.current_risk_at is None


async def test_the_next_appointment_moves_on_as_time_passes(
    container: Container, world: World, clock: FixedClock
) -> None:
    clock.advance(timedelta(days=3))

    rows = await list_caseload(uow=container.uow(), actor=world.alice)
    busy = next(row for row in rows if row.reference == "HUL-0002")

    assert busy.next_appointment_at == NOW + timedelta(days=5)
    assert busy.next_appointment_place is PlaceKind.VIDEO


async def test_an_appointment_starting_right_now_is_still_next(
    container: Container, world: World, clock: FixedClock
) -> None:
    clock.set(NOW + timedelta(days=2))

    rows = await list_caseload(uow=container.uow(), actor=world.alice)
    busy = next(row for row in rows if row.reference == "HUL-0002")

    assert busy.next_appointment_at == NOW + timedelta(days=2)


async def test_closed_cases_are_left_out(container: Container, world: World) -> None:
    rows = await list_caseload(uow=container.uow(), actor=world.alice)

    assert world.cases["HUL-0003"] not in {row.case_id for row in rows}


async def test_a_case_manager_with_no_open_cases_gets_an_empty_list(
    container: Container, world: World
) -> None:
    async with container.uow() as uow:
        case = await uow.session.get(Case, world.cases["HER-0001"])
        assert case is not None
        case.stage = Stage.CLOSED
        await uow.commit()

    assert await list_caseload(uow=container.uow(), actor=world.carol) == []


async def test_a_service_manager_may_list_a_case_managers_caseload_at_their_site(
    container: Container, world: World
) -> None:
    rows = await list_caseload(
        uow=container.uow(), actor=world.sam, case_manager_id=world.alice.user_id
    )

    assert [row.reference for row in rows] == ["HUL-0001", "HUL-0002"]


async def test_a_colleague_at_the_same_site_may_list_it_too(
    container: Container, world: World
) -> None:
    rows = await list_caseload(
        uow=container.uow(), actor=world.bob, case_manager_id=world.alice.user_id
    )

    assert [row.reference for row in rows] == ["HUL-0001", "HUL-0002"]


async def test_a_case_manager_at_another_site_may_not_list_the_caseload(
    container: Container, world: World
) -> None:
    with pytest.raises(NotPermitted):
        await list_caseload(
            uow=container.uow(), actor=world.carol, case_manager_id=world.alice.user_id
        )


async def test_the_operator_at_the_command_line_may_not_list_a_caseload(
    container: Container, world: World
) -> None:
    with pytest.raises(NotPermitted):
        await list_caseload(
            uow=container.uow(), actor=Actor.system(), case_manager_id=world.alice.user_id
        )


async def test_cases_at_a_site_the_viewer_does_not_work_at_are_never_returned(
    container: Container, world: World
) -> None:
    # Alice also works at Hereford now and holds a case there; Sam manages Hull only.
    async with container.uow() as uow:
        uow.session.add(
            Membership(
                user_id=world.alice.user_id, site_id=world.hereford.id, role=Role.CASE_MANAGER
            )
        )
        case = await uow.session.get(Case, world.cases["HER-0001"])
        assert case is not None
        case.case_manager_id = world.alice.user_id
        await uow.commit()
    alice_at_both = world.alice.model_copy(
        update={
            "memberships": (
                *world.alice.memberships,
                MembershipRead(site_id=world.hereford.id, site_code="HER", role=Role.CASE_MANAGER),
            )
        }
    )

    sams_view = await list_caseload(
        uow=container.uow(), actor=world.sam, case_manager_id=world.alice.user_id
    )
    alices_view = await list_caseload(uow=container.uow(), actor=alice_at_both)

    assert [row.reference for row in sams_view] == ["HUL-0001", "HUL-0002"]
    assert [row.reference for row in alices_view] == ["HER-0001", "HUL-0001", "HUL-0002"]


async def test_a_case_manager_does_not_see_cases_at_a_site_they_have_left(
    container: Container, world: World
) -> None:
    # The case is still allocated to Carol, but her actor no longer holds a role at Hereford.
    carol_elsewhere = world.carol.model_copy(
        update={
            "memberships": (
                MembershipRead(site_id=world.hull.id, site_code="HUL", role=Role.CASE_MANAGER),
            )
        }
    )

    assert await list_caseload(uow=container.uow(), actor=carol_elsewhere) == []
