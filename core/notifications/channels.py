"""Channel adapters: how the dispatcher hands one outbox message to Telegram or the inbox.

An adapter's ``send`` returns a :class:`SendResult` or raises one of three typed outcomes, so the
dispatcher decides what happens next without knowing the channel:

- :class:`RetryLater`: try again later (flood control, 5xx, timeouts, network errors);
- :class:`PermanentFailure`: this message can never be sent (a malformed request);
- :class:`RecipientBlocked`: the person blocked the bot; their Telegram link is switched off.

The Telegram adapter renders text and so lives on the face side (``bot/channel.py``); core
holds only the in-app inbox, which stores the key and params and renders when shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.enums import Channel, Lane, Locale, NotificationKind
from core.models import InboxItem


class OutboundMessage(BaseModel):
    """One claimed outbox row, with what a channel needs to deliver it.

    ``chat_id`` comes from the recipient's active Telegram link, None when there is none (the
    dispatcher then delivers a Telegram message to the inbox instead).
    """

    model_config = ConfigDict(frozen=True)

    id: int
    recipient_user_id: int
    channel: Channel
    chat_id: int | None
    locale: Locale
    kind: NotificationKind
    message_key: str
    params: dict[str, Any]
    lane: Lane
    attempts: int


@dataclass(frozen=True, slots=True)
class SendResult:
    """Delivered. ``provider_message_id`` is Telegram's message id; None for the inbox.

    A plain dataclass, not a pydantic model: one is made for every message sent, by our own
    adapters, and there is nothing to validate (a model costs about five times as much)."""

    provider_message_id: int | None = None


class SendError(Exception):
    """Base of the typed outcomes a channel raises instead of returning."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class RetryLater(SendError):
    """A passing failure. ``retry_after`` is the seconds the provider asked for, if it did."""

    def __init__(self, retry_after: float | None, error: str) -> None:
        super().__init__(error)
        self.retry_after = retry_after


class PermanentFailure(SendError):
    """The message cannot be sent as it is; retrying will not help."""


class RecipientBlocked(SendError):
    """The recipient blocked the bot (or left the chat)."""


class ChannelAdapter(Protocol):
    async def send(self, message: OutboundMessage) -> SendResult: ...


class InboxChannel:
    """Delivers to the in-app inbox: one ``InboxItem`` per outbox message, in its own transaction.

    Idempotent: ``inbox_items.outbox_message_id`` is unique and the insert skips a conflict, so
    a message sent twice (a lease that ran out mid-send) still shows once.
    """

    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._session_factory = session_factory
        self._clock = clock

    async def send(self, message: OutboundMessage) -> SendResult:
        values = {
            "user_id": message.recipient_user_id,
            "outbox_message_id": message.id,
            "kind": message.kind,
            "message_key": message.message_key,
            "params": dict(message.params),
            "created_at": self._clock.now(),
        }
        async with self._session_factory() as session:
            insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
            await session.execute(
                insert(InboxItem)
                .values(values)
                .on_conflict_do_nothing(index_elements=["outbox_message_id"])
            )
            await session.commit()
        return SendResult(provider_message_id=None)
