"""Synthetic, obviously fictional demo data: two sites, ten staff, sixty cases and a year of work.

Everything is drawn from one ``random.Random(seed)`` and placed relative to one ``now``, so the
same seed and clock always give the same data. The figures follow the shape of the Drive
evaluation, so reports have something meaningful to show: the use of each abuse type falls by
roughly three quarters between start and closure, IDVA-assessed risk is reduced in about four
closed cases in five, and there are fewer MARAC appearances and police incidents in the six
months after closure than in the six months before allocation.

Nobody here is a real person: names start with "Demo", emails end in ``.invalid``, phone
numbers sit in Ofcom's range for drama (07700 900xxx), addresses are in Testville and Nowhere.

Every demo account shares one password and has an authenticator (TOTP) secret derived from its
email address alone, so anyone can sign in to a demo: ``drive-assist demo code EMAIL`` prints
the current code, in demo mode only (``DEMO_MODE=true``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import random
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from core.bootstrap import Container
from core.clock import local_date, local_moment
from core.db.base import Base
from core.enums import (
    FINISHED_INTERVENTION_STATUSES,
    AbuseType,
    Agency,
    AppointmentStatus,
    AttendanceStatus,
    ClosureReason,
    ContactType,
    InterventionStatus,
    Locale,
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
from core.errors import DomainError, NotFound
from core.models import (
    Appointment,
    Case,
    CaseStageChange,
    Contact,
    Intervention,
    InterventionKind,
    LinkedPerson,
    MaracAppearance,
    Membership,
    PanelAction,
    PanelAgendaItem,
    PanelAttendance,
    PanelMeeting,
    PoliceIncident,
    RiskAssessment,
    Site,
    User,
)
from core.names import fold_name, surname_key
from core.passwords import hash_password
from core.services.auth import current_totp_code
from core.uow import UnitOfWork

Progress = Callable[[str, int, int], None]

DEMO_PASSWORD = "drive-demo-2026"
DEMO_EMAIL_DOMAIN = "demo.drive-assist.invalid"
SITES = (("HER", "Herefordshire"), ("WOR", "Worcestershire"))


class DemoDataPresent(DomainError):
    """The database already holds sites, users or cases: demo data goes only into an empty one."""

    code = "demo_data_present"


class DemoModeOff(DomainError):
    """A demo-only convenience (such as printing a demo account's sign-in code) was asked for
    while ``DEMO_MODE`` is off."""

    code = "demo_mode_off"


class NotADemoAccount(DomainError):
    """The account is not one of the demo accounts, or no longer has its demo authenticator."""

    code = "not_a_demo_account"


def demo_totp_secret(email: str) -> str:
    """The account's authenticator secret: public by design (derived from the email address
    alone), so it must never protect anything but demo data."""
    digest = hashlib.sha256(f"drive-assist demo totp: {email.lower()}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


class DemoAccount(BaseModel):
    """A demo sign-in: every account uses ``DEMO_PASSWORD`` and its own public TOTP secret."""

    model_config = ConfigDict(frozen=True)

    email: str
    display_name: str
    locale: Locale
    roles: tuple[tuple[Role, str], ...]  # (role, site code)
    totp_secret: str


class DemoSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    seed: int
    now: datetime
    counts: dict[str, int]  # rows added, by table name, in the order they were added
    accounts: tuple[DemoAccount, ...]
    password: str = DEMO_PASSWORD


# --- Staff --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StaffMember:
    key: str
    display_name: str
    role: Role
    site_codes: tuple[str, ...]
    agency: Agency | None
    locale: Locale = Locale.EN_GB

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_EMAIL_DOMAIN}"


_HER, _WOR, _BOTH = ("HER",), ("WOR",), ("HER", "WOR")
# Herefordshire and Worcestershire share one service manager, as in the real programme; two
# staff work in Welsh.
STAFF = (
    _StaffMember("casey.cm", "Demo Casey Manager", Role.CASE_MANAGER, _HER, Agency.DRIVE),
    _StaffMember("morgan.cm", "Demo Morgan Manager", Role.CASE_MANAGER, _HER, Agency.DRIVE),
    _StaffMember("rhys.cm", "Demo Rhys Manager", Role.CASE_MANAGER, _WOR, Agency.DRIVE, Locale.CY),
    _StaffMember("jordan.cm", "Demo Jordan Manager", Role.CASE_MANAGER, _WOR, Agency.DRIVE),
    _StaffMember("sam.sm", "Demo Sam Service-Lead", Role.SERVICE_MANAGER, _BOTH, Agency.DRIVE),
    _StaffMember("alex.pc", "Demo Alex Coordinator", Role.PANEL_COORDINATOR, _BOTH, Agency.DRIVE),
    _StaffMember("robin.pf", "Demo DI Robin Fellow", Role.POLICE_FELLOW, _BOTH, Agency.POLICE),
    _StaffMember(
        "ffion.idva", "Demo Ffion Advocate", Role.IDVA, _BOTH, Agency.IDVA_SERVICE, Locale.CY
    ),
    _StaffMember("taylor.pm", "Demo Taylor Probation", Role.PANEL_MEMBER, _BOTH, Agency.PROBATION),
    _StaffMember("admin", "Demo Admin Account", Role.ADMIN, _BOTH, None),
)


def demo_accounts() -> tuple[DemoAccount, ...]:
    """The demo sign-ins, in a stable order; all share ``DEMO_PASSWORD``."""
    return tuple(
        DemoAccount(
            email=member.email,
            display_name=member.display_name,
            locale=member.locale,
            roles=tuple((member.role, code) for code in member.site_codes),
            totp_secret=demo_totp_secret(member.email),
        )
        for member in STAFF
    )


def _holder(role: Role) -> _StaffMember:
    return next(member for member in STAFF if member.role is role)


# --- The shape of the caseload ---------------------------------------------------------------

# Per site: (stage, closure reason, how many). 30 cases, every stage and every closure reason.
_STAGE_MIX: tuple[tuple[Stage, ClosureReason | None, int], ...] = (
    (Stage.REFERRED, None, 3),
    (Stage.ALLOCATED, None, 3),
    (Stage.ENGAGING, None, 4),
    (Stage.ACTIVE, None, 6),
    (Stage.INDIRECT, None, 3),
    (Stage.CLOSED, ClosureReason.COMPLETED, 5),
    (Stage.CLOSED, ClosureReason.DISENGAGED, 2),
    (Stage.CLOSED, ClosureReason.CUSTODY, 1),
    (Stage.CLOSED, ClosureReason.MOVED_AWAY, 1),
    (Stage.CLOSED, ClosureReason.DIED, 1),
    (Stage.CLOSED, ClosureReason.OTHER, 1),
)
# How long ago cases now at each stage were referred (days): long enough for the stages before.
_REFERRAL_DAYS_AGO = {
    Stage.REFERRED: (2, 21),
    Stage.ALLOCATED: (12, 40),
    Stage.ENGAGING: (45, 100),
    Stage.ACTIVE: (100, 330),
    Stage.INDIRECT: (100, 330),
    Stage.CLOSED: (150, 362),
}
_DAYS_PER_MONTH = 30.44
# Share of perpetrators at the start using each abuse type, and its fall by closure (Bristol).
_ABUSE_AT_START = {
    AbuseType.PHYSICAL: 0.8,
    AbuseType.SEXUAL: 0.3,
    AbuseType.HARASSMENT_STALKING: 0.75,
    AbuseType.JEALOUS_CONTROLLING: 0.85,
}
_ABUSE_DROP = {
    AbuseType.PHYSICAL: 0.82,
    AbuseType.SEXUAL: 0.88,
    AbuseType.HARASSMENT_STALKING: 0.75,
    AbuseType.JEALOUS_CONTROLLING: 0.73,
}
_RISK_REDUCED_SHARE = 0.82
# How well a closure tends to go: the better, the likelier risk and abuse were reduced.
_OUTCOME_BONUS = {
    ClosureReason.COMPLETED: 0.6,
    ClosureReason.DIED: 1.0,
    ClosureReason.CUSTODY: 0.4,
    ClosureReason.MOVED_AWAY: 0.2,
    ClosureReason.OTHER: 0.1,
    ClosureReason.DISENGAGED: 0.0,
}
_CODENAMES = (
    "Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota", "Kappa",
    "Lambda", "Mu", "Nu", "Xi", "Omicron", "Pi", "Rho", "Sigma", "Tau", "Upsilon", "Phi", "Chi",
    "Psi", "Omega",
)  # fmt: skip
_ORDINALS = ("One", "Two", "Three", "Four")


@dataclass(eq=False)  # plans are compared by identity
class _CasePlan:
    """One case's story before it becomes rows: when it moved through which stage, and how."""

    site_code: str
    stage: Stage
    closure_reason: ClosureReason | None
    referral_at: datetime
    referral_source: ReferralSource
    referral_reason: ReferralReason
    dash_score: int | None
    chain: list[tuple[Stage, datetime]] = field(default_factory=list)
    reference: str = ""
    planned_end: date | None = None
    start_abuse: dict[AbuseType, bool] | None = None
    closure_abuse: dict[AbuseType, bool] | None = None
    outcome_score: float = 0.0
    risk_reduced: bool | None = None
    manager: User | None = None
    case: Case | None = None

    def at(self, stage: Stage) -> datetime | None:
        return next((moment for step, moment in self.chain if step is stage), None)

    def stage_at(self, moment: datetime) -> Stage:
        return [step for step, at in self.chain if at <= moment][-1]

    @property
    def closed_at(self) -> datetime | None:
        return self.at(Stage.CLOSED)

    @property
    def work_mode(self) -> Stage | None:
        """The furthest working stage reached: engaging, active or indirect (None before)."""
        modes = [s for s, _ in self.chain if s in (Stage.ENGAGING, Stage.ACTIVE, Stage.INDIRECT)]
        return modes[-1] if modes else None

    @property
    def engages(self) -> bool:
        """Whether the perpetrator takes part in 1-2-1 work at some point."""
        return any(stage is Stage.ACTIVE for stage, _ in self.chain)

    @property
    def row(self) -> Case:
        assert self.case is not None, "case rows are added before anything that refers to them"
        return self.case

    @property
    def manager_id(self) -> int:
        assert self.manager is not None, "only allocated cases have work logged against them"
        return self.manager.id


