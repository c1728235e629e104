"""Cases: referral, allocation, stage moves, closure, reopening, transfer and edits with an
optimistic version check.

A stage move, a closure and a reopening are dated (``effective_on``): never in the future,
never before the referral, never before the case's last move, so the history runs in order.
A reopened case starts its next *episode*; its stage changes carry the episode number, so the
funder return counts each episode's referral and closure once (core.services.reports).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from core.enums import ClosureReason, Role, Stage
from core.errors import (
    CaseNotClosed,
    ClosureReasonRequired,
    ClosureReasonTextRequired,
    DateBeforeLastChange,
    DateBeforeReferral,
    DateInFuture,
    DuplicateReference,
    InvalidStageTransition,
    NotFound,
    NotPermitted,
    StaleVersion,
    ValidationFailed,
)
from core.models import (
    Case,
    CaseFormerReference,
    CaseStageChange,
    LinkedPerson,
    Membership,
    Site,
    User,
)
from core.names import fold_name, surname_key
from core.notifications.outbox import cancel_pending
from core.policy import Action, authorize, sites_where
from core.rules import (
    DEFAULT_INTERVENTION_MONTHS,
    add_months,
    check_planned_end,
    check_real_day,
    check_transition,
    risk_level_for_dash,
)
from core.schemas.actor import Actor
from core.schemas.cases import (
    AbuseProfile,
    CaseAllocate,
    CaseClose,
    CaseCreate,
    CaseRead,
    CaseReopen,
    CaseSummary,
    CaseTransfer,
    CaseUpdate,
    StageChangeRead,
    StageMove,
)
from core.schemas.common import has_nul
from core.services.access import ensure_open, get_or_404, load_case
from core.services.audit import record_audit
from core.uow import UnitOfWork

_REQUIRED_ON_UPDATE = ("referral_date", "referral_source", "referral_reason")
_ABUSE_FIELDS = ("physical", "sexual", "harassment_stalking", "jealous_controlling")


def _abuse(case: Case, point: str) -> AbuseProfile:
    return AbuseProfile(**{name: getattr(case, f"{point}_{name}") for name in _ABUSE_FIELDS})


def _set_abuse(case: Case, point: str, profile: AbuseProfile) -> None:
    for name in _ABUSE_FIELDS:
        setattr(case, f"{point}_{name}", getattr(profile, name))


async def case_read(uow: UnitOfWork, case: Case) -> CaseRead:
    people = await uow.session.scalar(
        select(func.count())
        .select_from(LinkedPerson)
        .where(LinkedPerson.case_id == case.id, LinkedPerson.ended_on.is_(None))
    )  # current links only: ended ones are history (core.services.people.case_people)
    former = await uow.session.scalars(
        select(CaseFormerReference.reference)
        .where(CaseFormerReference.case_id == case.id)
        .order_by(CaseFormerReference.replaced_at, CaseFormerReference.id)
    )
    return CaseRead(
        id=case.id,
        site_id=case.site_id,
        site_code=case.site.code,
        reference=case.reference,
        subject_name=case.subject_name,
        subject_date_of_birth=case.subject_date_of_birth,
        subject_address=case.subject_address,
        referral_date=case.referral_date,
        referral_source=case.referral_source,
        referral_reason=case.referral_reason,
        dash_score=case.dash_score,
        dash_risk_level=risk_level_for_dash(case.dash_score),
        stage=case.stage,
        stage_changed_at=case.stage_changed_at,
        case_manager_id=case.case_manager_id,
        case_manager_name=case.case_manager.display_name if case.case_manager else None,
        allocated_at=case.allocated_at,
        planned_end=case.planned_end,
        closed_at=case.closed_at,
        closure_reason=case.closure_reason,
        abuse_at_start=_abuse(case, "start"),
        abuse_at_closure=_abuse(case, "closure"),
        linked_people_count=people or 0,
        version=case.version,
        closure_reason_other=case.closure_reason_other,
        subject_gender=case.subject_gender,
        subject_phone=case.subject_phone,
        subject_languages=case.subject_languages,
        subject_interpreter_needed=case.subject_interpreter_needed,
        referrer_agency=case.referrer_agency,
        referrer_contact=case.referrer_contact,
        dash_answers=case.dash_answers,
        episode=case.episode,
        former_references=list(former),
    )


def _summary(case: Case) -> CaseSummary:
    return CaseSummary(
        id=case.id,
        site_id=case.site_id,
        site_code=case.site.code,
        reference=case.reference,
        stage=case.stage,
        referral_date=case.referral_date,
        referral_reason=case.referral_reason,
        dash_score=case.dash_score,
        case_manager_id=case.case_manager_id,
    )


def _check_version(case: Case, expected: int) -> None:
    if case.version != expected:
        raise StaleVersion(reference=case.reference, current=case.version, given=expected)


def _move(
    uow: UnitOfWork,
    actor: Actor,
    case: Case,
    to_stage: Stage,
    now: datetime,
    *,
    effective_on: date | None = None,
    reason: str | None = None,
) -> None:
    """Move the case and write the dated history row (the caller has checked the transition)."""
    closing = to_stage is Stage.CLOSED
    uow.session.add(
        CaseStageChange(
            case_id=case.id,
            from_stage=case.stage,
            to_stage=to_stage,
            closure_reason=case.closure_reason if closing else None,
            closure_reason_other=case.closure_reason_other if closing else None,
            changed_at=now,
            effective_on=effective_on or now.date(),
            reason=reason or None,
            episode=case.episode,
            changed_by_id=None if actor.is_system else actor.user_id,
            **{
                f"closure_{name}": getattr(case, f"closure_{name}") if closing else None
                for name in _ABUSE_FIELDS
            },
        )
    )
    case.stage = to_stage
    case.stage_changed_at = now


async def _moment_of(uow: UnitOfWork, case: Case, effective_on: date | None) -> datetime:
    """The moment a move dated ``effective_on`` took effect, after checking the date.

    Today (or no date): now. An earlier day: midday UTC that day, or the last move's moment if
    that is later the same day, so the history keeps its order.
    """
    now = uow.clock.now()
    if effective_on is None or effective_on == now.date():
        return now
    check_real_day(effective_on, field="effective_on")
    if effective_on > now.date():
        raise DateInFuture(field="effective_on")
    if effective_on < case.referral_date:
        raise DateBeforeReferral(field="effective_on", referral_date=case.referral_date.isoformat())
    last = await uow.session.scalar(
        select(func.max(CaseStageChange.changed_at)).where(CaseStageChange.case_id == case.id)
    )
    moment = datetime.combine(effective_on, time(12), tzinfo=UTC)
    if last is not None:
        if effective_on < last.date():
            raise DateBeforeLastChange(field="effective_on", last_change=last.date().isoformat())
        moment = max(moment, last)
    return moment


async def _next_reference(uow: UnitOfWork, site: Site) -> str:
    """The site's next reference, after every one it has issued (a case transferred away keeps
    its old reference findable, so it is never issued again)."""
    numbers = []
    for model in (Case, CaseFormerReference):
        last = await uow.session.scalar(
            select(model.reference)
            .where(model.site_id == site.id)
            .order_by(func.length(model.reference).desc(), model.reference.desc())
            .limit(1)
        )
        if last:
            numbers.append(int(last.rsplit("-", 1)[1]))
    return f"{site.code}-{max(numbers, default=0) + 1:04d}"


async def _reference_taken(uow: UnitOfWork, site_id: int, reference: str) -> bool:
    for model in (Case, CaseFormerReference):
        found = await uow.session.scalar(
            select(model.id).where(model.site_id == site_id, model.reference == reference)
        )
        if found is not None:
            return True
    return False


# Two referrals recorded at the same moment can pick the same next number; the unique
# constraint catches it and the loser takes the next one.
_REFERENCE_ATTEMPTS = 5


async def create_case(*, uow: UnitOfWork, actor: Actor, data: CaseCreate) -> CaseRead:
    """Record a referral. The case starts at stage *referred*."""
    async with uow:  # a refusal leaving a unit of work is put on record (core.uow)
        authorize(actor, Action.CASE_CREATE, site_id=data.site_id)
    attempt = 1
    while True:
        try:
            return await _create_case_once(uow, actor, data)
        except ReferenceTaken as taken:
            if data.reference is not None or attempt == _REFERENCE_ATTEMPTS:
                raise DuplicateReference(reference=taken.reference) from None
            attempt += 1


class ReferenceTaken(Exception):
    def __init__(self, reference: str) -> None:
        self.reference = reference


async def _create_case_once(uow: UnitOfWork, actor: Actor, data: CaseCreate) -> CaseRead:
    async with uow:
        site = await get_or_404(uow, Site, data.site_id)
        case = await insert_case(
            uow,
            actor,
            site,
            data.reference,
            abuse_at_start=data.abuse_at_start,
            subject_name=data.subject_name,
            subject_date_of_birth=data.subject_date_of_birth,
            subject_address=data.subject_address,
            referral_date=data.referral_date,
            referral_source=data.referral_source,
            referral_reason=data.referral_reason,
            dash_score=data.dash_score,
        )
        record_audit(
            uow,
            actor,
            "case.create",
            entity_type="case",
            entity_id=case.id,
            site_id=site.id,
            case_id=case.id,
        )
        await uow.commit()
        return await case_read(uow, case)


async def insert_case(
    uow: UnitOfWork,
    actor: Actor,
    site: Site,
    reference: str | None,
    *,
    abuse_at_start: AbuseProfile | None,
    **fields: Any,
) -> Case:
    """Add a referred case at ``site`` with its first stage row (no audit, no commit).

    Raises ``ReferenceTaken`` when another referral took the same reference meanwhile.
    """
    reference = reference or await _next_reference(uow, site)
    if not reference.startswith(f"{site.code}-"):
        raise ValidationFailed(field="reference", rule="site_prefix")
    if await _reference_taken(uow, site.id, reference):
        raise DuplicateReference(reference=reference)
    now = uow.clock.now()
    case = Case(
        site=site,
        reference=reference,
        stage=Stage.REFERRED,
        stage_changed_at=now,
        created_at=now,
        updated_at=now,
        episode=1,
        **fields,
    )
    _set_name_keys(case)
    _set_abuse(case, "start", abuse_at_start or AbuseProfile())
    uow.session.add(case)
    try:
        await uow.flush()
    except IntegrityError as error:
        if "reference" in str(error.orig).lower():
            raise ReferenceTaken(reference) from error
        raise
    uow.session.add(
        CaseStageChange(
            case_id=case.id,
            from_stage=None,
            to_stage=Stage.REFERRED,
            changed_at=now,
            effective_on=case.referral_date,
            episode=1,
            changed_by_id=actor.user_id,
        )
    )
    return case


def _set_name_keys(case: Case) -> None:
    """Keep the duplicate check's folded keys in step with the name."""
    case.subject_name_key = fold_name(case.subject_name)
    case.subject_surname_key = surname_key(case.subject_name_key)


