"""Audit events: written inside the caller's transaction, so a rolled-back change leaves none.

``details`` carries codes and ids only; never a name, an address or a note.
"""

from __future__ import annotations

from typing import Any

from core.models import AuditEvent
from core.schemas.actor import Actor
from core.uow import UnitOfWork


def record_audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    *,
    entity_type: str,
    entity_id: int | None,
    site_id: int | None = None,
    case_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    uow.session.add(
        AuditEvent(
            occurred_at=uow.clock.now(),
            actor_user_id=None if actor.is_system else actor.user_id,
            face=actor.face,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            site_id=site_id,
            case_id=case_id,
            details=details or {},
        )
    )
