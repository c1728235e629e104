"""A case's timeline: contacts, appointments, interventions, panel actions, stage changes, risk
assessments and disruption alerts, merged into one list, newest first.

Seven short queries whatever the size of the case, one per kind, each taking its newest
``limit`` rows (by the kind's own index where there is one) with the staff member's name joined
in; the lists are merged here and cut to ``limit``. Reading it needs ``case.view``, as every
other read of a case does; the free text in it needs ``case_notes.view`` as well (see
``core.schemas.timeline``).
"""

from __future__ import annotations

from typing import Any, TypeVarTuple

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    Appointment,
    Case,
    CaseStageChange,
    Contact,
    DisruptionAlert,
    Intervention,
    PanelAction,
    RiskAssessment,
    User,
)
from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.schemas.timeline import TimelineEntry, TimelineKind
from core.services.access import load_case
from core.uow import UnitOfWork

MAX_LIMIT = 500

# Where two entries share a moment, the later step of the work reads first (newest first).
_TIE_ORDER = {
    TimelineKind.STAGE_CHANGE: 0,
    TimelineKind.RISK_ASSESSMENT: 1,
    TimelineKind.DISRUPTION_ALERT: 2,
    TimelineKind.INTERVENTION: 3,
    TimelineKind.PANEL_ACTION: 4,
    TimelineKind.APPOINTMENT: 5,
    TimelineKind.CONTACT: 6,
}


_Columns = TypeVarTuple("_Columns")


def _newest(query: Select[*_Columns], when: Any, record_id: Any, limit: int) -> Select[*_Columns]:
    return query.order_by(when.desc(), record_id.desc()).limit(limit)


