"""A failure part-way through a write leaves nothing behind, on SQLite and on PostgreSQL.

The failure is injected where it hurts most: in the audit call that follows the flush, so the
row has already been sent to the database inside the transaction when the error strikes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.bootstrap import Container
from core.clock import FixedClock
from core.db.base import Base
from core.enums import (
    Agency,
    AppointmentStatus,
    ContactType,
    PersonKind,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.models import Appointment, Case, Site
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentReschedule
from core.schemas.cases import CaseCreate, CaseUpdate, StageMove
from core.schemas.contacts import ContactCreate
from core.schemas.interventions import InterventionCreate
from core.schemas.panels import PanelMeetingCreate
from core.schemas.people import LinkedPersonCreate
from core.schemas.risk import RiskAssessmentCreate
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, UserCreate
from core.services import appointments as appointment_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import interventions as intervention_services
from core.services import panels as panel_services
from core.services import people as people_services
from core.services import risk as risk_services
from core.services import sites as site_services
from core.services import users as user_services
from core.services.audit import insert_audited, record_audit
from tests.factories import World


class InjectedFailure(Exception):
    """Raised by the sabotaged audit call."""


class AuditSaboteur:
    """Stands in for ``record_audit`` in one service module and fails on the n-th call.

    Earlier calls go through to the real ``record_audit``, so a service that audits twice can be
    failed after its first event is already in the session.
    """

    def __init__(self, fail_on_call: int = 1) -> None:
        self.fail_on_call = fail_on_call
        self.calls: list[dict[str, Any]] = []

    def __call__(self, uow: Any, actor: Actor, action: str, **kwargs: Any) -> None:
        self.calls.append({"action": action, **kwargs})
        if len(self.calls) == self.fail_on_call:
            raise InjectedFailure(action)
        record_audit(uow, actor, action, **kwargs)


class InsertAuditedSaboteur:
    """Stands in for ``insert_audited`` in one service module: the real one runs (the row is
    in, and on PostgreSQL its audit event and the chain's new head too), then it fails."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, uow: Any, actor: Actor, action: str, **kwargs: Any) -> int:
        entity_id = await insert_audited(uow, actor, action, **kwargs)
        self.calls.append({"action": action, "entity_id": entity_id})
        raise InjectedFailure(action)


async def row_counts(container: Container) -> dict[str, int]:
    async with container.session_factory() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


# Each write: the service module to sabotage, and a set-up that returns the call to make.
WriteCall = Callable[[], Awaitable[object]]
Setup = Callable[[World], Awaitable[WriteCall]]


async def log_contact(world: World) -> WriteCall:
    case = await world.allocated_case()
    return lambda: contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=45,
        ),
    )


async def create_case(world: World) -> WriteCall:
    return lambda: case_services.create_case(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        data=CaseCreate(
            site_id=world.sites["HER"].id,
            referral_date=date(2026, 2, 26),
            referral_source=ReferralSource.MARAC,
            referral_reason=ReferralReason.HIGH_RISK,
        ),
    )


async def add_linked_person(world: World) -> WriteCall:
    case = await world.allocated_case()
    return lambda: people_services.add_linked_person(
        uow=world.container.uow(),
        actor=world.actor(Role.IDVA),
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="Someone"),
    )


async def record_risk(world: World) -> WriteCall:
    case = await world.allocated_case()
    return lambda: risk_services.record_risk_assessment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.MEDIUM),
    )


async def add_intervention(world: World) -> WriteCall:
    case = await world.allocated_case()
    return lambda: intervention_services.add_intervention(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=InterventionCreate(case_id=case.id, kind_code="parenting", agency=Agency.SOCIAL_CARE),
    )


async def book_appointment(world: World) -> WriteCall:
    case = await world.allocated_case()
    starts_at = world.container.clock.now() + timedelta(days=1)
    return lambda: appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def schedule_panel(world: World) -> WriteCall:
    return lambda: panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id,
            starts_at=world.container.clock.now() + timedelta(days=21),
        ),
    )


async def create_site(world: World) -> WriteCall:
    return lambda: site_services.create_site(
        uow=world.container.uow(), actor=Actor.system(), data=SiteCreate(code="HUL", name="Hull")
    )


async def add_user(world: World) -> WriteCall:
    return lambda: user_services.add_user(
        uow=world.container.uow(),
        actor=Actor.system(),
        data=UserCreate(
            email="new.starter@test.invalid",
            display_name="New Starter",
            memberships=[MembershipCreate(site_code="HER", role=Role.CASE_MANAGER)],
        ),
    )


WRITES: dict[str, tuple[Any, Setup]] = {
    # (The contact goes in with its audit event, through ``insert_audited``.)
    "contacts.log_contact": (contact_services, log_contact),
    "cases.create_case": (case_services, create_case),
    "people.add_linked_person": (people_services, add_linked_person),
    "risk.record_risk_assessment": (risk_services, record_risk),
    "interventions.add_intervention": (intervention_services, add_intervention),
    "appointments.book_appointment": (appointment_services, book_appointment),
    "panels.schedule_panel_meeting": (panel_services, schedule_panel),
    "sites.create_site": (site_services, create_site),
    "users.add_user": (user_services, add_user),
}


