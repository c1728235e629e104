"""The outbox dispatcher sending through python-telegram-bot's real HTTP stack to the fake Bot API.

Both databases (the ``container`` fixture), both HTTP transports (PTB's httpx and the worker's
aiohttp one from ``bot/request.py``), the real ``Dispatcher``, ``TelegramChannel`` and
``ui.notifications.render``; only time is fixed, and moved on to make a retry due. Each test
also checks that every request was valid Bot API and that what reached Telegram holds the case
reference and no name.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.channel import TelegramChannel
from core.bootstrap import Container
from core.clock import FixedClock
from core.enums import Channel, OutboxState
from core.models import InboxItem, OutboxMessage, TelegramLink
from core.notifications.channels import InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from tests.e2e.outbox_support import (
    NAME_PREFIX,
    TRANSPORTS,
    add_linked_users,
    make_bot,
    queue_alerts,
    reference,
)
from tests.fakes import FakeBotApi
from ui.notifications import render

SETTINGS = DispatchSettings(pacing=False, batch_size=10, concurrency=4, max_attempts=3)
READ_TIMEOUT = 0.2  # seconds; the fake holds a "slow" reply far longer


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture(params=TRANSPORTS)
async def bot(request: pytest.FixtureRequest, fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with make_bot(fake.token, fake.base_url, request.param) as client:
        yield client


class ImpatientBot:
    """The same Bot, asking PTB for a short read timeout on every send."""

    def __init__(self, bot: Bot, read_timeout: float) -> None:
        self._bot = bot
        self._read_timeout = read_timeout

    async def send_message(self, **kwargs: Any) -> Any:
        return await self._bot.send_message(**kwargs, read_timeout=self._read_timeout)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bot, name)


def dispatcher(container: Container, bot: Any) -> Dispatcher:
    channels = {
        Channel.TELEGRAM: TelegramChannel(bot, render),
        Channel.INBOX: InboxChannel(container.session_factory, container.clock),
    }
    return Dispatcher(container, container.clock, channels, SETTINGS, "e2e-dispatcher")


async def recipient(container: Container, chat_id: int, number: int) -> int:
    async with container.session_factory() as session:
        [user_id] = await add_linked_users(
            session, [chat_id], now=container.clock.now(), first_number=number
        )
        await session.commit()
    return user_id


async def queue_alert(container: Container, user_id: int, number: int) -> int:
    """Queues the alert about case ``reference(number)``; returns the outbox row's id."""
    async with container.session_factory() as session:
        await queue_alerts(session, [user_id], now=container.clock.now(), first_number=number)
        await session.commit()
        return int(
            await session.scalar(
                select(OutboxMessage.id).where(OutboxMessage.dedupe_key == f"e2e:alert:{number}")
            )
        )


async def outbox_row(container: Container, row_id: int) -> OutboxMessage:
    async with container.session_factory() as session:
        row = await session.get(OutboxMessage, row_id)
        assert row is not None
        return row


def texts_to(fake: FakeBotApi, chat_id: int) -> list[str]:
    return [call.params["text"] for call in fake.sent_messages(chat_id)]


def assert_valid_and_private(fake: FakeBotApi, number: int) -> None:
    """Every request was valid Bot API; each text names the case, never a person."""
    assert fake.invalid_requests == []
    texts = [call.params["text"] for call in fake.sent_messages()]
    texts += [failed.params["text"] for failed in fake.failed_calls]
    assert texts
    for text in texts:
        assert reference(number) in text
        assert NAME_PREFIX not in text
        assert "@" not in text


async def test_a_429_requeues_the_message_until_retry_after_and_then_delivers_it_once(
    container: Container, clock: FixedClock, fake: FakeBotApi, bot: Bot
) -> None:
    chat = 810001
    user = await recipient(container, chat, 1)
    row_id = await queue_alert(container, user, 1)
    fake.fail_next("sendMessage", status=429, retry_after=30, chat_id=chat)
    worker = dispatcher(container, bot)
    refused_at = clock.now()

    assert await worker.run_once() == 1
    waiting = await outbox_row(container, row_id)
    assert waiting.state is OutboxState.QUEUED
    assert refused_at + timedelta(seconds=30) <= waiting.not_before
    assert waiting.last_error is not None and "30" in waiting.last_error
    assert texts_to(fake, chat) == []

    clock.advance(timedelta(seconds=29))
    assert await worker.run_once() == 0
    assert (await outbox_row(container, row_id)).last_error == waiting.last_error
    clock.set(waiting.not_before)
    assert await worker.run_once() == 1
    assert await worker.run_once() == 0

    sent = await outbox_row(container, row_id)
    assert sent.state is OutboxState.SENT
    assert sent.attempts == 2
    [text] = texts_to(fake, chat)
    assert text == render(sent.message_key, sent.params, "en_GB")
    assert sent.telegram_message_id == 1  # the fake numbers messages per chat from 1
    assert [failure.status for failure in fake.failed_calls] == [429]
    assert_valid_and_private(fake, 1)


