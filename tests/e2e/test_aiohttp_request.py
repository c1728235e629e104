"""The aiohttp request backend, driven through python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, NetworkError, RetryAfter, TimedOut

from bot.request import AiohttpRequest, build_bot
from tests.fakes import FakeBotApi

CHAT = 5557001


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with build_bot(fake.token, fake.base_url, pool_size=4) as client:
        yield client


async def test_build_bot_sends_both_kinds_of_request_through_aiohttp(fake: FakeBotApi) -> None:
    built = build_bot(fake.token, fake.base_url)

    assert isinstance(built.request, AiohttpRequest)
    assert isinstance(built._request[0], AiohttpRequest)  # get_updates' own request object


async def test_a_message_is_sent_and_comes_back_as_a_message(fake: FakeBotApi, bot: Bot) -> None:
    message = await bot.send_message(CHAT, "Reminder: HER-0042 at 10:00")

    assert isinstance(message, Message)
    assert message.chat.id == CHAT
    assert message.text == "Reminder: HER-0042 at 10:00"
    assert fake.invalid_requests == []
    [call] = fake.sent_messages(CHAT)
    assert call.params["text"] == "Reminder: HER-0042 at 10:00"


async def test_nested_parameters_go_as_typed_json_that_the_fake_accepts(
    fake: FakeBotApi, bot: Bot
) -> None:
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("Open HER-0042", callback_data="case:42")]]
    )

    message = await bot.send_message(
        CHAT, "<b>Panel</b> on Tuesday", parse_mode="HTML", reply_markup=keyboard
    )

    assert fake.invalid_requests == []
    assert message.reply_markup == keyboard
    [call] = fake.sent_messages(CHAT)
    assert call.params["chat_id"] == CHAT
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "case:42"


async def test_a_file_goes_as_multipart_form_data(fake: FakeBotApi, bot: Bot) -> None:
    accepted = await bot.set_webhook(
        url="https://example.org/hook", certificate=b"-----FAKE CERTIFICATE-----"
    )

    assert accepted is True
    assert fake.invalid_requests == []
    assert fake.webhook["url"] == "https://example.org/hook"
    assert fake.webhook["certificate"] == "<uploaded file>"


async def test_flood_control_raises_retry_after_with_the_seconds(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=17)

    with pytest.raises(RetryAfter) as raised:
        await bot.send_message(CHAT, "Reminder")

    with warnings.catch_warnings():  # PTB 22 warns while retry_after moves to timedelta
        warnings.simplefilter("ignore")
        retry_after = raised.value.retry_after
    seconds = retry_after.total_seconds() if isinstance(retry_after, timedelta) else retry_after
    assert seconds == 17
    assert fake.sent_messages() == []


async def test_a_bad_gateway_raises_network_error(fake: FakeBotApi, bot: Bot) -> None:
    fake.fail_next("sendMessage", status=502)

    with pytest.raises(NetworkError) as raised:
        await bot.send_message(CHAT, "Reminder")

    assert "Bad Gateway" in str(raised.value)
    assert not isinstance(raised.value, TimedOut)


async def test_a_blocked_bot_raises_forbidden(fake: FakeBotApi, bot: Bot) -> None:
    fake.block_chat(CHAT)

    with pytest.raises(Forbidden, match="blocked"):
        await bot.send_message(CHAT, "Reminder")


async def test_an_answer_slower_than_the_read_timeout_raises_timed_out(fake: FakeBotApi) -> None:
    fake.fail_next("sendMessage", delay=3.0)
    request = AiohttpRequest(connection_pool_size=2, read_timeout=0.3)

    async with Bot(fake.token, base_url=fake.base_url, request=request) as slow:
        with pytest.raises(TimedOut):
            await slow.send_message(CHAT, "Reminder")


async def test_a_server_that_is_gone_raises_network_error(fake: FakeBotApi) -> None:
    base_url = fake.base_url
    token = fake.token
    await fake.stop()

    orphan = build_bot(token, base_url)
    with pytest.raises(NetworkError) as raised:
        async with orphan:  # initialising asks the server for getMe
            pass

    assert not isinstance(raised.value, TimedOut)


async def test_get_updates_returns_what_the_server_queued(fake: FakeBotApi, bot: Bot) -> None:
    fake.push_update(
        {
            "message": {
                "message_id": 1,
                "date": 1_700_000_000,
                "chat": {"id": CHAT, "type": "private", "first_name": "Test"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "Test"},
                "text": "/start",
            }
        }
    )

    updates = await bot.get_updates(timeout=1)

    assert [update.message.text for update in updates if update.message] == ["/start"]
    assert fake.invalid_requests == []


async def test_a_request_object_can_be_shut_down_and_initialised_again(fake: FakeBotApi) -> None:
    request = AiohttpRequest(connection_pool_size=1)
    async with Bot(fake.token, base_url=fake.base_url, request=request) as first:
        await first.get_me()
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(f"{fake.base_url}{fake.token}/getMe", "POST")

    async with Bot(fake.token, base_url=fake.base_url, request=request) as second:
        me = await second.get_me()

    assert me.username == "drive_assist_fake_bot"
