"""Every public service operation that takes an ``actor``, with the permission it needs and a
builder that makes valid arguments aimed at a record at a given place.

Used by ``tests/integration/test_policy_matrix.py``, which calls each operation as every role,
on a record at the actor's own site (someone else's, and where it matters the actor's own) and
at the other site, and compares what happened with ``core.policy``.

A builder makes a fresh record for every call (straight into the database, one transaction), so
an allowed write never finds the record already changed by an earlier cell of the matrix. Every
case built carries restricted data that must not leak: a victim and a child whose names hold
``VICTIM_SENTINEL``, and case notes (a contact's notes, a risk reason, an appointment outcome,
what was done about an alert) that hold ``NOTES_SENTINEL``. All of it is obviously fictional.
"""

from __future__ import annotations

import functools
import itertools
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select, update

from core.bootstrap import Container
from core.enums import (
    LANE_ORDER,
    Agency,
    AlertStatus,
    AppointmentStatus,
    AttendanceStatus,
    Channel,
    ClosureReason,
    ContactType,
    InterventionStatus,
    KindGroup,
    Lane,
    Locale,
    NotificationKind,
    OutboxState,
    PanelActionStatus,
    PanelMeetingStatus,
    PersonKind,
    PlaceKind,
    ReferralReason,
    ReferralSource,
    RiskLevel,
    Role,
    Stage,
    WorkCategory,
)
from core.models import (
    Appointment,
    AuditEvent,
    Case,
    Contact,
    DisruptionAlert,
    InboxItem,
    Intervention,
    InterventionKind,
    LinkedPerson,
    Membership,
    OutboxMessage,
    PanelAction,
    PanelMeeting,
    Passkey,
    RiskAssessment,
    Site,
    TelegramLink,
    User,
)
from core.passwords import hash_password
from core.policy import Action, allowed_somewhere, is_allowed
from core.schemas.actor import Actor
from core.schemas.appointments import AppointmentCreate, AppointmentOutcome, AppointmentReschedule
from core.schemas.cases import (
    CaseAllocate,
    CaseClose,
    CaseCreate,
    CaseReopen,
    CaseTransfer,
    CaseUpdate,
    StageMove,
)
from core.schemas.contacts import ContactCreate, ContactOnReference
from core.schemas.interventions import InterventionCreate, InterventionStatusUpdate
from core.schemas.notification_channels import NotificationChannelsUpdate
from core.schemas.panel_outcomes import MeetingHeld
from core.schemas.panels import PanelActionCreate, PanelMeetingCreate
from core.schemas.people import IdvaAssignment, LinkedPersonCreate, LinkedPersonUpdate, LinkEnd
from core.schemas.referrals import DuplicateQuery, PerpetratorDetails, ReferralCreate
from core.schemas.risk import MaracAppearanceCreate, PoliceIncidentCreate, RiskAssessmentCreate
from core.schemas.sites import SiteCreate
from core.schemas.users import MembershipCreate, RoleChange, UserCreate
from core.services import (
    access,
    accounts,
    admin,
    agenda,
    alerts,
    appointments,
    audit,
    auth,
    bot_messages,
    bot_state,
    broadcasts,
    case_card,
    case_page,
    caseload,
    caseload_lookup,
    cases,
    contacts,
    device_pins,
    inbox,
    interventions,
    lockout,
    notification_channels,
    notifications_admin,
    panel_outcomes,
    panels,
    passkeys,
    people,
    referrals,
    reports,
    retention,
    risk,
    sar,
    sites,
    team,
    telegram_links,
    timeline,
    today,
    users,
)
from core.services.bot_state import ConfirmOutcome
from core.settings import Settings
from core.uow import UnitOfWork
from tests.conftest import START
from tests.factories import World
from tests.fakes.passkey_authenticator import SoftwareAuthenticator

VICTIM_SENTINEL = "Victimsentinel"
NOTES_SENTINEL = "Notesentinel"
OWN, OTHER = "HER", "WOR"


class Where(StrEnum):
    """Where the record an operation names sits, from the actor's point of view."""

    OWN_SITE = "own_site"  # at the actor's site; a colleague's case, someone else's record
    MY_CASE = "own_site_my_case"  # at the actor's site, the case allocated to the actor
    MY_RECORD = "own_site_my_record"  # at the actor's site, the record the actor's own
    OTHER_SITE = "other_site"  # at a site where the actor holds no role
    ANYWHERE = "anywhere"  # not tied to a site


CASE_WHERES = (Where.OWN_SITE, Where.MY_CASE, Where.OTHER_SITE)
RECORD_WHERES = (Where.OWN_SITE, Where.MY_RECORD, Where.OTHER_SITE)
SITE_WHERES = (Where.OWN_SITE, Where.OTHER_SITE)


