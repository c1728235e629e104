"""The bot's replies take their turns from the send limiter every sending process shares.

Telegram's limits (30 messages a second, one a second to a chat) hold per bot token, so the
bot's replies count against the same budget as the outbox workers' sends
(``core.notifications.shared_pacer``). :class:`SharedReplyLimiter` is PTB's rate limiter hook:
a request to a chat waits for a shared send slot, and a message sent to a chat
(``sendMessage``, ``sendPhoto``, ``copyMessage``..., not ``sendChatAction``) first waits for
the chat's turn, which the workers see too. When Telegram still answers 429, the reply waits
the ``retry_after`` it gives (and the chat is held that long for every process) and is sent
again, up to ``max_retries`` times, as ``AIORateLimiter`` does.

Requests with no chat (``getUpdates``, ``answerCallbackQuery``, ``setMyCommands``) are not
paced: Telegram's message limits are not about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channel import retry_after_seconds
from core.notifications.pacer import SendPacer

log = logging.getLogger(__name__)

JSONDict = dict[str, Any]

# Methods that put a new message in a chat; each waits for the chat's turn.
_NEW_MESSAGE_PREFIXES = ("send", "copy", "forward")
# Extra wait after Telegram's retry_after, as AIORateLimiter does.
_RETRY_GRACE_SECONDS = 0.1


def _chat_of(data: dict[str, Any]) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(data["chat_id"])
    return None  # none, or a channel's @name


class SharedReplyLimiter(BaseRateLimiter[int]):
    """PTB's ``rate_limiter`` over a shared :class:`SendPacer`; closes it on shutdown."""

    def __init__(self, pacer: SendPacer, *, max_retries: int) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        close = getattr(self.pacer, "aclose", None)
        if close is not None:
            await close()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        max_retries = rate_limit_args or self.max_retries
        paced = "chat_id" in data
        method = endpoint.lower()
        new_message = method.startswith(_NEW_MESSAGE_PREFIXES) and method != "sendchataction"
        chat = _chat_of(data) if new_message else None
        for attempt in range(max_retries + 1):
            try:
                return await self._send(callback, args, kwargs, paced=paced, chat=chat)
            except RetryAfter as error:
                if attempt == max_retries:
                    raise
                seconds = retry_after_seconds(error)
                if chat is not None:
                    await self.pacer.hold_chat(chat, seconds)
                log.info("Flood control: reply sent again after %.1f s", seconds)
                await asyncio.sleep(seconds + _RETRY_GRACE_SECONDS)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _send(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | JSONDict | list[JSONDict]]],
        args: Any,
        kwargs: dict[str, Any],
        *,
        paced: bool,
        chat: int | None,
    ) -> bool | JSONDict | list[JSONDict]:
        if chat is not None:
            # The chat's turn first, then the slot: a slot counts as a send started at once.
            while (wait := await self.pacer.take_chat(chat)) > 0:  # noqa: ASYNC110 (kept in the store)
                await asyncio.sleep(wait)
        try:
            if paced:
                await self.pacer.next_slot()
            return await callback(*args, **kwargs)
        finally:
            if chat is not None:
                await self.pacer.sent(chat)
