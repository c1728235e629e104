"""Refusals on record: an attempt the policy turned down leaves an audit event of its own.

The refused service rolls back its unit of work (its audit events with it), so the face that
caught ``NotPermitted`` calls ``record_refusal`` afterwards; it commits in a transaction of its
own. Used for the bot's opaque callback ids: a forged id for someone else's case is refused and
the attempt is kept, who and which record, never what was typed.
"""

from __future__ import annotations

from core.models import Appointment, Case
from core.policy import Action
from core.schemas.actor import Actor
from core.services.audit import record_audit
from core.uow import UnitOfWork

REFUSED = "access.refused"


async def record_refusal(
    *,
    uow: UnitOfWork,
    actor: Actor,
    action: Action | str,
    entity_type: str,
    entity_id: int | None,
) -> None:
    """Record that ``actor`` was refused ``action`` on a record (a case, or an appointment,
    gets its site and case id)."""
    async with uow:
        site_id = case_id = None
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
