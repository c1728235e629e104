"""The web's Today page in one call: my day, the alerts waiting on me, my unread inbox.

Composed from the services the bot uses (``agenda.my_day``, ``alerts.list_open_alerts``,
``inbox.unread_inbox_count``), each in its own short unit of work, so the page and the bot's
/today can never disagree about what is on someone's day.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core.clock import local_date
from core.models import Case
from core.policy import Action, is_allowed
from core.schemas.actor import Actor
from core.schemas.today import TodayRead
from core.services import agenda, alerts, inbox
from core.uow import UnitOfWork


async def my_today(*, uow: UnitOfWork, actor: Actor, day: date | None = None) -> TodayRead:
    """``day`` defaults to today in the service's zone (``uow.zone``)."""
    day = day or local_date(uow.clock.now(), uow.zone)
    my_day = await agenda.my_day(uow=uow, actor=actor, day=day)
    open_alerts = tuple(await alerts.list_open_alerts(uow=uow, actor=actor))
    named = {
        *(item.case_id for item in my_day.appointments),
        *(item.case_id for item in my_day.overdue_actions),
        *(item.case_id for item in open_alerts),
    }
    return TodayRead(
        my_day=my_day,
        open_alerts=open_alerts,
        unread_inbox=await inbox.unread_inbox_count(uow=uow, actor=actor),
        openable_case_ids=await _openable(uow, actor, named),
    )


async def _openable(uow: UnitOfWork, actor: Actor, case_ids: set[int]) -> frozenset[int]:
    """Those of ``case_ids`` whose page the actor may open (a check, nothing on record)."""
    if not case_ids:
        return frozenset()
    async with uow:
        rows = await uow.session.execute(
            select(Case.id, Case.site_id, Case.case_manager_id).where(Case.id.in_(case_ids))
        )
        return frozenset(
            case_id
            for case_id, site_id, case_manager_id in rows
            if is_allowed(actor, Action.CASE_VIEW, site_id=site_id, case_manager_id=case_manager_id)
        )
