"""The audit trail: who did or saw what, through which face, written with the change itself.

Every write service is driven once through a table of scenarios; the events it leaves behind are
compared field by field. Victims' details and free-text notes must never reach the trail, a
refused operation must leave neither an event nor data, and an event is rolled back with the
change it records.
"""

from __future__ import annotations

import ast
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text, update

from core.bootstrap import Container
from core.clock import FixedClock
from core.db.base import Base
from core.enums import (
    Agency,
    AppointmentStatus,
    AttendanceStatus,
    Channel,
    ClosureReason,
    ContactType,
    Face,
    InterventionStatus,
    KindGroup,
    Lane,
    NotificationKind,
    OutboxState,
    PanelActionStatus,
    PersonKind,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.errors import (
    AppointmentEndsBeforeStart,
    CaseClosed,
    ClosureReasonRequired,
    DomainError,
    DuplicateReference,
    InvalidStageTransition,
    NotPermitted,
    PasskeyRejected,
    PinRejected,
    SignInFailed,
    StaleVersion,
    ValidationFailed,
    WrongCode,
    WrongPassword,
)
from core.models import (
    AccountLink,
    AuditEvent,
    OutboxMessage,
    TelegramLinkCode,
    User,
    WebSession,
    WebSignInAttempt,
)
from core.notifications.outbox import enqueue
from core.schemas.actor import Actor
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
)
from core.schemas.cases import (
    CaseAllocate,
    CaseClose,
    CaseCreate,
    CaseRead,
    CaseReopen,
    CaseTransfer,
    CaseUpdate,
    StageMove,
)
from core.schemas.contacts import ContactCreate
from core.schemas.interventions import InterventionCreate, InterventionStatusUpdate
from core.schemas.notification_channels import NotificationChannelsUpdate
from core.schemas.panel_outcomes import MeetingHeld
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.schemas.people import IdvaAssignment, LinkedPersonCreate, LinkedPersonUpdate, LinkEnd
from core.schemas.referrals import DuplicateQuery
from core.schemas.risk import MaracAppearanceCreate, PoliceIncidentCreate, RiskAssessmentCreate
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, RoleChange, UserCreate
from core.services import accounts as account_services
from core.services import alerts as alert_services
from core.services import appointments as appointment_services
from core.services import audit as audit_services
from core.services import auth as auth_services
from core.services import bot_messages as bot_message_services
from core.services import broadcasts as broadcast_services
from core.services import cases as case_services
from core.services import contacts as contact_services
from core.services import device_pins as device_pin_services
from core.services import interventions as intervention_services
from core.services import lockout
from core.services import notification_channels as notification_channel_services
from core.services import notifications_admin as notification_admin_services
from core.services import panel_outcomes as panel_outcome_services
from core.services import panels as panel_services
from core.services import passkeys as passkey_services
from core.services import people as people_services
from core.services import referrals as referral_services
from core.services import retention as retention_services
from core.services import risk as risk_services
from core.services import sar as sar_services
from core.services import sites as site_services
from core.services import telegram_links as link_services
from core.services import users as user_services
from core.settings import Settings
from core.uow import UnitOfWork
from tests.factories import World
from tests.fakes.notify_api import FakeNotifyApi
from tests.fakes.passkey_authenticator import SoftwareAuthenticator
from ui.account_mail import NotifyLinkMailer

SERVICES_DIR = Path(__file__).resolve().parents[2] / "core" / "services"


@dataclass(frozen=True)
class Expected:
    """One audit event as the database should hold it (actor, face and time checked apart)."""

    action: str
    entity_type: str
    entity_id: int | None
    site_id: int | None
    case_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


# A scenario sets the scene, then hands back who acts and the write under test. The write
# returns the events it must leave behind.
Write = Callable[[], Awaitable[list[Expected]]]
Scenario = Callable[[World], Awaitable[tuple[Actor, Write]]]


def via_bot(actor: Actor) -> Actor:
    """The same person coming through the bot, so the test shows the face is the actor's."""
    return actor.model_copy(update={"face": Face.BOT})


async def audit_events(container: Container, after_id: int = 0) -> list[AuditEvent]:
    async with container.session_factory() as session:
        rows = await session.scalars(
            select(AuditEvent).where(AuditEvent.id > after_id).order_by(AuditEvent.id)
        )
        return list(rows)


async def last_audit_id(container: Container) -> int:
    async with container.session_factory() as session:
        return await session.scalar(select(func.max(AuditEvent.id))) or 0


async def row_counts(container: Container) -> dict[str, int]:
    async with container.session_factory() as session:
        return {
            table.name: await session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


async def book(world: World, case: CaseRead, hours_from_now: float) -> AppointmentRead:
    starts_at = world.container.clock.now() + timedelta(hours=hours_from_now)
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


async def meeting_with_case(world: World) -> tuple[int, CaseRead]:
    case = await world.allocated_case()
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id,
            starts_at=world.container.clock.now() + timedelta(days=14),
        ),
    )
    return meeting.id, case


# --- the scenarios, one per audited action ---------------------------------------------------


async def create_site(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()

    async def write() -> list[Expected]:
        site = await site_services.create_site(
            uow=world.container.uow(), actor=actor, data=SiteCreate(code="HUL", name="Hull")
        )
        return [Expected("site.create", "site", site.id, site.id, None)]

    return actor, write


async def add_user_at_two_sites(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()

    async def write() -> list[Expected]:
        user = await user_services.add_user(
            uow=world.container.uow(),
            actor=actor,
            data=UserCreate(
                email="two.sites@test.invalid",
                display_name="Two Sites",
                memberships=[
                    MembershipCreate(site_code="HER", role=Role.CASE_MANAGER),
                    MembershipCreate(site_code="WOR", role=Role.IDVA),
                ],
            ),
        )
        # Documented: one event per membership, so each site's admin sees the account; then
        # its invitation, at each site too.
        link = {"link_id": await link_id(world, user.id)}
        her, wor = world.sites["HER"].id, world.sites["WOR"].id
        return [
            Expected("user.add", "user", user.id, her, None, {"role": "case_manager"}),
            Expected("user.add", "user", user.id, wor, None, {"role": "idva"}),
            Expected("account_link.invite", "user", user.id, her, None, link),
            Expected("account_link.invite", "user", user.id, wor, None, link),
        ]

    return actor, write


async def add_user_without_roles(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()

    async def write() -> list[Expected]:
        user = await user_services.add_user(
            uow=world.container.uow(),
            actor=actor,
            data=UserCreate(email="no.roles@test.invalid", display_name="No Roles"),
        )
        link = {"link_id": await link_id(world, user.id)}
        return [
            Expected("user.add", "user", user.id, None, None),
            Expected("account_link.invite", "user", user.id, None, None, link),
        ]

    return actor, write


async def create_case(world: World) -> tuple[Actor, Write]:
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))
    site_id = world.sites["HER"].id

    async def write() -> list[Expected]:
        case = await case_services.create_case(
            uow=world.container.uow(),
            actor=actor,
            data=CaseCreate(
                site_id=site_id,
                referral_date=date(2026, 2, 25),
                referral_source=ReferralSource.MATAC,
                referral_reason=ReferralReason.SERIAL,
            ),
        )
        return [Expected("case.create", "case", case.id, site_id, case.id)]

    return actor, write


async def update_case(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await case_services.update_case(
            uow=world.container.uow(),
            actor=actor,
            case_id=case.id,
            data=CaseUpdate(version=case.version, subject_name="A Person", dash_score=9),
        )
        fields = {"fields": ["dash_score", "subject_name"]}
        return [Expected("case.update", "case", case.id, case.site_id, case.id, fields)]

    return actor, write


async def allocate_case(world: World) -> tuple[Actor, Write]:
    referral = await world.referral()
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))
    case_manager_id = world.actor(Role.CASE_MANAGER).user_id

    async def write() -> list[Expected]:
        await case_services.allocate_case(
            uow=world.container.uow(),
            actor=actor,
            case_id=referral.id,
            data=CaseAllocate(version=referral.version, case_manager_id=case_manager_id),
        )
        details = {"case_manager_id": case_manager_id}
        return [
            Expected("case.allocate", "case", referral.id, referral.site_id, referral.id, details)
        ]

    return actor, write


