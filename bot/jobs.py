"""Deleting the bot's old messages: recording each reply it sends, and the job that deletes.

``RecordingBot`` is the one place replies are captured: every ``send*`` call of PTB's ``Bot``
goes through ``_send_message``, so overriding it there records each message the bot sends
(ids and time only). Notifications sent by the outbox dispatcher are not recorded here: their
outbox rows already keep ``telegram_message_id``, and ``core.services.bot_messages`` reads them.

``run_deletion_job`` deletes, every few minutes, what the sites' retention rules say is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ExtBot

from core.bootstrap import Container
from core.services import bot_messages
from core.uow import UnitOfWork

log = logging.getLogger(__name__)

OnSent = Callable[[Message], Awaitable[None]]
DELETION_BATCH = 100
# Bot API methods that go through ``_send_message`` but change a message already sent.
_CHANGES_A_SENT_MESSAGE = ("edit", "stopMessageLiveLocation", "setGameScore")


class RecordingBot(ExtBot[Any]):
    """PTB's ``ExtBot`` that reports every message it sends to ``on_sent``.

    A failure to record is logged and never turns a delivered reply into an error.
    """

    def __init__(self, *args: Any, on_sent: OnSent, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        with self._unfrozen():
            self._on_sent = on_sent

    async def _send_message(self, endpoint: str, data: Any, *args: Any, **kwargs: Any) -> Any:
        result = await super()._send_message(endpoint, data, *args, **kwargs)
        # Edits come through here too, but an edited message was recorded when it was sent
        # (recording it again would break the unique (chat, message) and log an error).
        if isinstance(result, Message) and not endpoint.startswith(_CHANGES_A_SENT_MESSAGE):
            try:
                await self._on_sent(result)
            except Exception:
                log.exception("Could not record bot message %s", result.message_id)
        return result


def recorder(container: Container) -> OnSent:
    """Records a sent message in the database, for its site's retention rule."""

    async def record(message: Message) -> None:
        await bot_messages.record_bot_message(
            uow=container.uow(), chat_id=message.chat_id, message_id=message.message_id,
            user_id=None,
        )  # fmt: skip

    return record


async def delete_due_messages(
    bot: Bot, uow_factory: Callable[[], UnitOfWork], *, batch_size: int = DELETION_BATCH
) -> tuple[int, int]:
    """One batch: delete what is due. Returns (selected, forgotten).

    Deleted, or refused for good (``BadRequest``: already gone or too old; ``Forbidden``: the
    user blocked the bot) -> forgotten. Flood control or a network error -> left for later.
    """
    due = await bot_messages.messages_due_for_deletion(uow=uow_factory(), limit=batch_size)
    done = []
    for message in due:
        try:
            await bot.delete_message(chat_id=message.chat_id, message_id=message.message_id)
        except (BadRequest, Forbidden) as error:
            log.info("Bot message %s cannot be deleted: %s", message.message_id, error)
        except RetryAfter:
            break
        except TelegramError as error:  # TimedOut, NetworkError: the next round tries again
            log.warning("Deleting bot message %s failed: %s", message.message_id, error)
            continue
        done.append(message)
    await bot_messages.mark_deleted(uow=uow_factory(), messages=done)
    return len(due), len(done)


async def delete_all_due_messages(bot: Bot, uow_factory: Callable[[], UnitOfWork]) -> int:
    """Batches until nothing due is left (or a batch made no progress). Returns the forgotten."""
    total = 0
    while True:
        selected, forgotten = await delete_due_messages(bot, uow_factory)
        total += forgotten
        if selected < DELETION_BATCH or forgotten == 0:
            return total


async def run_deletion_job(
    bot: Bot, uow_factory: Callable[[], UnitOfWork], stop: asyncio.Event, *, interval: float
) -> None:
    """Delete due messages every ``interval`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            await delete_all_due_messages(bot, uow_factory)
        except Exception:
            log.exception("The bot message deletion round failed; trying again later")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