def _working_time(rng: random.Random, day: date, *, forward: bool = False) -> datetime:
    """A moment in office hours on ``day``; a weekend day moves back to Friday (or on to Monday)."""
    while day.weekday() >= 5:
        day += timedelta(days=1 if forward else -1)
    return datetime.combine(day, time(rng.randint(9, 15), rng.choice((0, 15, 30, 45))), UTC)


def _working_time_after(rng: random.Random, moment: datetime, days: int) -> datetime:
    """Office hours ``days`` after ``moment`` (a weekend moves on, so never before it)."""
    return _working_time(rng, moment.date() + timedelta(days=days), forward=True)


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randint(0, max(0, (last - first).days)))


def _months_after(moment: datetime, months: int) -> date:
    return moment.date() + timedelta(days=round(_DAYS_PER_MONTH * months))


def _plan_site(rng: random.Random, site_code: str, now: datetime) -> list[_CasePlan]:
    """The site's 30 cases, referral dates spread evenly over each stage's window."""
    plans = []
    for stage in Stage:
        reasons = [reason for s, reason, n in _STAGE_MIX if s is stage for _ in range(n)]
        rng.shuffle(reasons)
        low, high = _REFERRAL_DAYS_AGO[stage]
        for i, reason in enumerate(reasons):
            days_ago = round(low + (high - low) * (i + rng.random()) / len(reasons))
            referral_at = _working_time(rng, now.date() - timedelta(days=days_ago))
            plans.append(_plan_case(rng, site_code, stage, reason, referral_at, now))
    plans.sort(key=lambda plan: plan.referral_at)
    for number, plan in enumerate(plans, start=1):  # numbered in order of referral
        plan.reference = f"{site_code}-{number:04d}"
    return plans


def _plan_case(
    rng: random.Random,
    site_code: str,
    stage: Stage,
    closure_reason: ClosureReason | None,
    referral_at: datetime,
    now: datetime,
) -> _CasePlan:
    referral_reason = ReferralReason.HIGH_RISK if rng.random() < 0.65 else ReferralReason.SERIAL
    plan = _CasePlan(
        site_code=site_code,
        stage=stage,
        closure_reason=closure_reason,
        referral_at=referral_at,
        referral_source=_referral_source(rng, referral_reason),
        referral_reason=referral_reason,
        dash_score=_dash_score(rng, referral_reason),
        chain=[(Stage.REFERRED, referral_at)],
    )
    if stage is not Stage.REFERRED:
        _plan_allocation(plan, rng, now)
        plan.start_abuse = _start_abuse(rng)
    if stage in (Stage.ENGAGING, Stage.ACTIVE, Stage.INDIRECT, Stage.CLOSED):
        _plan_work(plan, rng)
    if stage is Stage.CLOSED:
        _plan_closure(plan, rng, now)
    return plan


# The demo's referrals come from these four (a self-referral is rare for a priority perpetrator);
# named, so a new source does not change the seeded demo.
_DEMO_SOURCES = (
    ReferralSource.MARAC,
    ReferralSource.MATAC,
    ReferralSource.POLICE,
    ReferralSource.OTHER,
)


def _referral_source(rng: random.Random, reason: ReferralReason) -> ReferralSource:
    weights = (55, 15, 20, 10) if reason is ReferralReason.HIGH_RISK else (5, 45, 35, 15)
    return rng.choices(_DEMO_SOURCES, weights=weights)[0]


def _dash_score(rng: random.Random, reason: ReferralReason) -> int | None:
    if reason is ReferralReason.HIGH_RISK:
        return rng.randint(14, 24)
    return None if rng.random() < 0.3 else rng.randint(10, 18)


def _start_abuse(rng: random.Random) -> dict[AbuseType, bool]:
    abuse = {kind: rng.random() < share for kind, share in _ABUSE_AT_START.items()}
    if not any(abuse.values()):
        abuse[AbuseType.JEALOUS_CONTROLLING] = True
    return abuse


def _plan_allocation(plan: _CasePlan, rng: random.Random, now: datetime) -> None:
    wanted = round(rng.triangular(3, 35, 10))  # most within a fortnight, a few wait a month
    delay = max(1, min(wanted, (now - plan.referral_at).days - 4))
    allocated_at = _working_time_after(rng, plan.referral_at, delay)
    plan.chain.append((Stage.ALLOCATED, allocated_at))
    # The planned end of an open case lies ahead, at most 12 months after allocation.
    months_needed = math.ceil(((now - allocated_at).days + 14) / _DAYS_PER_MONTH)
    months = min(12, max(rng.randint(3, 12), months_needed))
    plan.planned_end = _months_after(allocated_at, months)


def _plan_work(plan: _CasePlan, rng: random.Random) -> None:
    """First contact attempts (engaging), then 1-2-1 work (active) or indirect work."""
    allocated_at = plan.chain[-1][1]
    engaging_at = _working_time_after(rng, allocated_at, rng.randint(1, 4))
    plan.chain.append((Stage.ENGAGING, engaging_at))
    mode: Stage | None = plan.stage if plan.stage in (Stage.ACTIVE, Stage.INDIRECT) else None
    if plan.stage is Stage.CLOSED:
        mode = _mode_before_closure(rng, plan.closure_reason)
    if mode is not None:
        plan.chain.append((mode, _working_time_after(rng, engaging_at, rng.randint(10, 35))))


def _mode_before_closure(rng: random.Random, reason: ClosureReason | None) -> Stage:
    if reason is ClosureReason.DISENGAGED:  # engaged for a while, then stopped
        return Stage.ACTIVE
    share_active = 0.7 if reason is ClosureReason.COMPLETED else 0.5
    return Stage.ACTIVE if rng.random() < share_active else Stage.INDIRECT