async def change_stage(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await case_services.change_stage(
            uow=world.container.uow(),
            actor=actor,
            case_id=case.id,
            data=StageMove(version=case.version, to_stage=Stage.ENGAGING),
        )
        details = {"from": "allocated", "to": "engaging"}
        return [Expected("case.change_stage", "case", case.id, case.site_id, case.id, details)]

    return actor, write


async def close_case(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await case_services.close_case(
            uow=world.container.uow(),
            actor=actor,
            case_id=case.id,
            data=CaseClose(version=case.version, reason=ClosureReason.MOVED_AWAY),
        )
        details = {"reason": "moved_away"}
        return [Expected("case.close", "case", case.id, case.site_id, case.id, details)]

    return actor, write


async def reopen_case(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))
    closed = await case_services.close_case(
        uow=world.container.uow(),
        actor=actor,
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.DISENGAGED),
    )

    async def write() -> list[Expected]:
        await case_services.reopen_case(
            uow=world.container.uow(),
            actor=actor,
            case_id=case.id,
            data=CaseReopen(version=closed.version, reason="Referred again"),
        )
        return [Expected("case.reopen", "case", case.id, case.site_id, case.id, {"episode": 2})]

    return actor, write


async def transfer_case(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = await world.add_actor(
        "two.sites@test.invalid", [("HER", Role.SERVICE_MANAGER), ("WOR", Role.SERVICE_MANAGER)]
    )
    wor = world.sites["WOR"].id

    async def write() -> list[Expected]:
        await case_services.transfer_case(
            uow=world.container.uow(),
            actor=actor,
            case_id=case.id,
            data=CaseTransfer(version=case.version, to_site_id=wor),
        )
        details = {"from_site_id": case.site_id, "to_site_id": wor}
        return [Expected("case.transfer", "case", case.id, wor, case.id, details)]

    return actor, write


async def check_duplicates(world: World) -> tuple[Actor, Write]:
    known = await world.referral(
        subject_name="Dupli Testcase", subject_date_of_birth=date(1979, 5, 6)
    )
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))
    her = world.sites["HER"].id

    async def write() -> list[Expected]:
        await referral_services.check_duplicates(
            uow=world.container.uow(),
            actor=actor,
            data=DuplicateQuery(site_id=her, name="D Testcase", date_of_birth=date(1979, 5, 6)),
        )
        details = {"possible_duplicates": 1, "case_ids": [known.id]}
        return [Expected("case.duplicate_check", "site", her, her, None, details)]

    return actor, write


async def set_referral_roles(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()
    her = world.sites["HER"].id

    async def write() -> list[Expected]:
        await referral_services.set_referral_roles(
            uow=world.container.uow(), actor=actor, site_code="HER", roles=[Role.IDVA]
        )
        return [Expected("site.referral_roles", "site", her, her, None, {"roles": ["idva"]})]

    return actor, write


async def add_linked_person(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.IDVA))

    async def write() -> list[Expected]:
        person = await people_services.add_linked_person(
            uow=world.container.uow(),
            actor=actor,
            data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.CHILD, name="A Child"),
        )
        details = {"kind": "child"}
        return [Expected("victim.add", "linked_person", person.id, case.site_id, case.id, details)]

    return actor, write


async def view_case_people(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)
    people = [
        await people_services.add_linked_person(
            uow=world.container.uow(),
            actor=idva,
            data=LinkedPersonCreate(case_id=case.id, kind=kind),
        )
        for kind in (PersonKind.VICTIM, PersonKind.CHILD)
    ]
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))

    async def write() -> list[Expected]:
        seen = (
            await people_services.case_people(
                uow=world.container.uow(), actor=actor, case_id=case.id
            )
        ).current
        assert [person.id for person in seen] == [person.id for person in people]
        details = {"linked_person_ids": [person.id for person in people]}
        return [Expected("victim.view", "case", case.id, case.site_id, case.id, details)]

    return actor, write


async def record_risk(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.IDVA))

    async def write() -> list[Expected]:
        risk = await risk_services.record_risk_assessment(
            uow=world.container.uow(),
            actor=actor,
            data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.HIGH),
        )
        details = {"level": "high"}
        return [Expected("risk.record", "risk_assessment", risk.id, case.site_id, case.id, details)]

    return actor, write


async def record_marac(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))

    async def write() -> list[Expected]:
        marac = await risk_services.record_marac_appearance(
            uow=world.container.uow(),
            actor=actor,
            data=MaracAppearanceCreate(case_id=case.id, heard_on=date(2026, 2, 10)),
        )
        return [Expected("marac.record", "marac_appearance", marac.id, case.site_id, case.id)]

    return actor, write


async def record_incident(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.POLICE_FELLOW))

    async def write() -> list[Expected]:
        incident = await risk_services.record_police_incident(
            uow=world.container.uow(),
            actor=actor,
            data=PoliceIncidentCreate(case_id=case.id, occurred_on=date(2026, 2, 28)),
        )
        return [Expected("incident.record", "police_incident", incident.id, case.site_id, case.id)]

    return actor, write


async def book_appointment(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        starts_at = world.container.clock.now() + timedelta(days=1)
        booked = await appointment_services.book_appointment(
            uow=world.container.uow(),
            actor=actor,
            data=AppointmentCreate(
                case_id=case.id,
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                place_kind=PlaceKind.PHONE,
            ),
        )
        details = {"status": "scheduled"}
        return [
            Expected("appointment.book", "appointment", booked.id, case.site_id, case.id, details)
        ]

    return actor, write


async def reschedule_appointment(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    old = await book(world, case, 24)
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        starts_at = world.container.clock.now() + timedelta(days=3)
        new = await appointment_services.reschedule_appointment(
            uow=world.container.uow(),
            actor=actor,
            appointment_id=old.id,
            data=AppointmentReschedule(starts_at=starts_at, ends_at=starts_at + timedelta(hours=1)),
        )
        # Documented: two events, the old appointment moved and the new one booked.
        site, case_id = case.site_id, case.id
        return [
            Expected(
                "appointment.reschedule",
                "appointment",
                old.id,
                site,
                case_id,
                {"status": "rescheduled"},
            ),
            Expected(
                "appointment.book", "appointment", new.id, site, case_id, {"status": "scheduled"}
            ),
        ]

    return actor, write


async def cancel_appointment(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    booked = await book(world, case, 24)
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await appointment_services.cancel_appointment(
            uow=world.container.uow(), actor=actor, appointment_id=booked.id
        )
        details = {"status": "cancelled"}
        return [
            Expected("appointment.cancel", "appointment", booked.id, case.site_id, case.id, details)
        ]

    return actor, write


async def record_appointment_outcome(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    booked = await book(world, case, -2)
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await appointment_services.record_appointment_outcome(
            uow=world.container.uow(),
            actor=actor,
            appointment_id=booked.id,
            data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
        )
        details = {"status": "attended"}
        return [
            Expected(
                "appointment.outcome", "appointment", booked.id, case.site_id, case.id, details
            )
        ]

    return actor, write


async def ask_for_an_outcome_after(world: World) -> tuple[Actor, Write]:
    """ "I'll record it after", under a reminder sent before the appointment."""
    case = await world.allocated_case()
    booked = await book(world, case, 2)
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await appointment_services.ask_for_outcome_after(
            uow=world.container.uow(), actor=actor, appointment_id=booked.id
        )
        details = {"status": "scheduled"}
        return [
            Expected(
                "appointment.outcome_prompt",
                "appointment",
                booked.id,
                case.site_id,
                case.id,
                details,
            )
        ]

    return actor, write


async def log_contact(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        contact = await contact_services.log_contact(
            uow=world.container.uow(),
            actor=actor,
            data=ContactCreate(
                case_id=case.id,
                contact_type=ContactType.PHONE,
                duration_minutes=15,
                categories=frozenset({WorkCategory.SUPPORT}),
            ),
        )
        details = {"contact_type": "phone"}
        return [Expected("contact.log", "contact", contact.id, case.site_id, case.id, details)]

    return actor, write


async def add_intervention(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.POLICE_FELLOW))

    async def write() -> list[Expected]:
        added = await intervention_services.add_intervention(
            uow=world.container.uow(),
            actor=actor,
            data=InterventionCreate(case_id=case.id, kind_code="dvpn_dvpo", agency=Agency.POLICE),
        )
        details = {"kind": "dvpn_dvpo"}
        return [
            Expected("intervention.add", "intervention", added.id, case.site_id, case.id, details)
        ]

    return actor, write


async def update_intervention(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    added = await intervention_services.add_intervention(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=InterventionCreate(case_id=case.id, kind_code="housing", agency=Agency.HOUSING),
    )
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        await intervention_services.update_intervention_status(
            uow=world.container.uow(),
            actor=actor,
            intervention_id=added.id,
            data=InterventionStatusUpdate(status=InterventionStatus.COMPLETED),
        )
        details = {"status": "completed"}
        return [
            Expected(
                "intervention.update", "intervention", added.id, case.site_id, case.id, details
            )
        ]

    return actor, write


async def schedule_panel(world: World) -> tuple[Actor, Write]:
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))
    site_id = world.sites["HER"].id

    async def write() -> list[Expected]:
        meeting = await panel_services.schedule_panel_meeting(
            uow=world.container.uow(),
            actor=actor,
            data=PanelMeetingCreate(
                site_id=site_id, starts_at=world.container.clock.now() + timedelta(days=28)
            ),
        )
        return [Expected("panel.schedule", "panel_meeting", meeting.id, site_id, None)]

    return actor, write


async def mark_panel_held(world: World) -> tuple[Actor, Write]:
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))
    site_id = world.sites["HER"].id
    clock = world.container.clock
    assert isinstance(clock, FixedClock)
    meeting = await panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=actor,
        data=PanelMeetingCreate(site_id=site_id, starts_at=clock.now() + timedelta(hours=1)),
    )
    clock.advance(timedelta(hours=3))  # scheduled ahead, as core requires; now two hours past
    member = world.actor(Role.PANEL_MEMBER).user_id

    async def write() -> list[Expected]:
        await panel_outcome_services.mark_panel_meeting_held(
            uow=world.container.uow(),
            actor=actor,
            meeting_id=meeting.id,
            data=MeetingHeld(attended_user_ids=frozenset({member})),
        )
        details = {"attended_user_ids": [member]}
        return [Expected("panel.held", "panel_meeting", meeting.id, site_id, None, details)]

    return actor, write