@pytest.mark.parametrize("name", list(WRITES))
async def test_a_failure_after_the_row_is_flushed_leaves_no_row_and_no_audit_event(
    world: World, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    module, setup = WRITES[name]
    write = await setup(world)
    before = await row_counts(world.container)
    saboteur: AuditSaboteur | InsertAuditedSaboteur
    if hasattr(module, "insert_audited"):
        saboteur = InsertAuditedSaboteur()
        monkeypatch.setattr(module, "insert_audited", saboteur)
    else:
        saboteur = AuditSaboteur()
        monkeypatch.setattr(module, "record_audit", saboteur)

    with pytest.raises(InjectedFailure):
        await write()

    # The row had been flushed (the database gave it an id) when the failure struck ...
    assert saboteur.calls[0]["entity_id"] is not None
    # ... and nothing of it, nor any audit event, outlived the failure.
    assert await row_counts(world.container) == before


async def test_a_case_created_before_the_failure_keeps_no_stage_history_either(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    write = await create_case(world)
    monkeypatch.setattr(case_services, "record_audit", AuditSaboteur())

    with pytest.raises(InjectedFailure):
        await write()
    monkeypatch.undo()
    created = await write()

    # The failed attempt consumed no reference: the next referral takes the first number.
    assert created.reference == "HER-0001"
    history = await case_services.stage_history(
        uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER), case_id=created.id
    )
    assert [(change.from_stage, change.to_stage) for change in history] == [(None, Stage.REFERRED)]


async def test_a_reschedule_failing_after_its_first_audit_event_leaves_the_old_booking_alone(
    world: World, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await world.allocated_case()
    first_start = clock.now() + timedelta(days=1)
    old = await appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=first_start,
            ends_at=first_start + timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )
    before = await row_counts(world.container)
    # Fail on the second audit call: the new booking is flushed, the old one marked
    # rescheduled, and the first event already in the session.
    saboteur = AuditSaboteur(fail_on_call=2)
    monkeypatch.setattr(appointment_services, "record_audit", saboteur)
    starts_at = clock.now() + timedelta(days=4)

    with pytest.raises(InjectedFailure):
        await appointment_services.reschedule_appointment(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            appointment_id=old.id,
            data=AppointmentReschedule(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)),
        )

    assert [call["action"] for call in saboteur.calls] == [
        "appointment.reschedule",
        "appointment.book",
    ]
    assert await row_counts(world.container) == before
    async with world.container.session_factory() as session:
        stored = await session.get(Appointment, old.id)
        assert stored is not None
        assert (stored.status, stored.rescheduled_to_id, stored.starts_at) == (
            AppointmentStatus.SCHEDULED,
            None,
            first_start,
        )


async def test_an_edit_failing_before_commit_leaves_the_case_and_its_version_as_they_were(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await world.allocated_case()
    monkeypatch.setattr(case_services, "record_audit", AuditSaboteur())

    with pytest.raises(InjectedFailure):
        await case_services.update_case(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            case_id=case.id,
            data=CaseUpdate(version=case.version, subject_name="Changed", dash_score=4),
        )

    async with world.container.session_factory() as session:
        stored = await session.get(Case, case.id)
        assert stored is not None
        assert (stored.subject_name, stored.dash_score, stored.version) == (
            case.subject_name,
            case.dash_score,
            case.version,
        )


async def test_a_stage_move_failing_part_way_writes_no_history_row(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = await world.allocated_case()
    before = await row_counts(world.container)
    monkeypatch.setattr(case_services, "record_audit", AuditSaboteur())

    with pytest.raises(InjectedFailure):
        await case_services.change_stage(
            uow=world.container.uow(),
            actor=world.actor(Role.CASE_MANAGER),
            case_id=case.id,
            data=StageMove(version=case.version, to_stage=Stage.ACTIVE),
        )

    assert await row_counts(world.container) == before
    async with world.container.session_factory() as session:
        assert await session.scalar(select(Case.stage).where(Case.id == case.id)) is Stage.ALLOCATED


# --- the unit of work itself ----------------------------------------------------------------


async def site_codes(container: Container) -> list[str]:
    async with container.session_factory() as session:
        return list(await session.scalars(select(Site.code).order_by(Site.code)))


async def test_a_unit_of_work_left_without_commit_rolls_back_what_it_flushed(
    container: Container, clock: FixedClock
) -> None:
    async with container.uow() as uow:
        uow.session.add(Site(code="TMP", name="Temporary", created_at=clock.now()))
        await uow.flush()
        assert await uow.session.scalar(select(Site.code).where(Site.code == "TMP")) == "TMP"

    assert await site_codes(container) == []


async def test_a_unit_of_work_left_by_an_error_rolls_back_and_lets_the_error_through(
    container: Container, clock: FixedClock
) -> None:
    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted):
        async with container.uow() as uow:
            uow.session.add(Site(code="TMP", name="Temporary", created_at=clock.now()))
            await uow.flush()
            raise Interrupted()

    assert await site_codes(container) == []


async def test_a_unit_of_work_keeps_what_was_committed_and_drops_what_came_after(
    container: Container, clock: FixedClock
) -> None:
    async with container.uow() as uow:
        uow.session.add(Site(code="KEPT", name="Committed", created_at=clock.now()))
        await uow.commit()
        uow.session.add(Site(code="LOST", name="Never committed", created_at=clock.now()))
        await uow.flush()

    assert await site_codes(container) == ["KEPT"]


async def test_a_unit_of_work_can_be_used_only_inside_its_block_and_only_once_at_a_time(
    container: Container,
) -> None:
    uow = container.uow()

    with pytest.raises(RuntimeError):
        _ = uow.session
    async with uow:
        with pytest.raises(RuntimeError):
            await uow.__aenter__()
    with pytest.raises(RuntimeError):
        _ = uow.session