@dataclass
class Target:
    """The record a call names, and what the policy needs to judge it."""

    where: Where
    site_id: int | None
    case_manager_id: int | None = None
    owner_user_id: int | None = None
    id: int | None = None  # the record named by the call (a case, an appointment, a meeting...)
    case_id: int | None = None  # the case it belongs to, if any
    reference: str | None = None
    site_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Bench:
    """The shared world of the matrix, and fresh records made to order."""

    def __init__(self, container: Container, world: World) -> None:
        self.container = container
        self.world = world
        self.colleagues: dict[str, int] = {}  # a second case manager at each site
        # Counting down: ``create_case`` numbers its references upwards from the highest, so the
        # references made here never meet its own.
        self._numbers = itertools.count(999_999, -1)

    def uow(self) -> UnitOfWork:
        return self.container.uow()

    def number(self) -> int:
        return next(self._numbers)

    def actor(self, role: Role) -> Actor:
        return self.world.actor(role, OWN)

    async def setup(self) -> None:
        for code in (OWN, OTHER):
            colleague = await self.world.add_actor(
                f"colleague.{code.lower()}@test.invalid", [(code, Role.CASE_MANAGER)]
            )
            self.colleagues[code] = colleague.user_id

    def site_code(self, where: Where) -> str:
        return OTHER if where is Where.OTHER_SITE else OWN

    def site_id(self, where: Where) -> int:
        return self.world.sites[self.site_code(where)].id

    def case_manager(self, actor: Actor, where: Where) -> int:
        return actor.user_id if where is Where.MY_CASE else self.colleagues[self.site_code(where)]

    def owner(self, actor: Actor, where: Where) -> int:
        return actor.user_id if where is Where.MY_RECORD else self.colleagues[self.site_code(where)]

    async def add(self, *rows: Any) -> list[int]:
        async with self.uow() as uow:
            uow.session.add_all(rows)
            await uow.flush()
            ids = [row.id for row in rows]
            await uow.commit()
        return ids

    async def case(
        self, actor: Actor, where: Where, *, stage: Stage = Stage.ALLOCATED, allocated: bool = True
    ) -> Target:
        """A fresh case with its restricted data (victim, child, notes) at ``where``."""
        code = self.site_code(where)
        site_id = self.site_id(where)
        manager = self.case_manager(actor, where) if allocated else None
        now = START
        reference = f"{code}-{self.number():06d}"
        async with self.uow() as uow:
            case = Case(
                site_id=site_id,
                reference=reference,
                subject_name="Test Subject",
                referral_date=date(2026, 2, 20),
                referral_source=ReferralSource.MARAC,
                referral_reason=ReferralReason.HIGH_RISK,
                dash_score=16,
                stage=stage,
                stage_changed_at=now,
                case_manager_id=manager,
                allocated_at=now if manager else None,
                planned_end=date(2026, 9, 1) if manager else None,
                created_at=now,
                updated_at=now,
            )
            uow.session.add(case)
            await uow.flush()
            staff = manager or self.colleagues[code]
            uow.session.add_all(
                [
                    LinkedPerson(
                        case_id=case.id,
                        kind=PersonKind.VICTIM,
                        name=f"{VICTIM_SENTINEL} Adult",
                        safety_notes=f"{VICTIM_SENTINEL} safety plan",
                        created_at=now,
                    ),
                    LinkedPerson(
                        case_id=case.id,
                        kind=PersonKind.CHILD,
                        name=f"{VICTIM_SENTINEL} Child",
                        created_at=now,
                    ),
                    Contact(
                        case_id=case.id,
                        staff_id=staff,
                        occurred_at=now - timedelta(days=3),
                        contact_type=ContactType.PHONE,
                        duration_minutes=15,
                        topics=[],
                        notes=f"{NOTES_SENTINEL} contact note",
                        next_steps=f"{NOTES_SENTINEL} next step",
                        created_at=now,
                    ),
                    RiskAssessment(
                        case_id=case.id,
                        assessed_at=now - timedelta(days=3),
                        level=RiskLevel.HIGH,
                        dash_score=16,
                        reason=f"{NOTES_SENTINEL} risk reason",
                        assessed_by_id=staff,
                    ),
                    Appointment(
                        case_id=case.id,
                        staff_id=staff,
                        starts_at=now - timedelta(days=5),
                        ends_at=now - timedelta(days=5, minutes=-60),
                        place_kind=PlaceKind.OFFICE,
                        status=AppointmentStatus.ATTENDED,
                        outcome=f"{NOTES_SENTINEL} outcome",
                        created_at=now,
                    ),
                    DisruptionAlert(
                        case_id=case.id,
                        raised_by_id=staff,
                        raised_at=now - timedelta(days=4),
                        status=AlertStatus.ACTIONED,
                        action_taken=f"{NOTES_SENTINEL} action taken",
                        actioned_at=now - timedelta(days=4),
                    ),
                ]
            )
            await uow.commit()
            return Target(
                where=where,
                site_id=site_id,
                case_manager_id=manager,
                id=case.id,
                case_id=case.id,
                reference=reference,
                site_code=code,
            )

    async def appointment(
        self, actor: Actor, where: Where, *, past: bool = False, staff: int | None = None
    ) -> Target:
        target = await self.case(actor, where)
        staff_id = staff or target.case_manager_id
        starts = START + (timedelta(hours=-2) if past else timedelta(days=1, hours=2))
        (target.id,) = await self.add(
            Appointment(
                case_id=target.case_id,
                staff_id=staff_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                place_kind=PlaceKind.OFFICE,
                status=AppointmentStatus.SCHEDULED,
                created_at=START,
            )
        )
        target.owner_user_id = staff_id
        return target

    async def my_appointment(self, actor: Actor, where: Where, *, past: bool = False) -> Target:
        """An appointment at ``where`` whose staff member is the actor (MY_RECORD) or not."""
        target = await self.appointment(actor, where, past=past, staff=self.owner(actor, where))
        return target

    async def alert(self, actor: Actor, where: Where) -> Target:
        target = await self.case(actor, where)
        (target.id,) = await self.add(
            DisruptionAlert(
                case_id=target.case_id,
                raised_by_id=target.case_manager_id,
                raised_at=START - timedelta(hours=1),
                status=AlertStatus.OPEN,
            )
        )
        return target

    async def meeting(self, actor: Actor, where: Where, *, days: int = 7) -> Target:
        site_id = self.site_id(where)
        (meeting_id,) = await self.add(
            PanelMeeting(
                site_id=site_id,
                starts_at=START + timedelta(days=days),
                place="Test room",
                status=PanelMeetingStatus.SCHEDULED,
                created_at=START,
            )
        )
        return Target(where=where, site_id=site_id, id=meeting_id, site_code=self.site_code(where))

    async def panel_action(self, actor: Actor, where: Where) -> Target:
        case_where = Where.MY_CASE if where is Where.MY_CASE else where
        target = await self.case(actor, case_where)
        owner = self.owner(actor, where)
        meeting = await self.meeting(actor, where, days=-7)
        (target.id,) = await self.add(
            PanelAction(
                meeting_id=meeting.id,
                case_id=target.case_id,
                description="Test action",
                owner_user_id=owner,
                due_on=date(2026, 3, 20),
                status=PanelActionStatus.OPEN,
                created_at=START,
            )
        )
        target.owner_user_id = owner
        target.where = where
        return target

    async def user(self, actor: Actor, where: Where) -> Target:
        """The actor themself (MY_RECORD), or a fresh case manager at the site."""
        site_id = self.site_id(where)
        if where is Where.MY_RECORD:
            user_id = actor.user_id
        else:
            n = self.number()
            code = self.site_code(where)
            (user_id,) = await self.add(
                User(
                    email=f"staff{n}.{code.lower()}@test.invalid",
                    display_name=f"Test Staff {n}",
                    is_active=True,
                    created_at=START,
                    memberships=[Membership(site_id=site_id, role=Role.CASE_MANAGER)],
                )
            )
        return Target(
            where=where,
            site_id=site_id,
            owner_user_id=user_id,
            id=user_id,
            site_code=self.site_code(where),
        )

    async def failed_message(self, actor: Actor, where: Where) -> Target:
        recipient = await self.user(actor, where)
        n = self.number()
        (recipient.id,) = await self.add(
            OutboxMessage(
                recipient_user_id=recipient.owner_user_id,
                channel=Channel.TELEGRAM,
                kind=NotificationKind.PANEL_BROADCAST,
                lane=Lane.NORMAL,
                lane_rank=LANE_ORDER[Lane.NORMAL],
                message_key="test.message",
                params={},
                dedupe_key=f"policy-matrix:{n}",
                not_before=START,
                state=OutboxState.FAILED,
                attempts=5,
                last_error="test failure",
                created_at=START,
            )
        )
        return recipient

    async def inbox_item(self, actor: Actor, where: Where) -> Target:
        owner = self.owner(actor, where)
        target = Target(where=where, site_id=self.site_id(where), owner_user_id=owner)
        target.extra["unread_before"] = await self.unread(actor.user_id)
        (target.id,) = await self.add(
            InboxItem(
                user_id=owner,
                kind=NotificationKind.PANEL_BROADCAST,
                message_key="test.message",
                params={},
                created_at=START,
            )
        )
        return target

    async def unread(self, user_id: int) -> int:
        async with self.uow() as uow:
            count = await uow.session.scalar(
                select(func.count(InboxItem.id)).where(
                    InboxItem.user_id == user_id, InboxItem.read_at.is_(None)
                )
            )
            return int(count or 0)

    async def scalar(self, statement: Any) -> Any:
        async with self.uow() as uow:
            return await uow.session.scalar(statement)

    async def audit_count(self, actor: Actor, case_id: int | None = None) -> int:
        query = select(func.count(AuditEvent.id)).where(AuditEvent.actor_user_id == actor.user_id)
        if case_id is not None:
            query = query.where(AuditEvent.case_id == case_id)
        return int(await self.scalar(query) or 0)

    async def telegram_link(self, user_id: int) -> None:
        n = self.number()
        async with self.uow() as uow:
            await uow.session.execute(delete(TelegramLink).where(TelegramLink.user_id == user_id))
            uow.session.add(
                TelegramLink(
                    user_id=user_id,
                    telegram_user_id=900_000 + n,
                    chat_id=900_000 + n,
                    is_active=True,
                    linked_at=START,
                )
            )
            await uow.commit()


Builder = Callable[[Bench, Actor, Where], Awaitable[Target]]
Call = Callable[[Bench, Actor, Target], Awaitable[Any]]
Shows = Callable[[Bench, Actor, Target, Any], Awaitable[bool]]
Expected = Callable[[Actor, Target], bool]


@dataclass(frozen=True)
class Operation:
    """One way of calling one service function.

    ``expected`` says whether the actor may reach the target (by default: ``core.policy``
    for ``action`` with the target's site, case manager and owner). An operation that filters
    rather than refuses (a listing) has ``shows``: whether the result showed (or changed) the
    target. ``tolerated`` names domain errors an allowed call may meet (none by default: the
    builders make valid arguments, so an allowed call must succeed).
    """

    name: str  # "module.function", or "module.function[variant]"
    action: Action | None
    build: Builder
    call: Call
    wheres: tuple[Where, ...] = CASE_WHERES
    shows: Shows | None = None
    expected: Expected | None = None
    tolerated: tuple[type[Exception], ...] = ()
    # Why this operation may hand case notes to someone without ``case_notes.view``, if it may.
    notes_by_design: str | None = None

    @property
    def function(self) -> str:
        return self.name.split("[", 1)[0]

    def allows(self, actor: Actor, target: Target) -> bool:
        if self.expected is not None:
            return self.expected(actor, target)
        assert self.action is not None, self.name
        return is_allowed(
            actor,
            self.action,
            site_id=target.site_id,
            case_manager_id=target.case_manager_id,
            owner_user_id=target.owner_user_id,
        )


async def _linked_person(bench: Bench, actor: Actor, where: Where) -> Target:
    """A victim on a fresh case at ``where``, supported by the actor (MY_RECORD) or not."""
    case_where = Where.OWN_SITE if where is Where.MY_RECORD else where
    target = await bench.case(actor, case_where)
    owner = bench.owner(actor, where) if where in RECORD_WHERES else None
    (target.id,) = await bench.add(
        LinkedPerson(
            case_id=target.case_id,
            kind=PersonKind.VICTIM,
            name="Test Supported",  # no sentinel: my_idva_cases rightly lists earlier cells' too
            assigned_idva_id=owner,
            created_at=START,
        )
    )
    target.owner_user_id = owner
    target.where = where
    return target


def _supports_at_site(actor: Actor, target: Target) -> bool:
    """My cases: the people assigned to the actor, at a site where the actor is an IDVA."""
    return target.owner_user_id == actor.user_id and any(
        m.role is Role.IDVA and m.site_id == target.site_id for m in actor.memberships
    )


def _case(bench: Bench, actor: Actor, where: Where) -> Awaitable[Target]:
    return bench.case(actor, where)


def _site(bench: Bench, actor: Actor, where: Where) -> Awaitable[Target]:
    async def build() -> Target:
        return Target(where=where, site_id=bench.site_id(where), site_code=bench.site_code(where))

    return build()


def _elsewhere(target: Target) -> str:
    """The other of the two sites, where a transfer sends the target's case."""
    return OTHER if target.site_code == OWN else OWN


def _owned_by_actor(actor: Actor, target: Target) -> bool:
    """Operations on "my" things: no policy action; only the actor's own records, ever."""
    return target.owner_user_id == actor.user_id


def _ids(items: Sequence[Any]) -> set[int]:
    return {item.id for item in items}


