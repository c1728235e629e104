"""GOV.UK Notify: one email or one text message, through Notify's own Python client.

Everything Drive Assist sends by email or text message goes through :class:`Notify`: the
invitation and reset links of staff accounts, and the outbox's email and SMS channels. The
service composes each message itself, in the person's language, and hands Notify a subject and
a body for two plain templates (see ``NOTIFY_*`` in ``core.settings``). What goes in a message
follows the same rule as Telegram: a case reference, never a name, an address or anything about
a victim.

Notify's client (``notifications-python-client``) is synchronous and not thread-safe, so each
send makes its own client in a worker thread. Its errors become one :class:`NotifyError` that
says whether trying again could help (429, 5xx, no answer) or not (400, 403), with Notify's own
reason, which names a field or a rule and never the message's content.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from core.enums import Channel
from core.settings import Settings

# Notify's client gives up on a request after this long; the outbox retries later.
REQUEST_TIMEOUT_SECONDS = 10
_REASON_LIMIT = 300


class NotifyError(Exception):
    """Notify did not take the message. ``retryable``: a later try may succeed."""

    def __init__(self, status: int, reason: str, *, retryable: bool) -> None:
        super().__init__(f"{status}: {reason}")
        self.status = status
        self.reason = reason[:_REASON_LIMIT]
        self.retryable = retryable


class NotifyNotConfigured(Exception):
    """``NOTIFY_API_KEY`` or the template for this kind of message is not set."""


@dataclass(frozen=True, slots=True)
class NotifySent:
    """Notify accepted the message; ``notification_id`` is its id for the message."""

    notification_id: str


class Notify:
    """Sends through GOV.UK Notify with the settings' key, base URL and templates."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def email_ready(self) -> bool:
        return self._settings.notify_email_configured

    @property
    def sms_ready(self) -> bool:
        return self._settings.notify_sms_configured

    @property
    def ready_channels(self) -> frozenset[Channel]:
        """The outbox channels Notify is set up for."""
        ready = {Channel.EMAIL: self.email_ready, Channel.SMS: self.sms_ready}
        return frozenset(channel for channel, is_ready in ready.items() if is_ready)

    async def send_email(self, *, to: str, subject: str, body: str, reference: str) -> NotifySent:
        template = self._settings.notify_email_template_id
        if not self.email_ready or template is None:
            raise NotifyNotConfigured("email")
        extra: dict[str, Any] = {}
        if self._settings.notify_email_reply_to_id:
            extra["email_reply_to_id"] = self._settings.notify_email_reply_to_id
        return await self._send(
            "send_email_notification",
            email_address=to,
            template_id=template,
            personalisation={"subject": subject, "body": body},
            reference=reference,
            **extra,
        )

    async def send_sms(self, *, to: str, body: str, reference: str) -> NotifySent:
        template = self._settings.notify_sms_template_id
        if not self.sms_ready or template is None:
            raise NotifyNotConfigured("sms")
        return await self._send(
            "send_sms_notification",
            phone_number=to,
            template_id=template,
            personalisation={"body": body},
            reference=reference,
        )

    async def _send(self, method: str, **arguments: Any) -> NotifySent:
        return await asyncio.to_thread(self._send_now, method, arguments)

    def _send_now(self, method: str, arguments: dict[str, Any]) -> NotifySent:
        client = NotificationsAPIClient(  # type: ignore[no-untyped-call]
            self._settings.notify_api_key or "",
            base_url=self._settings.notify_base_url,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        try:
            response = getattr(client, method)(**arguments)
        except APIError as error:
            raise _notify_error(error) from None
        finally:
            client.request_session.close()
        return NotifySent(notification_id=str(response.get("id", "")))


def _notify_error(error: APIError) -> NotifyError:
    """Notify's error as ours: its status, its reasons joined, and whether to try again."""
    status = int(error.status_code)
    message = error.message
    if isinstance(message, list):
        reason = "; ".join(
            f"{item.get('error', '')}: {item.get('message', '')}"
            if isinstance(item, dict)
            else str(item)
            for item in message
        )
    else:
        reason = str(message)
    return NotifyError(status, reason, retryable=status == 429 or status >= 500)