async def get_case(*, uow: UnitOfWork, actor: Actor, case_id: int) -> CaseRead:
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_VIEW)
        return await case_read(uow, case)


async def find_case(*, uow: UnitOfWork, actor: Actor, reference: str) -> CaseRead:
    """A case by its reference, among the sites where the actor may see cases."""
    if has_nul(reference):  # no reference holds one, and PostgreSQL cannot compare it
        raise NotFound(entity="case", id=reference.replace("\x00", ""))
    wanted = reference.strip().upper()
    async with uow:
        # Its reference now, or one it held at a site it was transferred from: either way the
        # case is found only where it is now, by the people allowed there.
        former = select(CaseFormerReference.case_id).where(CaseFormerReference.reference == wanted)
        case = await uow.session.scalar(
            select(Case)
            .where(
                or_(Case.reference == wanted, Case.id.in_(former)),
                Case.site_id.in_(sites_where(actor, Action.CASE_VIEW)),
            )
            .order_by(Case.reference != wanted, Case.id)
            .limit(1)
        )
        if case is None:
            raise NotFound(entity="case", id=reference)
        authorize(actor, Action.CASE_VIEW, site_id=case.site_id)
        return await case_read(uow, case)


async def list_cases(
    *,
    uow: UnitOfWork,
    actor: Actor,
    site_id: int | None = None,
    stages: set[Stage] | None = None,
    case_manager_id: int | None = None,
    reference_contains: str | None = None,
    limit: int = 200,
) -> list[CaseSummary]:
    """Cases at the sites where the actor may see cases, filtered, ordered by reference."""
    async with uow:
        visible = sites_where(actor, Action.CASE_VIEW)
        if site_id is not None:
            authorize(actor, Action.CASE_VIEW, site_id=site_id)
            visible = {site_id}
        query = select(Case).where(Case.site_id.in_(visible))
        if stages:
            query = query.where(Case.stage.in_(stages))
        if case_manager_id is not None:
            query = query.where(Case.case_manager_id == case_manager_id)
        if reference_contains:
            needle = reference_contains.strip().upper().replace("%", "").replace("_", "")
            query = query.where(Case.reference.contains(needle))
        query = query.order_by(Case.reference).limit(max(1, min(limit, 1000)))
        cases = (await uow.session.scalars(query)).all()
        return [_summary(case) for case in cases]