async def _contains_id(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in _ids(result)


async def _contains_case(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.case_id in {getattr(row, "case_id", getattr(row, "id", None)) for row in result}


def _on_my_caseload(action: Action) -> Expected:
    """The strict "my caseload" pickers: allocated to the actor, and the policy allows it."""

    def expected(actor: Actor, target: Target) -> bool:
        return target.case_manager_id == actor.user_id and is_allowed(
            actor, action, site_id=target.site_id, case_manager_id=target.case_manager_id
        )

    return expected


def _alert_visible(actor: Actor, target: Target) -> bool:
    return is_allowed(actor, Action.ALERT_RESPOND, site_id=target.site_id) or is_allowed(
        actor, Action.ALERT_RAISE, site_id=target.site_id, case_manager_id=target.case_manager_id
    )


async def _allocated_case_target(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await bench.case(actor, where)
    # Somebody else who is an active case manager at the case's site.
    code = target.site_code or OWN
    candidates = [bench.colleagues[code], bench.world.actor(Role.CASE_MANAGER, code).user_id]
    target.extra["to"] = next(c for c in candidates if c != target.case_manager_id)
    return target


async def _case_with_conversation(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await bench.case(actor, where)
    telegram_user_id = 800_000 + bench.number()
    await bot_state.save_conversation(
        uow=bench.uow(),
        telegram_user_id=telegram_user_id,
        flow="log",
        step="confirm",
        data={"case_id": target.case_id},
    )
    target.extra["telegram_user_id"] = telegram_user_id
    return target


async def _intervention(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await bench.case(actor, where)
    kind_id = await bench.scalar(select(InterventionKind.id).order_by(InterventionKind.id))
    (target.id,) = await bench.add(
        Intervention(
            case_id=target.case_id,
            kind_id=kind_id,
            agency=Agency.POLICE,
            status=InterventionStatus.OFFERED,
            created_at=START,
        )
    )
    return target


async def _meeting_with_case(bench: Bench, actor: Actor, where: Where) -> Target:
    meeting = await bench.meeting(actor, where)
    case = await bench.case(actor, where)
    meeting.case_id = case.case_id
    return meeting


async def _rsvp_meeting(bench: Bench, actor: Actor, where: Where) -> Target:
    meeting = await bench.meeting(actor, where)
    meeting.owner_user_id = actor.user_id  # an RSVP is always the actor's own
    return meeting


async def _linked_user(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await bench.user(actor, where)
    await bench.telegram_link(target.id or 0)
    return target


async def _inbox_read(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    read_at = await bench.scalar(select(InboxItem.read_at).where(InboxItem.id == target.id))
    return read_at is not None


async def _any_site(bench: Bench, actor: Actor, where: Where) -> Target:
    return Target(where=where, site_id=None)


def _contact(target: Target) -> ContactCreate:
    return ContactCreate(
        categories=frozenset({WorkCategory.SUPPORT}),
        case_id=target.case_id or 0,
        contact_type=ContactType.PHONE,
        duration_minutes=10,
    )


async def _log_contact_in(bench: Bench, actor: Actor, target: Target) -> Any:
    async with bench.uow() as uow:
        contact = await contacts.log_contact_in(uow, actor, _contact(target))
        await uow.commit()
        return contact


async def _load_case(bench: Bench, actor: Actor, target: Target) -> Any:
    async with bench.uow() as uow:
        case = await access.load_case(uow, actor, target.case_id or 0, Action.CASE_VIEW)
        return case.id


async def _load_case_key(bench: Bench, actor: Actor, target: Target) -> Any:
    async with bench.uow() as uow:
        return await access.load_case_key(uow, actor, target.case_id or 0, Action.CASE_VIEW)


async def _confirm_log(bench: Bench, actor: Actor, target: Target) -> Any:
    result = await bot_state.confirm_log_from_conversation(
        uow=bench.uow(),
        telegram_user_id=target.extra["telegram_user_id"],
        flow="log",
        step="confirm",
        contact_from=lambda data: ContactCreate(
            categories=frozenset({WorkCategory.SUPPORT}),
            case_id=data["case_id"],
            contact_type=ContactType.PHONE,
            duration_minutes=10,
        ),
        actor=actor,
    )
    return result


async def _my_case_key_by_reference_in(bench: Bench, actor: Actor, target: Target) -> Any:
    async with bench.uow() as uow:
        return await caseload_lookup.my_case_key_by_reference_in(uow, actor, target.reference or "")


async def _log_from_message(bench: Bench, actor: Actor, target: Target) -> Any:
    return await bot_state.log_from_message(
        uow=bench.uow(),
        telegram_user_id=800_000 + bench.number(),
        data=ContactOnReference(
            reference=target.reference or "",
            categories=frozenset({WorkCategory.SUPPORT}),
            contact_type=ContactType.PHONE,
            duration_minutes=10,
        ),
        actor=actor,
    )


async def _my_day_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in _ids(result.appointments)


async def _my_lists_show(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in _ids([*result.awaiting, *result.upcoming])


async def _my_today_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in _ids(result.my_day.appointments)


async def _own_channels_shown(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    email = await bench.scalar(select(User.email).where(User.id == target.id))
    return bool(result.email == email)


async def _own_mobile_set(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    mobile = await bench.scalar(select(User.mobile_number).where(User.id == target.id))
    return mobile == "+447700900001"


def _channels_update() -> NotificationChannelsUpdate:
    return NotificationChannelsUpdate(
        mobile_number="07700 900001",
        choices={group: [Channel.TELEGRAM, Channel.INBOX] for group in KindGroup},
    )


async def _unread_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return bool(result > target.extra["unread_before"])


async def _users_show(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return bench.colleagues[target.site_code or OWN] in _ids(result)


async def _team_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return bench.colleagues[target.site_code or OWN] in {load.user_id for load in result}


async def _team_page_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return result.site_id == target.site_id and await _team_shows(
        bench, actor, target, result.caseloads
    )


async def _admin_page_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return result.site_id == target.site_id and await _users_show(
        bench, actor, target, result.staff
    )


async def _sites_show(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.site_id in _ids(result)


async def _meetings_show(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in {getattr(row, "meeting", row).id for row in result}


async def _planning_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.site_id in {choices.site_id for choices in result}


async def _panel_page_shows_coming(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in {coming.detail.meeting.id for coming in result.upcoming}


async def _panel_page_shows_held(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.id in {held.meeting.id for held in result.last_held}


async def _held_meeting(bench: Bench, actor: Actor, where: Where) -> Target:
    """A meeting held yesterday at ``where``: the newest held there, so the last one."""
    site_id = bench.site_id(where)
    (meeting_id,) = await bench.add(
        PanelMeeting(
            site_id=site_id,
            starts_at=START - timedelta(days=1),
            place="Test room",
            status=PanelMeetingStatus.HELD,
            created_at=START - timedelta(days=30),
        )
    )
    return Target(where=where, site_id=site_id, id=meeting_id, site_code=bench.site_code(where))


async def _locale_set(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    locale = await bench.scalar(select(User.locale).where(User.id == actor.user_id))
    return locale is Locale.CY


async def _sar_bundle_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.reference in repr(result)


# Passkeys: each person's own, and a ceremony needs a domain name (core.settings).
PASSKEY_ORIGIN = "https://drive-assist.example.org"
PASSKEY_SETTINGS = Settings(web_allowed_origins=PASSKEY_ORIGIN)


async def _passkey(bench: Bench, actor: Actor, where: Where) -> Target:
    """A passkey of the actor's own (MY_RECORD), or of a colleague at the site."""
    owner = bench.owner(actor, where)
    n = bench.number()
    (passkey_id,) = await bench.add(
        Passkey(
            user_id=owner,
            credential_id=f"policy-matrix-{n}",
            public_key=b"not a real key",
            sign_count=0,
            name=f"Test passkey {n}",
            created_at=START,
        )
    )
    return Target(
        where=where,
        site_id=bench.site_id(where),
        owner_user_id=owner,
        id=passkey_id,
        site_code=bench.site_code(where),
    )


async def _passkey_answer(bench: Bench, actor: Actor, where: Where) -> Target:
    """A software authenticator's answer to the actor's own registration options."""
    options = await passkeys.begin_registration(
        uow=bench.uow(), actor=actor, settings=PASSKEY_SETTINGS
    )
    answer = SoftwareAuthenticator().register(options, origin=PASSKEY_ORIGIN)
    return Target(where=where, site_id=None, owner_user_id=actor.user_id, extra={"answer": answer})


def _owner_only(actor: Actor, target: Target) -> bool:
    return not actor.is_system and target.owner_user_id == actor.user_id


MATRIX_PASSWORD = "matrix test password one"
MATRIX_DEVICE = "matrix-device-" + "0" * 29  # a device id in form (43 characters)


async def _set_up_user(bench: Bench, actor: Actor, where: Where) -> Target:
    """A fresh colleague at ``where`` who has set up their account (password, authenticator)."""
    target = await bench.user(actor, where)
    async with bench.uow() as uow:
        await uow.session.execute(
            update(User)
            .where(User.id == target.id)
            .values(
                password_hash=_matrix_password_hash(),
                totp_secret="JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                totp_enrolled_at=START,
            )
        )
        await uow.commit()
    return target


@functools.cache
def _matrix_password_hash() -> str:
    return hash_password(MATRIX_PASSWORD)


async def _my_password_set(bench: Bench, actor: Actor, where: Where) -> Target:
    """The actor's own account with ``MATRIX_PASSWORD`` (to change it from)."""
    async with bench.uow() as uow:
        await uow.session.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(password_hash=_matrix_password_hash())
        )
        await uow.commit()
    return Target(where=where, site_id=None)


MATRIX_CLIENT = "192.0.2.77"
MATRIX_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def _colleague_passkey(bench: Bench, actor: Actor, where: Where) -> Target:
    """A set-up colleague at ``where`` with one passkey (to remove)."""
    target = await _set_up_user(bench, actor, where)
    async with bench.uow() as uow:
        passkey = Passkey(
            user_id=target.id,
            credential_id=f"matrix-credential-{bench.number()}",
            public_key=b"matrix",
            sign_count=0,
            name="Matrix key",
            created_at=START,
        )
        uow.session.add(passkey)
        await uow.flush()
        target.extra["passkey_id"] = passkey.id
        await uow.commit()
    return target


async def _my_authenticator_set(bench: Bench, actor: Actor, where: Where) -> Target:
    """The actor's own account with ``MATRIX_PASSWORD`` and an authenticator (to change it)."""
    async with bench.uow() as uow:
        await uow.session.execute(
            update(User)
            .where(User.id == actor.user_id)
            .values(
                password_hash=_matrix_password_hash(),
                totp_secret=MATRIX_SECRET,
                totp_enrolled_at=START,
                totp_last_step=None,
            )
        )
        await uow.commit()
    code = auth.current_totp_code(MATRIX_SECRET, bench.container.clock.now())
    return Target(where=where, site_id=None, extra={"code": code})


async def _my_authenticator_change_started(bench: Bench, actor: Actor, where: Where) -> Target:
    """A change of the actor's own authenticator, started: its ticket and the new app's code."""
    target = await _my_authenticator_set(bench, actor, where)
    if actor.is_system:
        return target
    started = await accounts.start_authenticator_change(
        uow=bench.uow(),
        actor=actor,
        current_password=MATRIX_PASSWORD,
        current_code=target.extra["code"],
        client=MATRIX_CLIENT,
    )
    code = auth.current_totp_code(started.secret, bench.container.clock.now())
    return Target(where=where, site_id=None, extra={"ticket": started.ticket, "code": code})


def _resets_allowed(actor: Actor, target: Target) -> bool:
    return is_allowed(actor, Action.ACCOUNT_RESET, site_id=target.site_id)


def _everyone(actor: Actor, target: Target) -> bool:
    return not actor.is_system


def _responds_somewhere_and_sees(actor: Actor, target: Target) -> bool:
    return allowed_somewhere(actor, Action.ALERT_RESPOND) and _alert_visible(actor, target)


def _sar_allowed(actor: Actor, target: Target) -> bool:
    return is_allowed(actor, Action.SAR_EXPORT, site_id=target.site_id)


def _future(hours: int = 26) -> Any:
    return START + timedelta(hours=hours)


def _appointment_create(target: Target) -> AppointmentCreate:
    return AppointmentCreate(
        case_id=target.case_id or 0,
        starts_at=_future(),
        ends_at=_future(27),
        place_kind=PlaceKind.OFFICE,
        staff_id=target.case_manager_id,
    )


async def _case_with_audit_event(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await bench.case(actor, where)
    async with bench.uow() as uow:
        audit.record_audit(
            uow,
            Actor.system(),
            "case.update",
            entity_type="case",
            entity_id=target.case_id,
            site_id=target.site_id,
            case_id=target.case_id,
        )
        await uow.commit()
    return target


async def _audit_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return any(item.case_id == target.case_id for item in result.items)


async def _report_sites_show(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.site_id in {site.site_id for site in result}


def _audits_somewhere(actor: Actor, target: Target) -> bool:
    return allowed_somewhere(actor, Action.AUDIT_VIEW)


async def _verification(bench: Bench, actor: Actor, target: Target) -> Any:
    result = await audit.verify_audit_chain(uow=bench.uow(), actor=Actor.system())
    await audit.record_chain_verification(uow=bench.uow(), actor=actor, result=result)
    return result


def _report_call(function: Callable[..., Awaitable[Any]]) -> Call:
    def call(bench: Bench, actor: Actor, target: Target) -> Awaitable[Any]:
        return function(
            uow=bench.uow(),
            actor=actor,
            site_id=target.site_id,
            period_from=date(2026, 1, 1),
            period_to=date(2026, 3, 31),
        )

    return call


async def _site_with_retention(bench: Bench, actor: Actor, where: Where) -> Target:
    target = await _site(bench, actor, where)
    async with bench.uow() as uow:
        await uow.session.execute(
            update(Site).where(Site.id == target.site_id).values(closed_case_retention_years=7)
        )
        await uow.commit()
    return target


async def _retention_shows(bench: Bench, actor: Actor, target: Target, result: Any) -> bool:
    return target.site_id in {site.site_id for site in result.sites}


# --- the registry --------------------------------------------------------------------------

OPERATIONS: tuple[Operation, ...] = (
    # access: the building blocks every case service uses.
    Operation("access.load_case", Action.CASE_VIEW, _case, _load_case),
    Operation("access.load_case_key", Action.CASE_VIEW, _case, _load_case_key),
    # agenda: my own day.
    Operation(
        "agenda.my_day",
        None,
        lambda b, a, w: b.my_appointment(a, w),
        lambda b, a, t: agenda.my_day(uow=b.uow(), actor=a, day=date(2026, 3, 3)),
        wheres=RECORD_WHERES,
        shows=_my_day_shows,
        expected=_owned_by_actor,
    ),
    Operation(
        "agenda.my_next_appointments",
        None,
        lambda b, a, w: b.my_appointment(a, w),
        lambda b, a, t: agenda.my_next_appointments(uow=b.uow(), actor=a, limit=50),
        wheres=RECORD_WHERES,
        shows=_contains_id,
        expected=_owned_by_actor,
    ),
    # alerts
    Operation(
        "alerts.raise_disruption_alert",
        Action.ALERT_RAISE,
        _case,
        lambda b, a, t: alerts.raise_disruption_alert(uow=b.uow(), actor=a, case_id=t.id),
    ),
    Operation(
        "alerts.acknowledge_alert",
        Action.ALERT_RESPOND,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.acknowledge_alert(uow=b.uow(), actor=a, alert_id=t.id),
    ),
    Operation(
        "alerts.record_alert_action",
        Action.ALERT_RESPOND,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.record_alert_action(
            uow=b.uow(), actor=a, alert_id=t.id, action_taken="Test warning issued"
        ),
    ),
    Operation(
        "alerts.list_open_alerts",
        None,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.list_open_alerts(uow=b.uow(), actor=a),
        shows=_contains_id,
        expected=_alert_visible,
    ),
    Operation(
        "alerts.list_alerts_to_answer",
        None,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.list_alerts_to_answer(uow=b.uow(), actor=a),
        shows=_contains_id,
        expected=_responds_somewhere_and_sees,
    ),
    # The Alerts page's one read: the alerts it shows, and the cases it offers to raise one on.
    Operation(
        "alerts.alerts_page",
        None,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.alerts_page(uow=b.uow(), actor=a),
        shows=lambda b, a, t, r: _contains_id(b, a, t, r.alerts),
        expected=_alert_visible,
    ),
    Operation(
        "alerts.alerts_page[case choices]",
        Action.ALERT_RAISE,
        _case,
        lambda b, a, t: alerts.alerts_page(uow=b.uow(), actor=a),
        shows=lambda b, a, t, r: _contains_case(b, a, t, r.case_choices),
        expected=lambda a, t: (
            allowed_somewhere(a, Action.ALERT_RAISE) and _on_my_caseload(Action.CONTACT_LOG)(a, t)
        ),
    ),
    Operation(
        "alerts.open_alert_to_answer",
        Action.ALERT_RESPOND,
        lambda b, a, w: b.alert(a, w),
        lambda b, a, t: alerts.open_alert_to_answer(uow=b.uow(), actor=a, alert_id=t.id),
        shows=lambda b, a, t, r: _awaitable(r is not None and r.id == t.id),
    ),
    # appointments
    Operation(
        "appointments.book_appointment",
        Action.APPOINTMENT_MANAGE,
        _case,
        lambda b, a, t: appointments.book_appointment(
            uow=b.uow(), actor=a, data=_appointment_create(t)
        ),
    ),
    Operation(
        "appointments.book_appointment[client key]",
        Action.APPOINTMENT_MANAGE,
        _case,
        lambda b, a, t: appointments.book_appointment(
            uow=b.uow(), actor=a, data=_appointment_create(t), client_key=uuid.uuid4()
        ),
    ),
    Operation(
        "appointments.reschedule_appointment",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w),
        lambda b, a, t: appointments.reschedule_appointment(
            uow=b.uow(),
            actor=a,
            appointment_id=t.id,
            data=AppointmentReschedule(starts_at=_future(50), ends_at=_future(51)),
        ),
    ),
    Operation(
        "appointments.cancel_appointment",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w),
        lambda b, a, t: appointments.cancel_appointment(uow=b.uow(), actor=a, appointment_id=t.id),
    ),
    Operation(
        "appointments.record_appointment_outcome",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w, past=True),
        lambda b, a, t: appointments.record_appointment_outcome(
            uow=b.uow(),
            actor=a,
            appointment_id=t.id,
            data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
        ),
    ),
    Operation(
        "appointments.record_appointment_outcome[client key]",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w, past=True),
        lambda b, a, t: appointments.record_appointment_outcome(
            uow=b.uow(),
            actor=a,
            appointment_id=t.id,
            data=AppointmentOutcome(status=AppointmentStatus.ATTENDED),
            client_key=uuid.uuid4(),
        ),
    ),
    Operation(
        "appointments.ask_for_outcome_after",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w),
        lambda b, a, t: appointments.ask_for_outcome_after(
            uow=b.uow(), actor=a, appointment_id=t.id
        ),
    ),
    Operation(
        "appointments.my_appointment",
        Action.APPOINTMENT_MANAGE,
        lambda b, a, w: b.appointment(a, w),
        lambda b, a, t: appointments.my_appointment(uow=b.uow(), actor=a, appointment_id=t.id),
    ),
    Operation(
        "appointments.my_appointment_lists",
        None,
        lambda b, a, w: b.my_appointment(a, w),
        lambda b, a, t: appointments.my_appointment_lists(uow=b.uow(), actor=a, upcoming_days=365),
        wheres=RECORD_WHERES,
        shows=_my_lists_show,
        expected=_owned_by_actor,
    ),
    # audit: searching and verifying the trail (admins, at their sites).
    Operation(
        "audit.search_audit",
        Action.AUDIT_VIEW,
        _case_with_audit_event,
        lambda b, a, t: audit.search_audit(uow=b.uow(), actor=a, case_id=t.case_id),
        shows=_audit_shows,
        wheres=SITE_WHERES,
    ),
    Operation(
        "audit.verify_audit_chain",
        Action.AUDIT_VIEW,
        _any_site,
        lambda b, a, t: audit.verify_audit_chain(uow=b.uow(), actor=a),
        wheres=(Where.ANYWHERE,),
        expected=_audits_somewhere,
    ),
    Operation(
        "audit.record_chain_verification",
        Action.AUDIT_VIEW,
        _any_site,
        _verification,
        wheres=(Where.ANYWHERE,),
        expected=_audits_somewhere,
    ),
    # bot_messages
    Operation(
        "bot_messages.set_bot_message_retention",
        Action.SITE_MANAGE,
        _site,
        lambda b, a, t: bot_messages.set_bot_message_retention(
            uow=b.uow(), actor=a, site_code=t.site_code or "", hours=24
        ),
        wheres=SITE_WHERES,
    ),
    # bot_state: the bot's /log confirm step (logs a contact as the actor).
    Operation(
        "bot_state.confirm_log_from_conversation",
        Action.CONTACT_LOG,
        _case_with_conversation,
        _confirm_log,
    ),
    # bot_state: the one-message /log (logs a contact on a case of the actor's own, by reference).
    Operation(
        "bot_state.log_from_message",
        Action.CONTACT_LOG,
        _case,
        _log_from_message,
        shows=lambda b, a, t, r: _awaitable(r.outcome is ConfirmOutcome.SAVED),
        expected=_on_my_caseload(Action.CONTACT_LOG),
    ),
    # broadcasts
    Operation(
        "broadcasts.broadcastable_meetings",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: broadcasts.broadcastable_meetings(uow=b.uow(), actor=a, limit=50),
        wheres=SITE_WHERES,
        shows=_meetings_show,
    ),
    Operation(
        "broadcasts.preview_panel_broadcast",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: broadcasts.preview_panel_broadcast(uow=b.uow(), actor=a, meeting_id=t.id),
        wheres=SITE_WHERES,
    ),
    Operation(
        "broadcasts.broadcast_panel_meeting",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: broadcasts.broadcast_panel_meeting(
            uow=b.uow(), actor=a, meeting_id=t.id, broadcast_key=f"matrix{b.number()}"
        ),
        wheres=SITE_WHERES,
    ),
    # caseload
    Operation(
        "caseload.list_caseload",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: caseload.list_caseload(
            uow=b.uow(), actor=a, case_manager_id=t.case_manager_id
        ),
        shows=_contains_case,
    ),
    Operation(
        "caseload_lookup.my_open_case_choices",
        Action.CONTACT_LOG,
        _case,
        lambda b, a, t: caseload_lookup.my_open_case_choices(uow=b.uow(), actor=a),
        shows=_contains_case,
        expected=_on_my_caseload(Action.CONTACT_LOG),
    ),
    Operation(
        "caseload_lookup.my_case_by_reference",
        Action.CONTACT_LOG,
        _case,
        lambda b, a, t: caseload_lookup.my_case_by_reference(
            uow=b.uow(), actor=a, reference=t.reference or ""
        ),
        shows=lambda b, a, t, r: _awaitable(r is not None and r.case_id == t.case_id),
        expected=_on_my_caseload(Action.CONTACT_LOG),
    ),
    Operation(
        "caseload_lookup.my_case_key_by_reference_in",
        Action.CONTACT_LOG,
        _case,
        _my_case_key_by_reference_in,
        shows=lambda b, a, t, r: _awaitable(r is not None and r.id == t.case_id),
        expected=_on_my_caseload(Action.CONTACT_LOG),
    ),
    Operation(
        "caseload_lookup.my_case_for_contact",
        Action.CONTACT_LOG,
        _case,
        lambda b, a, t: caseload_lookup.my_case_for_contact(uow=b.uow(), actor=a, case_id=t.id),
        expected=_on_my_caseload(Action.CONTACT_LOG),
    ),
    # cases
    Operation(
        "cases.create_case",
        Action.CASE_CREATE,
        _site,
        lambda b, a, t: cases.create_case(
            uow=b.uow(),
            actor=a,
            data=CaseCreate(
                site_id=t.site_id or 0,
                referral_date=date(2026, 2, 25),
                referral_source=ReferralSource.POLICE,
                referral_reason=ReferralReason.SERIAL,
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "cases.get_case",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: cases.get_case(uow=b.uow(), actor=a, case_id=t.id),
    ),
    Operation(
        "cases.find_case",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: cases.find_case(uow=b.uow(), actor=a, reference=t.reference or ""),
    ),
    Operation(
        "cases.list_cases",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: cases.list_cases(uow=b.uow(), actor=a, reference_contains=t.reference),
        shows=_contains_case,
    ),
    Operation(
        "cases.list_cases[site_id]",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: cases.list_cases(
            uow=b.uow(), actor=a, site_id=t.site_id, reference_contains=t.reference
        ),
        shows=_contains_case,
    ),
    Operation(
        "cases.update_case",
        Action.CASE_UPDATE,
        _case,
        lambda b, a, t: cases.update_case(
            uow=b.uow(), actor=a, case_id=t.id, data=CaseUpdate(version=1, dash_score=12)
        ),
    ),
    Operation(
        "cases.allocate_case",
        Action.CASE_ALLOCATE,
        _allocated_case_target,
        lambda b, a, t: cases.allocate_case(
            uow=b.uow(),
            actor=a,
            case_id=t.id,
            data=CaseAllocate(version=1, case_manager_id=t.extra["to"]),
        ),
    ),
    Operation(
        "cases.change_stage",
        Action.CASE_CHANGE_STAGE,
        _case,
        lambda b, a, t: cases.change_stage(
            uow=b.uow(), actor=a, case_id=t.id, data=StageMove(version=1, to_stage=Stage.ENGAGING)
        ),
    ),
    Operation(
        "cases.close_case",
        Action.CASE_CLOSE,
        _case,
        lambda b, a, t: cases.close_case(
            uow=b.uow(),
            actor=a,
            case_id=t.id,
            data=CaseClose(version=1, reason=ClosureReason.COMPLETED),
        ),
    ),
    Operation(
        "cases.reopen_case",
        Action.CASE_REOPEN,
        lambda b, a, w: b.case(a, w, stage=Stage.CLOSED),
        lambda b, a, t: cases.reopen_case(
            uow=b.uow(), actor=a, case_id=t.id, data=CaseReopen(version=1, reason="Re-referred")
        ),
    ),
    Operation(
        "cases.transfer_case",
        Action.CASE_TRANSFER,
        _case,
        lambda b, a, t: cases.transfer_case(
            uow=b.uow(),
            actor=a,
            case_id=t.id,
            data=CaseTransfer(version=1, to_site_id=b.world.sites[_elsewhere(t)].id),
        ),
        # The actor must be allowed at both sites; every actor here holds roles at one only.
        expected=lambda a, t: (
            is_allowed(a, Action.CASE_TRANSFER, site_id=t.site_id)
            and any(m.site_code == _elsewhere(t) for m in a.memberships)
        ),
    ),
    # referrals
    Operation(
        "referrals.record_referral",
        Action.CASE_CREATE,
        _site,
        lambda b, a, t: referrals.record_referral(
            uow=b.uow(),
            actor=a,
            data=ReferralCreate(
                site_id=t.site_id or 0,
                referral_date=date(2026, 2, 25),
                referral_source=ReferralSource.SELF,
                referral_reason=ReferralReason.SERIAL,
                subject=PerpetratorDetails(
                    name=f"Testname Number{b.number()}", date_of_birth=date(1990, 1, 2)
                ),
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "referrals.check_duplicates",
        Action.CASE_CREATE,
        _site,
        lambda b, a, t: referrals.check_duplicates(
            uow=b.uow(),
            actor=a,
            data=DuplicateQuery(
                site_id=t.site_id or 0, name="Test Subject", date_of_birth=date(1990, 1, 2)
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "referrals.set_referral_roles",
        Action.SITE_MANAGE,
        _site,
        # No extra roles: the matrix's other cells keep the policy's own answer.
        lambda b, a, t: referrals.set_referral_roles(
            uow=b.uow(), actor=a, site_code=t.site_code or "", roles=[]
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "cases.stage_history",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: cases.stage_history(uow=b.uow(), actor=a, case_id=t.id),
    ),
    # The case page's one read: victims and children only with victim.view (else None).
    Operation(
        "case_page.case_page",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: case_page.case_page(uow=b.uow(), actor=a, case_id=t.id),
    ),
    # contacts
    Operation(
        "contacts.log_contact",
        Action.CONTACT_LOG,
        _case,
        lambda b, a, t: contacts.log_contact(uow=b.uow(), actor=a, data=_contact(t)),
    ),
    # With the device's key (a save held offline and sent when the signal returns).
    Operation(
        "contacts.log_contact[client key]",
        Action.CONTACT_LOG,
        _case,
        lambda b, a, t: contacts.log_contact(
            uow=b.uow(), actor=a, data=_contact(t), client_key=uuid.uuid4()
        ),
    ),
    Operation("contacts.log_contact_in", Action.CONTACT_LOG, _case, _log_contact_in),
    # inbox: my own items only; there is no policy action, nobody else's item is reachable.
    Operation(
        "inbox.list_my_inbox",
        None,
        lambda b, a, w: b.inbox_item(a, w),
        lambda b, a, t: _inbox_items(b, a),
        wheres=RECORD_WHERES,
        shows=_contains_id,
        expected=_owned_by_actor,
    ),
    Operation(
        "inbox.unread_inbox_count",
        None,
        lambda b, a, w: b.inbox_item(a, w),
        lambda b, a, t: inbox.unread_inbox_count(uow=b.uow(), actor=a),
        wheres=RECORD_WHERES,
        shows=_unread_shows,
        expected=_owned_by_actor,
    ),
    Operation(
        "inbox.mark_all_inbox_read",
        None,
        lambda b, a, w: b.inbox_item(a, w),
        lambda b, a, t: inbox.mark_all_inbox_read(uow=b.uow(), actor=a),
        wheres=RECORD_WHERES,
        shows=_inbox_read,
        expected=_owned_by_actor,
    ),
    # interventions
    Operation(
        "interventions.add_intervention",
        Action.INTERVENTION_MANAGE,
        _case,
        lambda b, a, t: _add_intervention(b, a, t),
    ),
    Operation(
        "interventions.update_intervention_status",
        Action.INTERVENTION_MANAGE,
        _intervention,
        lambda b, a, t: interventions.update_intervention_status(
            uow=b.uow(),
            actor=a,
            intervention_id=t.id,
            data=InterventionStatusUpdate(status=InterventionStatus.STARTED),
        ),
    ),
    Operation(
        "interventions.list_case_interventions",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: interventions.list_case_interventions(uow=b.uow(), actor=a, case_id=t.id),
    ),
    # notifications_admin
    # notification channels: my own settings only; no policy action, nobody else's reachable.
    Operation(
        "notification_channels.my_notification_channels",
        None,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: notification_channels.my_notification_channels(uow=b.uow(), actor=a),
        wheres=RECORD_WHERES,
        shows=_own_channels_shown,
        expected=_owned_by_actor,
    ),
    Operation(
        "notification_channels.update_my_notification_channels",
        None,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: notification_channels.update_my_notification_channels(
            uow=b.uow(), actor=a, data=_channels_update()
        ),
        wheres=RECORD_WHERES,
        shows=_own_mobile_set,
        expected=_owned_by_actor,
    ),
    Operation(
        "notifications_admin.list_failed_notifications",
        Action.NOTIFICATION_ADMIN,
        lambda b, a, w: b.failed_message(a, w),
        lambda b, a, t: notifications_admin.list_failed_notifications(
            uow=b.uow(), actor=a, limit=500
        ),
        wheres=SITE_WHERES,
        shows=_contains_id,
    ),
    Operation(
        "notifications_admin.list_failed_notifications[site_id]",
        Action.NOTIFICATION_ADMIN,
        lambda b, a, w: b.failed_message(a, w),
        lambda b, a, t: notifications_admin.list_failed_notifications(
            uow=b.uow(), actor=a, site_id=t.site_id, limit=500
        ),
        wheres=SITE_WHERES,
        shows=_contains_id,
    ),
    Operation(
        "notifications_admin.retry_failed_notification",
        Action.NOTIFICATION_ADMIN,
        lambda b, a, w: b.failed_message(a, w),
        lambda b, a, t: notifications_admin.retry_failed_notification(
            uow=b.uow(), actor=a, message_id=t.id
        ),
        wheres=SITE_WHERES,
        expected=lambda a, t: is_allowed(a, Action.NOTIFICATION_ADMIN, site_id=t.site_id),
    ),
    # panels
    Operation(
        "panels.schedule_panel_meeting",
        Action.PANEL_MANAGE,
        _site,
        lambda b, a, t: panels.schedule_panel_meeting(
            uow=b.uow(),
            actor=a,
            # Each call 4 hours after the last, so no two clash (core.services.clashes).
            data=PanelMeetingCreate(
                site_id=t.site_id or 0, starts_at=_future(24 * 20 + 4 * (999_999 - b.number()))
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panels.get_panel_meeting",
        Action.PANEL_VIEW,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: panels.get_panel_meeting(uow=b.uow(), actor=a, meeting_id=t.id),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panels.get_panel_meetings",
        Action.PANEL_VIEW,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: panels.get_panel_meetings(uow=b.uow(), actor=a, meeting_ids=[t.id]),
        wheres=SITE_WHERES,
        shows=_meetings_show,
    ),
    Operation(
        "panels.add_agenda_item",
        Action.PANEL_MANAGE,
        _meeting_with_case,
        lambda b, a, t: panels.add_agenda_item(
            uow=b.uow(), actor=a, meeting_id=t.id, case_id=t.case_id
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panels.add_panel_action",
        Action.PANEL_MANAGE,
        _meeting_with_case,
        lambda b, a, t: panels.add_panel_action(
            uow=b.uow(),
            actor=a,
            data=PanelActionCreate(
                meeting_id=t.id or 0,
                case_id=t.case_id or 0,
                description="Test action to share",
                owner_agency=Agency.POLICE,
                due_on=date(2026, 3, 30),
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panels.update_panel_action_status",
        Action.PANEL_ACTION_UPDATE,
        lambda b, a, w: b.panel_action(a, w),
        lambda b, a, t: panels.update_panel_action_status(
            uow=b.uow(), actor=a, action_id=t.id, status=PanelActionStatus.DONE
        ),
        wheres=(Where.OWN_SITE, Where.MY_CASE, Where.MY_RECORD, Where.OTHER_SITE),
    ),
    Operation(
        "panels.rsvp_panel_meeting",
        Action.PANEL_RSVP,
        _rsvp_meeting,
        lambda b, a, t: panels.rsvp_panel_meeting(
            uow=b.uow(), actor=a, meeting_id=t.id, status=AttendanceStatus.ATTENDING
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panels.my_upcoming_panel_meetings",
        Action.PANEL_VIEW,
        lambda b, a, w: b.meeting(a, w, days=1),
        lambda b, a, t: panels.my_upcoming_panel_meetings(uow=b.uow(), actor=a, limit=50),
        wheres=SITE_WHERES,
        shows=_meetings_show,
    ),
    Operation(
        "panels.panel_page",
        Action.PANEL_VIEW,
        lambda b, a, w: b.meeting(a, w, days=1),
        lambda b, a, t: panels.panel_page(uow=b.uow(), actor=a, upcoming_limit=50),
        wheres=SITE_WHERES,
        shows=_panel_page_shows_coming,
    ),
    Operation(
        "panels.panel_page[last_held]",
        Action.PANEL_VIEW,
        _held_meeting,
        lambda b, a, t: panels.panel_page(uow=b.uow(), actor=a),
        wheres=SITE_WHERES,
        shows=_panel_page_shows_held,
    ),
    # case_card: the bot's /case
    Operation(
        "case_card.case_card",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: case_card.case_card(uow=b.uow(), actor=a, reference=t.reference or ""),
    ),
    Operation(
        "case_card.case_to_book",
        Action.APPOINTMENT_MANAGE,
        _case,
        lambda b, a, t: case_card.case_to_book(uow=b.uow(), actor=a, case_id=t.id or 0),
    ),
    # panel_outcomes: after a meeting
    Operation(
        "panel_outcomes.panel_register",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w, days=-1),
        lambda b, a, t: panel_outcomes.panel_register(uow=b.uow(), actor=a, meeting_id=t.id),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panel_outcomes.mark_panel_meeting_held",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w, days=-1),
        lambda b, a, t: panel_outcomes.mark_panel_meeting_held(
            uow=b.uow(), actor=a, meeting_id=t.id, data=MeetingHeld()
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "panel_outcomes.cancel_panel_meeting",
        Action.PANEL_MANAGE,
        lambda b, a, w: b.meeting(a, w),
        lambda b, a, t: panel_outcomes.cancel_panel_meeting(uow=b.uow(), actor=a, meeting_id=t.id),
        wheres=SITE_WHERES,
    ),
    # people: victims and children
    Operation(
        "people.add_linked_person",
        Action.VICTIM_MANAGE,
        _case,
        lambda b, a, t: people.add_linked_person(
            uow=b.uow(),
            actor=a,
            data=LinkedPersonCreate(case_id=t.case_id or 0, kind=PersonKind.CHILD),
        ),
    ),
    Operation(
        "people.case_people",
        Action.VICTIM_VIEW,
        _case,
        lambda b, a, t: people.case_people(uow=b.uow(), actor=a, case_id=t.id),
    ),
    Operation(
        "people.update_linked_person",
        Action.VICTIM_MANAGE,
        _linked_person,
        lambda b, a, t: people.update_linked_person(
            uow=b.uow(),
            actor=a,
            person_id=t.id,
            data=LinkedPersonUpdate(kind=PersonKind.VICTIM, name=f"{VICTIM_SENTINEL} Edited"),
        ),
    ),
    Operation(
        "people.end_link",
        Action.VICTIM_MANAGE,
        _linked_person,
        lambda b, a, t: people.end_link(
            uow=b.uow(), actor=a, person_id=t.id, data=LinkEnd(ended_on=START.date())
        ),
    ),
    Operation(
        "people.assign_idva",
        Action.VICTIM_ASSIGN,
        _linked_person,
        lambda b, a, t: people.assign_idva(
            uow=b.uow(), actor=a, person_id=t.id, data=IdvaAssignment(idva_user_id=None)
        ),
    ),
    Operation(
        "people.idva_choices",
        Action.VICTIM_ASSIGN,
        _case,
        lambda b, a, t: people.idva_choices(uow=b.uow(), actor=a, case_id=t.id),
    ),
    Operation(
        "people.my_idva_cases",
        Action.VICTIM_VIEW,
        _linked_person,
        lambda b, a, t: people.my_idva_cases(uow=b.uow(), actor=a),
        wheres=RECORD_WHERES,
        shows=_contains_case,
        expected=_supports_at_site,
    ),
    # reports: aggregate figures per site.
    Operation(
        "reports.report_sites",
        Action.REPORT_VIEW,
        _site,
        lambda b, a, t: reports.report_sites(uow=b.uow(), actor=a),
        wheres=SITE_WHERES,
        shows=_report_sites_show,
    ),
    Operation(
        "reports.build_report",
        Action.REPORT_VIEW,
        _site,
        _report_call(reports.build_report),
        wheres=SITE_WHERES,
    ),
    Operation(
        "reports.report_page",
        Action.REPORT_VIEW,
        _site,
        _report_call(reports.report_page),
        wheres=SITE_WHERES,
    ),
    # retention: anonymising closed cases after the site's period (nothing is due here).
    Operation(
        "retention.set_case_retention",
        Action.RETENTION_MANAGE,
        _site,
        lambda b, a, t: retention.set_case_retention(
            uow=b.uow(), actor=a, site_code=t.site_code or "", years=7
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "retention.plan_retention",
        Action.RETENTION_MANAGE,
        _site_with_retention,
        lambda b, a, t: retention.plan_retention(uow=b.uow(), actor=a, site_code=t.site_code),
        wheres=SITE_WHERES,
        shows=_retention_shows,
    ),
    Operation(
        "retention.apply_retention",
        Action.RETENTION_MANAGE,
        _site_with_retention,
        lambda b, a, t: retention.apply_retention(uow=b.uow(), actor=a, site_code=t.site_code),
        wheres=SITE_WHERES,
        shows=_retention_shows,
    ),
    # risk
    Operation(
        "risk.record_risk_assessment",
        Action.RISK_RECORD,
        _case,
        lambda b, a, t: risk.record_risk_assessment(
            uow=b.uow(),
            actor=a,
            data=RiskAssessmentCreate(case_id=t.case_id or 0, level=RiskLevel.MEDIUM),
        ),
    ),
    Operation(
        "risk.risk_history",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: risk.risk_history(uow=b.uow(), actor=a, case_id=t.id),
    ),
    Operation(
        "risk.record_marac_appearance",
        Action.MARAC_RECORD,
        _case,
        lambda b, a, t: risk.record_marac_appearance(
            uow=b.uow(),
            actor=a,
            data=MaracAppearanceCreate(case_id=t.case_id or 0, heard_on=date(2026, 2, 26)),
        ),
    ),
    Operation(
        "risk.record_police_incident",
        Action.INCIDENT_RECORD,
        _case,
        lambda b, a, t: risk.record_police_incident(
            uow=b.uow(),
            actor=a,
            data=PoliceIncidentCreate(case_id=t.case_id or 0, occurred_on=date(2026, 2, 27)),
        ),
    ),
    # sar
    Operation(
        "sar.export_subject_access",
        Action.SAR_EXPORT,
        _case,
        lambda b, a, t: sar.export_subject_access(
            uow=b.uow(), actor=a, reference=t.reference or ""
        ),
        shows=_sar_bundle_shows,
        expected=_sar_allowed,
        notes_by_design="a subject access bundle holds everything recorded about the subject",
    ),
    # sites
    Operation(
        "sites.create_site",
        Action.SITE_CREATE,
        _any_site,
        lambda b, a, t: sites.create_site(
            uow=b.uow(), actor=a, data=SiteCreate(code=_site_code(b), name="Test Site")
        ),
        wheres=(Where.ANYWHERE,),
    ),
    # admin
    Operation(
        "admin.admin_page",
        Action.USER_MANAGE,
        _site,
        lambda b, a, t: admin.admin_page(uow=b.uow(), actor=a, site_id=t.site_id),
        wheres=SITE_WHERES,
        shows=_admin_page_shows,
    ),
    Operation(
        "sites.list_sites",
        Action.SITE_VIEW,
        _site,
        lambda b, a, t: sites.list_sites(uow=b.uow(), actor=a),
        wheres=SITE_WHERES,
        shows=_sites_show,
    ),
    # team
    Operation(
        "team.team_page",
        Action.TEAM_VIEW,
        _site,
        lambda b, a, t: team.team_page(uow=b.uow(), actor=a, site_id=t.site_id),
        wheres=SITE_WHERES,
        shows=_team_page_shows,
    ),
    # telegram_links
    Operation(
        "telegram_links.issue_link_code",
        Action.TELEGRAM_LINK_MANAGE,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: telegram_links.issue_link_code(uow=b.uow(), actor=a, user_id=t.id),
        wheres=RECORD_WHERES,
    ),
    Operation(
        "telegram_links.revoke_telegram_link",
        Action.TELEGRAM_LINK_MANAGE,
        _linked_user,
        lambda b, a, t: telegram_links.revoke_telegram_link(uow=b.uow(), actor=a, user_id=t.id),
        wheres=RECORD_WHERES,
        shows=lambda b, a, t, r: _awaitable(r is True),
    ),
    # timeline
    Operation(
        "timeline.case_timeline",
        Action.CASE_VIEW,
        _case,
        lambda b, a, t: timeline.case_timeline(uow=b.uow(), actor=a, case_id=t.id),
    ),
    # today: my day, my alerts, my inbox
    Operation(
        "today.my_today",
        None,
        lambda b, a, w: b.my_appointment(a, w),
        lambda b, a, t: today.my_today(uow=b.uow(), actor=a, day=date(2026, 3, 3)),
        wheres=RECORD_WHERES,
        shows=_my_today_shows,
        expected=_owned_by_actor,
    ),
    # accounts: a colleague's sign-in, and one's own account
    Operation(
        "accounts.reset_password",
        Action.ACCOUNT_RESET,
        _set_up_user,
        lambda b, a, t: accounts.reset_password(uow=b.uow(), actor=a, user_id=t.id, mailer=None),
        wheres=SITE_WHERES,
        expected=_resets_allowed,
    ),
    Operation(
        "accounts.reset_second_factor",
        Action.ACCOUNT_RESET,
        _set_up_user,
        lambda b, a, t: accounts.reset_second_factor(
            uow=b.uow(), actor=a, user_id=t.id, mailer=None
        ),
        wheres=SITE_WHERES,
        expected=_resets_allowed,
    ),
    Operation(
        "accounts.resend_invitation",
        Action.ACCOUNT_RESET,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: accounts.resend_invitation(uow=b.uow(), actor=a, user_id=t.id, mailer=None),
        wheres=SITE_WHERES,
        expected=_resets_allowed,
    ),
    Operation(
        "accounts.staff_accounts",
        Action.ACCOUNT_RESET,
        _site,
        lambda b, a, t: accounts.staff_accounts(uow=b.uow(), actor=a, site_id=t.site_id),
        wheres=SITE_WHERES,
        shows=lambda b, a, t, r: _awaitable(r.site_id == t.site_id),
    ),
    Operation(
        "accounts.remove_colleague_passkey",
        Action.ACCOUNT_RESET,
        _colleague_passkey,
        lambda b, a, t: accounts.remove_colleague_passkey(
            uow=b.uow(), actor=a, user_id=t.id, passkey_id=t.extra["passkey_id"]
        ),
        wheres=SITE_WHERES,
        expected=_resets_allowed,
    ),
    Operation(
        "accounts.my_account",
        None,
        _any_site,
        lambda b, a, t: accounts.my_account(uow=b.uow(), actor=a),
        wheres=(Where.ANYWHERE,),
        shows=lambda b, a, t, r: _awaitable(r.email == a.email),
        expected=_everyone,
    ),
    Operation(
        "accounts.change_my_password",
        None,
        _my_password_set,
        lambda b, a, t: accounts.change_my_password(
            uow=b.uow(),
            actor=a,
            current_password=MATRIX_PASSWORD,
            new_password="matrix test password two",
            client=MATRIX_CLIENT,
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "accounts.start_authenticator_change",
        None,
        _my_authenticator_set,
        lambda b, a, t: accounts.start_authenticator_change(
            uow=b.uow(),
            actor=a,
            current_password=MATRIX_PASSWORD,
            current_code=t.extra["code"],
            client=MATRIX_CLIENT,
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "accounts.finish_authenticator_change",
        None,
        _my_authenticator_change_started,
        lambda b, a, t: accounts.finish_authenticator_change(
            uow=b.uow(), actor=a, ticket=t.extra.get("ticket", ""), totp_code=t.extra["code"]
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "accounts.sign_out_everywhere",
        None,
        _any_site,
        lambda b, a, t: accounts.sign_out_everywhere(uow=b.uow(), actor=a),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    # users
    Operation(
        "users.add_user",
        Action.USER_MANAGE,
        _site,
        lambda b, a, t: users.add_user(
            uow=b.uow(),
            actor=a,
            data=UserCreate(
                email=f"new{b.number()}@test.invalid",
                display_name="Test Newcomer",
                memberships=[MembershipCreate(site_code=t.site_code or "", role=Role.IDVA)],
            ),
        ),
        wheres=SITE_WHERES,
    ),
    Operation(
        "users.list_users",
        Action.USER_VIEW,
        _site,
        lambda b, a, t: users.list_users(uow=b.uow(), actor=a),
        wheres=SITE_WHERES,
        shows=_users_show,
    ),
    Operation(
        "users.list_users[site_id]",
        Action.USER_VIEW,
        _site,
        lambda b, a, t: users.list_users(uow=b.uow(), actor=a, site_id=t.site_id),
        wheres=SITE_WHERES,
        shows=_users_show,
    ),
    Operation(
        "users.change_role",
        Action.USER_MANAGE,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: users.change_role(
            uow=b.uow(),
            actor=a,
            user_id=t.id,
            data=RoleChange(site_id=t.site_id or 0, role=Role.SERVICE_MANAGER),
        ),
        wheres=SITE_WHERES,
        expected=lambda a, t: is_allowed(a, Action.USER_MANAGE, site_id=t.site_id),
    ),
    Operation(
        "users.set_user_active",
        Action.USER_MANAGE,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: users.set_user_active(uow=b.uow(), actor=a, user_id=t.id, is_active=False),
        wheres=SITE_WHERES,
        expected=lambda a, t: is_allowed(a, Action.USER_MANAGE, site_id=t.site_id),
    ),
    # passkeys: every account its own, never anyone else's
    Operation(
        "passkeys.begin_registration",
        None,
        _any_site,
        lambda b, a, t: passkeys.begin_registration(
            uow=b.uow(), actor=a, settings=PASSKEY_SETTINGS
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "passkeys.finish_registration",
        None,
        _passkey_answer,
        lambda b, a, t: passkeys.finish_registration(
            uow=b.uow(),
            actor=a,
            settings=PASSKEY_SETTINGS,
            credential_json=t.extra["answer"],
            name="Test phone",
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "passkeys.my_passkeys",
        None,
        _passkey,
        lambda b, a, t: passkeys.my_passkeys(uow=b.uow(), actor=a),
        wheres=RECORD_WHERES,
        shows=lambda b, a, t, r: _awaitable(t.id in {p.id for p in r}),
        expected=_owner_only,
    ),
    Operation(
        "passkeys.rename_passkey",
        None,
        _passkey,
        lambda b, a, t: passkeys.rename_passkey(
            uow=b.uow(), actor=a, passkey_id=t.id or 0, name="Renamed phone"
        ),
        wheres=RECORD_WHERES,
        expected=_owner_only,
    ),
    Operation(
        "passkeys.remove_passkey",
        None,
        _passkey,
        lambda b, a, t: passkeys.remove_passkey(uow=b.uow(), actor=a, passkey_id=t.id or 0),
        wheres=RECORD_WHERES,
        expected=_owner_only,
    ),
    # device PINs: every account its own, on the device it is using
    Operation(
        "device_pins.my_pin",
        None,
        _any_site,
        lambda b, a, t: device_pins.my_pin(uow=b.uow(), actor=a, device_id=MATRIX_DEVICE),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "device_pins.set_my_pin",
        None,
        _my_password_set,
        lambda b, a, t: device_pins.set_my_pin(
            uow=b.uow(),
            actor=a,
            device_id=MATRIX_DEVICE,
            pin="480152",
            current_password=MATRIX_PASSWORD,
        ),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "device_pins.remove_my_pin",
        None,
        _any_site,
        lambda b, a, t: device_pins.remove_my_pin(uow=b.uow(), actor=a, device_id=MATRIX_DEVICE),
        wheres=(Where.ANYWHERE,),
        expected=_everyone,
    ),
    Operation(
        "lockout.unlock_user",
        Action.USER_UNLOCK,
        lambda b, a, w: b.user(a, w),
        lambda b, a, t: lockout.unlock_user(uow=b.uow(), actor=a, user_id=t.id),
        wheres=SITE_WHERES,
        expected=lambda a, t: is_allowed(a, Action.USER_UNLOCK, site_id=t.site_id),
    ),
    Operation(
        "users.set_my_locale",
        None,
        _any_site,
        lambda b, a, t: users.set_my_locale(uow=b.uow(), actor=a, locale=Locale.CY),
        wheres=(Where.ANYWHERE,),
        shows=_locale_set,
        expected=_everyone,
    ),
)


# Public service functions that take an ``actor`` but are not decided by the policy, and why.
NOT_POLICY_CHECKED: dict[str, str] = {
    # Writes the audit event for an attempt the policy has already refused, in a transaction of
    # its own; it must work for exactly the actors who were refused. Reads nothing back.
    "refusals.record_refusal": "records a refusal; takes no decision of its own",
    # The insert and its audit event inside the caller's unit of work, like ``record_audit``
    # (sync, so not listed): the calling service has authorised the change it writes.
    "audit.insert_audited": "writes what the calling service has authorised; decides nothing",
    # The host operator's command and the worker's schedule (both the system actor); anyone
    # else is refused outright, with no site or record for the policy to weigh.
    "audit_checkpoints.write_audit_checkpoint": "the system actor's only; no policy decision",
    # What a face may offer: the actor's own sites filtered by ``may_refer`` (the policy's
    # case.create plus a site's referral_roles, which the referrals rows above test); it reads
    # only the actor's own sites and refuses nothing.
    "referrals.referral_sites": "the actor's own sites where may_refer holds; refuses nothing",
    # A service's read or write inside the caller's open unit of work, shared with another
    # service that has already authorised it (the case page's one read, the alerts page's, a
    # referral's insert); each is reached in the matrix through those services' own rows
    # (case_page.case_page, alerts.alerts_page, referrals.record_referral and the reads whose
    # bodies they are). ``people.case_people_of`` checks victim.view again itself.
    "caseload_lookup.my_open_case_choices_in": "my_open_case_choices in the caller's work",
    "cases.insert_case": "the case row a referral service has authorised, in its work",
    "people.case_people_of": "case_people in the caller's work; checks victim.view itself",
    "risk.risk_history_of": "risk_history in the caller's work, of a case loaded for case.view",
    "timeline.timeline_of": "case_timeline in the caller's work, of a case loaded for case.view",
    # Removes an account's device PINs inside the caller's work, for the sign-out, reset or lock
    # that the calling service has authorised (its rows: auth.sign_out has none, it needs only
    # the session's own cookie; accounts.sign_out_everywhere, accounts.reset_*).
    "users.forget_device_pins": "the PINs of a sign-out, reset or lock its caller authorised",
    # A device's key for a save, looked up and claimed inside the unit of work of the save that
    # authorises itself (contacts.log_contact[client key]); only the actor's own keys.
    "submissions.once": "the unit of work of a save whose own write and read authorise",
}


async def _awaitable(value: bool) -> bool:
    return value


def _site_code(bench: Bench) -> str:
    n = bench.number()
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters += chr(ord("A") + digit)
        if n == 0:
            break
    return ("Q" + letters)[:5]


async def _inbox_items(bench: Bench, actor: Actor) -> Any:
    page = await inbox.list_my_inbox(uow=bench.uow(), actor=actor, limit=200)
    return page.items


async def _add_intervention(bench: Bench, actor: Actor, target: Target) -> Any:
    code = await bench.scalar(
        select(InterventionKind.code)
        .where(InterventionKind.is_active.is_(True))
        .order_by(InterventionKind.id)
    )
    return await interventions.add_intervention(
        uow=bench.uow(),
        actor=actor,
        data=InterventionCreate(case_id=target.case_id or 0, kind_code=code, agency=Agency.POLICE),
    )
