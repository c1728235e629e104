"""A case manager's caseload: their open cases with last contact, next appointment and risk.

One query for the rows, whatever the size of the tables: the open cases come from
``ix_cases_case_manager_stage`` and each case's latest contact, next appointment and latest risk
assessment from one short walk of ``ix_contacts_case_occurred``, ``ix_appointments_case_starts``
and ``ix_risk_assessments_case_assessed``. PostgreSQL gets ``LATERAL`` joins; SQLite, which has
none, joins each row found by a correlated ``LIMIT 1`` subquery on its primary key.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, func, select, true

from core.enums import OPEN_STAGES, AppointmentStatus
from core.errors import NotPermitted
from core.models import (
    Appointment,
    Case,
    CaseFormerReference,
    Contact,
    Membership,
    RiskAssessment,
)
from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.schemas.caseload import CaseloadRow
from core.uow import UnitOfWork

# A list, in a fixed order, so the statement (and its compiled form in the cache) is stable.
_OPEN_STAGES = sorted(OPEN_STAGES)


async def list_caseload(
    *, uow: UnitOfWork, actor: Actor, case_manager_id: int | None = None
) -> list[CaseloadRow]:
    """The open cases allocated to ``case_manager_id`` (the actor by default), by reference.

    Only cases the actor may view are returned. Asking for someone else's caseload needs
    ``case.view`` at a site where that person works, or ``NotPermitted`` is raised.
    """
    case_manager_id = actor.user_id if case_manager_id is None else case_manager_id
    async with uow:
        if case_manager_id != actor.user_id:
            await _ensure_may_view_caseload_of(uow, actor, case_manager_id)
        dialect = uow.session.get_bind().dialect.name
        result = await uow.session.execute(
            _caseload_statement(lateral=dialect != "sqlite"),
            {"case_manager_id": case_manager_id, "now": uow.clock.now()},
        )
        rows = [
            row
            for row in result.mappings()
            if is_allowed(
                actor, Action.CASE_VIEW, site_id=row["site_id"], case_manager_id=case_manager_id
            )
        ]
        former = await _former_references(uow, [row["case_id"] for row in rows])
        return [
            CaseloadRow(**row, former_references=tuple(former.get(row["case_id"], ())))
            for row in rows
        ]


async def _former_references(uow: UnitOfWork, case_ids: list[int]) -> dict[int, list[str]]:
    """The references each case held before a transfer, oldest first (most have none)."""
    if not case_ids:
        return {}
    result = await uow.session.execute(
        select(CaseFormerReference.case_id, CaseFormerReference.reference)
        .where(CaseFormerReference.case_id.in_(case_ids))
        .order_by(CaseFormerReference.replaced_at, CaseFormerReference.id)
    )
    former: dict[int, list[str]] = {}
    for case_id, reference in result:
        former.setdefault(case_id, []).append(reference)
    return former


async def _ensure_may_view_caseload_of(uow: UnitOfWork, actor: Actor, case_manager_id: int) -> None:
    sites = await uow.session.scalars(
        select(Membership.site_id).where(Membership.user_id == case_manager_id).distinct()
    )
    if not any(is_allowed(actor, Action.CASE_VIEW, site_id=site_id) for site_id in sites):
        raise NotPermitted(
            action=str(Action.CASE_VIEW), case_manager_id=case_manager_id, actor=actor
        )


@cache
def _caseload_statement(*, lateral: bool) -> Select[Any]:
    """Built once per dialect: constructing it costs more than running it on a warm database."""
    cases, contacts = Case.__table__, Contact.__table__
    appointments, risk_assessments = Appointment.__table__, RiskAssessment.__table__
    last_contact_at = (
        select(func.max(contacts.c.occurred_at))
        .where(contacts.c.case_id == cases.c.id)
        .correlate(cases)
        .scalar_subquery()
    )
    next_appointment = (
        select(appointments.c.id, appointments.c.starts_at, appointments.c.place_kind)
        .where(
            appointments.c.case_id == cases.c.id,
            appointments.c.starts_at >= bindparam("now"),
            appointments.c.status == AppointmentStatus.SCHEDULED,
        )
        .order_by(appointments.c.starts_at, appointments.c.id)
        .limit(1)
    )
    current_risk = (
        select(risk_assessments.c.id, risk_assessments.c.level, risk_assessments.c.assessed_at)
        .where(risk_assessments.c.case_id == cases.c.id)
        .order_by(risk_assessments.c.assessed_at.desc(), risk_assessments.c.id.desc())
        .limit(1)
    )
    if lateral:
        appointment: Any = next_appointment.lateral("next_appointment")
        risk: Any = current_risk.lateral("current_risk")
        appointment_on, risk_on = true(), true()
    else:
        appointment = appointments.alias("next_appointment")
        risk = risk_assessments.alias("current_risk")
        appointment_on = appointment.c.id == (
            next_appointment.with_only_columns(appointments.c.id).correlate(cases).scalar_subquery()
        )
        risk_on = risk.c.id == (
            current_risk.with_only_columns(risk_assessments.c.id).correlate(cases).scalar_subquery()
        )
    return (
        select(
            cases.c.id.label("case_id"),
            cases.c.site_id,
            cases.c.reference,
            cases.c.stage,
            cases.c.referral_reason,
            last_contact_at.label("last_contact_at"),
            appointment.c.starts_at.label("next_appointment_at"),
            appointment.c.place_kind.label("next_appointment_place"),
            risk.c.level.label("current_risk"),
            risk.c.assessed_at.label("current_risk_at"),
        )
        .select_from(cases)
        .outerjoin(appointment, appointment_on)
        .outerjoin(risk, risk_on)
        .where(
            cases.c.case_manager_id == bindparam("case_manager_id"),
            cases.c.stage.in_(_OPEN_STAGES),
        )
        .order_by(cases.c.reference, cases.c.id)
    )
