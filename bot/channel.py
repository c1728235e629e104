"""The Telegram channel: sends an outbox message through PTB's ``Bot`` and maps its errors.

Errors become core's typed outcomes, so the dispatcher decides what happens next:

- ``RetryAfter`` (HTTP 429, flood control) -> ``RetryLater(retry_after)``;
- ``Forbidden`` (403: the user blocked the bot) -> ``RecipientBlocked``;
- ``BadRequest`` (400: chat not found, text refused) -> ``PermanentFailure``;
- ``ChatMigrated`` (the group became a supergroup) -> ``PermanentFailure``, naming the new id;
- ``TimedOut`` and ``NetworkError`` (PTB raises ``NetworkError`` for 5xx and unknown HTTP
  errors), ``InvalidToken``, ``Conflict`` and any other ``TelegramError`` (e.g. a proxy's
  non-JSON error page) -> ``RetryLater(None)``: backed off, then failed after the last attempt.

``BadRequest`` and ``TimedOut`` are subclasses of ``NetworkError``, so the order of the
``except`` clauses below matters.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from core.notifications.channels import (
    OutboundMessage,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    SendResult,
)

Render = Callable[[str, dict[str, Any], str], str]


def _retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns while moving retry_after from int to timedelta; accept either.
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


class TelegramChannel:
    def __init__(self, bot: Bot, render: Render) -> None:
        self.bot = bot
        self.render = render

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.chat_id is None:
            raise PermanentFailure("no active Telegram link")
        text = self.render(message.message_key, dict(message.params), message.locale.value)
        try:
            sent = await self.bot.send_message(chat_id=message.chat_id, text=text)
        except RetryAfter as error:
            raise RetryLater(_retry_after_seconds(error), str(error)) from error
        except Forbidden as error:
            raise RecipientBlocked(str(error)) from error
        except BadRequest as error:
            raise PermanentFailure(f"BadRequest: {error}") from error
        except ChatMigrated as error:
            raise PermanentFailure(f"chat migrated to {error.new_chat_id}") from error
        except TimedOut as error:
            raise RetryLater(None, f"TimedOut: {error}") from error
        except TelegramError as error:
            raise RetryLater(None, f"{type(error).__name__}: {error}") from error
        return SendResult(provider_message_id=sent.message_id)
