"""The email and text message channels: an outbox message through GOV.UK Notify.

The text is the one Telegram would show, in the recipient's language: the adapter is given
the same face-neutral renderer (``ui.notifications``) by the process that wires the dispatcher,
so core writes no user-facing text. An email adds a subject for the kind of message. Like
Telegram's, the text carries a case reference and a time, never a name, an address or
anything about a victim: the params hold nothing else (``core.notifications.outbox``).

The recipient's address is read when the message is sent (their email, or their mobile number,
unsealed), so a changed number is used at once. Someone with no mobile number by then gets the
message in their in-app inbox instead.

Notify's refusals become core's typed outcomes (``core.notify.NotifyError``): 429 (rate limit)
and 5xx, or no answer, -> ``RetryLater`` (backed off, then failed after the last attempt); 400
and 403 -> ``PermanentFailure`` with Notify's reason, which the Admin page shows beside "Send
again". Notify's reason names a field or a rule, never the message's content.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.enums import NOTIFY_CHANNELS, Channel
from core.models import User
from core.notifications.channels import (
    InboxChannel,
    OutboundMessage,
    PermanentFailure,
    RetryLater,
    SendResult,
)
from core.notify import Notify, NotifyError, NotifyNotConfigured

# (message_key, params, locale) -> text; and -> an email's subject.
Render = Callable[[str, dict[str, Any], str], str]


def notify_reference(message: OutboundMessage) -> str:
    """Notify's ``reference`` for a message: the outbox row, nothing about its content."""
    return f"outbox-{message.id}"


class NotifyChannel:
    """One of email or text message, through ``Notify``."""

    def __init__(
        self,
        channel: Channel,
        notify: Notify,
        *,
        render: Render,
        render_subject: Render,
        session_factory: async_sessionmaker[AsyncSession],
        inbox: InboxChannel,
    ) -> None:
        if channel not in NOTIFY_CHANNELS:
            raise ValueError(f"{channel} is not sent through Notify")
        self.channel = channel
        self.notify = notify
        self.render = render
        self.render_subject = render_subject
        self._session_factory = session_factory
        self._inbox = inbox

    async def _address(self, user_id: int) -> str | None:
        column = User.email if self.channel is Channel.EMAIL else User.mobile_number
        async with self._session_factory() as session:
            return await session.scalar(select(column).where(User.id == user_id))

    async def send(self, message: OutboundMessage) -> SendResult:
        address = await self._address(message.recipient_user_id)
        if not address:
            return await self._inbox.send(message)  # no number any more: the inbox instead
        params, locale = dict(message.params), message.locale.value
        body = self.render(message.message_key, params, locale)
        try:
            if self.channel is Channel.EMAIL:
                subject = self.render_subject(message.message_key, params, locale)
                await self.notify.send_email(
                    to=address, subject=subject, body=body, reference=notify_reference(message)
                )
            else:
                await self.notify.send_sms(
                    to=address, body=body, reference=notify_reference(message)
                )
        except NotifyNotConfigured as error:
            raise PermanentFailure(f"GOV.UK Notify is not set up for {error}") from None
        except NotifyError as error:
            reason = f"GOV.UK Notify {error.status}: {error.reason}"
            if error.retryable:
                raise RetryLater(None, reason) from None
            raise PermanentFailure(reason) from None
        return SendResult(provider_message_id=None)
