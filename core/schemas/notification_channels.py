"""How a person gets their messages: their mobile number and the channels per kind of message."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from core.enums import Channel, KindGroup


class NotificationChannelsRead(BaseModel):
    """One person's own settings, for them alone (``mobile_number`` is theirs, as stored)."""

    model_config = ConfigDict(frozen=True)

    mobile_number: str | None
    email: str
    telegram_linked: bool
    # The channels a person may choose here: Telegram and the inbox always; email and text
    # messages when GOV.UK Notify is set up for them.
    available: list[Channel]
    # Every group, with what is chosen (the default when the person never chose).
    choices: dict[KindGroup, list[Channel]]


class NotificationChannelsUpdate(BaseModel):
    """What the page sends: the mobile number as typed (blank: none) and every group's choice."""

    mobile_number: str | None = None
    choices: dict[KindGroup, list[Channel]]
