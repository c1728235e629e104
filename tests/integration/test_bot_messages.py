"""Which of the bot's messages a site's retention rule deletes, on both databases.

A message is due when it is older than the strictest (smallest) retention of the sites where
its recipient holds a role; no retention anywhere means it is kept. Replies the bot recorded and
notifications sent through the outbox follow the same rule.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.clock import FixedClock
from core.enums import Channel, Lane, NotificationKind, OutboxState, Role
from core.errors import NotFound, NotPermitted, ValidationFailed
from core.models import BotMessage, OutboxMessage, TelegramLink
from core.notifications.outbox import enqueue
from core.schemas.actor import Actor
from core.schemas.bot_messages import BotMessageSource
from core.services import bot_messages
from tests.factories import World

CHAT = 810001


async def set_retention(world: World, site: str, hours: int | None) -> None:
    await bot_messages.set_bot_message_retention(
        uow=world.container.uow(), actor=Actor.system(), site_code=site, hours=hours
    )


async def record(world: World, user_id: int | None, message_id: int, chat: int = CHAT) -> None:
    await bot_messages.record_bot_message(
        uow=world.container.uow(), chat_id=chat, message_id=message_id, user_id=user_id
    )


async def due_ids(world: World) -> list[int]:
    due = await bot_messages.messages_due_for_deletion(uow=world.container.uow(), limit=100)
    return [message.message_id for message in due]


async def test_the_strictest_retention_of_the_users_sites_decides(
    world: World, clock: FixedClock
) -> None:
    both = await world.add_actor(
        "both@test.invalid", [("HER", Role.CASE_MANAGER), ("WOR", Role.PANEL_MEMBER)]
    )
    her_only = world.actor(Role.CASE_MANAGER, "HER")
    await set_retention(world, "HER", 24)
    await set_retention(world, "WOR", 6)
    start = clock.now()
    await record(world, both.user_id, 1)
    await record(world, her_only.user_id, 2, chat=CHAT + 1)

    clock.set(start + timedelta(hours=5))
    assert await due_ids(world) == []
    clock.set(start + timedelta(hours=6, minutes=1))
    assert await due_ids(world) == [1]
    clock.set(start + timedelta(hours=24, minutes=1))
    assert await due_ids(world) == [1, 2]


async def test_a_user_whose_sites_set_no_retention_keeps_every_message(
    world: World, clock: FixedClock
) -> None:
    await set_retention(world, "WOR", 2)  # a rule somewhere, but not at this user's site
    await record(world, world.actor(Role.CASE_MANAGER, "HER").user_id, 1)
    await record(world, None, 2, chat=CHAT + 5)  # a reply to nobody we know
    clock.set(clock.now() + timedelta(hours=40))
    assert await due_ids(world) == []


async def test_a_reply_names_the_linked_user_of_its_chat_when_none_is_given(
    world: World, clock: FixedClock
) -> None:
    manager = world.actor(Role.CASE_MANAGER, "HER")
    async with world.container.uow() as uow:
        uow.session.add(
            TelegramLink(user_id=manager.user_id, telegram_user_id=CHAT, chat_id=CHAT,
                         is_active=True, linked_at=clock.now())
        )  # fmt: skip
        await uow.commit()
    await record(world, None, 7)
    async with world.container.uow() as uow:
        owner = await uow.session.scalar(select(BotMessage.user_id))
    assert owner == manager.user_id


async def test_a_deleted_reply_is_forgotten_and_messages_too_old_to_delete_are_not_chosen(
    world: World, clock: FixedClock
) -> None:
    manager = world.actor(Role.CASE_MANAGER, "HER")
    await set_retention(world, "HER", 1)
    start = clock.now()
    await record(world, manager.user_id, 1)
    clock.set(start + timedelta(hours=47))
    await record(world, manager.user_id, 2)
    clock.set(start + timedelta(hours=49))
    due = await bot_messages.messages_due_for_deletion(uow=world.container.uow(), limit=100)
    assert [m.message_id for m in due] == [2]  # 1 is past Telegram's 48-hour limit
    await bot_messages.mark_deleted(uow=world.container.uow(), messages=due)
    async with world.container.uow() as uow:
        left = (await uow.session.scalars(select(BotMessage.message_id))).all()
    assert left == []  # 2 forgotten once deleted, 1 pruned as undeletable


async def test_an_old_telegram_notification_is_due_and_forgetting_it_clears_its_message_id(
    world: World, clock: FixedClock
) -> None:
    manager = world.actor(Role.CASE_MANAGER, "HER")
    await set_retention(world, "HER", 3)
    async with world.container.uow() as uow:
        uow.session.add(
            TelegramLink(user_id=manager.user_id, telegram_user_id=CHAT, chat_id=CHAT,
                         is_active=True, linked_at=clock.now())
        )  # fmt: skip
        await enqueue(
            uow,
            recipient_user_id=manager.user_id,
            channel=Channel.TELEGRAM,
            kind=NotificationKind.DISRUPTION_ALERT,
            lane=Lane.CRITICAL,
            message_key="notification.disruption_alert",
            params={"reference": "TST-0001", "alert_id": 1},
            dedupe_key="test:retention:1",
        )
        await uow.flush()
        message = (await uow.session.scalars(select(OutboxMessage))).one()
        message.state = OutboxState.SENT
        message.sent_at = clock.now()
        message.telegram_message_id = 55
        outbox_id = message.id
        await uow.commit()

    clock.set(clock.now() + timedelta(hours=2))
    assert await due_ids(world) == []
    clock.set(clock.now() + timedelta(hours=2))
    due = await bot_messages.messages_due_for_deletion(uow=world.container.uow(), limit=100)
    assert [(m.source, m.row_id, m.chat_id, m.message_id) for m in due] == [
        (BotMessageSource.OUTBOX, outbox_id, CHAT, 55)
    ]
    await bot_messages.mark_deleted(uow=world.container.uow(), messages=due)
    assert await due_ids(world) == []
    async with world.container.uow() as uow:
        row = await uow.session.get(OutboxMessage, outbox_id)
        assert row is not None
        assert (row.state, row.telegram_message_id) == (OutboxState.SENT, None)


async def test_only_an_admin_of_the_site_may_set_its_retention_and_hours_must_be_deletable(
    world: World,
) -> None:
    with pytest.raises(NotPermitted):
        await bot_messages.set_bot_message_retention(
            uow=world.container.uow(), actor=world.actor(Role.ADMIN, "WOR"), site_code="HER",
            hours=4,
        )  # fmt: skip
    with pytest.raises(NotPermitted):
        await bot_messages.set_bot_message_retention(
            uow=world.container.uow(), actor=world.actor(Role.SERVICE_MANAGER, "HER"),
            site_code="HER", hours=4,
        )  # fmt: skip
    with pytest.raises(ValidationFailed):
        await set_retention(world, "HER", 48)
    with pytest.raises(NotFound):
        await set_retention(world, "NOPE", 4)
    site = await bot_messages.set_bot_message_retention(
        uow=world.container.uow(), actor=world.actor(Role.ADMIN, "HER"), site_code="her", hours=4
    )
    assert (site.site_code, site.bot_message_retention_hours) == ("HER", 4)