async def test_a_502_is_retried_after_a_backoff_and_then_delivered(
    container: Container, clock: FixedClock, fake: FakeBotApi, bot: Bot
) -> None:
    chat = 810002
    user = await recipient(container, chat, 2)
    row_id = await queue_alert(container, user, 2)
    fake.fail_next("sendMessage", status=502, chat_id=chat)
    worker = dispatcher(container, bot)
    failed_at = clock.now()

    assert await worker.run_once() == 1
    waiting = await outbox_row(container, row_id)
    assert waiting.state is OutboxState.QUEUED
    assert waiting.last_error is not None and "Bad Gateway" in waiting.last_error
    base = SETTINGS.backoff_base_seconds
    assert failed_at + timedelta(seconds=base / 2) <= waiting.not_before
    assert waiting.not_before <= failed_at + timedelta(seconds=base)
    assert await worker.run_once() == 0

    clock.set(waiting.not_before)
    assert await worker.run_once() == 1

    sent = await outbox_row(container, row_id)
    assert sent.state is OutboxState.SENT
    assert sent.attempts == 2
    assert len(texts_to(fake, chat)) == 1
    assert_valid_and_private(fake, 2)


async def test_a_message_that_meets_502_on_every_attempt_fails_and_keeps_the_error(
    container: Container, clock: FixedClock, fake: FakeBotApi, bot: Bot
) -> None:
    chat = 810003
    user = await recipient(container, chat, 3)
    row_id = await queue_alert(container, user, 3)
    fake.fail_next("sendMessage", status=502, chat_id=chat, times=SETTINGS.max_attempts)
    worker = dispatcher(container, bot)

    for attempt in range(1, SETTINGS.max_attempts + 1):
        assert await worker.run_once() == 1
        row = await outbox_row(container, row_id)
        assert row.attempts == attempt
        if attempt < SETTINGS.max_attempts:
            assert row.state is OutboxState.QUEUED
            clock.set(row.not_before)
    clock.advance(timedelta(days=1))
    assert await worker.run_once() == 0

    failed = await outbox_row(container, row_id)
    assert failed.state is OutboxState.FAILED
    assert failed.last_error is not None and "Bad Gateway" in failed.last_error
    assert texts_to(fake, chat) == []
    assert [failure.status for failure in fake.failed_calls] == [502] * SETTINGS.max_attempts
    assert_valid_and_private(fake, 3)


async def test_a_reply_slower_than_the_read_timeout_is_retried_and_then_delivered_once(
    container: Container, clock: FixedClock, fake: FakeBotApi, bot: Bot
) -> None:
    chat = 810004
    user = await recipient(container, chat, 4)
    row_id = await queue_alert(container, user, 4)
    # The gateway gives up too, after the client has: the slow attempt delivers nothing.
    fake.fail_next("sendMessage", status=504, delay=5 * READ_TIMEOUT + 1, chat_id=chat)
    worker = dispatcher(container, ImpatientBot(bot, READ_TIMEOUT))

    assert await worker.run_once() == 1
    waiting = await outbox_row(container, row_id)
    assert waiting.state is OutboxState.QUEUED
    assert waiting.last_error is not None and waiting.last_error.startswith("TimedOut")
    assert texts_to(fake, chat) == []

    clock.set(waiting.not_before)
    assert await worker.run_once() == 1

    sent = await outbox_row(container, row_id)
    assert sent.state is OutboxState.SENT
    assert sent.attempts == 2
    assert len(texts_to(fake, chat)) == 1
    assert_valid_and_private(fake, 4)


async def test_a_user_who_blocked_the_bot_loses_the_link_and_their_alerts_go_to_the_inbox(
    container: Container, clock: FixedClock, fake: FakeBotApi, bot: Bot
) -> None:
    chat = 810005
    user = await recipient(container, chat, 5)
    first = await queue_alert(container, user, 5)
    fake.block_chat(chat)
    worker = dispatcher(container, bot)

    assert await worker.run_once() == 1

    # A critical alert is not lost with the link: it is queued again for the inbox.
    refused = await outbox_row(container, first)
    assert refused.state is OutboxState.QUEUED
    assert refused.channel is Channel.INBOX
    assert refused.last_error is not None and "blocked" in refused.last_error
    async with container.session_factory() as session:
        link = (
            await session.scalars(select(TelegramLink).where(TelegramLink.user_id == user))
        ).one()
    assert link.is_active is False
    assert link.deactivation_reason == "blocked"
    assert link.deactivated_at == clock.now()

    clock.advance(timedelta(minutes=5))
    second = await queue_alert(container, user, 6)
    assert await worker.run_once() == 2

    for row_id in (first, second):
        delivered = await outbox_row(container, row_id)
        assert delivered.state is OutboxState.SENT
        assert delivered.telegram_message_id is None
    async with container.session_factory() as session:
        items = (
            await session.scalars(
                select(InboxItem)
                .where(InboxItem.user_id == user)
                .order_by(InboxItem.outbox_message_id)
            )
        ).all()
    assert [(item.outbox_message_id, item.params) for item in items] == [
        (first, {"reference": reference(5)}),
        (second, {"reference": reference(6)}),
    ]
    assert texts_to(fake, chat) == []
    assert [failure.chat_id for failure in fake.failed_calls] == [chat]  # one try, no more
    assert_valid_and_private(fake, 5)
