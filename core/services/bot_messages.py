"""The per-site rule "delete the bot's messages older than N hours", and what it selects.

Two kinds of message sit in people's Telegram chats: the bot's replies (recorded here by
``record_bot_message`` as the bot sends them) and notifications sent through the outbox (whose
rows already keep ``telegram_message_id``). A message is due for deletion when it is older than
the strictest (smallest) retention of the sites where its recipient holds a role; a recipient
with no such site keeps their messages. Once deleted, or found already gone, a message is
forgotten: the reply's row is removed, the outbox row's ``telegram_message_id`` is cleared.
Telegram refuses to delete a message 48 hours old or more, so older ones are never selected,
and recorded replies that old are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, insert, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from core.enums import Channel
from core.errors import NotFound, ValidationFailed
from core.models import BotMessage, Membership, OutboxMessage, Site, TelegramLink
from core.policy import Action, authorize
from core.schemas.actor import Actor
from core.schemas.bot_messages import (
    DELETABLE_FOR_HOURS,
    MAX_RETENTION_HOURS,
    BotMessageSource,
    DueBotMessage,
    SiteRetentionRead,
)
from core.services.audit import record_audit
from core.uow import UnitOfWork


async def record_bot_message(
    *, uow: UnitOfWork, chat_id: int, message_id: int, user_id: int | None
) -> None:
    """Remember a message the bot sent. Without ``user_id`` the chat's active link names it."""
    async with uow:
        owner: ColumnElement[int | None] | int | None = user_id
        if user_id is None:
            owner = (
                select(TelegramLink.user_id)
                .where(TelegramLink.chat_id == chat_id, TelegramLink.is_active.is_(True))
                .limit(1)
                .scalar_subquery()
            )
        await uow.session.execute(
            insert(BotMessage).values(
                chat_id=chat_id, message_id=message_id, user_id=owner, sent_at=uow.clock.now()
            )
        )
        await uow.commit()


def _older_than_retention(
    user_id: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    sent_at: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    now: datetime,
    retentions: Sequence[int],
) -> ColumnElement[bool]:
    """``now - sent_at`` exceeds the smallest retention among the user's sites.

    That holds exactly when some site of the user has a retention the message exceeds, which
    is an ``EXISTS`` with one cutoff per distinct retention (computed here, so the SQL is the
    same on SQLite and PostgreSQL).
    """
    return and_(
        sent_at > now - timedelta(hours=DELETABLE_FOR_HOURS),
        _exceeds_a_site_retention(user_id, sent_at, now, retentions),
    )


def _exceeds_a_site_retention(
    user_id: InstrumentedAttribute[int] | InstrumentedAttribute[int | None],
    sent_at: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    now: datetime,
    retentions: Sequence[int],
) -> ColumnElement[bool]:
    return exists(
        select(Membership.id)
        .join(Site, Site.id == Membership.site_id)
        .where(
            Membership.user_id == user_id,
            or_(
                *(
                    and_(
                        Site.bot_message_retention_hours == hours,
                        sent_at < now - timedelta(hours=hours),
                    )
                    for hours in retentions
                )
            ),
        )
    )


async def messages_due_for_deletion(*, uow: UnitOfWork, limit: int) -> list[DueBotMessage]:
    """Up to ``limit`` messages due for deletion, oldest first (replies, then notifications)."""
    async with uow:
        session = uow.session
        retentions = [
            hours
            for hours in await session.scalars(
                select(Site.bot_message_retention_hours)
                .where(Site.bot_message_retention_hours.is_not(None))
                .distinct()
            )
            if hours is not None  # none are: this tells the type checker
        ]
        if not retentions:
            return []
        now = uow.clock.now()
        replies = (
            await session.execute(
                select(BotMessage.id, BotMessage.chat_id, BotMessage.message_id)
                .where(
                    _older_than_retention(BotMessage.user_id, BotMessage.sent_at, now, retentions)
                )
                .order_by(BotMessage.sent_at, BotMessage.id)
                .limit(limit)
            )
        ).all()
        due = [
            DueBotMessage(source=BotMessageSource.REPLY, row_id=r, chat_id=c, message_id=m)
            for r, c, m in replies
        ]
        if len(due) < limit:
            notifications = (
                await session.execute(
                    select(
                        OutboxMessage.id, TelegramLink.chat_id, OutboxMessage.telegram_message_id
                    )
                    .join(TelegramLink, TelegramLink.user_id == OutboxMessage.recipient_user_id)
                    .where(
                        OutboxMessage.channel == Channel.TELEGRAM,
                        OutboxMessage.telegram_message_id.is_not(None),
                        _older_than_retention(
                            OutboxMessage.recipient_user_id, OutboxMessage.sent_at, now, retentions
                        ),
                    )
                    .order_by(OutboxMessage.sent_at, OutboxMessage.id)
                    .limit(limit - len(due))
                )
            ).all()
            due += [
                DueBotMessage(source=BotMessageSource.OUTBOX, row_id=r, chat_id=c, message_id=m)
                for r, c, m in notifications
            ]
        return due


async def mark_deleted(*, uow: UnitOfWork, messages: Sequence[DueBotMessage]) -> None:
    """Forget messages that were deleted, or that Telegram says cannot be (already gone).

    Also prunes recorded replies too old for Telegram to delete any more.
    """
    replies = [m.row_id for m in messages if m.source is BotMessageSource.REPLY]
    notifications = [m.row_id for m in messages if m.source is BotMessageSource.OUTBOX]
    async with uow:
        too_old = uow.clock.now() - timedelta(hours=DELETABLE_FOR_HOURS)
        await uow.session.execute(delete(BotMessage).where(BotMessage.sent_at <= too_old))
        if replies:
            await uow.session.execute(delete(BotMessage).where(BotMessage.id.in_(replies)))
        if notifications:
            await uow.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(notifications))
                .values(telegram_message_id=None)
            )
        await uow.commit()


async def set_bot_message_retention(
    *, uow: UnitOfWork, actor: Actor, site_code: str, hours: int | None
) -> SiteRetentionRead:
    """Delete the bot's messages to the site's staff after ``hours`` hours; None: keep them."""
    if hours is not None and not 1 <= hours <= MAX_RETENTION_HOURS:
        raise ValidationFailed(field="hours", rule="range")
    async with uow:
        site = await uow.session.scalar(select(Site).where(Site.code == site_code.upper()))
        if site is None:
            raise NotFound(entity="site", code=site_code)
        authorize(actor, Action.SITE_MANAGE, site_id=site.id)
        previous = site.bot_message_retention_hours
        site.bot_message_retention_hours = hours
        record_audit(
            uow,
            actor,
            "site.bot_message_retention",
            entity_type="site",
            entity_id=site.id,
            site_id=site.id,
            details={"hours": hours, "previous_hours": previous},
        )
        await uow.commit()
        return SiteRetentionRead(
            site_id=site.id, site_code=site.code, bot_message_retention_hours=hours
        )
