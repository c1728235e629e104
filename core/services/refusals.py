"""Refusals on record: an attempt the policy turned down leaves an audit event of its own.

The refused service rolls back its unit of work (its audit events with it); the unit of work
then calls :func:`record_refused` with the ``NotPermitted`` that left it, which commits in a
transaction of its own (``core.uow``). So every refusal from every face is on record once,
without the face doing anything: who, which action, which record (a forged id for someone
else's case, say), never what was typed.
"""

from __future__ import annotations

from core.errors import NotPermitted
from core.models import Appointment, Case
from core.policy import Action
from core.schemas.actor import Actor
from core.services.audit import record_audit
from core.uow import UnitOfWork

REFUSED = "access.refused"


async def record_refused(*, uow: UnitOfWork, error: NotPermitted) -> None:
    """Record the refusal ``error`` carries (its actor, action and, when known, record)."""
    actor: Actor = error.actor
    if error.entity_type is not None:
        entity_type, entity_id = error.entity_type, error.entity_id
    elif error.site_id is not None:
        entity_type, entity_id = "site", error.site_id
    else:
        entity_type, entity_id = "action", None
    await record_refusal(
        uow=uow,
        actor=actor,
        action=str(error.details.get("action", "unknown")),
        entity_type=entity_type,
        entity_id=entity_id,
        site_id=error.site_id,
    )


async def record_refusal(
    *,
    uow: UnitOfWork,
    actor: Actor,
    action: Action | str,
    entity_type: str,
    entity_id: int | None,
    site_id: int | None = None,
) -> None:
    """Record that ``actor`` was refused ``action`` on a record (a case, or an appointment,
    gets its site and case id; anything else the site it was refused at, if any)."""
    async with uow:
        case_id = None
        if entity_type == "case" and entity_id is not None:
            case = await uow.session.get(Case, entity_id)
            site_id, case_id = (case.site_id, case.id) if case is not None else (None, None)
        if entity_type == "appointment" and entity_id is not None:
            appointment = await uow.session.get(Appointment, entity_id)
            case = None if appointment is None else await uow.session.get(Case, appointment.case_id)
            site_id, case_id = (case.site_id, case.id) if case is not None else (None, None)
        record_audit(
            uow,
            actor,
            REFUSED,
            entity_type=entity_type,
            entity_id=entity_id,
            site_id=site_id,
            case_id=case_id,
            details={"action": str(action)},
        )
        await uow.commit()