async def update_case(*, uow: UnitOfWork, actor: Actor, case_id: int, data: CaseUpdate) -> CaseRead:
    """Change the fields given. A stale ``version`` raises ``StaleVersion``; nothing is lost."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_UPDATE)
        ensure_open(case)
        _check_version(case, data.version)
        changes = data.model_dump(exclude_unset=True, exclude={"version", "abuse_at_start"})
        for field in _REQUIRED_ON_UPDATE:
            if field in changes and changes[field] is None:
                raise ValidationFailed(field=field, rule="required")
        if "planned_end" in changes and changes["planned_end"] is not None:
            allocated_on = (case.allocated_at or uow.clock.now()).date()
            check_planned_end(allocated_on, changes["planned_end"])
        for field, value in changes.items():
            setattr(case, field, value)
        _set_name_keys(case)
        if data.abuse_at_start is not None:
            _set_abuse(case, "start", data.abuse_at_start)
        case.updated_at = uow.clock.now()
        fields = sorted(changes) + (["abuse_at_start"] if data.abuse_at_start else [])
        record_audit(
            uow,
            actor,
            "case.update",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"fields": fields},
        )
        await uow.commit()
        return await case_read(uow, case)


async def allocate_case(
    *, uow: UnitOfWork, actor: Actor, case_id: int, data: CaseAllocate
) -> CaseRead:
    """Give the case to a case manager (or to another one). A referred case becomes allocated."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_ALLOCATE)
        ensure_open(case)
        _check_version(case, data.version)
        # An active account holding the case manager role at the case's own site.
        is_case_manager_here = await uow.session.scalar(
            select(Membership.id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.user_id == data.case_manager_id,
                Membership.site_id == case.site_id,
                Membership.role == Role.CASE_MANAGER,
                User.is_active.is_(True),
            )
        )
        if is_case_manager_here is None:
            raise ValidationFailed(field="case_manager_id", rule="not_a_case_manager_at_site")
        now = uow.clock.now()
        if case.stage is Stage.REFERRED:
            check_transition(case.stage, Stage.ALLOCATED)
            _move(uow, actor, case, Stage.ALLOCATED, now)
            case.allocated_at = now
        allocated_on = (case.allocated_at or now).date()
        planned_end = data.planned_end or case.planned_end
        if planned_end is None:
            planned_end = add_months(allocated_on, DEFAULT_INTERVENTION_MONTHS)
        check_planned_end(allocated_on, planned_end)
        case.planned_end = planned_end
        case.case_manager_id = data.case_manager_id
        case.updated_at = now
        record_audit(
            uow,
            actor,
            "case.allocate",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"case_manager_id": data.case_manager_id},
        )
        await uow.commit()
        await uow.session.refresh(case, ["case_manager"])
        return await case_read(uow, case)


