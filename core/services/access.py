"""Loading records together with the permission check, so no service forgets one."""

from __future__ import annotations

from datetime import date
from typing import NamedTuple, Protocol, TypeVar

from sqlalchemy import bindparam, select

from core.db.base import Base
from core.enums import Stage
from core.errors import CaseClosed, NotFound, NotPermitted
from core.models import Case
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
    try:
        authorize(actor, action, site_id=case.site_id, case_manager_id=case.case_manager_id)
    except NotPermitted as error:
        raise error.about("case", case.id) from None
    return case


class CaseKey(NamedTuple):
    """What a write on a case needs of it: who may touch it, and whether it is open."""

    id: int
    reference: str
    site_id: int
    case_manager_id: int | None
    stage: Stage
    referral_date: date  # the start of the case's life: no contact is dated before it


_CASE_KEY = select(
    Case.id, Case.reference, Case.site_id, Case.case_manager_id, Case.stage, Case.referral_date
).where(Case.id == bindparam("case_id"))


async def load_case_key(uow: UnitOfWork, actor: Actor, case_id: int, action: Action) -> CaseKey:
    """:func:`load_case` for a write that needs none of the case's relations: one short query.

    The case's site and case manager (and, through the case manager, their memberships) are
    not loaded: a contact or an alert on a case only needs to know it may be written.
    """
    connection = await uow.connection()
    row = (await connection.execute(_CASE_KEY, {"case_id": case_id})).one_or_none()
    if row is None:
        raise NotFound(entity=Case.__tablename__, id=case_id)
    return authorize_case_key(actor, CaseKey(*row), action)


def authorize_case_key(actor: Actor, case: CaseKey, action: Action) -> CaseKey:
    """The case key, if ``actor`` may do ``action`` on it (for a key read with other work)."""
    try:
        authorize(actor, action, site_id=case.site_id, case_manager_id=case.case_manager_id)
    except NotPermitted as error:
        raise error.about("case", case.id) from None
    return case


class _Staged(Protocol):
    @property
    def stage(self) -> Stage: ...
    @property
    def reference(self) -> str: ...


def ensure_open(case: _Staged) -> None:
    if case.stage is Stage.CLOSED:
        raise CaseClosed(reference=case.reference)