async def cancel_panel(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))

    async def write() -> list[Expected]:
        await panel_outcome_services.cancel_panel_meeting(
            uow=world.container.uow(), actor=actor, meeting_id=meeting_id
        )
        return [Expected("panel.cancel", "panel_meeting", meeting_id, case.site_id, None)]

    return actor, write


async def _person(world: World) -> tuple[int, CaseRead]:
    case = await world.allocated_case()
    person = await people_services.add_linked_person(
        uow=world.container.uow(),
        actor=world.actor(Role.IDVA),
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="A Victim"),
    )
    return person.id, case


async def update_linked_person(world: World) -> tuple[Actor, Write]:
    person_id, case = await _person(world)
    actor = via_bot(world.actor(Role.IDVA))

    async def write() -> list[Expected]:
        await people_services.update_linked_person(
            uow=world.container.uow(),
            actor=actor,
            person_id=person_id,
            data=LinkedPersonUpdate(kind=PersonKind.VICTIM, name="A Victim", contact="Fictional"),
        )
        details = {"kind": "victim", "fields": ["contact"]}
        return [
            Expected("victim.update", "linked_person", person_id, case.site_id, case.id, details)
        ]

    return actor, write


async def end_a_link(world: World) -> tuple[Actor, Write]:
    person_id, case = await _person(world)
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))

    async def write() -> list[Expected]:
        day = world.container.clock.now().date()
        await people_services.end_link(
            uow=world.container.uow(), actor=actor, person_id=person_id, data=LinkEnd(ended_on=day)
        )
        details = {"kind": "victim", "ended_on": day.isoformat()}
        return [
            Expected("victim.end_link", "linked_person", person_id, case.site_id, case.id, details)
        ]

    return actor, write


async def assign_an_idva(world: World) -> tuple[Actor, Write]:
    person_id, case = await _person(world)
    actor = via_bot(world.actor(Role.SERVICE_MANAGER))

    async def write() -> list[Expected]:
        await people_services.assign_idva(
            uow=world.container.uow(),
            actor=actor,
            person_id=person_id,
            data=IdvaAssignment(idva_user_id=None),
        )
        details = {"kind": "victim", "idva_user_id": None}
        return [
            Expected("victim.assign", "linked_person", person_id, case.site_id, case.id, details)
        ]

    return actor, write


async def add_agenda_item(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))

    async def write() -> list[Expected]:
        await panel_services.add_agenda_item(
            uow=world.container.uow(), actor=actor, meeting_id=meeting_id, case_id=case.id
        )
        return [Expected("panel.agenda_add", "panel_meeting", meeting_id, case.site_id, case.id)]

    return actor, write


async def add_panel_action(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))

    async def write() -> list[Expected]:
        action = await panel_services.add_panel_action(
            uow=world.container.uow(),
            actor=actor,
            data=PanelActionCreate(
                meeting_id=meeting_id,
                case_id=case.id,
                description="Check bail conditions",
                owner_agency=Agency.POLICE,
                due_on=date(2026, 3, 20),
            ),
        )
        return [Expected("panel_action.add", "panel_action", action.id, case.site_id, case.id)]

    return actor, write


