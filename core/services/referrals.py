"""A new referral: who may record one at a site, the possible-duplicate check that runs before it
is saved, the DASH checklist, and saving it (anyway, once the person has seen the matches).

The duplicate check looks across every site, by the indexed folded surname and the date of
birth (or the same date with day and month swapped), then compares the folded names
(``core.names.names_may_match``). Matches at sites where the person may see cases are shown
with their references; elsewhere it says only that a possible match exists at that site and
whom to ask. The audit records counts and case ids, never names.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.enums import Role
from core.errors import DateInFuture, NotFound, NotPermitted, PossibleDuplicates, ValidationFailed
from core.models import Case, Membership, RiskAssessment, Site, User
from core.names import fold_name, names_may_match, surname_key
from core.policy import Action, is_allowed, sites_where
from core.rules import check_real_day, dash_score_for, risk_level_for_dash
from core.schemas.actor import Actor
from core.schemas.referrals import (
    DuplicateCheckRead,
    DuplicateElsewhere,
    DuplicateMatch,
    DuplicateQuery,
    ReferralCreate,
    ReferralRead,
    ReferralSiteRead,
    SiteReferralRolesRead,
)
from core.services.audit import record_audit
from core.services.cases import ReferenceTaken, case_read, insert_case
from core.uow import UnitOfWork

_REFERENCE_ATTEMPTS = 5


def may_refer(actor: Actor, site: Site) -> bool:
    """The policy's ``case.create`` (service manager, panel coordinator), or a role the site
    lets record referrals too (``sites.referral_roles``)."""
    if is_allowed(actor, Action.CASE_CREATE, site_id=site.id):
        return True
    extra = set(site.referral_roles or ())
    return not actor.is_system and any(role.value in extra for role in actor.roles_at(site.id))


async def referral_sites(*, uow: UnitOfWork, actor: Actor) -> list[ReferralSiteRead]:
    """The sites where ``actor`` may record a referral (``may_refer``), by code; empty for the
    system actor and for people who may refer nowhere. Faces offer the referral page by it."""
    if actor.is_system or not actor.site_ids:
        return []
    async with uow:
        sites = await uow.session.scalars(
            select(Site).where(Site.id.in_(actor.site_ids)).order_by(Site.code)
        )
        return [
            ReferralSiteRead(site_id=site.id, code=site.code, name=site.name)
            for site in sites
            if may_refer(actor, site)
        ]


async def _authorize_referral(uow: UnitOfWork, actor: Actor, site_id: int) -> Site:
    site = await uow.session.get(Site, site_id)
    if site is None or not may_refer(actor, site):
        if site is None and not actor.is_system and site_id in actor.site_ids:
            raise NotFound(entity="sites", id=site_id)
        raise NotPermitted(action=str(Action.CASE_CREATE), actor=actor, site_id=site_id)
    return site


def _swapped(day: date) -> date | None:
    """The same date with day and month swapped, when that is another real date."""
    if day.day > 12 or day.day == day.month:
        return None
    return day.replace(month=day.day, day=day.month)


async def _find_duplicates(
    uow: UnitOfWork, actor: Actor, name: str, date_of_birth: date | None
) -> tuple[DuplicateCheckRead, list[int]]:
    folded = fold_name(name)
    if folded is None or date_of_birth is None:
        return DuplicateCheckRead(matches=[], elsewhere=[]), []
    births = [date_of_birth] + [d for d in [_swapped(date_of_birth)] if d is not None]
    rows = (
        await uow.session.execute(
            select(
                Case.id, Case.reference, Case.site_id, Case.subject_name, Case.subject_name_key,
                Case.subject_date_of_birth, Case.stage,
            )
            .where(
                Case.subject_surname_key == surname_key(folded),
                Case.subject_date_of_birth.in_(births),
            )
            .order_by(Case.id)
            .limit(200)
        )
    ).all()  # fmt: skip
    found = [row for row in rows if names_may_match(folded, row.subject_name_key or "")]
    visible = sites_where(actor, Action.CASE_VIEW)
    sites = {s.id: s for s in (await uow.session.scalars(select(Site))).all()} if found else {}
    matches, elsewhere_sites = [], []
    for row in found:
        if row.site_id in visible:
            same = row.subject_name_key == folded and row.subject_date_of_birth == date_of_birth
            matches.append(
                DuplicateMatch(
                    case_id=row.id,
                    reference=row.reference,
                    site_code=sites[row.site_id].code,
                    subject_name=row.subject_name,
                    subject_date_of_birth=row.subject_date_of_birth,
                    stage=row.stage.value,
                    closeness="same" if same else "close",
                )
            )
        elif row.site_id not in elsewhere_sites:
            elsewhere_sites.append(row.site_id)
    elsewhere = [await _whom_to_ask(uow, sites[site_id]) for site_id in elsewhere_sites]
    return DuplicateCheckRead(matches=matches, elsewhere=elsewhere), [row.id for row in found]


async def _whom_to_ask(uow: UnitOfWork, site: Site) -> DuplicateElsewhere:
    emails = await uow.session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.site_id == site.id,
            Membership.role == Role.SERVICE_MANAGER,
            User.is_active.is_(True),
        )
        .order_by(User.email)
    )
    return DuplicateElsewhere(
        site_code=site.code,
        site_name=site.name,
        ask_role=Role.SERVICE_MANAGER,
        ask_contacts=list(emails),
    )


async def check_duplicates(
    *, uow: UnitOfWork, actor: Actor, data: DuplicateQuery
) -> DuplicateCheckRead:
    """Possible duplicates of a referral being typed at ``data.site_id`` (see the module)."""
    async with uow:
        await _authorize_referral(uow, actor, data.site_id)
        result, ids = await _find_duplicates(uow, actor, data.name, data.date_of_birth)
        if ids:
            record_audit(
                uow,
                actor,
                "case.duplicate_check",
                entity_type="site",
                entity_id=data.site_id,
                site_id=data.site_id,
                details={"possible_duplicates": len(ids), "case_ids": ids},
            )
            await uow.commit()
        return result


async def record_referral(*, uow: UnitOfWork, actor: Actor, data: ReferralCreate) -> ReferralRead:
    """Save a new referral at stage *referred* (see ``ReferralCreate``).

    ``PossibleDuplicates`` (nothing saved) when the duplicate check finds matches and
    ``data.save_despite_duplicates`` is not set; saving anyway is audited with their count and
    case ids. A DASH checklist or score also records the first risk assessment.
    """
    attempt = 1
    while True:
        try:
            return await _record_referral_once(uow, actor, data)
        except ReferenceTaken:
            if attempt == _REFERENCE_ATTEMPTS:
                raise
            attempt += 1


async def _record_referral_once(
    uow: UnitOfWork, actor: Actor, data: ReferralCreate
) -> ReferralRead:
    async with uow:
        site = await _authorize_referral(uow, actor, data.site_id)
        check_real_day(data.referral_date, field="referral_date")
        if data.referral_date > uow.clock.now().date():
            raise DateInFuture(field="referral_date")
        if data.subject.date_of_birth is not None:
            check_real_day(data.subject.date_of_birth, field="date_of_birth")
        if data.dash_answers is not None and data.dash_score is not None:
            raise ValidationFailed(field="dash_score", rule="answers_or_score")
        score = data.dash_score
        if data.dash_answers is not None:
            score = dash_score_for(data.dash_answers)
        shown, ids = await _find_duplicates(
            uow, actor, data.subject.name, data.subject.date_of_birth
        )
        if ids and not data.save_despite_duplicates:
            raise PossibleDuplicates(matches=shown, count=len(ids))
        person = data.subject
        case = await insert_case(
            uow,
            actor,
            site,
            None,
            abuse_at_start=data.abuse_at_start,
            subject_name=person.name,
            subject_date_of_birth=person.date_of_birth,
            subject_address=person.address,
            subject_gender=person.gender,
            subject_phone=person.phone,
            subject_languages=person.languages,
            subject_interpreter_needed=person.interpreter_needed,
            referral_date=data.referral_date,
            referral_source=data.referral_source,
            referral_reason=data.referral_reason,
            referrer_agency=data.referrer_agency,
            referrer_contact=data.referrer_contact,
            dash_score=score,
            dash_answers=(
                {q: a.value for q, a in data.dash_answers.items()} if data.dash_answers else None
            ),
        )
        level = risk_level_for_dash(score)
        if level is not None:
            uow.session.add(
                RiskAssessment(
                    case_id=case.id,
                    assessed_at=uow.clock.now(),
                    level=level,
                    dash_score=score,
                    dash_answers=case.dash_answers,
                    assessed_by_id=actor.user_id,
                )
            )
        details: dict[str, object] = {"source": data.referral_source.value}
        if ids:
            details |= {"possible_duplicates": len(ids), "duplicate_case_ids": ids}
        record_audit(
            uow,
            actor,
            "case.create",
            entity_type="case",
            entity_id=case.id,
            site_id=site.id,
            case_id=case.id,
            details=details,
        )
        await uow.commit()
        return ReferralRead(case=await case_read(uow, case), possible_duplicates=len(ids))


async def set_referral_roles(
    *, uow: UnitOfWork, actor: Actor, site_code: str, roles: list[Role]
) -> SiteReferralRolesRead:
    """Let these roles record referrals at the site too (an empty list: only the service
    manager and the panel coordinator). Panel members and admins never may."""
    refused = {Role.PANEL_MEMBER, Role.ADMIN} & set(roles)
    if refused:
        raise ValidationFailed(field="roles", rule="not_a_referring_role", role=min(refused))
    async with uow:
        site = await uow.session.scalar(select(Site).where(Site.code == site_code.upper()))
        if site is None:
            raise NotFound(entity="sites", id=site_code)
        if not is_allowed(actor, Action.SITE_MANAGE, site_id=site.id):
            raise NotPermitted(action=str(Action.SITE_MANAGE), actor=actor, site_id=site.id)
        chosen = sorted({role.value for role in roles})
        site.referral_roles = chosen or None
        record_audit(
            uow,
            actor,
            "site.referral_roles",
            entity_type="site",
            entity_id=site.id,
            site_id=site.id,
            details={"roles": chosen},
        )
        await uow.commit()
        return SiteReferralRolesRead(site_code=site.code, extra_roles=[Role(r) for r in chosen])