async def change_stage(*, uow: UnitOfWork, actor: Actor, case_id: int, data: StageMove) -> CaseRead:
    """Move between the working stages. Allocation and closure have their own services."""
    if data.to_stage in (Stage.ALLOCATED, Stage.CLOSED, Stage.REFERRED):
        raise InvalidStageTransition(from_stage=None, to_stage=data.to_stage.value)
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_CHANGE_STAGE)
        _check_version(case, data.version)
        check_transition(case.stage, data.to_stage)
        from_stage = case.stage
        moment = await _moment_of(uow, case, data.effective_on)
        _move(
            uow, actor, case, data.to_stage, moment,
            effective_on=data.effective_on, reason=data.reason,
        )  # fmt: skip
        case.updated_at = uow.clock.now()
        record_audit(
            uow,
            actor,
            "case.change_stage",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"from": from_stage.value, "to": data.to_stage.value},
        )
        await uow.commit()
        return await case_read(uow, case)


async def close_case(*, uow: UnitOfWork, actor: Actor, case_id: int, data: CaseClose) -> CaseRead:
    """Close the case. A reason is required; the abuse types at closure are recorded.

    Every message still queued about the case (reminders, prompts, alerts) is cancelled.
    """
    if data.reason is None:
        raise ClosureReasonRequired()
    if data.reason is ClosureReason.OTHER and not data.reason_other:
        raise ClosureReasonTextRequired(field="reason_other")
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_CLOSE)
        _check_version(case, data.version)
        check_transition(case.stage, Stage.CLOSED)
        moment = await _moment_of(uow, case, data.effective_on)
        case.closure_reason = data.reason
        case.closure_reason_other = (
            data.reason_other if data.reason is ClosureReason.OTHER else None
        )
        case.closed_at = moment
        if data.abuse_at_closure is not None:
            _set_abuse(case, "closure", data.abuse_at_closure)
        _move(uow, actor, case, Stage.CLOSED, moment, effective_on=data.effective_on)
        case.updated_at = uow.clock.now()
        await cancel_pending(uow, case_id=case.id)
        record_audit(
            uow,
            actor,
            "case.close",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"reason": data.reason.value},
        )
        await uow.commit()
        return await case_read(uow, case)