async def update_panel_action(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    owner = world.actor(Role.PANEL_MEMBER)
    action = await panel_services.add_panel_action(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelActionCreate(
            meeting_id=meeting_id,
            case_id=case.id,
            description="Share licence conditions",
            owner_user_id=owner.user_id,
            due_on=date(2026, 3, 20),
        ),
    )
    actor = via_bot(owner)

    async def write() -> list[Expected]:
        await panel_services.update_panel_action_status(
            uow=world.container.uow(),
            actor=actor,
            action_id=action.id,
            status=PanelActionStatus.DONE,
        )
        details = {"status": "done"}
        return [
            Expected(
                "panel_action.update", "panel_action", action.id, case.site_id, case.id, details
            )
        ]

    return actor, write


async def rsvp_panel(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    actor = via_bot(world.actor(Role.PANEL_MEMBER))

    async def write() -> list[Expected]:
        await panel_services.rsvp_panel_meeting(
            uow=world.container.uow(),
            actor=actor,
            meeting_id=meeting_id,
            status=AttendanceStatus.APOLOGIES,
        )
        details = {"status": "apologies"}
        return [Expected("panel.rsvp", "panel_meeting", meeting_id, case.site_id, None, details)]

    return actor, write


async def broadcast_panel(world: World) -> tuple[Actor, Write]:
    meeting_id, case = await meeting_with_case(world)
    actor = via_bot(world.actor(Role.PANEL_COORDINATOR))

    async def write() -> list[Expected]:
        preview = await broadcast_services.preview_panel_broadcast(
            uow=world.container.uow(), actor=actor, meeting_id=meeting_id
        )
        await broadcast_services.broadcast_panel_meeting(
            uow=world.container.uow(),
            actor=actor,
            meeting_id=meeting_id,
            broadcast_key=preview.broadcast_key,
        )
        # Counts only: who got it is in the outbox, not the trail. The preview is not audited.
        details = {"recipients": 5, "queued": 5}
        return [
            Expected("panel.broadcast", "panel_meeting", meeting_id, case.site_id, None, details)
        ]

    return actor, write


async def raise_alert(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    actor = via_bot(world.actor(Role.CASE_MANAGER))

    async def write() -> list[Expected]:
        alert = await alert_services.raise_disruption_alert(
            uow=world.container.uow(), actor=actor, case_id=case.id
        )
        details = {"status": "open"}
        return [
            Expected("alert.raise", "disruption_alert", alert.id, case.site_id, case.id, details)
        ]

    return actor, write


async def acknowledge_alert(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    alert = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    actor = via_bot(world.actor(Role.POLICE_FELLOW))

    async def write() -> list[Expected]:
        await alert_services.acknowledge_alert(
            uow=world.container.uow(), actor=actor, alert_id=alert.id
        )
        details = {"status": "acknowledged"}
        return [
            Expected(
                "alert.acknowledge", "disruption_alert", alert.id, case.site_id, case.id, details
            )
        ]

    return actor, write


async def record_alert_action(world: World) -> tuple[Actor, Write]:
    case = await world.allocated_case()
    alert = await alert_services.raise_disruption_alert(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )
    actor = via_bot(world.actor(Role.POLICE_FELLOW))

    async def write() -> list[Expected]:
        await alert_services.record_alert_action(
            uow=world.container.uow(),
            actor=actor,
            alert_id=alert.id,
            action_taken="Bail conditions checked with the custody sergeant",
        )
        # The free text stays on the alert; the trail carries the status only.
        details = {"status": "actioned"}
        return [
            Expected("alert.action", "disruption_alert", alert.id, case.site_id, case.id, details)
        ]

    return actor, write


async def latest_link_code_id(world: World, user_id: int) -> int:
    async with world.container.session_factory() as session:
        code_id = await session.scalar(
            select(func.max(TelegramLinkCode.id)).where(TelegramLinkCode.user_id == user_id)
        )
    assert code_id is not None
    return code_id


async def issue_link_code(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    case_manager = world.actor(Role.CASE_MANAGER)

    async def write() -> list[Expected]:
        await link_services.issue_link_code(
            uow=world.container.uow(), actor=actor, user_id=case_manager.user_id
        )
        # Ids only: the code itself never reaches the trail (or the database).
        details = {"code_id": await latest_link_code_id(world, case_manager.user_id)}
        site_id = world.sites["HER"].id
        return [
            Expected(
                "telegram_link.issue_code", "user", case_manager.user_id, site_id, None, details
            )
        ]

    return actor, write


async def link_telegram(world: World) -> tuple[Actor, Write]:
    case_manager = world.actor(Role.CASE_MANAGER)
    issued = await link_services.issue_link_code(
        uow=world.container.uow(), actor=case_manager, user_id=case_manager.user_id
    )
    code_id = await latest_link_code_id(world, case_manager.user_id)
    # Whoever redeems the code is its owner, coming through the bot.
    actor = via_bot(case_manager)

    async def write() -> list[Expected]:
        await link_services.redeem_link_code(
            uow=world.container.uow(), code=issued.code, telegram_user_id=9001, chat_id=9001
        )
        details = {"code_id": code_id, "telegram_user_id": 9001}
        site_id = world.sites["HER"].id
        return [
            Expected("telegram_link.link", "user", case_manager.user_id, site_id, None, details)
        ]

    return actor, write


async def move_telegram_link(world: World) -> tuple[Actor, Write]:
    case_manager, fellow = world.actor(Role.CASE_MANAGER), world.actor(Role.POLICE_FELLOW)
    earlier = await link_services.issue_link_code(
        uow=world.container.uow(), actor=case_manager, user_id=case_manager.user_id
    )
    await link_services.redeem_link_code(
        uow=world.container.uow(), code=earlier.code, telegram_user_id=9001, chat_id=9001
    )
    issued = await link_services.issue_link_code(
        uow=world.container.uow(), actor=fellow, user_id=fellow.user_id
    )
    code_id = await latest_link_code_id(world, fellow.user_id)
    actor = via_bot(fellow)

    async def write() -> list[Expected]:
        await link_services.redeem_link_code(
            uow=world.container.uow(), code=issued.code, telegram_user_id=9001, chat_id=9001
        )
        # Documented: the Telegram account moves, so the earlier holder's link is revoked.
        site_id = world.sites["HER"].id
        return [
            Expected(
                "telegram_link.revoke",
                "user",
                case_manager.user_id,
                site_id,
                None,
                {"reason": "relinked"},
            ),
            Expected(
                "telegram_link.link",
                "user",
                fellow.user_id,
                site_id,
                None,
                {"code_id": code_id, "telegram_user_id": 9001},
            ),
        ]

    return actor, write


async def revoke_telegram_link(world: World) -> tuple[Actor, Write]:
    case_manager = world.actor(Role.CASE_MANAGER)
    issued = await link_services.issue_link_code(
        uow=world.container.uow(), actor=case_manager, user_id=case_manager.user_id
    )
    await link_services.redeem_link_code(
        uow=world.container.uow(), code=issued.code, telegram_user_id=9001, chat_id=9001
    )
    actor = Actor.system()

    async def write() -> list[Expected]:
        await link_services.revoke_telegram_link(
            uow=world.container.uow(), actor=actor, user_id=case_manager.user_id
        )
        site_id = world.sites["HER"].id
        details = {"reason": "revoked"}
        return [
            Expected("telegram_link.revoke", "user", case_manager.user_id, site_id, None, details)
        ]

    return actor, write


async def set_bot_message_retention(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id
    await bot_message_services.set_bot_message_retention(
        uow=world.container.uow(), actor=Actor.system(), site_code="HER", hours=24
    )

    async def write() -> list[Expected]:
        await bot_message_services.set_bot_message_retention(
            uow=world.container.uow(), actor=actor, site_code="HER", hours=6
        )
        details = {"hours": 6, "previous_hours": 24}
        return [Expected("site.bot_message_retention", "site", site_id, site_id, None, details)]

    return actor, write


async def retry_failed_notification(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    recipient = world.actor(Role.CASE_MANAGER)
    site_id = world.sites["HER"].id
    uow = world.container.uow()
    async with uow:
        await enqueue(
            uow,
            recipient_user_id=recipient.user_id,
            channel=Channel.TELEGRAM,
            kind=NotificationKind.DAILY_DIGEST,
            lane=Lane.NORMAL,
            message_key="digest",
            params={},
            dedupe_key="audit:retry:1",
        )
        message = await uow.session.scalar(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == "audit:retry:1")
        )
        assert message is not None
        message.state = OutboxState.FAILED
        message.attempts = 5
        message_id = message.id
        await uow.commit()

    async def write() -> list[Expected]:
        await notification_admin_services.retry_failed_notification(
            uow=world.container.uow(), actor=actor, message_id=message_id
        )
        details = {"kind": "daily_digest", "attempts_before": 5}
        return [
            Expected("notification.retry", "outbox_message", message_id, site_id, None, details)
        ]

    return actor, write


async def search_the_audit(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id

    async def write() -> list[Expected]:
        page = await audit_services.search_audit(uow=world.container.uow(), actor=actor)
        details = {
            "case_id": None,
            "user_id": None,
            "date_from": None,
            "date_to": None,
            "offset": 0,
            "results": len(page.items),
        }
        return [Expected("audit.search", "audit_event", None, site_id, None, details)]

    return actor, write


async def verify_the_audit_chain(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()

    async def write() -> list[Expected]:
        result = await audit_services.verify_audit_chain(uow=world.container.uow(), actor=actor)
        await audit_services.record_chain_verification(
            uow=world.container.uow(), actor=actor, result=result
        )
        details = {"ok": True, "checked": result.checked}
        return [Expected("audit.verify", "audit_chain", None, None, None, details)]

    return actor, write


async def set_case_retention(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id

    async def write() -> list[Expected]:
        await retention_services.set_case_retention(
            uow=world.container.uow(), actor=actor, site_code="HER", years=3
        )
        details = {"years": 3, "previous_years": None}
        return [Expected("retention.set", "site", site_id, site_id, None, details)]

    return actor, write


async def anonymise_closed_cases(world: World) -> tuple[Actor, Write]:
    actor = Actor.system()
    site_id = world.sites["HER"].id
    case = await world.allocated_case()
    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.COMPLETED),
    )
    await retention_services.set_case_retention(
        uow=world.container.uow(), actor=actor, site_code="HER", years=1
    )
    clock = world.container.clock
    assert isinstance(clock, FixedClock)
    clock.advance(timedelta(days=400))

    async def write() -> list[Expected]:
        await retention_services.apply_retention(uow=world.container.uow(), actor=actor)
        details = {"years": 1, "cases": 1, "fields": 0}
        return [Expected("retention.anonymise", "site", site_id, site_id, None, details)]

    return actor, write


async def change_a_staff_members_role(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id
    target = world.actor(Role.PANEL_MEMBER)

    async def write() -> list[Expected]:
        await user_services.change_role(
            uow=world.container.uow(),
            actor=actor,
            user_id=target.user_id,
            data=RoleChange(site_id=site_id, role=Role.IDVA),
        )
        details = {"from_roles": ["panel_member"], "to_role": "idva"}
        return [Expected("user.change_role", "user", target.user_id, site_id, None, details)]

    return actor, write


async def switch_an_account_off(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id
    target = world.actor(Role.PANEL_MEMBER)

    async def write() -> list[Expected]:
        await user_services.set_user_active(
            uow=world.container.uow(), actor=actor, user_id=target.user_id, is_active=False
        )
        return [Expected("user.deactivate", "user", target.user_id, site_id, None, {})]

    return actor, write


async def switch_an_account_back_on(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id
    target = world.actor(Role.PANEL_MEMBER)
    await user_services.set_user_active(
        uow=world.container.uow(), actor=actor, user_id=target.user_id, is_active=False
    )

    async def write() -> list[Expected]:
        await user_services.set_user_active(
            uow=world.container.uow(), actor=actor, user_id=target.user_id, is_active=True
        )
        return [Expected("user.reactivate", "user", target.user_id, site_id, None, {})]

    return actor, write


async def export_a_subject_access_bundle(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.ADMIN)
    site_id = world.sites["HER"].id
    case = await world.allocated_case()

    async def write() -> list[Expected]:
        bundle = await sar_services.export_subject_access(
            uow=world.container.uow(), actor=actor, reference=case.reference
        )
        details = {"counts": bundle.record_counts()}
        return [Expected("sar.export", "case", case.id, site_id, case.id, details)]

    return actor, write


async def reseal_sign_in_secrets(world: World) -> tuple[Actor, Write]:
    """A secret stored before sealing existed is sealed under the current key, on record."""
    person = await world.add_actor("plain.secret@test.invalid", [("HER", Role.CASE_MANAGER)])
    async with world.container.engine.begin() as connection:
        await connection.execute(
            text("UPDATE users SET totp_secret = :plain WHERE id = :id"),
            {"plain": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "id": person.user_id},
        )

    async def write() -> list[Expected]:
        assert await auth_services.reseal_totp_secrets(uow=world.container.uow()) == 1
        return [Expected("auth.totp_resealed", "user", None, None, None, {"count": 1})]

    return Actor.system(Face.CLI), write


PASSKEY_ORIGIN = "https://drive-assist.example.org"
PASSKEY_SETTINGS = Settings(web_allowed_origins=PASSKEY_ORIGIN)


async def _passkey_answer(world: World, actor: Actor, origin: str = PASSKEY_ORIGIN) -> str:
    options = await passkey_services.begin_registration(
        uow=world.container.uow(), actor=actor, settings=PASSKEY_SETTINGS
    )
    return SoftwareAuthenticator().register(options, origin=origin)


async def _registered_passkey(world: World, actor: Actor) -> int:
    read = await passkey_services.finish_registration(
        uow=world.container.uow(),
        actor=actor,
        settings=PASSKEY_SETTINGS,
        credential_json=await _passkey_answer(world, actor),
        name="Test phone",
    )
    return read.id


async def register_a_passkey(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.CASE_MANAGER)

    async def write() -> list[Expected]:  # the challenge lives 5 minutes: made here
        answer = await _passkey_answer(world, actor)
        read = await passkey_services.finish_registration(
            uow=world.container.uow(),
            actor=actor,
            settings=PASSKEY_SETTINGS,
            credential_json=answer,
            name="Test phone",
        )
        return [Expected("passkey.registered", "passkey", read.id, world.sites["HER"].id, None)]

    return actor, write


async def refuse_a_passkey_made_for_another_site(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.CASE_MANAGER)

    async def write() -> list[Expected]:
        answer = await _passkey_answer(world, actor, origin="https://look-alike.invalid")
        with pytest.raises(PasskeyRejected):
            await passkey_services.finish_registration(
                uow=world.container.uow(),
                actor=actor,
                settings=PASSKEY_SETTINGS,
                credential_json=answer,
                name="Test phone",
            )
        details = {"reason": "wrong_origin"}
        site_id = world.sites["HER"].id
        return [Expected("passkey.registration_failed", "passkey", None, site_id, None, details)]

    return actor, write


async def rename_a_passkey(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.CASE_MANAGER)
    passkey_id = await _registered_passkey(world, actor)

    async def write() -> list[Expected]:
        await passkey_services.rename_passkey(
            uow=world.container.uow(), actor=actor, passkey_id=passkey_id, name="Work phone"
        )
        return [Expected("passkey.renamed", "passkey", passkey_id, world.sites["HER"].id, None)]

    return actor, write


async def remove_a_passkey(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.CASE_MANAGER)
    passkey_id = await _registered_passkey(world, actor)

    async def write() -> list[Expected]:
        await passkey_services.remove_passkey(
            uow=world.container.uow(), actor=actor, passkey_id=passkey_id
        )
        return [Expected("passkey.removed", "passkey", passkey_id, world.sites["HER"].id, None)]

    return actor, write


async def lock_an_account_after_failures_from_five_clients(world: World) -> tuple[Actor, Write]:
    """99 failures from four clients already; one more from a fifth locks the account."""
    site_id = world.sites["HER"].id
    target = world.actor(Role.PANEL_MEMBER)
    async with world.container.session_factory() as session:
        session.add_all(
            WebSignInAttempt(
                account_key=lockout.account_key(target.email),
                client_key=lockout.client_key(f"203.0.113.{n % 4}"),
                attempted_at=world.container.clock.now(),
            )
            for n in range(99)
        )
        await session.commit()

    async def write() -> list[Expected]:
        with pytest.raises(SignInFailed):
            await auth_services.sign_in(
                uow=world.container.uow(),
                email=target.email,
                password="not the password",
                totp_code="000000",
                client="203.0.113.9",
            )
        user = target.user_id
        return [
            Expected(
                "auth.sign_in_failed", "user", user, site_id, None, {"reason": "wrong_password"}
            ),
            Expected(
                "account.locked", "user", user, site_id, None, {"failures": 100, "clients": 5}
            ),
        ]

    return Actor.system(Face.WEB), write


# --- staff accounts: invitations, resets, My account (core.services.accounts) -----------------

ACCOUNT_EMAIL = "account.owner@test.invalid"
ACCOUNT_PASSWORD = "marmalade kettle lighthouse"


async def link_id(world: World, user_id: int, kind: str = "invitation") -> int:
    async with world.container.session_factory() as session:
        found = await session.scalar(
            select(func.max(AccountLink.id)).where(
                AccountLink.user_id == user_id, AccountLink.kind == kind
            )
        )
        assert found is not None
        return int(found)


async def invited(world: World) -> tuple[int, str]:
    """A new case manager at HER and their invitation's token."""
    added = await user_services.add_user(
        uow=world.container.uow(),
        actor=Actor.system(),
        data=UserCreate(
            email=ACCOUNT_EMAIL,
            display_name="Test Owner",
            memberships=[MembershipCreate(site_code="HER", role=Role.CASE_MANAGER)],
        ),
    )
    return added.id, added.invitation.url.split("token=", 1)[1]


async def half_accepted(world: World) -> tuple[int, str, str]:
    """Invited, with the password chosen: the user, the token and the new secret."""
    user_id, token = await invited(world)
    started = await account_services.set_password_with_link(
        uow=world.container.uow(), token=token, password=ACCOUNT_PASSWORD
    )
    return user_id, token, started.secret


async def set_up_and_signed_in(world: World) -> tuple[Actor, str]:
    """An account set up through its invitation, signed in once: its web actor and session."""
    _user_id, token, secret = await half_accepted(world)
    container = world.container
    signed_in = await account_services.finish_enrolment_with_link(
        uow=container.uow(),
        token=token,
        totp_code=auth_services.current_totp_code(secret, container.clock.now()),
    )
    session = await auth_services.redeem_handoff(uow=container.uow(), code=signed_in.handoff_code)
    owner = await user_services.actor_for_email(
        uow=container.uow(), email=ACCOUNT_EMAIL, face=Face.WEB
    )
    return owner, session


def at_her(world: World, action: str, user_id: int, **details: Any) -> Expected:
    return Expected(action, "user", user_id, world.sites["HER"].id, None, details)


async def choose_a_password_through_an_invitation(world: World) -> tuple[Actor, Write]:
    user_id, token = await invited(world)
    owner = await user_services.actor_for_email(
        uow=world.container.uow(), email=ACCOUNT_EMAIL, face=Face.WEB
    )

    async def write() -> list[Expected]:
        await account_services.set_password_with_link(
            uow=world.container.uow(), token=token, password=ACCOUNT_PASSWORD
        )
        return [at_her(world, "account.password_set", user_id)]

    return owner, write


async def finish_an_invitation(world: World) -> tuple[Actor, Write]:
    """The link is redeemed as its owner: the authenticator enrolled, signed in."""
    user_id, token, secret = await half_accepted(world)
    owner = await user_services.actor_for_email(
        uow=world.container.uow(), email=ACCOUNT_EMAIL, face=Face.WEB
    )

    async def write() -> list[Expected]:
        container = world.container
        await account_services.finish_enrolment_with_link(
            uow=container.uow(),
            token=token,
            totp_code=auth_services.current_totp_code(secret, container.clock.now()),
        )
        link = await link_id(world, user_id)
        return [
            at_her(world, "auth.totp_enrolled", user_id),
            at_her(world, "account_link.redeem", user_id, kind="invitation", link_id=link),
            at_her(world, "auth.sign_in", user_id),
        ]

    return owner, write


async def type_a_wrong_code_through_a_link(world: World) -> tuple[Actor, Write]:
    """Whoever typed it is not known to be the owner: the web face itself, as for sign-in."""
    user_id, token, _secret = await half_accepted(world)

    async def write() -> list[Expected]:
        with pytest.raises(WrongCode):
            await account_services.finish_enrolment_with_link(
                uow=world.container.uow(), token=token, totp_code="000000x"
            )
        link = await link_id(world, user_id)
        return [
            at_her(
                world,
                "account_link.failed",
                user_id,
                link_id=link,
                reason="wrong_code",
                revoked=False,
            )  # fmt: skip
        ]

    return Actor.system(Face.WEB), write


async def unlock_a_locked_account(world: World) -> tuple[Actor, Write]:
    actor = world.actor(Role.SERVICE_MANAGER)
    site_id = world.sites["HER"].id
    target = world.actor(Role.PANEL_MEMBER)
    async with world.container.session_factory() as session:
        locked = update(User).where(User.id == target.user_id)
        await session.execute(locked.values(locked_at=world.container.clock.now()))
        await session.commit()

    async def write() -> list[Expected]:
        assert await lockout.unlock_user(
            uow=world.container.uow(), actor=actor, user_id=target.user_id
        )
        details = {"reason": "unlocked_by_staff"}
        return [Expected("account.unlocked", "user", target.user_id, site_id, None, details)]

    return actor, write


async def choose_notification_channels(world: World) -> tuple[Actor, Write]:
    """A person's own channels and mobile number: on record, the number itself never."""
    actor = world.actor(Role.POLICE_FELLOW)

    async def write() -> list[Expected]:
        choices = {group: [Channel.TELEGRAM] for group in KindGroup}
        choices[KindGroup.DIGEST] = [Channel.INBOX]
        await notification_channel_services.update_my_notification_channels(
            uow=world.container.uow(),
            actor=actor,
            data=NotificationChannelsUpdate(mobile_number="07700 900456", choices=choices),
        )
        details = {
            "choices": {group.value: [c.value for c in chs] for group, chs in choices.items()},
            "mobile_number_changed": True,
            "has_mobile_number": True,
        }
        return [
            Expected("notification_channels.update", "user", actor.user_id, None, None, details)
        ]

    return actor, write


def _invitation_sent_again(*, fail: int | None) -> Scenario:
    async def scenario(world: World) -> tuple[Actor, Write]:
        user_id, _token = await invited(world)
        admin = world.actor(Role.ADMIN)

        async def write() -> list[Expected]:
            async with FakeNotifyApi() as fake:
                if fail is not None:
                    fake.fail_next(fail)
                settings = Settings(
                    notify_api_key=fake.api_key,
                    notify_base_url=fake.url,
                    notify_email_template_id=fake.email_template_id,
                )
                await account_services.resend_invitation(
                    uow=world.container.uow(),
                    actor=admin,
                    user_id=user_id,
                    mailer=NotifyLinkMailer(settings),
                )
            link = await link_id(world, user_id)
            sent = (
                at_her(world, "account_link.emailed", user_id, kind="invitation")
                if fail is None
                else at_her(
                    world,
                    "account_link.email_failed",
                    user_id,
                    kind="invitation",
                    status=fail,
                    retryable=fail >= 429,
                )  # fmt: skip
            )
            return [at_her(world, "account_link.invite", user_id, link_id=link), sent]

        return admin, write

    return scenario


async def reset_a_colleagues_password(world: World) -> tuple[Actor, Write]:
    owner, _session = await set_up_and_signed_in(world)
    manager = world.actor(Role.SERVICE_MANAGER)

    async def write() -> list[Expected]:
        await account_services.reset_password(
            uow=world.container.uow(), actor=manager, user_id=owner.user_id, mailer=None
        )
        link = await link_id(world, owner.user_id, "password_reset")
        return [
            at_her(world, "auth.sessions_ended", owner.user_id, reason="account_reset", count=1),
            at_her(world, "account_link.password_reset", owner.user_id, link_id=link),
        ]

    return manager, write


async def sign_out_everywhere(world: World) -> tuple[Actor, Write]:
    owner, _session = await set_up_and_signed_in(world)

    async def write() -> list[Expected]:
        await account_services.sign_out_everywhere(uow=world.container.uow(), actor=owner)
        return [
            at_her(world, "auth.sessions_ended", owner.user_id, reason="signed_out_all", count=1),
            at_her(world, "account.sign_out_everywhere", owner.user_id, count=1),
        ]

    return owner, write


async def change_my_password(world: World) -> tuple[Actor, Write]:
    owner, session = await set_up_and_signed_in(world)

    async def write() -> list[Expected]:
        await account_services.change_my_password(
            uow=world.container.uow(),
            actor=owner,
            current_password=ACCOUNT_PASSWORD,
            new_password="cobweb tangerine escalator",
            client="192.0.2.30",
            session_token=session,
        )
        return [at_her(world, "account.password_change", owner.user_id)]

    return owner, write


async def change_my_password_with_a_wrong_current_one(world: World) -> tuple[Actor, Write]:
    owner, _session = await set_up_and_signed_in(world)

    async def write() -> list[Expected]:
        with pytest.raises(WrongPassword):
            await account_services.change_my_password(
                uow=world.container.uow(),
                actor=owner,
                current_password="not the password at all",
                new_password="cobweb tangerine escalator",
                client="192.0.2.30",
            )
        return [at_her(world, "account.password_change_failed", owner.user_id)]

    return owner, write


AUDIT_DEVICE = "audit-device-" + "0" * 30  # a device id in form (43 characters)
AUDIT_PIN = "480152"


async def signed_in_with_a_pin(world: World) -> tuple[Actor, str]:
    """An account set up and signed in, with a PIN on ``AUDIT_DEVICE``."""
    owner, session = await set_up_and_signed_in(world)
    await device_pin_services.set_my_pin(
        uow=world.container.uow(),
        actor=owner,
        device_id=AUDIT_DEVICE,
        pin=AUDIT_PIN,
        current_password=ACCOUNT_PASSWORD,
    )
    return owner, session


async def idle_with_a_pin(world: World) -> tuple[Actor, str, int]:
    """... whose session has just ended for being idle; and the session's id."""
    owner, session = await signed_in_with_a_pin(world)
    container = world.container
    assert isinstance(container.clock, FixedClock)
    container.clock.advance(timedelta(minutes=container.settings.web_session_idle_minutes + 1))
    assert await auth_services.actor_for_session(uow=container.uow(), token=session) is None
    async with container.session_factory() as db:
        session_id = await db.scalar(
            select(WebSession.id).where(WebSession.token_hash == auth_services.hash_token(session))
        )
    assert session_id is not None
    return owner, session, session_id


async def set_a_device_pin(world: World) -> tuple[Actor, Write]:
    owner, _session = await set_up_and_signed_in(world)

    async def write() -> list[Expected]:
        await device_pin_services.set_my_pin(
            uow=world.container.uow(),
            actor=owner,
            device_id=AUDIT_DEVICE,
            pin=AUDIT_PIN,
            current_password=ACCOUNT_PASSWORD,
        )
        return [at_her(world, "pin.set", owner.user_id, replaced=False)]

    return owner, write


async def set_a_device_pin_with_a_wrong_password(world: World) -> tuple[Actor, Write]:
    owner, _session = await set_up_and_signed_in(world)

    async def write() -> list[Expected]:
        with pytest.raises(WrongPassword):
            await device_pin_services.set_my_pin(
                uow=world.container.uow(),
                actor=owner,
                device_id=AUDIT_DEVICE,
                pin=AUDIT_PIN,
                current_password="not the password at all",
            )
        return [at_her(world, "pin.set_failed", owner.user_id, reason="wrong_password")]

    return owner, write


async def remove_a_device_pin(world: World) -> tuple[Actor, Write]:
    owner, _session = await signed_in_with_a_pin(world)

    async def write() -> list[Expected]:
        await device_pin_services.remove_my_pin(
            uow=world.container.uow(), actor=owner, device_id=AUDIT_DEVICE
        )
        return [at_her(world, "pin.removed", owner.user_id, reason="removed_by_owner", count=1)]

    return owner, write


async def resume_with_a_device_pin(world: World) -> tuple[Actor, Write]:
    owner, session, session_id = await idle_with_a_pin(world)

    async def write() -> list[Expected]:
        await device_pin_services.resume_with_pin(
            uow=world.container.uow(),
            settings=world.container.settings,
            session_token=session,
            device_id=AUDIT_DEVICE,
            pin=AUDIT_PIN,
            client="192.0.2.10",
        )
        return [
            at_her(
                world, "auth.session_resumed", owner.user_id, method="pin", session_id=session_id
            )
        ]

    return owner, write


async def type_a_wrong_device_pin(world: World) -> tuple[Actor, Write]:
    owner, session, _session_id = await idle_with_a_pin(world)

    async def write() -> list[Expected]:
        with pytest.raises(PinRejected):
            await device_pin_services.resume_with_pin(
                uow=world.container.uow(),
                settings=world.container.settings,
                session_token=session,
                device_id=AUDIT_DEVICE,
                pin="111222",
                client="192.0.2.10",
            )
        return [at_her(world, "auth.sign_in_failed", owner.user_id, reason="pin_wrong")]

    return Actor.system(Face.WEB), write


SCENARIOS: dict[str, Scenario] = {
    "site.create": create_site,
    "user.add": add_user_at_two_sites,
    "user.add-without-roles": add_user_without_roles,
    "case.create": create_case,
    "case.update": update_case,
    "case.allocate": allocate_case,
    "case.change_stage": change_stage,
    "case.close": close_case,
    "case.reopen": reopen_case,
    "case.transfer": transfer_case,
    "case.duplicate_check": check_duplicates,
    "site.referral_roles": set_referral_roles,
    "victim.add": add_linked_person,
    "victim.view": view_case_people,
    "risk.record": record_risk,
    "marac.record": record_marac,
    "incident.record": record_incident,
    "appointment.book": book_appointment,
    "appointment.reschedule": reschedule_appointment,
    "appointment.cancel": cancel_appointment,
    "appointment.outcome": record_appointment_outcome,
    "appointment.outcome_prompt": ask_for_an_outcome_after,
    "contact.log": log_contact,
    "intervention.add": add_intervention,
    "intervention.update": update_intervention,
    "panel.schedule": schedule_panel,
    "panel.agenda_add": add_agenda_item,
    "panel_action.add": add_panel_action,
    "panel_action.update": update_panel_action,
    "panel.rsvp": rsvp_panel,
    "panel.held": mark_panel_held,
    "panel.cancel": cancel_panel,
    "victim.update": update_linked_person,
    "victim.end_link": end_a_link,
    "victim.assign": assign_an_idva,
    "panel.broadcast": broadcast_panel,
    "alert.raise": raise_alert,
    "alert.acknowledge": acknowledge_alert,
    "alert.action": record_alert_action,
    "telegram_link.issue_code": issue_link_code,
    "telegram_link.link": link_telegram,
    "telegram_link.link-moved": move_telegram_link,
    "telegram_link.revoke": revoke_telegram_link,
    "site.bot_message_retention": set_bot_message_retention,
    "notification.retry": retry_failed_notification,
    "audit.search": search_the_audit,
    "audit.verify": verify_the_audit_chain,
    "retention.set": set_case_retention,
    "user.change_role": change_a_staff_members_role,
    "user.deactivate": switch_an_account_off,
    "user.reactivate": switch_an_account_back_on,
    "sar.export": export_a_subject_access_bundle,
    "retention.anonymise": anonymise_closed_cases,
    "auth.totp_resealed": reseal_sign_in_secrets,
    "passkey.registered": register_a_passkey,
    "passkey.registration_failed": refuse_a_passkey_made_for_another_site,
    "passkey.renamed": rename_a_passkey,
    "passkey.removed": remove_a_passkey,
    "account.locked": lock_an_account_after_failures_from_five_clients,
    "account.unlocked": unlock_a_locked_account,
    "notification_channels.update": choose_notification_channels,
    "account.password_set": choose_a_password_through_an_invitation,
    "account_link.redeem": finish_an_invitation,
    "auth.totp_enrolled": finish_an_invitation,
    "auth.sign_in": finish_an_invitation,
    "account_link.failed": type_a_wrong_code_through_a_link,
    "account_link.emailed": _invitation_sent_again(fail=None),
    "account_link.email_failed": _invitation_sent_again(fail=500),
    "auth.sessions_ended": reset_a_colleagues_password,
    "account.sign_out_everywhere": sign_out_everywhere,
    "account.password_change": change_my_password,
    "account.password_change_failed": change_my_password_with_a_wrong_current_one,
    "pin.set": set_a_device_pin,
    "pin.set_failed": set_a_device_pin_with_a_wrong_password,
    "pin.removed": remove_a_device_pin,
    "auth.session_resumed-pin": resume_with_a_device_pin,
    "auth.sign_in_failed-pin": type_a_wrong_device_pin,
}


def _audited_actions_in_services() -> set[str]:
    """Every action name a service passes to ``record_audit`` or ``insert_audited`` (or to a
    module's ``_audit``)."""
    actions: set[str] = set()
    for path in SERVICES_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or len(node.args) < 3:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            action = node.args[2]
            if name in {"record_audit", "insert_audited", "_audit"} and isinstance(
                action, ast.Constant
            ):
                actions.add(str(action.value))
    return actions


def test_every_audited_action_in_the_services_has_a_scenario_here() -> None:
    covered = {action.split("-")[0] for action in SCENARIOS}

    assert _audited_actions_in_services() - covered == set()


@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_a_write_service_leaves_exactly_its_documented_audit_events(
    world: World, clock: FixedClock, name: str
) -> None:
    actor, write = await SCENARIOS[name](world)
    clock.advance(timedelta(minutes=7))
    before = await last_audit_id(world.container)

    expected = await write()

    events = await audit_events(world.container, after_id=before)
    assert [
        Expected(e.action, e.entity_type, e.entity_id, e.site_id, e.case_id, e.details)
        for e in events
    ] == expected
    who = None if actor.is_system else actor.user_id
    assert {(e.actor_user_id, e.face, e.occurred_at) for e in events} == {
        (who, actor.face, clock.now())
    }


# --- reading victims ------------------------------------------------------------------------


async def test_reading_a_cases_victims_is_itself_recorded_as_a_victim_view(
    world: World, clock: FixedClock
) -> None:
    case = await world.allocated_case()
    idva = world.actor(Role.IDVA)
    person = await people_services.add_linked_person(
        uow=world.container.uow(),
        actor=idva,
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="Someone"),
    )
    clock.advance(timedelta(hours=1))
    before = await last_audit_id(world.container)

    await people_services.case_people(uow=world.container.uow(), actor=idva, case_id=case.id)
    await people_services.case_people(uow=world.container.uow(), actor=idva, case_id=case.id)

    events = await audit_events(world.container, after_id=before)
    assert [(e.action, e.actor_user_id, e.case_id, e.occurred_at) for e in events] == [
        ("victim.view", idva.user_id, case.id, clock.now()),
        ("victim.view", idva.user_id, case.id, clock.now()),
    ]
    assert events[0].details == {"linked_person_ids": [person.id]}


# --- nothing personal in the trail ----------------------------------------------------------

VICTIM_NAME = "Zephyrine Quillfeather"
VICTIM_ADDRESS = "17 Marmalade Crescent, Oddington"
VICTIM_CONTACT = "07700 900417"
VICTIM_SAFETY_NOTE = "Gate code 4471, refuge on Thistlewick Lane"
VICTIM_RELATIONSHIP = "Former partner of Quorvath"
CHILD_NAME = "Tobiah Quillfeather"
SUBJECT_NAME = "Balthazar Grindlewood"
SUBJECT_ADDRESS = "3 Periwinkle Yard, Oddington"
CONTACT_NOTE = "Talked about the Umbervale incident at length"
CONTACT_NEXT_STEPS = "Ring Dr Vellacott about the prescription"
RISK_REASON = "Threats made at Quibbleton bus station"
OUTCOME_TEXT = "Arrived late from Wrenfold Farm"
PANEL_ACTION_TEXT = "Serve notice at Glimmerton Mews"

PRIVATE_STRINGS = [
    VICTIM_NAME,
    VICTIM_ADDRESS,
    VICTIM_CONTACT,
    VICTIM_SAFETY_NOTE,
    VICTIM_RELATIONSHIP,
    CHILD_NAME,
    SUBJECT_NAME,
    SUBJECT_ADDRESS,
    CONTACT_NOTE,
    CONTACT_NEXT_STEPS,
    RISK_REASON,
    OUTCOME_TEXT,
    PANEL_ACTION_TEXT,
]
# Distinctive single words too, so a truncated or reformatted copy is caught as well.
PRIVATE_WORDS = [
    "Quillfeather",
    "Marmalade",
    "900417",
    "Thistlewick",
    "Quorvath",
    "Grindlewood",
    "Periwinkle",
    "Umbervale",
    "Vellacott",
    "Quibbleton",
    "Wrenfold",
    "Glimmerton",
]


async def test_the_audit_trail_never_holds_victims_details_names_or_notes(world: World) -> None:
    container = world.container
    idva, case_manager = world.actor(Role.IDVA), world.actor(Role.CASE_MANAGER)
    case = await world.allocated_case()
    case = await case_services.update_case(
        uow=container.uow(),
        actor=case_manager,
        case_id=case.id,
        data=CaseUpdate(
            version=case.version, subject_name=SUBJECT_NAME, subject_address=SUBJECT_ADDRESS
        ),
    )
    await people_services.add_linked_person(
        uow=container.uow(),
        actor=idva,
        data=LinkedPersonCreate(
            case_id=case.id,
            kind=PersonKind.VICTIM,
            name=VICTIM_NAME,
            date_of_birth=date(1990, 7, 14),
            address=VICTIM_ADDRESS,
            contact=VICTIM_CONTACT,
            safety_notes=VICTIM_SAFETY_NOTE,
            relationship_to_subject=VICTIM_RELATIONSHIP[:60],
        ),
    )
    await people_services.add_linked_person(
        uow=container.uow(),
        actor=idva,
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.CHILD, name=CHILD_NAME),
    )
    await people_services.case_people(uow=container.uow(), actor=idva, case_id=case.id)
    await contact_services.log_contact(
        uow=container.uow(),
        actor=case_manager,
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.FACE_TO_FACE,
            duration_minutes=60,
            topics=["Umbervale"],
            notes=CONTACT_NOTE,
            next_steps=CONTACT_NEXT_STEPS,
        ),
    )
    await risk_services.record_risk_assessment(
        uow=container.uow(),
        actor=idva,
        data=RiskAssessmentCreate(case_id=case.id, level=RiskLevel.HIGH, reason=RISK_REASON),
    )
    appointment = await book(world, case, -1)
    await appointment_services.record_appointment_outcome(
        uow=container.uow(),
        actor=case_manager,
        appointment_id=appointment.id,
        data=AppointmentOutcome(status=AppointmentStatus.ATTENDED, outcome=OUTCOME_TEXT),
    )
    meeting_id, _ = await meeting_with_case(world)
    await panel_services.add_panel_action(
        uow=container.uow(),
        actor=world.actor(Role.PANEL_COORDINATOR),
        data=PanelActionCreate(
            meeting_id=meeting_id,
            case_id=case.id,
            description=PANEL_ACTION_TEXT,
            owner_agency=Agency.POLICE,
            due_on=date(2026, 3, 30),
        ),
    )

    async with container.engine.connect() as connection:
        audit_rows = (await connection.execute(text("SELECT * FROM audit_events"))).all()
        stored_victim = (await connection.execute(text("SELECT * FROM linked_people"))).all()
    trail = "\n".join(repr(tuple(row)) for row in audit_rows).casefold()

    # The strings did reach the database (so the check below is not vacuous) ...
    assert VICTIM_NAME in repr(stored_victim)
    assert {"victim.add", "victim.view", "contact.log", "case.update", "risk.record"} <= {
        row.action for row in audit_rows
    }
    # ... but none of them, whole or in part, reached the audit trail.
    leaked = [s for s in PRIVATE_STRINGS + PRIVATE_WORDS if s.casefold() in trail]
    assert leaked == []


# --- refused operations ---------------------------------------------------------------------

# A refusal sets the scene, then hands back the call that must be refused.
Refused = Callable[[], Awaitable[object]]
Refusal = Callable[[World], Awaitable[Refused]]


async def contact_by_another_sites_case_manager(world: World) -> Refused:
    case = await world.allocated_case("HER")
    return lambda: contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER, "WOR"),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.PHONE,
            duration_minutes=5,
        ),
    )


async def victims_read_by_a_case_manager(world: World) -> Refused:
    case = await world.allocated_case()
    await people_services.add_linked_person(
        uow=world.container.uow(),
        actor=world.actor(Role.IDVA),
        data=LinkedPersonCreate(case_id=case.id, kind=PersonKind.VICTIM, name="Someone"),
    )
    return lambda: people_services.case_people(
        uow=world.container.uow(), actor=world.actor(Role.CASE_MANAGER), case_id=case.id
    )


async def contact_on_a_closed_case(world: World) -> Refused:
    case = await world.allocated_case()
    await case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version, reason=ClosureReason.COMPLETED),
    )
    return lambda: contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            contact_type=ContactType.LETTER,
            duration_minutes=0,
        ),
    )


