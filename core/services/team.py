"""The service manager's team view: each case manager's open cases at a site, and the referrals
still waiting for one. Allocating is ``core.services.cases.allocate_case``.

Three queries for the team whatever the number of cases: the people, the open cases counted by
case manager and stage (current risk and recent contact worked out in the same statement), and
the contacts of the last 28 days counted by who logged them.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select

from core.clock import local_date
from core.enums import OPEN_STAGES, RiskLevel, Role, Stage
from core.models import Case, Contact, Membership, RiskAssessment, Site, User
from core.policy import Action, authorize, authorize_somewhere, sites_where
from core.rules import risk_level_for_dash
from core.schemas.actor import Actor
from core.schemas.team import (
    CaseManagerChoice,
    CaseManagerLoad,
    TeamPage,
    TeamSite,
    UnallocatedReferral,
)
from core.uow import UnitOfWork

RECENT_CONTACT_WINDOW = timedelta(days=28)
HIGH_DASH_SCORE = 14  # see core.rules.risk_level_for_dash
_OPEN_STAGES = sorted(OPEN_STAGES)


def _is_high_risk() -> ColumnElement[bool]:
    """The case's latest risk assessment is high; with none yet, its DASH score is."""
    latest_level = (
        select(RiskAssessment.level)
        .where(RiskAssessment.case_id == Case.id)
        .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    assessed = exists().where(RiskAssessment.case_id == Case.id)
    return or_(
        latest_level == RiskLevel.HIGH,
        and_(~assessed, Case.dash_score >= HIGH_DASH_SCORE),
    )


async def _team_caseloads(uow: UnitOfWork, actor: Actor, site_id: int) -> list[CaseManagerLoad]:
    """Every case manager at the site, and anyone else still holding open cases there, by name."""
    async with uow:
        authorize(actor, Action.TEAM_VIEW, site_id=site_id)
        since = uow.clock.now() - RECENT_CONTACT_WINDOW
        case_manager_here = exists().where(
            Membership.user_id == User.id,
            Membership.site_id == site_id,
            Membership.role == Role.CASE_MANAGER,
        )
        holds_open_cases = User.id.in_(
            select(Case.case_manager_id).where(
                Case.site_id == site_id, Case.stage.in_(_OPEN_STAGES)
            )
        )
        people = (
            await uow.session.execute(
                select(User.id, User.display_name, User.is_active)
                .where(or_(case_manager_here, holds_open_cases))
                .order_by(User.display_name, User.id)
            )
        ).all()
        recent_contact = exists().where(Contact.case_id == Case.id, Contact.occurred_at >= since)
        counts = await uow.session.execute(
            select(
                Case.case_manager_id,
                Case.stage,
                func.count(Case.id),
                func.sum(case((_is_high_risk(), 1), else_=0)),
                func.sum(case((recent_contact, 0), else_=1)),
            )
            .where(
                Case.site_id == site_id,
                Case.stage.in_(_OPEN_STAGES),
                Case.case_manager_id.is_not(None),
            )
            .group_by(Case.case_manager_id, Case.stage)
        )
        by_person: dict[int, dict[Stage, int]] = {}
        high: dict[int, int] = {}
        quiet: dict[int, int] = {}
        for user_id, stage, cases, high_risk, without_contact in counts:
            if user_id is None:  # excluded by the query; this tells the type checker
                continue
            by_person.setdefault(user_id, {})[Stage(stage)] = int(cases)
            high[user_id] = high.get(user_id, 0) + int(high_risk or 0)
            quiet[user_id] = quiet.get(user_id, 0) + int(without_contact or 0)
        logged = await uow.session.execute(
            select(Contact.staff_id, func.count(Contact.id))
            .join(Case, Case.id == Contact.case_id)
            .where(Case.site_id == site_id, Contact.occurred_at >= since)
            .group_by(Contact.staff_id)
        )
        contacts = {staff_id: int(count) for staff_id, count in logged}
    loads = []
    for user_id, display_name, is_active in people:
        stages = by_person.get(user_id, {})
        loads.append(
            CaseManagerLoad(
                user_id=user_id,
                display_name=display_name,
                is_active=is_active,
                open_cases=sum(stages.values()),
                cases_by_stage={stage: stages.get(stage, 0) for stage in _OPEN_STAGES},
                high_risk_cases=high.get(user_id, 0),
                contacts_last_28_days=contacts.get(user_id, 0),
                cases_without_recent_contact=quiet.get(user_id, 0),
            )
        )
    return loads


async def _unallocated_referrals(
    uow: UnitOfWork, actor: Actor, site_id: int
) -> list[UnallocatedReferral]:
    """The site's cases still at stage *referred*, the longest waiting first."""
    async with uow:
        authorize(actor, Action.CASE_ALLOCATE, site_id=site_id)
        today = local_date(uow.clock.now(), uow.zone)
        rows = await uow.session.execute(
            select(
                Case.id,
                Case.reference,
                Case.referral_date,
                Case.referral_source,
                Case.referral_reason,
                Case.dash_score,
                Case.version,
            )
            .where(Case.site_id == site_id, Case.stage == Stage.REFERRED)
            .order_by(Case.referral_date, Case.id)
        )
        return [
            UnallocatedReferral(
                case_id=row.id,
                reference=row.reference,
                referral_date=row.referral_date,
                referral_source=row.referral_source,
                referral_reason=row.referral_reason,
                dash_score=row.dash_score,
                dash_risk_level=risk_level_for_dash(row.dash_score),
                days_waiting=max(0, (today - row.referral_date).days),
                version=row.version,
            )
            for row in rows
        ]


async def _team_sites(uow: UnitOfWork, actor: Actor) -> list[TeamSite]:
    async with uow:
        authorize_somewhere(actor, Action.TEAM_VIEW)  # inside: a refusal is put on record
        visible = sites_where(actor, Action.TEAM_VIEW)
        rows = await uow.session.execute(
            select(Site.id, Site.code, Site.name).where(Site.id.in_(visible)).order_by(Site.code)
        )
        return [TeamSite(id=row.id, code=row.code, name=row.name) for row in rows]


async def _case_managers(uow: UnitOfWork, actor: Actor, site_id: int) -> list[CaseManagerChoice]:
    """The site's active case managers, by name: whom its referrals may be allocated to."""
    async with uow:
        authorize(actor, Action.CASE_ALLOCATE, site_id=site_id)
        rows = await uow.session.execute(
            select(User.id, User.display_name)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.site_id == site_id,
                Membership.role == Role.CASE_MANAGER,
                User.is_active.is_(True),
            )
            .order_by(User.display_name, User.id)
        )
        return [CaseManagerChoice(user_id=row.id, display_name=row.display_name) for row in rows]


async def team_page(*, uow: UnitOfWork, actor: Actor, site_id: int | None = None) -> TeamPage:
    """The web's Team page: the sites whose team the actor may see, and for one of them (the
    one asked for if the actor may see it, else their first) the case managers' loads, the
    referrals waiting and the case managers they may be allocated to."""
    sites = await _team_sites(uow, actor)
    ids = [site.id for site in sites]
    shown = site_id if site_id in ids else (ids[0] if ids else None)
    if shown is None:
        return TeamPage(sites=(), site_id=None, caseloads=(), referrals=(), case_managers=())
    return TeamPage(
        sites=tuple(sites),
        site_id=shown,
        caseloads=tuple(await _team_caseloads(uow, actor, shown)),
        referrals=tuple(await _unallocated_referrals(uow, actor, shown)),
        case_managers=tuple(await _case_managers(uow, actor, shown)),
    )
