"""Read models for the bot's old-message deletion: what is due, and a site's retention rule."""

from __future__ import annotations

from enum import StrEnum

from core.schemas.common import ReadModel

# Telegram lets a bot delete a message only while it is less than 48 hours old, so a retention
# must end before then, with time left for the deletion job's next round.
DELETABLE_FOR_HOURS = 48
MAX_RETENTION_HOURS = 47


class BotMessageSource(StrEnum):
    REPLY = "reply"  # a reply the bot sent (``bot_messages``)
    OUTBOX = "outbox"  # a notification sent through the outbox (``outbox_messages``)


class DueBotMessage(ReadModel):
    """A message in a Telegram chat that its site's retention rule says should now go."""

    source: BotMessageSource
    row_id: int
    chat_id: int
    message_id: int


class SiteRetentionRead(ReadModel):
    site_id: int
    site_code: str
    bot_message_retention_hours: int | None