async def contact_in_the_future(world: World) -> Refused:
    case = await world.allocated_case()
    return lambda: contact_services.log_contact(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=case.id,
            occurred_at=world.container.clock.now() + timedelta(hours=1),
            contact_type=ContactType.PHONE,
            duration_minutes=5,
        ),
    )


async def closure_without_reason(world: World) -> Refused:
    case = await world.allocated_case()
    return lambda: case_services.close_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseClose(version=case.version),
    )


async def forbidden_stage_move(world: World) -> Refused:
    case = await world.referral()
    return lambda: case_services.change_stage(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        case_id=case.id,
        data=StageMove(version=case.version, to_stage=Stage.ACTIVE),
    )


async def stale_update(world: World) -> Refused:
    case = await world.allocated_case()
    return lambda: case_services.update_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        case_id=case.id,
        data=CaseUpdate(version=case.version - 1, dash_score=2),
    )


async def duplicate_reference(world: World) -> Refused:
    existing = await world.referral()
    return lambda: world.referral(reference=existing.reference)


async def appointment_ending_before_it_starts(world: World) -> Refused:
    case = await world.allocated_case()
    starts_at = world.container.clock.now() + timedelta(days=1)
    return lambda: appointment_services.book_appointment(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=AppointmentCreate(
            case_id=case.id,
            starts_at=starts_at,
            ends_at=starts_at - timedelta(hours=1),
            place_kind=PlaceKind.OFFICE,
        ),
    )


