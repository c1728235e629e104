"""Failed notifications, as an admin sees them: who, what kind, how often tried, and why not.

Never the message's ``params`` nor its rendered text: an admin needs to know that a reminder
to someone failed, not which case or when.
"""

from __future__ import annotations

from datetime import datetime

from core.enums import Channel, Lane, NotificationKind, OutboxState
from core.schemas.common import ReadModel


class FailedNotificationRead(ReadModel):
    id: int
    kind: NotificationKind
    channel: Channel
    lane: Lane
    state: OutboxState
    recipient_user_id: int
    recipient_display_name: str
    recipient_is_active: bool
    attempts: int
    last_error: str | None
    created_at: datetime
    not_before: datetime
