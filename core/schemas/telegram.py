"""What the Telegram linking and bot-state services hand out. No names: the bot never needs one.

The one exception to "nothing that identifies a person" is the email address of the account a
Telegram user has just linked to: the bot shows it to them once, so they can see at once whether
the code linked their own account (see ``core.services.telegram_links``)."""

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
    """The account a Telegram user has just linked to: enough to greet them in their language
    and to tell them which account it is (its sign-in email address: unique, theirs, no name)."""

    user_id: int
    email: str
    locale: Locale
    roles: tuple[Role, ...]
    site_codes: tuple[str, ...]


class ConversationRead(ReadModel):
    """Where a Telegram user is in a multi-step bot flow (see ``core.services.bot_state``)."""

    flow: str
    step: str
    data: dict[str, Any]
    updated_at: datetime