def _plan_closure(plan: _CasePlan, rng: random.Random, now: datetime) -> None:
    allocated_at = plan.at(Stage.ALLOCATED)
    assert allocated_at is not None
    work_on = plan.chain[-1][1].date()
    latest = now.date() - timedelta(days=4)
    if plan.closure_reason is ClosureReason.COMPLETED:  # closes close to its planned end
        months = rng.randint(3, min(12, (latest - allocated_at.date()).days // 31))
        plan.planned_end = _months_after(allocated_at, months)
        closed_on = plan.planned_end - timedelta(days=rng.randint(0, 10))
    else:  # ends early, some time after the work began
        plan.planned_end = _months_after(allocated_at, rng.randint(3, 12))
        earliest = work_on + timedelta(days=14)
        closed_on = _day_between(rng, earliest, min(latest, plan.planned_end))
    closed_on = max(min(closed_on, latest), work_on + timedelta(days=7))
    plan.chain.append((Stage.CLOSED, _working_time(rng, closed_on, forward=True)))
    plan.outcome_score = rng.random() + _OUTCOME_BONUS[plan.closure_reason or ClosureReason.OTHER]


def _plan_outcomes(plans: Sequence[_CasePlan]) -> None:
    """Risk and abuse at closure, by quota so the shares match the evaluation's shape.

    The closed cases with the best outcome scores get the reductions; the worst keep the abuse.
    """
    closed = sorted(
        (plan for plan in plans if plan.stage is Stage.CLOSED),
        key=lambda plan: plan.outcome_score,
        reverse=True,
    )
    reduced = round(_RISK_REDUCED_SHARE * len(closed))
    for rank, plan in enumerate(closed):
        plan.risk_reduced = rank < reduced
        plan.closure_abuse = {}
    for kind, drop in _ABUSE_DROP.items():
        users = [plan for plan in closed if plan.start_abuse and plan.start_abuse[kind]]
        persisting = users[len(users) - round((1 - drop) * len(users)) :]
        for plan in closed:
            assert plan.closure_abuse is not None
            plan.closure_abuse[kind] = plan in persisting


# --- Seeding, one table (or a few close ones) per step ---------------------------------------


@dataclass
class _Seeding:
    session: AsyncSession
    rng: random.Random
    now: datetime
    zone: ZoneInfo  # the service's (Settings.timezone): whose "today" the Today screen shows
    sites: dict[str, Site] = field(default_factory=dict)
    staff: dict[str, User] = field(default_factory=dict)
    plans: list[_CasePlan] = field(default_factory=list)
    appointments: dict[int, list[Appointment]] = field(default_factory=dict)  # by plan index
    counts: Counter[str] = field(default_factory=Counter)
    leaves: list[Base] = field(default_factory=list)

    def add(self, rows: Sequence[Base]) -> None:
        """Rows other rows refer to: the session inserts them and fetches their keys."""
        self.session.add_all(rows)
        self.count(rows)

    def add_leaves(self, rows: Sequence[Base]) -> None:
        """Rows nothing refers to: inserted in bulk at the end by ``_insert_leaves``."""
        self.leaves.extend(rows)
        self.count(rows)

    def count(self, rows: Sequence[Base]) -> None:
        for row in rows:
            self.counts[row.__tablename__] += 1

    def user(self, role: Role) -> User:
        return self.staff[_holder(role).key]

    def case_managers(self, site_code: str) -> list[User]:
        return [
            self.staff[m.key]
            for m in STAFF
            if m.role is Role.CASE_MANAGER and site_code in m.site_codes
        ]

    def capped(self, moment: datetime) -> datetime:
        """``moment``, or now if that is still to come: nothing is recorded in the future."""
        return min(moment, self.now)


@cache
def _demo_password_hash() -> str:
    """One argon2 hash (slow by design) shared by every demo account and every seeding."""
    return hash_password(DEMO_PASSWORD)


async def _seed_staff(s: _Seeding) -> None:
    s.sites = {code: Site(code=code, name=name, created_at=s.now) for code, name in SITES}
    s.add(list(s.sites.values()))
    password_hash = await asyncio.to_thread(_demo_password_hash)
    for member in STAFF:
        user = User(
            email=member.email,
            display_name=member.display_name,
            locale=member.locale,
            password_hash=password_hash,
            is_active=True,
            created_at=s.now,
            totp_secret=demo_totp_secret(member.email),
            totp_enrolled_at=s.now,
        )
        user.memberships = [
            Membership(site=s.sites[code], role=member.role, agency=member.agency)
            for code in member.site_codes
        ]
        s.staff[member.key] = user
        s.add([user, *user.memberships])
    await s.session.flush()


async def _seed_cases(s: _Seeding) -> None:
    for code, _name in SITES:
        site_plans = _plan_site(s.rng, code, s.now)
        _allocate(s, site_plans)
        s.plans.extend(site_plans)
    _plan_outcomes(s.plans)
    for number, plan in enumerate(s.plans):
        plan.case = _case_row(s, plan, number)
        s.add([plan.case])
    await s.session.flush()
    s.add_leaves([change for plan in s.plans for change in _stage_changes(s, plan)])


def _allocate(s: _Seeding, plans: list[_CasePlan]) -> None:
    """Share each stage's cases between the site's case managers, so every caseload is mixed."""
    managers = s.case_managers(plans[0].site_code)
    per_stage: Counter[Stage] = Counter()
    for plan in plans:
        if plan.stage is not Stage.REFERRED:
            plan.manager = managers[per_stage[plan.stage] % len(managers)]
            per_stage[plan.stage] += 1


def _case_row(s: _Seeding, plan: _CasePlan, number: int) -> Case:
    codename = _CODENAMES[number % len(_CODENAMES)]
    if number >= len(_CODENAMES):
        codename += f" {number // len(_CODENAMES) + 1}"
    age_days = s.rng.randint(20 * 365, 55 * 365)
    start, closure = plan.start_abuse or {}, plan.closure_abuse or {}
    # The folded keys the referral duplicate check looks up (core.services.cases sets them on
    # every case it saves; the demo's rows are built here).
    folded = fold_name(f"Demo Subject {codename}")
    return Case(
        site=s.sites[plan.site_code],
        reference=plan.reference,
        subject_name=f"Demo Subject {codename}",
        subject_name_key=folded,
        subject_surname_key=surname_key(folded) if folded else None,
        subject_date_of_birth=s.now.date() - timedelta(days=age_days),
        subject_address=f"{s.rng.randint(1, 99)} Example Street, Testville",
        referral_date=plan.referral_at.date(),
        referral_source=plan.referral_source,
        referral_reason=plan.referral_reason,
        dash_score=plan.dash_score,
        stage=plan.stage,
        stage_changed_at=plan.chain[-1][1],
        case_manager_id=plan.manager.id if plan.manager else None,
        allocated_at=plan.at(Stage.ALLOCATED),
        planned_end=plan.planned_end,
        closed_at=plan.closed_at,
        closure_reason=plan.closure_reason,
        start_physical=start.get(AbuseType.PHYSICAL),
        start_sexual=start.get(AbuseType.SEXUAL),
        start_harassment_stalking=start.get(AbuseType.HARASSMENT_STALKING),
        start_jealous_controlling=start.get(AbuseType.JEALOUS_CONTROLLING),
        closure_physical=closure.get(AbuseType.PHYSICAL),
        closure_sexual=closure.get(AbuseType.SEXUAL),
        closure_harassment_stalking=closure.get(AbuseType.HARASSMENT_STALKING),
        closure_jealous_controlling=closure.get(AbuseType.JEALOUS_CONTROLLING),
        created_at=plan.referral_at,
        updated_at=plan.chain[-1][1],
    )


def _stage_changes(s: _Seeding, plan: _CasePlan) -> list[CaseStageChange]:
    """The referral, allocation by the service manager, then moves by the case manager."""
    changes = []
    previous: Stage | None = None
    for stage, moment in plan.chain:
        by = s.user(Role.SERVICE_MANAGER) if stage in (Stage.REFERRED, Stage.ALLOCATED) else None
        changes.append(
            CaseStageChange(
                case_id=plan.row.id,
                from_stage=previous,
                to_stage=stage,
                closure_reason=plan.closure_reason if stage is Stage.CLOSED else None,
                changed_at=moment,
                effective_on=moment.date(),
                episode=1,  # bulk-inserted: the column's default is not applied
                changed_by_id=(by or plan.manager or s.user(Role.SERVICE_MANAGER)).id,
            )
        )
        previous = stage
    return changes


async def _seed_people(s: _Seeding) -> None:
    for plan in s.plans:
        victims = 1 if plan.referral_reason is ReferralReason.HIGH_RISK else s.rng.randint(2, 3)
        children = s.rng.choice((0, 0, 1, 1, 2, 3))
        s.add_leaves(
            [_linked_person(s, plan, PersonKind.VICTIM, n) for n in range(victims)]
            + [_linked_person(s, plan, PersonKind.CHILD, n) for n in range(children)]
        )


_SAFETY_NOTE = "Fictional demo person. Safety plan agreed with the IDVA."


def _linked_person(s: _Seeding, plan: _CasePlan, kind: PersonKind, n: int) -> LinkedPerson:
    is_victim = kind is PersonKind.VICTIM
    years = s.rng.randint(18, 55) if is_victim else s.rng.randint(0, 16)
    relationship = ("partner", "ex-partner") if is_victim else ("child", "stepchild")
    return LinkedPerson(
        case_id=plan.row.id,
        kind=kind,
        name=f"Demo {'Victim' if is_victim else 'Child'} {_ORDINALS[n]}",
        date_of_birth=s.now.date() - timedelta(days=years * 365 + s.rng.randint(0, 364)),
        address=f"Flat {s.rng.randint(1, 40)}, Sample Road, Nowhere",
        contact=f"07700 900{s.rng.randint(0, 999):03d}" if is_victim else None,
        safety_notes=_SAFETY_NOTE if is_victim else None,
        relationship_to_subject=s.rng.choice(relationship),
        created_at=plan.referral_at + timedelta(hours=1),
        updated_at=plan.referral_at + timedelta(hours=1),  # bulk-inserted: no column default
    )


# --- Risk, MARAC and police incidents ------------------------------------------------------

_LEVELS = (RiskLevel.STANDARD, RiskLevel.MEDIUM, RiskLevel.HIGH)


def _level_for(rng: random.Random, dash_score: int | None) -> RiskLevel:
    if dash_score is None:
        return rng.choice((RiskLevel.MEDIUM, RiskLevel.HIGH))
    if dash_score >= 14:
        return RiskLevel.HIGH
    return RiskLevel.MEDIUM if dash_score >= 10 else RiskLevel.STANDARD


def _shifted(level: RiskLevel, steps: int) -> RiskLevel:
    return _LEVELS[max(0, min(len(_LEVELS) - 1, _LEVELS.index(level) + steps))]


async def _seed_risk(s: _Seeding) -> None:
    for plan in s.plans:
        s.add_leaves(_risk_assessments(s, plan))
        s.add_leaves(_marac_appearances(s, plan))
        s.add_leaves(_police_incidents(s, plan))


def _risk_assessments(s: _Seeding, plan: _CasePlan) -> list[RiskAssessment]:
    """IDVA's DASH at referral, case manager reviews each quarter, IDVA's view at closure."""
    idva, manager = s.user(Role.IDVA), plan.manager
    initial = _level_for(s.rng, plan.dash_score)
    rows = [_assessment(plan, plan.referral_at, initial, "Initial DASH at referral", idva)]
    rows[0].dash_score = plan.dash_score
    final = _final_level(s.rng, initial, plan.risk_reduced) if plan.closed_at else None
    allocated_at, end = plan.at(Stage.ALLOCATED), plan.closed_at or s.now
    level, review = initial, end
    if allocated_at and manager:
        review = allocated_at + timedelta(days=s.rng.randint(75, 95))
    while manager and review < end - timedelta(days=7):
        level = _review_level(s.rng, plan, level, final, review)
        rows.append(_assessment(plan, review, level, "Quarterly review", manager))
        review += timedelta(days=s.rng.randint(80, 100))
    if plan.closed_at and final:
        before_closure = plan.closed_at - timedelta(hours=1)
        rows.append(_assessment(plan, before_closure, final, "Review at closure", idva))
    return rows


def _assessment(
    plan: _CasePlan, moment: datetime, level: RiskLevel, reason: str, by: User
) -> RiskAssessment:
    is_idva = by.email == _holder(Role.IDVA).email
    return RiskAssessment(
        case_id=plan.row.id,
        assessed_at=moment,
        level=level,
        reason=reason,
        assessed_by_id=by.id,
        assessor_role=Role.IDVA if is_idva else Role.CASE_MANAGER,
    )


def _final_level(rng: random.Random, initial: RiskLevel, reduced: bool | None) -> RiskLevel:
    if reduced:
        return _shifted(initial, -rng.choice((1, 1, 2)))
    return _shifted(initial, 1) if rng.random() < 0.25 else initial


def _review_level(
    rng: random.Random, plan: _CasePlan, level: RiskLevel, final: RiskLevel | None, at: datetime
) -> RiskLevel:
    """Closed cases drift towards their final level; open active work lowers risk now and then."""
    if final is not None and plan.closed_at:
        halfway = plan.referral_at + (plan.closed_at - plan.referral_at) / 2
        return final if at >= halfway else level
    if plan.stage_at(at) is Stage.ACTIVE and rng.random() < 0.35:
        return _shifted(level, -1)
    return level


def _marac_appearances(s: _Seeding, plan: _CasePlan) -> list[MaracAppearance]:
    """More in the six months before allocation than in the six months after closure."""
    before_end = (plan.at(Stage.ALLOCATED) or plan.referral_at).date() - timedelta(days=1)
    count = s.rng.randint(0, 2) if plan.referral_reason is ReferralReason.HIGH_RISK else 0
    window = (before_end - timedelta(days=182), before_end)
    days = [_day_between(s.rng, *window) for _ in range(count)]
    if plan.referral_source is ReferralSource.MARAC:  # the hearing that referred them
        days.append(plan.referral_at.date() - timedelta(days=s.rng.randint(0, 10)))
    after = _after_closure(s, plan)
    if after and s.rng.random() < (0.1 if plan.risk_reduced else 0.5):
        days.append(_day_between(s.rng, *after))
    recorder = s.user(Role.SERVICE_MANAGER).id
    return [MaracAppearance(case_id=plan.row.id, heard_on=d, recorded_by_id=recorder) for d in days]


def _police_incidents(s: _Seeding, plan: _CasePlan) -> list[PoliceIncident]:
    before_end = (plan.at(Stage.ALLOCATED) or plan.referral_at).date() - timedelta(days=1)
    serial = plan.referral_reason is ReferralReason.SERIAL
    before = s.rng.randint(2, 6) if serial else s.rng.randint(1, 4)
    window = (before_end - timedelta(days=182), before_end)
    days = [_day_between(s.rng, *window) for _ in range(before)]
    allocated_at = plan.at(Stage.ALLOCATED)
    if allocated_at and s.rng.random() < 0.35:  # one during the intervention
        days.append(_day_between(s.rng, allocated_at.date(), (plan.closed_at or s.now).date()))
    after = _after_closure(s, plan)
    if after:
        count = s.rng.choice((0, 0, 0, 1, 1, 2) if plan.risk_reduced else (1, 2, 3))
        days += [_day_between(s.rng, *after) for _ in range(count)]
    return [_incident(s, plan, day) for day in days]


def _incident(s: _Seeding, plan: _CasePlan, day: date) -> PoliceIncident:
    return PoliceIncident(
        case_id=plan.row.id,
        occurred_on=day,
        police_reference=f"DEMO-{day.year}-{s.rng.randint(10000, 99999)}",
        recorded_by_id=s.user(Role.POLICE_FELLOW).id,
    )


def _after_closure(s: _Seeding, plan: _CasePlan) -> tuple[date, date] | None:
    """The six months after closure, as much of them as has passed."""
    if plan.closed_at is None:
        return None
    first = plan.closed_at.date() + timedelta(days=1)
    last = min(plan.closed_at.date() + timedelta(days=182), s.now.date())
    return (first, last) if first <= last else None


# --- Appointments -----------------------------------------------------------------------------

_APPOINTMENT_GAP_DAYS = {Stage.ENGAGING: (4, 9), Stage.ACTIVE: (6, 13), Stage.INDIRECT: (14, 28)}
_PAST_STATUS_WEIGHTS = {  # attended, did not attend, cancelled, rescheduled
    Stage.ENGAGING: (30, 50, 10, 10),
    Stage.ACTIVE: (74, 12, 7, 7),
}
_NEVER_ENGAGES_WEIGHTS = (0, 65, 15, 20)  # while engaging, for cases that never engage
_PLACES = (
    PlaceKind.OFFICE,
    PlaceKind.COMMUNITY_VENUE,
    PlaceKind.HOME_VISIT,
    PlaceKind.PHONE,
    PlaceKind.VIDEO,
)
_OUTCOMES = {
    AppointmentStatus.ATTENDED: ("Session held as planned.", "Attended; plan reviewed."),
    AppointmentStatus.DID_NOT_ATTEND: ("Did not attend; follow-up call made.",),
    AppointmentStatus.CANCELLED: ("Cancelled by the service user.", "Cancelled: staff sickness."),
    AppointmentStatus.RESCHEDULED: ("Moved at the service user's request.",),
}
_UPCOMING_DAYS = 14


async def _seed_appointments(s: _Seeding) -> None:
    reschedules: list[tuple[Appointment, Appointment]] = []
    for index, plan in enumerate(s.plans):
        s.appointments[index] = _appointment_series(s, plan, reschedules)
    _todays_appointments(s)
    for rows in s.appointments.values():
        s.add(rows)
    await s.session.flush()
    for moved, replacement in reschedules:
        moved.rescheduled_to_id = replacement.id


def _appointment_series(
    s: _Seeding, plan: _CasePlan, reschedules: list[tuple[Appointment, Appointment]]
) -> list[Appointment]:
    """Offered sessions: chasing while engaging, weekly-ish while active, none in indirect work."""
    if plan.stage is Stage.REFERRED:
        return []
    soon = s.now + timedelta(days=_UPCOMING_DAYS)
    if plan.stage is Stage.ALLOCATED:  # the first session is booked
        day = _day_between(s.rng, s.now.date() + timedelta(days=2), soon.date())
        starts_at = _working_time(s.rng, day, forward=True)
        return [_appointment(s, plan, starts_at, Stage.ENGAGING)]
    start, end = plan.at(Stage.ENGAGING), plan.closed_at or soon
    assert start is not None
    rows: list[Appointment] = []
    moment = start + timedelta(days=s.rng.randint(2, 5))
    while moment < end:
        phase = plan.stage_at(moment)
        slot = _working_time(s.rng, moment.date())
        if phase in _PAST_STATUS_WEIGHTS and start < slot < end:
            rows += _appointment_with_replacement(s, plan, slot, phase, end, reschedules)
        moment += timedelta(days=s.rng.randint(*_APPOINTMENT_GAP_DAYS[phase]))
    return rows


def _appointment_with_replacement(
    s: _Seeding,
    plan: _CasePlan,
    starts_at: datetime,
    phase: Stage,
    end: datetime,
    reschedules: list[tuple[Appointment, Appointment]],
) -> list[Appointment]:
    first = _appointment(s, plan, starts_at, phase)
    if first.status is not AppointmentStatus.RESCHEDULED:
        return [first]
    later = _working_time(s.rng, starts_at.date() + timedelta(days=s.rng.randint(3, 6)))
    if later >= end:
        first.status = AppointmentStatus.CANCELLED
        return [first]
    replacement = _appointment(s, plan, later, phase, may_move=False)
    reschedules.append((first, replacement))
    return [first, replacement]


def _appointment(
    s: _Seeding,
    plan: _CasePlan,
    starts_at: datetime,
    phase: Stage,
    *,
    may_move: bool = True,
    status: AppointmentStatus | None = None,
) -> Appointment:
    place = s.rng.choices(_PLACES, weights=(40, 20, 15, 15, 10))[0]
    minutes = {PlaceKind.PHONE: 30, PlaceKind.VIDEO: 45}.get(place, s.rng.choice((45, 60, 90)))
    status = status or _appointment_status(s, plan, starts_at, phase, may_move)
    allocated_at = plan.at(Stage.ALLOCATED) or plan.referral_at
    booked = starts_at - timedelta(days=s.rng.randint(2, 10))
    return Appointment(
        case_id=plan.row.id,
        staff_id=plan.manager_id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        place_kind=place,
        status=status,
        outcome=s.rng.choice(_OUTCOMES[status]) if status in _OUTCOMES else None,
        created_at=s.capped(max(booked, allocated_at)),
    )


def _appointment_status(
    s: _Seeding, plan: _CasePlan, starts_at: datetime, phase: Stage, may_move: bool
) -> AppointmentStatus:
    if starts_at > s.now:
        return AppointmentStatus.SCHEDULED
    engages = plan.engages or phase is not Stage.ENGAGING
    weights = _PAST_STATUS_WEIGHTS[phase] if engages else _NEVER_ENGAGES_WEIGHTS
    attended, missed, cancelled, moved = weights
    statuses = [
        AppointmentStatus.ATTENDED,
        AppointmentStatus.DID_NOT_ATTEND,
        AppointmentStatus.CANCELLED,
        AppointmentStatus.RESCHEDULED,
    ]
    weights = (attended, missed, cancelled, moved if may_move else 0)
    return s.rng.choices(statuses, weights=weights)[0]


def _todays_appointments(s: _Seeding) -> None:
    """Two sessions today for every case manager, so the phone's first screen is never empty.

    At 10:00 and 14:00 local time on today's local date (what the Today screen shows),
    scheduled whatever the time of day: one already past is awaiting its outcome, as a case
    manager between visits would have it. (Seeded after 14:00 they used to get an outcome and
    drop off the Today screen, and seeded late on a summer evening they fell on yesterday.)"""
    managers = [m for m in STAFF if m.role is Role.CASE_MANAGER]
    today = local_date(s.now, s.zone)
    for offset, member in enumerate(managers):
        working = [
            index
            for index, plan in enumerate(s.plans)
            if plan.manager is s.staff[member.key] and plan.stage in _PAST_STATUS_WEIGHTS
        ]
        for hour, index in zip((10, 14), s.rng.sample(working, 2), strict=True):
            plan = s.plans[index]
            starts_at = local_moment(today, time(hour, 15 * offset), s.zone).astimezone(UTC)
            appointment = _appointment(
                s, plan, starts_at, plan.stage, status=AppointmentStatus.SCHEDULED
            )
            s.appointments[index].append(appointment)


# --- Contacts -------------------------------------------------------------------------------

_TOPICS: dict[str, WorkCategory | None] = {
    "introduction_to_drive": None,
    "attitudes_and_beliefs": WorkCategory.BEHAVIOUR_CHANGE,
    "emotional_regulation": WorkCategory.BEHAVIOUR_CHANGE,
    "healthy_relationships": WorkCategory.BEHAVIOUR_CHANGE,
    "impact_on_children": WorkCategory.BEHAVIOUR_CHANGE,
    "accountability": WorkCategory.BEHAVIOUR_CHANGE,
    "housing": WorkCategory.SUPPORT,
    "substance_misuse": WorkCategory.SUPPORT,
    "mental_health": WorkCategory.SUPPORT,
    "employment_benefits": WorkCategory.SUPPORT,
    "parenting": WorkCategory.SUPPORT,
    "bail_licence_conditions": WorkCategory.DISRUPTION,
    "court_orders": WorkCategory.DISRUPTION,
    "consequences_of_abuse": WorkCategory.DISRUPTION,
}
_TOPIC_NOTES = {
    "introduction_to_drive": "Explained what Drive offers and agreed to meet again.",
    "attitudes_and_beliefs": "Challenged beliefs about partners and control; some reflection.",
    "emotional_regulation": "Worked on spotting early signs of anger and a time-out plan.",
    "healthy_relationships": "Talked through a recent argument and respectful alternatives.",
    "impact_on_children": "Explored how the children experience the abuse at home.",
    "accountability": "Discussed the recent incident; minimised at first, then accepted some.",
    "housing": "Helped with a housing application and the next steps.",
    "substance_misuse": "Discussed alcohol use; agreed to an assessment with the local service.",
    "mental_health": "Low mood reported; encouraged a GP appointment.",
    "employment_benefits": "Looked at a benefits claim and a simple budget.",
    "parenting": "Discussed contact arrangements and the parenting course.",
    "bail_licence_conditions": "Went through bail conditions and what a breach would mean.",
    "court_orders": "Explained the non-molestation order and the consequences of a breach.",
    "consequences_of_abuse": "Letter setting out the consequences of further abuse.",
}
_TYPE_NOTES = {
    ContactType.ATTEMPT_NO_ANSWER: ("Called, no answer; voicemail left.", "Visited, no one in."),
    ContactType.TEXT: ("Text sent to confirm the next appointment.",),
    ContactType.LETTER: ("Letter sent offering an appointment.",),
}
_NEXT_STEPS = (
    "Next session booked.",
    "Check in by phone next week.",
    "Send details of local support.",
)
_SESSION_WEIGHTS = {  # which category a topic in a 1-2-1 session comes from
    WorkCategory.BEHAVIOUR_CHANGE: 50,
    WorkCategory.SUPPORT: 35,
    WorkCategory.DISRUPTION: 15,
}
_BETWEEN_SESSIONS = {  # contacts between appointments: (types, weights, gap in days)
    Stage.ENGAGING: (
        (ContactType.ATTEMPT_NO_ANSWER, ContactType.TEXT, ContactType.LETTER, ContactType.PHONE),
        (45, 25, 15, 15),
        (3, 7),
    ),
    Stage.ACTIVE: (
        (ContactType.PHONE, ContactType.TEXT, ContactType.ATTEMPT_NO_ANSWER, ContactType.VIDEO),
        (45, 30, 15, 10),
        (9, 18),
    ),
    Stage.INDIRECT: (
        (ContactType.LETTER, ContactType.ATTEMPT_NO_ANSWER, ContactType.TEXT),
        (50, 30, 20),
        (20, 40),
    ),
}
_CONTACT_FOR_PLACE = {
    PlaceKind.HOME_VISIT: ContactType.HOME_VISIT,
    PlaceKind.PHONE: ContactType.PHONE,
    PlaceKind.VIDEO: ContactType.VIDEO,
}
_MINUTES = {
    ContactType.PHONE: (5, 30),
    ContactType.VIDEO: (30, 60),
    ContactType.TEXT: (2, 2),
    ContactType.LETTER: (10, 15),
    ContactType.ATTEMPT_NO_ANSWER: (2, 5),
}


async def _seed_contacts(s: _Seeding) -> None:
    for index, plan in enumerate(s.plans):
        if plan.work_mode is None:
            continue
        from_sessions = [_contact_for_appointment(s, plan, a) for a in s.appointments[index]]
        s.add_leaves([c for c in from_sessions if c] + _contacts_between_sessions(s, plan))


def _contact_for_appointment(
    s: _Seeding, plan: _CasePlan, appointment: Appointment
) -> Contact | None:
    """An attended session is a contact; a missed one is often followed by a call nobody answers."""
    phase = plan.stage_at(appointment.starts_at)
    if appointment.status is AppointmentStatus.ATTENDED:
        kind = _CONTACT_FOR_PLACE.get(appointment.place_kind, ContactType.FACE_TO_FACE)
        minutes = (appointment.ends_at - appointment.starts_at).seconds // 60
        return _contact(s, plan, appointment.starts_at, kind, phase, minutes - s.rng.randint(0, 10))
    later = appointment.starts_at + timedelta(minutes=20)
    if appointment.status is AppointmentStatus.DID_NOT_ATTEND and later <= s.now:
        if s.rng.random() < 0.6:
            return _contact(s, plan, later, ContactType.ATTEMPT_NO_ANSWER, phase)
    return None


def _contacts_between_sessions(s: _Seeding, plan: _CasePlan) -> list[Contact]:
    """The first attempt (which began engagement), then calls, texts and letters until the end."""
    start = plan.at(Stage.ENGAGING)
    assert start is not None
    moment = start
    first_kind = s.rng.choice((ContactType.ATTEMPT_NO_ANSWER, ContactType.LETTER))
    contacts = [_contact(s, plan, start, first_kind, Stage.ENGAGING)]
    end = min(plan.closed_at or s.now, s.now)
    while True:
        phase = plan.stage_at(moment)
        kinds, weights, (low, high) = _BETWEEN_SESSIONS[phase]
        moment += timedelta(days=s.rng.randint(low, high))
        if moment >= end:
            return contacts
        occurred_at = _working_time(s.rng, moment.date())
        if start < occurred_at < end:
            kind = s.rng.choices(kinds, weights=weights)[0]
            if kind is ContactType.PHONE and not plan.engages:
                kind = ContactType.ATTEMPT_NO_ANSWER
            contacts.append(_contact(s, plan, occurred_at, kind, plan.stage_at(occurred_at)))


def _contact(
    s: _Seeding,
    plan: _CasePlan,
    occurred_at: datetime,
    kind: ContactType,
    phase: Stage,
    minutes: int | None = None,
) -> Contact:
    topics = _topics(s.rng, kind, phase)
    categories = {_TOPICS[topic] for topic in topics}
    is_direct = kind not in _TYPE_NOTES
    if minutes is None:
        minutes = s.rng.randint(*_MINUTES.get(kind, (45, 90)))
    return Contact(
        case_id=plan.row.id,
        staff_id=plan.manager_id,
        occurred_at=occurred_at,
        contact_type=kind,
        duration_minutes=max(1, minutes),
        is_disruption=WorkCategory.DISRUPTION in categories,
        is_support=WorkCategory.SUPPORT in categories,
        is_behaviour_change=WorkCategory.BEHAVIOUR_CHANGE in categories,
        topics=topics,
        notes=_TOPIC_NOTES[topics[0]] if topics else s.rng.choice(_TYPE_NOTES[kind]),
        next_steps=s.rng.choice(_NEXT_STEPS) if is_direct and s.rng.random() < 0.5 else None,
        created_at=s.capped(occurred_at + timedelta(minutes=s.rng.randint(15, 240))),
    )


def _topics(rng: random.Random, kind: ContactType, phase: Stage) -> list[str]:
    """What was covered: nothing for attempts, a warning in indirect letters, work in sessions."""
    if kind in (ContactType.ATTEMPT_NO_ANSWER, ContactType.TEXT):
        return []
    if kind is ContactType.LETTER:
        return ["consequences_of_abuse"] if phase is Stage.INDIRECT else []
    if phase is Stage.ENGAGING:
        return ["introduction_to_drive"]
    count = 1 if kind is ContactType.PHONE else rng.randint(1, 3)
    topics: list[str] = []
    for _ in range(count):
        category = rng.choices(list(_SESSION_WEIGHTS), weights=list(_SESSION_WEIGHTS.values()))[0]
        topic = rng.choice([t for t, c in _TOPICS.items() if c is category])
        if topic not in topics:
            topics.append(topic)
    return topics


# --- Interventions ------------------------------------------------------------------------

_KIND_AGENCY = {
    "police_intelligence": Agency.POLICE,
    "dvpn_dvpo": Agency.POLICE,
    "non_molestation_order": Agency.IDVA_SERVICE,
    "restraining_order": Agency.POLICE,
    "bail_licence_conditions": Agency.PROBATION,
    "clares_law_disclosure": Agency.POLICE,
    "arrest_or_charge": Agency.POLICE,
    "housing_enforcement": Agency.HOUSING,
    "mappa_referral": Agency.PROBATION,
    "housing": Agency.HOUSING,
    "substance_misuse": Agency.SUBSTANCE_MISUSE,
    "mental_health": Agency.MENTAL_HEALTH,
    "employment_benefits": Agency.OTHER,
    "parenting": Agency.SOCIAL_CARE,
    "physical_health": Agency.HEALTH,
    "one_to_one_sessions": Agency.DRIVE,
    "accredited_programme_referral": Agency.PROBATION,
}
# By the furthest working stage: (fewest, most, weights of disruption, support, behaviour change)
_INTERVENTION_MIX = {
    Stage.ENGAGING: (0, 1, (80, 20, 0)),
    Stage.ACTIVE: (3, 5, (30, 40, 30)),
    Stage.INDIRECT: (2, 4, (80, 20, 0)),
}
_OPEN_STATUSES = (
    (InterventionStatus.OFFERED, 20),
    (InterventionStatus.STARTED, 45),
    (InterventionStatus.COMPLETED, 28),
    (InterventionStatus.DECLINED, 7),
)
_CLOSED_STATUSES = (
    (InterventionStatus.COMPLETED, 60),
    (InterventionStatus.DECLINED, 25),
    (InterventionStatus.ENDED, 15),
)
_CATEGORIES = (WorkCategory.DISRUPTION, WorkCategory.SUPPORT, WorkCategory.BEHAVIOUR_CHANGE)


async def _seed_interventions(s: _Seeding) -> None:
    active = select(InterventionKind).where(InterventionKind.is_active)
    kinds = (await s.session.scalars(active.order_by(InterventionKind.code))).all()
    by_category = {c: [k for k in kinds if k.category is c] for c in _CATEGORIES}
    for plan in s.plans:
        if plan.work_mode is not None:
            kinds_picked = _pick_kinds(s, plan, by_category)
            s.add_leaves([_intervention(s, plan, kind) for kind in kinds_picked])


def _pick_kinds(
    s: _Seeding, plan: _CasePlan, by_category: dict[WorkCategory, list[InterventionKind]]
) -> list[InterventionKind]:
    assert plan.work_mode is not None
    fewest, most, weights = _INTERVENTION_MIX[plan.work_mode]
    picked: list[InterventionKind] = []
    for _ in range(s.rng.randint(fewest, most)):
        category = s.rng.choices(_CATEGORIES, weights=weights)[0]
        choices = [kind for kind in by_category[category] if kind not in picked]
        if choices:
            picked.append(s.rng.choice(choices))
    return picked


def _intervention(s: _Seeding, plan: _CasePlan, kind: InterventionKind) -> Intervention:
    first = plan.at(Stage.ENGAGING)
    assert first is not None
    last = (plan.closed_at or s.now).date()
    agency = _KIND_AGENCY.get(kind.code, Agency.DRIVE)
    statuses, weights = zip(*(_CLOSED_STATUSES if plan.closed_at else _OPEN_STATUSES), strict=True)
    status = s.rng.choices(statuses, weights=weights)[0]
    started = _day_between(s.rng, first.date(), last)
    finished = status in FINISHED_INTERVENTION_STATUSES
    recorder = s.user(Role.POLICE_FELLOW) if agency is Agency.POLICE else plan.manager
    return Intervention(
        case_id=plan.row.id,
        kind_id=kind.id,
        agency=agency,
        status=status,
        started_on=None if status is InterventionStatus.OFFERED else started,
        ended_on=_day_between(s.rng, started, last) if finished else None,
        recorded_by_id=recorder.id if recorder else None,
        created_at=s.capped(max(first, _working_time(s.rng, started))),
    )


# --- Panels -------------------------------------------------------------------------------

_PANEL_WEEKDAY = {"HER": 1, "WOR": 3}  # Tuesdays and Thursdays
_PANEL_PLACE = {
    "HER": "Demo Room 1, 1 Example Street, Testville",
    "WOR": "Demo Room 2, 2 Example Street, Testville",
}
_PANEL_EVERY = timedelta(weeks=4)
_ACTION_AGENCIES = {
    Agency.POLICE: 30,
    Agency.PROBATION: 20,
    Agency.DRIVE: 15,
    Agency.IDVA_SERVICE: 10,
    Agency.HOUSING: 10,
    Agency.SOCIAL_CARE: 8,
    Agency.HEALTH: 4,
    Agency.SUBSTANCE_MISUSE: 3,
}
_ACTION_DESCRIPTIONS = {
    Agency.POLICE: (
        "Share recent intelligence and call-out history with the case manager.",
        "Consider a DVPN if a further incident is reported.",
    ),
    Agency.PROBATION: (
        "Review licence conditions and report back to the panel.",
        "Check attendance on the accredited programme.",
    ),
    Agency.DRIVE: (
        "Case manager to offer a joint home visit with police.",
        "Case manager to update the support plan.",
    ),
    Agency.IDVA_SERVICE: (
        "Update the victim safety plan and confirm consent to share.",
        "Check progress of the non-molestation order application.",
    ),
    Agency.HOUSING: ("Check tenancy conditions and enforcement options.",),
    Agency.SOCIAL_CARE: ("Update children's services on the current risk.",),
    Agency.HEALTH: ("Liaise with the GP about alcohol and mental health support.",),
    Agency.SUBSTANCE_MISUSE: ("Offer an assessment appointment at the alcohol service.",),
}
_AGENCY_OWNER = {
    Agency.POLICE: Role.POLICE_FELLOW,
    Agency.PROBATION: Role.PANEL_MEMBER,
    Agency.IDVA_SERVICE: Role.IDVA,
}
_HELD_ATTENDANCE = (
    (AttendanceStatus.ATTENDED, 85),
    (AttendanceStatus.APOLOGIES, 10),
    (AttendanceStatus.ABSENT, 5),
)
_UPCOMING_ATTENDANCE = (
    (AttendanceStatus.INVITED, 35),
    (AttendanceStatus.ATTENDING, 50),
    (AttendanceStatus.APOLOGIES, 15),
)
_PANEL_ROLES = (
    Role.PANEL_COORDINATOR,
    Role.SERVICE_MANAGER,
    Role.POLICE_FELLOW,
    Role.IDVA,
    Role.PANEL_MEMBER,
)


async def _seed_panels(s: _Seeding) -> None:
    for code, _name in SITES:
        meetings = _panel_meetings(s, code)
        s.add(meetings)
        await s.session.flush()
        for meeting in meetings:
            discussed = _agenda(s, code, meeting)
            s.add_leaves(
                [
                    PanelAgendaItem(meeting_id=meeting.id, case_id=plan.row.id, position=position)
                    for position, plan in enumerate(discussed, start=1)
                ]
            )
            s.add_leaves(_attendance(s, code, meeting))
            if meeting.status is PanelMeetingStatus.HELD:
                s.add_leaves([a for plan in discussed for a in _panel_actions(s, meeting, plan)])


def _panel_meetings(s: _Seeding, code: str) -> list[PanelMeeting]:
    """Every four weeks over the past year, and the next two; one past panel was cancelled."""
    days_ahead = (_PANEL_WEEKDAY[code] - s.now.weekday()) % 7 or 7
    next_panel = datetime.combine(s.now.date() + timedelta(days=days_ahead), time(10), UTC)
    past: list[datetime] = []
    moment = next_panel - _PANEL_EVERY
    while moment >= s.now - timedelta(days=365):
        past.insert(0, moment)
        moment -= _PANEL_EVERY
    statuses = [PanelMeetingStatus.HELD] * len(past)
    statuses[s.rng.randrange(len(past) - 1)] = PanelMeetingStatus.CANCELLED  # never the last
    upcoming = [next_panel, next_panel + _PANEL_EVERY]
    statuses += [PanelMeetingStatus.SCHEDULED] * len(upcoming)
    return [
        _meeting(s, code, at, status) for at, status in zip(past + upcoming, statuses, strict=True)
    ]


def _meeting(s: _Seeding, code: str, at: datetime, status: PanelMeetingStatus) -> PanelMeeting:
    return PanelMeeting(
        site_id=s.sites[code].id,
        starts_at=at,
        place=_PANEL_PLACE[code],
        link=f"https://meet.example.invalid/drive-{code.lower()}",
        status=status,
        created_at=s.capped(at - _PANEL_EVERY),
    )


def _agenda(s: _Seeding, code: str, meeting: PanelMeeting) -> list[_CasePlan]:
    """Five to eight of the site's cases open on the day of the panel."""
    open_then = [
        plan
        for plan in s.plans
        if plan.site_code == code
        and plan.referral_at <= meeting.starts_at
        and (plan.closed_at is None or plan.closed_at >= meeting.starts_at)
    ]
    return s.rng.sample(open_then, min(len(open_then), s.rng.randint(5, 8)))


def _panel_actions(s: _Seeding, meeting: PanelMeeting, plan: _CasePlan) -> list[PanelAction]:
    actions = []
    for _ in range(s.rng.choice((0, 1, 1, 2))):
        agency = s.rng.choices(list(_ACTION_AGENCIES), weights=list(_ACTION_AGENCIES.values()))[0]
        held_on = meeting.starts_at.date()
        due = held_on + timedelta(days=s.rng.choice((14, 21, 28)))
        status, completed = _action_progress(s, held_on, due)
        actions.append(
            PanelAction(
                meeting_id=meeting.id,
                case_id=plan.row.id,
                description=s.rng.choice(_ACTION_DESCRIPTIONS[agency]),
                owner_agency=agency,
                owner_user_id=_action_owner(s, plan, agency),
                due_on=due,
                status=status,
                completed_on=completed,
                created_at=s.capped(meeting.starts_at + timedelta(hours=3)),
            )
        )
    return actions


def _action_owner(s: _Seeding, plan: _CasePlan, agency: Agency) -> int | None:
    if agency is Agency.DRIVE:
        return (plan.manager or s.user(Role.SERVICE_MANAGER)).id
    role = _AGENCY_OWNER.get(agency)
    return s.user(role).id if role else None


def _action_progress(
    s: _Seeding, held_on: date, due: date
) -> tuple[PanelActionStatus, date | None]:
    """Most actions done on time; some late, a few cancelled, some still open past their date."""
    today, roll = s.now.date(), s.rng.random()
    first_day = held_on + timedelta(days=1)
    if due >= today:  # not yet due: open, or done early
        if roll < 0.4 and first_day <= today:
            return PanelActionStatus.DONE, _day_between(s.rng, first_day, today)
        return PanelActionStatus.OPEN, None
    if roll < 0.68:
        return PanelActionStatus.DONE, _day_between(s.rng, first_day, due)
    late = due + timedelta(days=s.rng.randint(1, 21))
    if roll < 0.83 and late <= today:
        return PanelActionStatus.DONE, late
    if roll < 0.87:
        return PanelActionStatus.CANCELLED, None
    return PanelActionStatus.OPEN, None


def _attendance(s: _Seeding, code: str, meeting: PanelMeeting) -> list[PanelAttendance]:
    if meeting.status is PanelMeetingStatus.CANCELLED:
        return []
    held = meeting.status is PanelMeetingStatus.HELD
    people = [_holder(role) for role in _PANEL_ROLES]
    people += [m for m in STAFF if m.role is Role.CASE_MANAGER and code in m.site_codes]
    attendance = _HELD_ATTENDANCE if held else _UPCOMING_ATTENDANCE
    statuses = [status for status, _ in attendance]
    weights = [weight for _, weight in attendance]
    rows = []
    for member in people:
        status = s.rng.choices(statuses, weights=weights)[0]
        if member.role is Role.PANEL_COORDINATOR:  # runs the panel
            status = AttendanceStatus.ATTENDED if held else AttendanceStatus.ATTENDING
        rows.append(
            PanelAttendance(
                meeting_id=meeting.id,
                user_id=s.staff[member.key].id,
                agency=member.agency,
                status=status,
                updated_at=s.capped(meeting.starts_at - timedelta(days=s.rng.randint(1, 10))),
            )
        )
    return rows


async def _insert_leaves(s: _Seeding) -> None:
    """Bulk-insert the leaf rows, one statement per table.

    The unit of work fetches every new row's key, and SQLite cannot return keys in order for
    a batch, so it would insert thousands of contacts one at a time. Leaf rows need no key back.
    """
    by_model: dict[type[Base], list[dict[str, Any]]] = {}
    for row in s.leaves:
        columns = sa_inspect(type(row)).column_attrs
        values = {c.key: getattr(row, c.key) for c in columns if c.key != "id"}
        by_model.setdefault(type(row), []).append(values)
    for model, rows in by_model.items():
        await s.session.execute(insert(model).execution_options(render_nulls=True), rows)


# --- Entry points -------------------------------------------------------------------------

_STEPS: tuple[tuple[str, Callable[[_Seeding], Awaitable[None]]], ...] = (
    ("staff", _seed_staff),
    ("cases", _seed_cases),
    ("people", _seed_people),
    ("risk", _seed_risk),
    ("appointments", _seed_appointments),
    ("contacts", _seed_contacts),
    ("interventions", _seed_interventions),
    ("panels", _seed_panels),
)
PROGRESS_STEPS = tuple(name for name, _ in _STEPS) + ("saving", "done")


def _unit_of_work(target: Container | UnitOfWork) -> UnitOfWork:
    return target if isinstance(target, UnitOfWork) else target.uow()


async def _holds_data(session: AsyncSession) -> bool:
    for model in (Site, User, Case):
        if await session.scalar(select(model.id).limit(1)) is not None:
            return True
    return False


async def database_is_empty(target: Container | UnitOfWork) -> bool:
    """True when there are no sites, users or cases yet (reference data does not count)."""
    uow = _unit_of_work(target)
    async with uow:
        return not await _holds_data(uow.session)


async def seed_demo(
    target: Container | UnitOfWork,
    *,
    seed: int = 42,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo, in one transaction; raise ``DemoDataPresent`` if
    it holds data. ``now`` defaults to the injected clock; ``progress(step, done, total)`` is
    called as each step starts, with the step names in ``PROGRESS_STEPS``.
    """
    uow = _unit_of_work(target)
    moment = now or uow.clock.now()
    if moment.tzinfo is None:
        raise ValueError("seed_demo needs a timezone-aware now")
    moment = moment.astimezone(UTC)
    report = progress or (lambda _step, _done, _total: None)
    total = len(_STEPS) + 1
    async with uow:
        if await _holds_data(uow.session):
            raise DemoDataPresent()
        seeding = _Seeding(session=uow.session, rng=random.Random(seed), now=moment, zone=uow.zone)
        for done, (name, step) in enumerate(_STEPS):
            report(name, done, total)
            await step(seeding)
        report("saving", len(_STEPS), total)
        await _insert_leaves(seeding)
        await uow.commit()
    report("done", total, total)
    return DemoSummary(seed=seed, now=moment, counts=dict(seeding.counts), accounts=demo_accounts())


async def demo_totp_code(*, uow: UnitOfWork, email: str, demo_mode: bool) -> str:
    """The current authenticator code of a demo account, for ``drive-assist demo code``.

    Refused (``DemoModeOff``) unless demo mode is on, and (``NotADemoAccount``) for any account
    that is not a demo account still holding its public demo secret.
    """
    if not demo_mode:
        raise DemoModeOff()
    address = email.strip().lower()
    if address not in {account.email for account in demo_accounts()}:
        raise NotADemoAccount(email=address)
    async with uow:
        user = await uow.session.scalar(select(User).where(User.email == address))
        if user is None:
            raise NotFound(entity="users", id=address)
        if user.totp_secret != demo_totp_secret(address) or user.totp_enrolled_at is None:
            raise NotADemoAccount(email=address)
        return current_totp_code(user.totp_secret, uow.clock.now())
