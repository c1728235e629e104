"""The in-app inbox: each person reads and marks their own items, and nobody else's.

Items arrive through the outbox (``core.notifications.channels.InboxChannel``). There is no
policy action here: every query is confined to ``actor.user_id``, so another person's item is
simply not found, and marking items read touches only the actor's own.
"""

from __future__ import annotations

from sqlalchemy import func, or_, select, update

from core.db.results import rowcount
from core.errors import NotPermitted
from core.models import InboxItem
from core.schemas.actor import Actor
from core.schemas.inbox import InboxItemRead, InboxPage
from core.uow import UnitOfWork

MAX_PAGE = 200


def _ensure_person(actor: Actor) -> None:
    if actor.is_system:
        raise NotPermitted(action="inbox.read")


def _read(item: InboxItem) -> InboxItemRead:
    return InboxItemRead(
        id=item.id,
        kind=item.kind,
        message_key=item.message_key,
        params=dict(item.params or {}),
        created_at=item.created_at,
        read_at=item.read_at,
    )


async def _unread(uow: UnitOfWork, actor: Actor) -> int:
    count = await uow.session.scalar(
        select(func.count(InboxItem.id)).where(
            InboxItem.user_id == actor.user_id, InboxItem.read_at.is_(None)
        )
    )
    return int(count or 0)


async def list_my_inbox(
    *, uow: UnitOfWork, actor: Actor, limit: int = 50, before_id: int | None = None
) -> InboxPage:
    """My items, newest first, ``limit`` at a time; ``before_id`` continues after that item."""
    _ensure_person(actor)
    limit = max(1, min(limit, MAX_PAGE))
    query = select(InboxItem).where(InboxItem.user_id == actor.user_id)
    if before_id is not None:
        # Keyset on (created_at, id), the order shown; the cursor must be one of my own items.
        cursor = (
            select(InboxItem.created_at)
            .where(InboxItem.id == before_id, InboxItem.user_id == actor.user_id)
            .scalar_subquery()
        )
        query = query.where(
            or_(
                InboxItem.created_at < cursor,
                (InboxItem.created_at == cursor) & (InboxItem.id < before_id),
            )
        )
    query = query.order_by(InboxItem.created_at.desc(), InboxItem.id.desc()).limit(limit + 1)
    async with uow:
        rows = list(await uow.session.scalars(query))
        items = tuple(_read(item) for item in rows[:limit])
        unread = await _unread(uow, actor)
    more = len(rows) > limit
    return InboxPage(
        items=items,
        unread_count=unread,
        next_before_id=items[-1].id if more else None,
    )


async def unread_inbox_count(*, uow: UnitOfWork, actor: Actor) -> int:
    _ensure_person(actor)
    async with uow:
        return await _unread(uow, actor)


async def mark_all_inbox_read(*, uow: UnitOfWork, actor: Actor) -> int:
    """Mark every unread item of mine read; returns how many."""
    _ensure_person(actor)
    async with uow:
        result = await uow.session.execute(
            update(InboxItem)
            .where(InboxItem.user_id == actor.user_id, InboxItem.read_at.is_(None))
            .values(read_at=uow.clock.now())
            .execution_options(synchronize_session=False)
        )
        await uow.commit()
        return rowcount(result)