async def reopen_case(*, uow: UnitOfWork, actor: Actor, case_id: int, data: CaseReopen) -> CaseRead:
    """Reopen a closed case as its next episode, back at *referred* for the service manager to
    allocate. The earlier episode (its closure, reason and abuse types at closure) stays in the
    stage history; the case's own closure fields are cleared for the new episode."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_REOPEN)
        _check_version(case, data.version)
        if case.stage is not Stage.CLOSED:
            raise CaseNotClosed(reference=case.reference)
        moment = await _moment_of(uow, case, data.effective_on)
        case.episode += 1
        _move(
            uow, actor, case, Stage.REFERRED, moment,
            effective_on=data.effective_on, reason=data.reason,
        )  # fmt: skip
        case.closed_at = None
        case.closure_reason = None
        case.closure_reason_other = None
        case.case_manager_id = None
        case.allocated_at = None
        case.planned_end = None
        _set_abuse(case, "closure", AbuseProfile())
        case.updated_at = uow.clock.now()
        record_audit(
            uow,
            actor,
            "case.reopen",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"episode": case.episode},
        )
        await uow.commit()
        await uow.session.refresh(case, ["case_manager"])
        return await case_read(uow, case)


async def transfer_case(
    *, uow: UnitOfWork, actor: Actor, case_id: int, data: CaseTransfer
) -> CaseRead:
    """Move an open case to another site when the person moves area.

    The actor must be allowed to transfer at both sites (service manager of each, or admin).
    The case takes the new site's next reference; the old one is kept (``find_case`` still
    finds it, for people allowed at the new site). Its history, contacts and everything else
    go with it. It leaves its case manager (who works at the old site) and its queued
    messages; the new site's service manager allocates it.
    """
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_TRANSFER)
        ensure_open(case)
        _check_version(case, data.version)
        if data.to_site_id == case.site_id:
            raise ValidationFailed(field="to_site_id", rule="same_site")
        try:
            authorize(actor, Action.CASE_TRANSFER, site_id=data.to_site_id)
        except NotPermitted as error:
            raise error.about("case", case.id) from None
        to_site = await get_or_404(uow, Site, data.to_site_id)
        from_site_id, old_reference = case.site_id, case.reference
        now = uow.clock.now()
        uow.session.add(
            CaseFormerReference(
                case_id=case.id, site_id=from_site_id, reference=old_reference, replaced_at=now
            )
        )
        case.site_id = to_site.id
        case.site = to_site
        case.reference = await _next_reference(uow, to_site)
        case.case_manager_id = None
        case.updated_at = now
        await cancel_pending(uow, case_id=case.id)
        try:
            await uow.flush()
        except IntegrityError:
            raise DuplicateReference(reference=case.reference) from None
        record_audit(
            uow,
            actor,
            "case.transfer",
            entity_type="case",
            entity_id=case.id,
            site_id=to_site.id,
            case_id=case.id,
            details={"from_site_id": from_site_id, "to_site_id": to_site.id},
        )
        await uow.commit()
        await uow.session.refresh(case, ["case_manager", "site"])
        return await case_read(uow, case)


async def stage_history(*, uow: UnitOfWork, actor: Actor, case_id: int) -> list[StageChangeRead]:
    async with uow:
        await load_case(uow, actor, case_id, Action.CASE_VIEW)
        return await stage_changes_of(uow, case_id)


async def stage_changes_of(uow: UnitOfWork, case_id: int) -> list[StageChangeRead]:
    """The case's stage changes, oldest first, for a caller that has checked ``case.view``."""
    rows = await uow.session.scalars(
        select(CaseStageChange)
        .where(CaseStageChange.case_id == case_id)
        .order_by(CaseStageChange.changed_at, CaseStageChange.id)
    )
    return [StageChangeRead.model_validate(row) for row in rows]