async def panel_scheduled_by_a_panel_member(world: World) -> Refused:
    return lambda: panel_services.schedule_panel_meeting(
        uow=world.container.uow(),
        actor=world.actor(Role.PANEL_MEMBER),
        data=PanelMeetingCreate(
            site_id=world.sites["HER"].id,
            starts_at=world.container.clock.now() + timedelta(days=7),
        ),
    )


async def user_added_at_another_site(world: World) -> Refused:
    return lambda: user_services.add_user(
        uow=world.container.uow(),
        actor=world.actor(Role.ADMIN, "HER"),
        data=UserCreate(
            email="elsewhere@test.invalid",
            display_name="Elsewhere",
            memberships=[MembershipCreate(site_code="WOR", role=Role.CASE_MANAGER)],
        ),
    )


async def unknown_intervention(world: World) -> Refused:
    case = await world.allocated_case()
    return lambda: intervention_services.add_intervention(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER),
        data=InterventionCreate(case_id=case.id, kind_code="teleportation", agency=Agency.OTHER),
    )


async def case_in_another_site_by_a_case_manager(world: World) -> Refused:
    return lambda: case_services.create_case(
        uow=world.container.uow(),
        actor=world.actor(Role.CASE_MANAGER, "WOR"),
        data=CaseCreate(
            site_id=world.sites["HER"].id,
            referral_date=date(2026, 2, 25),
            referral_source=ReferralSource.POLICE,
            referral_reason=ReferralReason.HIGH_RISK,
        ),
    )


