"""What the Telegram linking and bot-state services hand out. No names: the bot never needs one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.enums import Locale, Role
from core.schemas.common import ReadModel


class LinkCodeRead(ReadModel):
    """A freshly issued link code. ``code`` is shown once; only its hash is stored."""

    user_id: int
    code: str
    expires_at: datetime


class LinkedAccountRead(ReadModel):
    """The account a Telegram user has just linked to: enough to greet them in their language."""

    user_id: int
    locale: Locale
    roles: tuple[Role, ...]
    site_codes: tuple[str, ...]


class ConversationRead(ReadModel):
    """Where a Telegram user is in a multi-step bot flow (see ``core.services.bot_state``)."""

    flow: str
    step: str
    data: dict[str, Any]
    updated_at: datetime
