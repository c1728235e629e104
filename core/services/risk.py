"""Risk history, MARAC appearances and police incidents for a case.

A risk assessment may carry the DASH checklist (its score and level are worked out here) or a
typed score; MARAC appearances and police incidents feed the outcome measures
(core.services.reports: before allocation and after closure).
"""

from __future__ import annotations

from sqlalchemy import select

from core.enums import Role
from core.errors import ValidationFailed
from core.models import Case, MaracAppearance, PoliceIncident, RiskAssessment
from core.policy import Action, is_allowed
from core.rules import dash_score_for, risk_level_for_dash
from core.schemas.actor import Actor
from core.schemas.risk import (
    MaracAppearanceCreate,
    MaracAppearanceRead,
    PoliceIncidentCreate,
    PoliceIncidentRead,
    RiskAssessmentCreate,
    RiskAssessmentRead,
)
from core.services.access import load_case
from core.services.audit import record_audit
from core.uow import UnitOfWork

_ASSESSORS = frozenset({Role.IDVA, Role.CASE_MANAGER, Role.SERVICE_MANAGER})


async def record_risk_assessment(
    *, uow: UnitOfWork, actor: Actor, data: RiskAssessmentCreate
) -> RiskAssessmentRead:
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.RISK_RECORD)
        roles = actor.roles_at(case.site_id)
        # Record which hat the assessor wore: reports count the IDVA's view of risk separately.
        assessor_role: Role | None = next(
            (r for r in (Role.IDVA, Role.CASE_MANAGER, Role.SERVICE_MANAGER) if r in roles), None
        )
        if data.assessor_role is not None:
            if data.assessor_role not in roles or data.assessor_role not in _ASSESSORS:
                raise ValidationFailed(field="assessor_role", rule="not_a_role_held_here")
            assessor_role = data.assessor_role
        if data.dash_answers is not None and data.dash_score is not None:
            raise ValidationFailed(field="dash_score", rule="answers_or_score")
        score = data.dash_score
        if data.dash_answers is not None:
            score = dash_score_for(data.dash_answers)
        level = data.level or risk_level_for_dash(score)
        if level is None:
            raise ValidationFailed(field="level", rule="required")
        answers = data.dash_answers
        assessment = RiskAssessment(
            case_id=case.id,
            assessed_at=data.assessed_at or uow.clock.now(),
            level=level,
            dash_score=score,
            dash_answers={q: a.value for q, a in answers.items()} if answers else None,
            reason=data.reason or None,
            assessed_by_id=actor.user_id,
            assessor_role=assessor_role,
        )
        uow.session.add(assessment)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "risk.record",
            entity_type="risk_assessment",
            entity_id=assessment.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"level": level.value},
        )
        await uow.commit()
        return RiskAssessmentRead.model_validate(assessment)


async def risk_history(*, uow: UnitOfWork, actor: Actor, case_id: int) -> list[RiskAssessmentRead]:
    """The case's risk assessments, oldest first; the reasons only for ``case_notes.view``."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_VIEW)
        return await risk_history_of(uow, actor, case)


async def risk_history_of(uow: UnitOfWork, actor: Actor, case: Case) -> list[RiskAssessmentRead]:
    """``risk_history``'s read, in the caller's unit of work, of a case it loaded for
    ``case.view`` (``core.services.case_page`` too)."""
    notes = is_allowed(
        actor,
        Action.CASE_NOTES_VIEW,
        site_id=case.site_id,
        case_manager_id=case.case_manager_id,
    )
    rows = await uow.session.scalars(
        select(RiskAssessment)
        .where(RiskAssessment.case_id == case.id)
        .order_by(RiskAssessment.assessed_at, RiskAssessment.id)
    )
    return [_assessment_read(row, notes=notes) for row in rows]


def _assessment_read(row: RiskAssessment, *, notes: bool) -> RiskAssessmentRead:
    read = RiskAssessmentRead.model_validate(row)
    if notes or not read.reason:
        return read
    return read.model_copy(update={"reason": None, "reason_withheld": True})


async def record_marac_appearance(
    *, uow: UnitOfWork, actor: Actor, data: MaracAppearanceCreate
) -> MaracAppearanceRead:
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.MARAC_RECORD)
        appearance = MaracAppearance(
            case_id=case.id,
            heard_on=data.heard_on,
            appearance_type=data.appearance_type,
            description=data.description or None,
            recorded_by_id=actor.user_id,
        )
        uow.session.add(appearance)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "marac.record",
            entity_type="marac_appearance",
            entity_id=appearance.id,
            site_id=case.site_id,
            case_id=case.id,
        )
        await uow.commit()
        return MaracAppearanceRead.model_validate(appearance)


async def record_police_incident(
    *, uow: UnitOfWork, actor: Actor, data: PoliceIncidentCreate
) -> PoliceIncidentRead:
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.INCIDENT_RECORD)
        incident = PoliceIncident(
            case_id=case.id,
            occurred_on=data.occurred_on,
            police_reference=data.police_reference,
            incident_type=data.incident_type,
            description=data.description or None,
            recorded_by_id=actor.user_id,
        )
        uow.session.add(incident)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "incident.record",
            entity_type="police_incident",
            entity_id=incident.id,
            site_id=case.site_id,
            case_id=case.id,
        )
        await uow.commit()
        return PoliceIncidentRead.model_validate(incident)