async def link_code_for_a_colleague(world: World) -> Refused:
    return lambda: link_services.issue_link_code(
        uow=world.container.uow(),
        actor=world.actor(Role.SERVICE_MANAGER),
        user_id=world.actor(Role.CASE_MANAGER).user_id,
    )


async def retention_set_by_another_sites_admin(world: World) -> Refused:
    return lambda: bot_message_services.set_bot_message_retention(
        uow=world.container.uow(), actor=world.actor(Role.ADMIN, "WOR"), site_code="HER", hours=6
    )


REFUSALS: dict[str, tuple[Refusal, type[DomainError]]] = {
    "contact-by-other-site": (contact_by_another_sites_case_manager, NotPermitted),
    "retention-by-other-sites-admin": (retention_set_by_another_sites_admin, NotPermitted),
    "victims-read-by-case-manager": (victims_read_by_a_case_manager, NotPermitted),
    "case-at-other-site": (case_in_another_site_by_a_case_manager, NotPermitted),
    "contact-on-closed-case": (contact_on_a_closed_case, CaseClosed),
    "contact-in-future": (contact_in_the_future, ValidationFailed),
    "closure-without-reason": (closure_without_reason, ClosureReasonRequired),
    "forbidden-stage-move": (forbidden_stage_move, InvalidStageTransition),
    "stale-update": (stale_update, StaleVersion),
    "duplicate-reference": (duplicate_reference, DuplicateReference),
    "appointment-ends-first": (appointment_ending_before_it_starts, AppointmentEndsBeforeStart),
    "panel-by-panel-member": (panel_scheduled_by_a_panel_member, NotPermitted),
    "user-at-other-site": (user_added_at_another_site, NotPermitted),
    "unknown-intervention": (unknown_intervention, ValidationFailed),
    "link-code-for-a-colleague": (link_code_for_a_colleague, NotPermitted),
}


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_a_refused_operation_writes_no_data_and_no_event_but_its_refusal(
    world: World, name: str
) -> None:
    refusal, error = REFUSALS[name]
    refused_call = await refusal(world)
    before = await row_counts(world.container)
    assert before["audit_events"] > 0

    with pytest.raises(error):
        await refused_call()

    # A permission refusal is put on record, in a transaction of its own (core.uow); any other
    # error leaves nothing at all.
    on_record = 1 if error is NotPermitted else 0
    assert await row_counts(world.container) == before | {
        "audit_events": before["audit_events"] + on_record
    }
    async with world.container.session_factory() as session:
        newest = await session.scalar(select(AuditEvent.action).order_by(AuditEvent.seq.desc()))
    assert (newest == "access.refused") is bool(on_record)


# --- the event belongs to the change's transaction ------------------------------------------


class CommitFails(Exception):
    pass


class FailingCommit(UnitOfWork):
    """Flushes everything, as a real commit would, then fails before the transaction commits."""

    async def commit(self) -> None:
        await self.flush()
        raise CommitFails()


@pytest.mark.parametrize("name", ["contact.log", "case.update", "victim.add", "victim.view"])
async def test_an_audit_event_is_rolled_back_with_the_change_it_records(
    world: World, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, write = await SCENARIOS[name](world)
    before_counts = await row_counts(world.container)
    container = world.container
    monkeypatch.setattr(
        container, "uow", lambda: FailingCommit(container.session_factory, container.clock)
    )

    with pytest.raises(CommitFails):
        await write()

    monkeypatch.undo()
    after_counts = await row_counts(world.container)
    assert after_counts["audit_events"] == before_counts["audit_events"]
    assert after_counts == before_counts
