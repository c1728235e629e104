"""The fake Bot API, driven through python-telegram-bot's real HTTP stack (httpx)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.request import HTTPXRequest

from tests.fakes import FakeBotApi

ROOT = Path(__file__).resolve().parents[2]
CHAT = 5551234


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(fake: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(token=fake.token, base_url=fake.base_url) as client:
        yield client


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton("Open case", callback_data="case:42")],
            [InlineKeyboardButton("Guide", url="https://example.org/guide")],
        ]
    )


async def test_a_valid_message_with_a_keyboard_is_accepted_and_returned_as_a_message(
    fake: FakeBotApi, bot: Bot
) -> None:
    message = await bot.send_message(CHAT, "Contact logged", reply_markup=keyboard())

    assert isinstance(message, Message)
    assert message.text == "Contact logged"
    assert message.chat.id == CHAT
    assert message.reply_markup == keyboard()
    assert message.from_user is not None and message.from_user.id == bot.id
    assert fake.invalid_requests == []
    [call] = fake.sent_messages(CHAT)
    assert call.params["text"] == "Contact logged"
    assert call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "case:42"


async def test_message_ids_increase_per_chat(fake: FakeBotApi, bot: Bot) -> None:
    first = await bot.send_message(CHAT, "one")
    second = await bot.send_message(CHAT, "two")
    other = await bot.send_message(CHAT + 1, "elsewhere")

    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert fake.count("sendMessage") == 3
    assert len(fake.sent_messages(CHAT)) == 2


async def test_get_me_returns_the_bot_user(bot: Bot) -> None:
    me = await bot.get_me()

    assert me.is_bot and me.username == "drive_assist_fake_bot"


async def test_editing_deleting_and_answering_callbacks_behave_like_telegram(
    fake: FakeBotApi, bot: Bot
) -> None:
    sent = await bot.send_message(CHAT, "Draft", reply_markup=keyboard())

    edited = await bot.edit_message_text("Final", chat_id=CHAT, message_id=sent.message_id)
    assert isinstance(edited, Message) and edited.text == "Final"
    with pytest.raises(BadRequest, match="(?i)message is not modified"):
        await bot.edit_message_text("Final", chat_id=CHAT, message_id=sent.message_id)
    assert await bot.answer_callback_query("cbq-1", text="Saved") is True
    assert await bot.delete_message(CHAT, sent.message_id) is True
    with pytest.raises(BadRequest, match="(?i)message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)


async def test_commands_set_are_the_commands_read_back(bot: Bot) -> None:
    assert await bot.set_my_commands([("start", "Start"), ("help", "Help")]) is True

    commands = await bot.get_my_commands()

    assert [(c.command, c.description) for c in commands] == [("start", "Start"), ("help", "Help")]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"text": "no chat"}, "chat_id is required"),
        ({"chat_id": CHAT, "text": "hi", "colour": "red"}, "unknown parameter 'colour'"),
        ({"chat_id": CHAT, "text": "hi", "disable_notification": "maybe"}, "Boolean"),
        ({"chat_id": {"id": CHAT}, "text": "hi"}, "chat_id"),
        ({"chat_id": CHAT, "text": 12}, "text must be a String"),
        (
            {"chat_id": CHAT, "text": "hi", "reply_markup": {"inline_keyboard": [[{"text": "x"}]]}},
            "text buttons are unallowed",
        ),
        (
            {
                "chat_id": CHAT,
                "text": "hi",
                "reply_markup": {"inline_keyboard": [[{"text": "x", "callback_data": "y" * 65}]]},
            },
            "BUTTON_DATA_INVALID",
        ),
        (
            {
                "chat_id": CHAT,
                "text": "hi",
                "reply_markup": {
                    "inline_keyboard": [
                        [{"text": "x", "callback_data": "y", "url": "https://example.org"}]
                    ]
                },
            },
            "exactly one",
        ),
        (
            {"chat_id": CHAT, "text": "hi", "reply_parameters": {"message_id": "1", "x": 1}},
            "reply_parameters",
        ),
        ({"chat_id": CHAT, "text": "a < b", "parse_mode": "HTML"}, "can't parse entities"),
        ({"chat_id": CHAT, "text": "<b>open", "parse_mode": "HTML"}, "can't parse entities"),
        ({"chat_id": CHAT, "text": "   "}, "message text is empty"),
        ({"chat_id": CHAT, "text": "x" * 4097}, "message is too long"),
    ],
)
async def test_a_request_that_breaks_the_spec_is_rejected_with_400_and_recorded(
    fake: FakeBotApi, payload: dict, reason: str
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{fake.base_url}{fake.token}/sendMessage", json=payload)

    assert response.status_code == 400
    body = response.json()
    assert body["ok"] is False and body["error_code"] == 400
    assert body["description"].startswith("Bad Request: ")
    assert reason in body["description"]
    assert [r.method for r in fake.invalid_requests] == ["sendMessage"]
    assert fake.calls == []


async def test_a_form_encoded_request_with_a_wrong_type_is_rejected(fake: FakeBotApi) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake.base_url}{fake.token}/sendMessage",
            data={"chat_id": "not-a-number-or-@name", "text": "hi", "message_thread_id": "x"},
        )

    assert response.status_code == 400
    assert "message_thread_id must be an Integer" in response.json()["description"]
    assert len(fake.invalid_requests) == 1


async def test_an_unknown_method_and_a_wrong_token_are_refused_like_telegram(
    fake: FakeBotApi,
) -> None:
    async with httpx.AsyncClient() as client:
        unknown = await client.post(f"{fake.base_url}{fake.token}/sendTelepathy", json={})
        wrong = await client.post(f"{fake.base_url}123:nope/getMe")

    assert unknown.status_code == 404
    assert wrong.status_code == 401
    assert wrong.json()["description"] == "Unauthorized"
    assert len(fake.invalid_requests) == 2


async def test_method_names_are_case_insensitive_and_recorded_canonically(
    fake: FakeBotApi,
) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{fake.base_url}{fake.token}/SENDMESSAGE", json={"chat_id": CHAT, "text": "hi"}
        )

    assert response.json()["result"]["text"] == "hi"
    assert [c.method for c in fake.calls] == ["sendMessage"]


# PTB 22 warns that retry_after becomes a timedelta in its next major version.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_a_429_surfaces_as_retry_after_with_the_servers_delay(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=429, retry_after=7)

    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(CHAT, "hello")

    assert caught.value.retry_after in (7, dt.timedelta(seconds=7))
    assert fake.sent_messages() == []
    assert [(f.method, f.status) for f in fake.failed_calls] == [("sendMessage", 429)]
    assert (await bot.send_message(CHAT, "hello again")).text == "hello again"


async def test_a_502_from_telegrams_front_end_surfaces_as_a_network_error(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.fail_next("sendMessage", status=502, times=2)

    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway") as caught:
            await bot.send_message(CHAT, "hello")
        assert not isinstance(caught.value, BadRequest)

    assert fake.sent_messages() == []
    assert len(fake.failed_calls) == 2


async def test_a_blocked_user_surfaces_as_forbidden_for_that_chat_only(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.block_chat(CHAT)

    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "hello")
    fake.fail_next("sendMessage", status=403, chat_id=CHAT + 2)
    with pytest.raises(Forbidden):
        await bot.send_message(CHAT + 2, "hello")

    assert (await bot.send_message(CHAT + 1, "hi")).text == "hi"
    assert [c.chat_id for c in fake.sent_messages()] == [CHAT + 1]
    assert [f.chat_id for f in fake.failed_calls] == [CHAT, CHAT + 2]


async def test_a_reply_slower_than_the_read_timeout_surfaces_as_timed_out(
    fake: FakeBotApi,
) -> None:
    fake.fail_next("sendMessage", status=500, delay=1.0)
    request = HTTPXRequest(read_timeout=0.2)
    async with Bot(token=fake.token, base_url=fake.base_url, request=request) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "slow")

    assert fake.sent_messages() == []


async def test_a_late_reply_may_still_deliver_after_the_client_gave_up(
    fake: FakeBotApi,
) -> None:
    fake.fail_next("sendMessage", delay=0.5)
    request = HTTPXRequest(read_timeout=0.1)
    async with Bot(token=fake.token, base_url=fake.base_url, request=request) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(CHAT, "maybe twice")
        await asyncio.sleep(0.7)

    assert [c.params["text"] for c in fake.sent_messages()] == ["maybe twice"]


async def test_get_updates_returns_pushed_updates_and_confirms_them_by_offset(
    fake: FakeBotApi, bot: Bot
) -> None:
    fake.push_update(
        {
            "message": {
                "message_id": 10,
                "date": 0,
                "text": "/start",
                "chat": {"id": CHAT, "type": "private"},
                "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
            }
        }
    )

    [update] = await bot.get_updates(timeout=1)
    assert update.message is not None and update.message.text == "/start"
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == ()

    waiting = asyncio.create_task(bot.get_updates(offset=update.update_id + 1, timeout=5))
    await asyncio.sleep(0.1)
    fake.push_update(
        {
            "callback_query": {
                "id": "cb1",
                "chat_instance": "ci",
                "data": "case:42",
                "from": {"id": CHAT, "is_bot": False, "first_name": "Sam"},
            }
        }
    )
    [pushed] = await asyncio.wait_for(waiting, 3)
    assert pushed.callback_query is not None and pushed.callback_query.data == "case:42"
    assert fake.invalid_requests == []


async def test_the_standalone_process_serves_ptb_and_records_each_delivery(
    tmp_path: Path,
) -> None:
    record = tmp_path / "deliveries.jsonl"
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.bot_api",
        "--port",
        "0",
        "--print-port",
        "--record",
        str(record),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        port = int(await asyncio.wait_for(process.stdout.readline(), 10))
        base_url = f"http://127.0.0.1:{port}/bot"
        async with Bot(token="fake-token-for-tests", base_url=base_url) as bot:
            await bot.send_message(CHAT, "first")
            await bot.send_message(CHAT, "second")
            async with httpx.AsyncClient() as client:
                await client.post(
                    f"http://127.0.0.1:{port}/_fake/block_chat", json={"chat_id": CHAT}
                )
            with pytest.raises(Forbidden):
                await bot.send_message(CHAT, "third")
    finally:
        process.terminate()
        assert await asyncio.wait_for(process.wait(), 10) == 0

    lines = [json.loads(line) for line in record.read_text().splitlines()]
    assert [(r["method"], r["chat_id"], r["text"]) for r in lines] == [
        ("sendMessage", CHAT, "first"),
        ("sendMessage", CHAT, "second"),
    ]
