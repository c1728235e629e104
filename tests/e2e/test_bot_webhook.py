"""The bot's webhook and polling modes (``processes.serve.serve_bot``), against the fake Bot API.

Webhook mode runs PTB's own webhook server on 127.0.0.1: Telegram's POSTs must carry the
secret token in ``X-Telegram-Bot-Api-Secret-Token``, anything else gets 403 and is not handled.
Polling mode first clears a webhook left from before, as Telegram refuses getUpdates otherwise.
The application ``serve_bot`` builds is watched (``ErrorWatch`` of ``test_bot_basics``): an
exception reaching its error handler fails the test.
"""

from __future__ import annotations

import asyncio
import dataclasses
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select

import bot.app
from core.bootstrap import Container
from core.models import BotProcessedUpdate
from processes.serve import serve_bot
from tests.e2e.test_bot_basics import ALICE, UNLINKED_REPLY, ErrorWatch
from tests.fakes import FakeBotApi

SECRET = "a-test-secret_0123456789abcdefghijklmnop"


@pytest.fixture(autouse=True)
def errors(monkeypatch: pytest.MonkeyPatch) -> Iterator[ErrorWatch]:
    """Watch every application ``serve_bot`` builds; fail at teardown on an unexpected error."""
    watch = ErrorWatch()
    build = bot.app.build_application

    def watched(*args: Any, **kwargs: Any) -> bot.app.BotApplication:
        application = build(*args, **kwargs)
        watch.attach(application)
        return application

    monkeypatch.setattr(bot.app, "build_application", watched)
    yield watch
    assert watch.watching == 1
    watch.check()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def help_update(update_id: int, user_id: int = ALICE) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1772442000,
            "chat": {"id": user_id, "type": "private", "first_name": "Tester"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Tester"},
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }


async def eventually(check: Callable[[], Awaitable[bool] | bool]) -> None:
    async with asyncio.timeout(15):
        while True:
            outcome = check()
            if isinstance(outcome, Awaitable):
                outcome = await outcome
            if outcome:
                return
            await asyncio.sleep(0.05)


def with_bot_settings(container: Container, fake: FakeBotApi, **more: Any) -> Container:
    settings = container.settings.model_copy(
        update={"telegram_bot_token": fake.token, "telegram_api_base_url": fake.base_url} | more
    )
    return dataclasses.replace(container, settings=settings)


async def processed_update_ids(container: Container) -> list[int]:
    async with container.uow() as uow:
        return list((await uow.session.scalars(select(BotProcessedUpdate.update_id))).all())


async def test_webhook_mode_handles_a_post_with_the_secret_and_refuses_any_other(
    container: Container,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-updates"
    async with FakeBotApi() as fake:
        app_container = with_bot_settings(
            container,
            fake,
            telegram_webhook_url=url,
            telegram_webhook_secret=SECRET,
            telegram_webhook_listen="127.0.0.1",
            telegram_webhook_port=port,
        )
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_bot(app_container, stop, webhook=True))
        try:
            await eventually(lambda: fake.webhook.get("url") == url)
            assert fake.webhook["secret_token"] == SECRET

            async with aiohttp.ClientSession() as http:

                async def post(update: dict[str, Any], headers: dict[str, str]) -> int:
                    async with http.post(url, json=update, headers=headers) as response:
                        return response.status

                assert (
                    await post(help_update(11), {"X-Telegram-Bot-Api-Secret-Token": "wrong"}) == 403
                )
                assert await post(help_update(12), {}) == 403
                assert (
                    await post(help_update(13), {"X-Telegram-Bot-Api-Secret-Token": SECRET}) == 200
                )

            await eventually(lambda: len(fake.sent_messages(ALICE)) >= 1)
            assert [c.params["text"] for c in fake.sent_messages(ALICE)] == [UNLINKED_REPLY]
            assert await processed_update_ids(container) == [13]
            assert fake.count("getUpdates") == 0
        finally:
            stop.set()
            await serving
        assert fake.invalid_requests == []


async def test_polling_mode_clears_a_leftover_webhook_and_answers(container: Container) -> None:
    async with FakeBotApi() as fake:
        fake.webhook = {"url": "https://example.invalid/old-hook"}  # as a webhook run leaves it
        stop = asyncio.Event()
        serving = asyncio.create_task(serve_bot(with_bot_settings(container, fake), stop))
        try:
            fake.push_update(help_update(21))
            await eventually(lambda: len(fake.sent_messages(ALICE)) >= 1)
            assert [c.params["text"] for c in fake.sent_messages(ALICE)] == [UNLINKED_REPLY]
            assert fake.count("deleteWebhook") == 1
            assert fake.webhook == {}
        finally:
            stop.set()
            await serving
        assert fake.invalid_requests == []
