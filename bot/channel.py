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

import json
import warnings
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import timedelta
from typing import Any

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from bot.keyboards import needs_keyboard, notification_hint, notification_keyboard
from core.notifications.channels import (
    OutboundMessage,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
    SendResult,
)
from ui.i18n import shared_translator

Render = Callable[[str, dict[str, Any], str], str]


def retry_after_seconds(error: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns while moving retry_after from int to timedelta; accept either.
        warnings.simplefilter("ignore")
        value = error.retry_after
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)


def _params_key(params: dict[str, Any]) -> Hashable:
    """The params as a cache key: their sorted items when every value is hashable (the usual
    case, and a fifth of the cost of JSON), else their JSON."""
    try:
        items = tuple(sorted(params.items()))
        hash(items)
    except TypeError:
        return json.dumps(params, sort_keys=True, default=str)
    return items


class TelegramChannel:
    """``render`` must be a pure function of its arguments: texts are cached by them, so a
    broadcast to a thousand people in one language is rendered once. A message with buttons
    gets a line under its text saying what they do (``bot.keyboards.notification_hint``)."""

    def __init__(self, bot: Bot, render: Render, *, cache_size: int = 1024) -> None:
        self.bot = bot
        self.render = render
        self._texts: OrderedDict[tuple[str, Hashable, str], str] = OrderedDict()
        self._cache_size = cache_size

    def text(self, message: OutboundMessage) -> str:
        # The locale member is its value as a key (a StrEnum), so no ``.value`` per message.
        key = (message.message_key, _params_key(message.params), message.locale)
        text = self._texts.get(key)
        if text is None:
            params = dict(message.params)  # a copy: the message's own stays as it was
            text = self.render(message.message_key, params, str(key[2]))
            if needs_keyboard(message.message_key):
                translator = shared_translator(str(key[2]))
                hint = notification_hint(message.message_key, params, translator)
                text = text if hint is None else f"{text}\n\n{hint}"
            self._texts[key] = text
            if len(self._texts) > self._cache_size:
                self._texts.popitem(last=False)
        else:
            self._texts.move_to_end(key)
        return text

    def keyboard(self, message: OutboundMessage) -> InlineKeyboardMarkup | None:
        """Answer buttons for the kinds that have them (``bot.keyboards``), else None."""
        if not needs_keyboard(message.kind):
            return None
        return notification_keyboard(
            message.kind, message.params, shared_translator(message.locale.value)
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        if message.chat_id is None:
            raise PermanentFailure("no active Telegram link")
        text = self.text(message)
        try:
            sent = await self.bot.send_message(
                chat_id=message.chat_id,
                text=text,
                reply_markup=self.keyboard(message),
            )
        except RetryAfter as error:
            raise RetryLater(retry_after_seconds(error), str(error)) from error
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
