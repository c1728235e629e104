"""Victims and children linked to a case: restricted to IDVAs, service managers and admins.

Every read is audited in the same transaction as the read, so no view goes unrecorded.
"""

from __future__ import annotations

from sqlalchemy import select

from core.models import LinkedPerson
from core.policy import Action
from core.schemas.actor import Actor
from core.schemas.people import LinkedPersonCreate, LinkedPersonRead
from core.services.access import load_case
from core.services.audit import record_audit
from core.uow import UnitOfWork


async def add_linked_person(
    *, uow: UnitOfWork, actor: Actor, data: LinkedPersonCreate
) -> LinkedPersonRead:
    async with uow:
        case = await load_case(uow, actor, data.case_id, Action.VICTIM_MANAGE)
        person = LinkedPerson(**data.model_dump(), created_at=uow.clock.now())
        uow.session.add(person)
        await uow.flush()
        record_audit(
            uow,
            actor,
            "victim.add",
            entity_type="linked_person",
            entity_id=person.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"kind": data.kind.value},
        )
        await uow.commit()
        return LinkedPersonRead.model_validate(person)


async def list_linked_people(
    *, uow: UnitOfWork, actor: Actor, case_id: int
) -> list[LinkedPersonRead]:
    async with uow:
        case = await load_case(uow, actor, case_id, Action.VICTIM_VIEW)
        people = (
            await uow.session.scalars(
                select(LinkedPerson)
                .where(LinkedPerson.case_id == case_id)
                .order_by(LinkedPerson.id)
            )
        ).all()
        record_audit(
            uow,
            actor,
            "victim.view",
            entity_type="case",
            entity_id=case.id,
            site_id=case.site_id,
            case_id=case.id,
            details={"linked_person_ids": [person.id for person in people]},
        )
        await uow.commit()
        return [LinkedPersonRead.model_validate(person) for person in people]
