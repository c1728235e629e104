"""Deleting the bot's old messages, through PTB's real HTTP stack against the fake Bot API.

The production ``Application`` records every reply it sends; the deletion job
(``bot.jobs.delete_all_due_messages``) asks core what a site's retention rule makes due and
calls deleteMessage for it, on both databases.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.jobs import delete_all_due_messages
from core.clock import FixedClock
from core.enums import Role
from core.models import BotMessage
from core.schemas.actor import Actor
from core.services import bot_messages
from tests.e2e.test_bot_basics import ALICE, Harness, make_harness
from tests.factories import World


@pytest.fixture
async def bot(container: Any) -> AsyncIterator[Harness]:
    async for harness in make_harness(container):
        yield harness


async def recorded(world: World) -> list[int]:
    async with world.container.uow() as uow:
        return list(
            (await uow.session.scalars(select(BotMessage.message_id).order_by(BotMessage.id))).all()
        )


def deleted(bot: Harness) -> list[int]:
    return [c.params["message_id"] for c in bot.fake.calls if c.method == "deleteMessage"]


async def linked_at_a_site_keeping_two_hours(bot: Harness, world: World) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot_messages.set_bot_message_retention(
        uow=world.container.uow(), actor=Actor.system(), site_code="HER", hours=2
    )


async def test_an_old_reply_is_deleted_and_a_young_one_is_not(
    bot: Harness, world: World, clock: FixedClock
) -> None:
    await linked_at_a_site_keeping_two_hours(bot, world)
    await bot.say(ALICE, "/next")
    old = await recorded(world)
    assert len(old) == 2  # the "now linked" reply and the /next reply
    clock.advance(timedelta(hours=2, minutes=5))
    await bot.say(ALICE, "/next")
    young = (await recorded(world))[-1]

    assert await delete_all_due_messages(bot.application.bot, world.container.uow) == 2

    assert deleted(bot) == old
    assert await recorded(world) == [young]


async def test_a_message_already_gone_is_forgotten_and_a_network_error_is_tried_again(
    bot: Harness, world: World, clock: FixedClock
) -> None:
    await linked_at_a_site_keeping_two_hours(bot, world)
    await bot.say(ALICE, "/next")
    [_link_reply, second] = await recorded(world)
    clock.advance(timedelta(hours=3))
    bot.fake.fail_next(
        "deleteMessage", status=400, description="Bad Request: message to delete not found"
    )
    bot.fake.fail_next("deleteMessage", status=500)

    assert await delete_all_due_messages(bot.application.bot, world.container.uow) == 1
    assert await recorded(world) == [second]  # 400: forgotten; 500: kept for the next round
    assert [f.status for f in bot.fake.failed_calls] == [400, 500]

    assert await delete_all_due_messages(bot.application.bot, world.container.uow) == 1
    assert deleted(bot) == [second]
    assert await recorded(world) == []


async def test_a_user_at_a_site_without_retention_keeps_every_message(
    bot: Harness, world: World, clock: FixedClock
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/next")
    clock.advance(timedelta(hours=40))
    assert await delete_all_due_messages(bot.application.bot, world.container.uow) == 0
    assert deleted(bot) == []
    assert len(await recorded(world)) == 2


async def test_a_reply_the_bot_edits_later_is_recorded_once_and_no_error_is_logged(
    bot: Harness, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await bot.link(world.actor(Role.CASE_MANAGER), ALICE, world.container)
    await bot.say(ALICE, "/lang")
    [choice] = bot.fake.sent_messages(ALICE)[-1:]
    [_link_reply, shown] = await recorded(world)
    english = choice.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    press = bot.press(ALICE, english, choice.params)
    press["callback_query"]["message"]["message_id"] = shown  # the button on the bot's own reply

    with caplog.at_level(logging.WARNING):
        await bot.deliver(press)

    assert bot.fake.count("editMessageText") == 1
    assert await recorded(world) == [_link_reply, shown]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
