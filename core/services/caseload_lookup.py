"""Picking a case from my own caseload to log work on: for quick pickers such as the bot's /log.

"My caseload" is strict here: the open cases allocated to the actor, on which the policy lets
them log a contact. A service manager may log on any case at their site through the web app,
but a picker only offers (and only accepts) their own allocated cases.
"""

from __future__ import annotations

from sqlalchemy import Select, bindparam, func, select

from core.enums import OPEN_STAGES
from core.errors import NotPermitted
from core.models import Case
from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.schemas.case_choice import CaseChoice
from core.schemas.common import has_nul
from core.services.access import CaseKey, ensure_open
from core.uow import UnitOfWork


def _my_open_cases(actor: Actor) -> Select[int, str, int]:
    return (
        select(Case.id, Case.reference, Case.site_id)
        .where(Case.case_manager_id == actor.user_id, Case.stage.in_(sorted(OPEN_STAGES)))
        .order_by(Case.reference, Case.id)
    )


def _may_log(actor: Actor, site_id: int) -> bool:
    return is_allowed(actor, Action.CONTACT_LOG, site_id=site_id, case_manager_id=actor.user_id)


async def my_open_case_choices(*, uow: UnitOfWork, actor: Actor) -> list[CaseChoice]:
    """The open cases allocated to the actor on which they may log a contact, by reference."""
    async with uow:
        return await my_open_case_choices_in(uow, actor)


async def my_open_case_choices_in(uow: UnitOfWork, actor: Actor) -> list[CaseChoice]:
    """``my_open_case_choices``'s read, in the caller's unit of work (``alerts.alerts_page``)."""
    rows = await uow.session.execute(_my_open_cases(actor))
    return [
        CaseChoice(case_id=case_id, reference=reference)
        for case_id, reference, site_id in rows
        if _may_log(actor, site_id)
    ]


async def my_case_by_reference(
    *, uow: UnitOfWork, actor: Actor, reference: str
) -> CaseChoice | None:
    """The open case on the actor's caseload with this reference (any letter case), or None."""
    wanted = reference.strip().upper()
    if not wanted or has_nul(wanted):  # PostgreSQL cannot compare text holding NUL
        return None
    async with uow:
        rows = await uow.session.execute(
            _my_open_cases(actor).where(func.upper(Case.reference) == wanted)
        )
        for case_id, case_reference, site_id in rows:
            if _may_log(actor, site_id):
                return CaseChoice(case_id=case_id, reference=case_reference)
        return None


_MY_OPEN_CASE_KEY_BY_REFERENCE = select(
    Case.id, Case.reference, Case.site_id, Case.case_manager_id, Case.stage, Case.referral_date
).where(
    Case.case_manager_id == bindparam("user_id"),
    Case.stage.in_(sorted(OPEN_STAGES)),
    func.upper(Case.reference) == bindparam("reference"),
)


async def my_case_key_by_reference_in(
    uow: UnitOfWork, actor: Actor, reference: str
) -> CaseKey | None:
    """:func:`my_case_by_reference` inside the caller's unit of work, as the key a write needs.

    None for a reference that is not one of the actor's open cases on which they may log a
    contact, whoever's case it is (so a reference tells nothing about other people's cases).
    """
    wanted = reference.strip().upper()
    if not wanted or has_nul(wanted):
        return None
    connection = await uow.connection()
    rows = await connection.execute(
        _MY_OPEN_CASE_KEY_BY_REFERENCE, {"user_id": actor.user_id, "reference": wanted}
    )
    for row in rows:
        case = CaseKey(*row)
        if _may_log(actor, case.site_id):
            return case
    return None


async def my_case_for_contact(*, uow: UnitOfWork, actor: Actor, case_id: int) -> CaseChoice:
    """The case, if it is on the actor's caseload and they may log on it.

    ``NotPermitted`` for anything else, an unknown id included (so an id tells nothing about
    other sites' cases); ``CaseClosed`` for a closed case of their own.
    """
    async with uow:
        case = await uow.session.get(Case, case_id)
        if (
            case is None
            or case.case_manager_id != actor.user_id
            or not _may_log(actor, case.site_id)
        ):
            raise NotPermitted(action=str(Action.CONTACT_LOG), actor=actor).about("case", case_id)
        ensure_open(case)
        return CaseChoice(case_id=case.id, reference=case.reference)
