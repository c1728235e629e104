"""Interventions: disruption, support and behaviour-change work, by kind and agency.

Status: offered, started, completed, declined, ended (``core.enums.InterventionStatus``). Only
a finished one (completed, declined, ended) takes an end date; one marked started without a
start date is taken to start today. Any role allowed ``intervention.manage`` on the case.
"""

from __future__ import annotations

from sqlalchemy import select

from core.enums import FINISHED_INTERVENTION_STATUSES, InterventionStatus
from core.errors import ValidationFailed
from core.models import Intervention, InterventionKind
from core.policy import Action
from core.schemas.actor import Actor
from core.schemas.interventions import (
    InterventionCreate,
    InterventionKindRead,
    InterventionRead,
    InterventionStatusUpdate,
)
from core.services.access import ensure_open, get_or_404, load_case
from core.services.audit import record_audit
from core.uow import UnitOfWork


def _read(intervention: Intervention) -> InterventionRead:
    return InterventionRead(
        id=intervention.id,
        case_id=intervention.case_id,
        kind_code=intervention.kind.code,
        category=intervention.kind.category,
        agency=intervention.agency,
        status=intervention.status,
        started_on=intervention.started_on,
        ended_on=intervention.ended_on,
    )


async def list_intervention_kinds(*, uow: UnitOfWork) -> list[InterventionKindRead]:
    """The catalogue (not personal data: no actor needed)."""
    async with uow:
        kinds = await uow.session.scalars(
            select(InterventionKind)
            .where(InterventionKind.is_active.is_(True))
            .order_by(InterventionKind.category, InterventionKind.id)
        )
        return [InterventionKindRead.model_validate(kind) for kind in kinds]


async def add_intervention(
    *, uow: UnitOfWork, actor: Actor, data: InterventionCreate
) -> InterventionRead:
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.INTERVENTION_MANAGE)
        ensure_open(case)
        kind = await uow.session.scalar(
            select(InterventionKind).where(
                InterventionKind.code == data.kind_code, InterventionKind.is_active.is_(True)
            )
        )
        if kind is None:
            raise ValidationFailed(field="kind_code", rule="unknown_kind")
        intervention = Intervention(
            case_id=case.id,
            kind=kind,
            agency=data.agency,
            status=data.status,
            # Added as already started with no date: today, as a status change to STARTED
            # does; else the funder return (by start date) never counts it.
            started_on=data.started_on
            or (uow.clock.now().date() if data.status is InterventionStatus.STARTED else None),
            recorded_by_id=actor.user_id,
            created_at=uow.clock.now(),
        )
        uow.session.add(intervention)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "intervention.add",
            entity_type="intervention",
            entity_id=intervention.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"kind": kind.code},
        )
        await uow.commit()
        return _read(intervention)


async def update_intervention_status(
    *, uow: UnitOfWork, actor: Actor, intervention_id: int, data: InterventionStatusUpdate
) -> InterventionRead:
    async with uow:
        intervention = await get_or_404(uow, Intervention, intervention_id)
        case = await load_case(uow, actor, intervention.case_id, Action.INTERVENTION_MANAGE)
        if data.ended_on and intervention.started_on and data.ended_on < intervention.started_on:
            raise ValidationFailed(field="ended_on", rule="before_start")
        if data.ended_on and data.status not in FINISHED_INTERVENTION_STATUSES:
            raise ValidationFailed(field="ended_on", rule="not_finished")
        intervention.status = data.status
        intervention.ended_on = data.ended_on
        if data.status is InterventionStatus.STARTED and intervention.started_on is None:
            intervention.started_on = uow.clock.now().date()
        record_audit(
            uow,
            actor,
            "intervention.update",
            entity_type="intervention",
            entity_id=intervention.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"status": data.status.value},
        )
        await uow.commit()
        return _read(intervention)


async def list_case_interventions(
    *, uow: UnitOfWork, actor: Actor, case_id: int
) -> list[InterventionRead]:
    async with uow:
        await load_case(uow, actor, case_id, Action.CASE_VIEW)
        return await interventions_of(uow, case_id)


async def interventions_of(uow: UnitOfWork, case_id: int) -> list[InterventionRead]:
    """The case's interventions, oldest first, for a caller that has checked ``case.view``."""
    rows = await uow.session.scalars(
        select(Intervention).where(Intervention.case_id == case_id).order_by(Intervention.id)
    )
    return [_read(row) for row in rows]
