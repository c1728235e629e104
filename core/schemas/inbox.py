"""The in-app inbox: what the bot would have sent, kept for staff who read it on the web.

``message_key`` and ``params`` are rendered in the reader's language when shown, exactly as the
bot renders them; ``params`` hold case references, times, place kinds, ids and counts only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.enums import NotificationKind
from core.schemas.common import ReadModel


class InboxItemRead(ReadModel):
    id: int
    kind: NotificationKind
    message_key: str
    params: dict[str, Any]
    created_at: datetime
    read_at: datetime | None

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


class InboxPage(ReadModel):
    """One page of the inbox, newest first.

    ``next_before_id`` is the ``before_id`` that fetches the next (older) page; None when this
    page is the last. ``unread_count`` counts the whole inbox, not just this page.
    """

    items: tuple[InboxItemRead, ...]
    unread_count: int
    next_before_id: int | None
