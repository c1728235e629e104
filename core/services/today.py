"""The web's Today page in one call: my day, the alerts waiting on me, my unread inbox.

Composed from the services the bot uses (``agenda.my_day``, ``alerts.list_open_alerts``,
``inbox.unread_inbox_count``), each in its own short unit of work, so the page and the bot's
/today can never disagree about what is on someone's day.
"""

from __future__ import annotations

from datetime import date

from core.clock import local_date
from core.schemas.actor import Actor
from core.schemas.today import TodayRead
from core.services import agenda, alerts, inbox
from core.uow import UnitOfWork


async def my_today(*, uow: UnitOfWork, actor: Actor, day: date | None = None) -> TodayRead:
    """``day`` defaults to today in the service's zone (``uow.zone``)."""
    day = day or local_date(uow.clock.now(), uow.zone)
    return TodayRead(
        my_day=await agenda.my_day(uow=uow, actor=actor, day=day),
        open_alerts=tuple(await alerts.list_open_alerts(uow=uow, actor=actor)),
        unread_inbox=await inbox.unread_inbox_count(uow=uow, actor=actor),
    )