async def case_timeline(
    *, uow: UnitOfWork, actor: Actor, case_id: int, limit: int = 100
) -> list[TimelineEntry]:
    """The newest ``limit`` things that happened on the case, newest first."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.CASE_VIEW)
        return await timeline_of(uow, actor, case, limit)


async def timeline_of(uow: UnitOfWork, actor: Actor, case: Case, limit: int) -> list[TimelineEntry]:
    """``case_timeline``'s read, in the caller's unit of work, of a case it loaded for
    ``case.view`` (``core.services.case_page`` too)."""
    limit = max(1, min(limit, MAX_LIMIT))
    notes = is_allowed(
        actor,
        Action.CASE_NOTES_VIEW,
        site_id=case.site_id,
        case_manager_id=case.case_manager_id,
    )
    entries: list[TimelineEntry] = []
    for read_kind in _READERS:
        entries += await read_kind(uow.session, case.id, limit, notes)
    entries.sort(key=lambda e: (e.when, -_TIE_ORDER[e.kind], e.entry_id), reverse=True)
    return entries[:limit]


async def _contacts(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(Contact, User.display_name)
            .outerjoin(User, User.id == Contact.staff_id)
            .where(Contact.case_id == case_id),
            Contact.occurred_at,
            Contact.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.CONTACT,
            entry_id=contact.id,
            when=contact.occurred_at,
            label_key=f"contact.{contact.contact_type.value}",
            staff_id=contact.staff_id,
            staff_name=staff_name,
            notes_withheld=not notes and bool(contact.notes or contact.next_steps),
            contact_type=contact.contact_type,
            duration_minutes=contact.duration_minutes,
            categories=tuple(contact.categories()),
            topics=tuple(contact.topics or ()),
            notes=contact.notes if notes else None,
            next_steps=contact.next_steps if notes else None,
        )
        for contact, staff_name in rows
    ]


async def _appointments(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(Appointment, User.display_name)
            .outerjoin(User, User.id == Appointment.staff_id)
            .where(Appointment.case_id == case_id),
            Appointment.starts_at,
            Appointment.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.APPOINTMENT,
            entry_id=appointment.id,
            when=appointment.starts_at,
            label_key=f"appointment.{appointment.status.value}",
            staff_id=appointment.staff_id,
            staff_name=staff_name,
            notes_withheld=not notes and bool(appointment.outcome),
            ends_at=appointment.ends_at,
            place_kind=appointment.place_kind,
            appointment_status=appointment.status,
            outcome=appointment.outcome if notes else None,
        )
        for appointment, staff_name in rows
    ]


async def _interventions(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(Intervention, User.display_name)  # the kind comes joined (lazy="joined")
            .outerjoin(User, User.id == Intervention.recorded_by_id)
            .where(Intervention.case_id == case_id),
            Intervention.created_at,
            Intervention.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.INTERVENTION,
            entry_id=intervention.id,
            when=intervention.created_at,
            label_key=f"intervention.{intervention.status.value}",
            staff_id=intervention.recorded_by_id,
            staff_name=staff_name,
            intervention_kind=intervention.kind.code,
            category=intervention.kind.category,
            agency=intervention.agency,
            intervention_status=intervention.status,
            started_on=intervention.started_on,
            ended_on=intervention.ended_on,
        )
        for intervention, staff_name in rows
    ]


async def _panel_actions(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(PanelAction, User.display_name)
            .outerjoin(User, User.id == PanelAction.owner_user_id)
            .where(PanelAction.case_id == case_id),
            PanelAction.created_at,
            PanelAction.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.PANEL_ACTION,
            entry_id=action.id,
            when=action.created_at,
            label_key=f"panel_action.{action.status.value}",
            staff_id=action.owner_user_id,
            staff_name=owner_name,
            meeting_id=action.meeting_id,
            description=action.description,
            owner_agency=action.owner_agency,
            owner_user_id=action.owner_user_id,
            due_on=action.due_on,
            action_status=action.status,
            completed_on=action.completed_on,
        )
        for action, owner_name in rows
    ]


async def _stage_changes(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(CaseStageChange, User.display_name)
            .outerjoin(User, User.id == CaseStageChange.changed_by_id)
            .where(CaseStageChange.case_id == case_id),
            CaseStageChange.changed_at,
            CaseStageChange.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.STAGE_CHANGE,
            entry_id=change.id,
            when=change.changed_at,
            label_key=f"stage.{change.to_stage.value}",
            staff_id=change.changed_by_id,
            staff_name=staff_name,
            from_stage=change.from_stage,
            to_stage=change.to_stage,
            closure_reason=change.closure_reason,
        )
        for change, staff_name in rows
    ]


async def _risk_assessments(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(RiskAssessment, User.display_name)
            .outerjoin(User, User.id == RiskAssessment.assessed_by_id)
            .where(RiskAssessment.case_id == case_id),
            RiskAssessment.assessed_at,
            RiskAssessment.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.RISK_ASSESSMENT,
            entry_id=assessment.id,
            when=assessment.assessed_at,
            label_key=f"risk.{assessment.level.value}",
            staff_id=assessment.assessed_by_id,
            staff_name=staff_name,
            notes_withheld=not notes and bool(assessment.reason),
            risk_level=assessment.level,
            dash_score=assessment.dash_score,
            reason=assessment.reason if notes else None,
        )
        for assessment, staff_name in rows
    ]


async def _alerts(
    session: AsyncSession, case_id: int, limit: int, notes: bool
) -> list[TimelineEntry]:
    rows = await session.execute(
        _newest(
            select(DisruptionAlert, User.display_name)
            .outerjoin(User, User.id == DisruptionAlert.raised_by_id)
            .where(DisruptionAlert.case_id == case_id),
            DisruptionAlert.raised_at,
            DisruptionAlert.id,
            limit,
        )
    )
    return [
        TimelineEntry(
            kind=TimelineKind.DISRUPTION_ALERT,
            entry_id=alert.id,
            when=alert.raised_at,
            label_key=f"alert.{alert.status.value}",
            staff_id=alert.raised_by_id,
            staff_name=staff_name,
            notes_withheld=not notes and bool(alert.action_taken),
            alert_status=alert.status,
            action_taken=alert.action_taken if notes else None,
        )
        for alert, staff_name in rows
    ]


_READERS = (
    _contacts,
    _appointments,
    _interventions,
    _panel_actions,
    _stage_changes,
    _risk_assessments,
    _alerts,
)
