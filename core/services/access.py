"""Loading records together with the permission check, so no service forgets one."""

from __future__ import annotations

from typing import TypeVar

from core.enums import Stage
from core.errors import CaseClosed, NotFound
from core.models import Base, Case
from core.policy import Action, authorize
from core.schemas.actor import Actor
from core.uow import UnitOfWork

M = TypeVar("M", bound=Base)


async def get_or_404(uow: UnitOfWork, model: type[M], record_id: int) -> M:
    record = await uow.session.get(model, record_id)
    if record is None:
        raise NotFound(entity=model.__tablename__, id=record_id)
    return record


async def load_case(uow: UnitOfWork, actor: Actor, case_id: int, action: Action) -> Case:
    """The case, if the actor may do ``action`` on it; ``NotPermitted`` or ``NotFound`` if not."""
    case = await get_or_404(uow, Case, case_id)
    authorize(actor, action, site_id=case.site_id, case_manager_id=case.case_manager_id)
    return case


def ensure_open(case: Case) -> None:
    if case.stage is Stage.CLOSED:
        raise CaseClosed(reference=case.reference)
