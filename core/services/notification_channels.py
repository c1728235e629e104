"""How each person gets their messages: a mobile number and, per kind of message, the channels.

A person's own settings, read and changed by them alone (no policy action: nobody else's are
reachable, like the inbox). The mobile number is checked as a UK mobile and stored as
``+447...``, sealed in the database; it is never written to the audit trail or a log (the
audit event says only that it changed). Which rows a message then becomes is
``core.notifications.choice``.
"""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from core.enums import Channel, KindGroup
from core.errors import (
    ChannelNotAvailable,
    MobileNeededForSms,
    NoChannelChosen,
    NotAUkMobile,
    NotPermitted,
)
from core.models import NotificationPreference, TelegramLink, User
from core.notifications.choice import CHANNEL_ORDER, DEFAULT_CHANNELS, parse_channels
from core.schemas.actor import Actor
from core.schemas.notification_channels import (
    NotificationChannelsRead,
    NotificationChannelsUpdate,
)
from core.services.access import get_or_404
from core.services.audit import record_audit
from core.services.users import reseal_users_column
from core.uow import UnitOfWork

# Spaces, dashes, dots and brackets people type in a number; what is left must be digits.
_SEPARATORS = re.compile(r"[\s\-().]")
_UK_MOBILE = re.compile(r"^(?:\+44|0044|44|0)(7\d{9})$")


def normalise_uk_mobile(raw: str | None) -> str | None:
    """A UK mobile number as ``+447xxxxxxxxx``; None for a blank one. Raises ``NotAUkMobile``."""
    if raw is None or not raw.strip():
        return None
    match = _UK_MOBILE.match(_SEPARATORS.sub("", raw.strip()))
    if match is None:
        raise NotAUkMobile(field="mobile_number")
    return "+44" + match.group(1)


def _ensure_person(actor: Actor) -> None:
    if actor.is_system:
        raise NotPermitted(action="notification_channels")


def _available(uow: UnitOfWork) -> list[Channel]:
    offered = {Channel.TELEGRAM, Channel.INBOX} | set(uow.notify_channels)
    return [channel for channel in CHANNEL_ORDER if channel in offered]


async def _read(uow: UnitOfWork, user: User) -> NotificationChannelsRead:
    stored = {
        row.kind_group: parse_channels(row.channels)
        for row in await uow.session.scalars(
            select(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
    }
    linked = await uow.session.scalar(
        select(TelegramLink.id).where(
            TelegramLink.user_id == user.id, TelegramLink.is_active.is_(True)
        )
    )
    return NotificationChannelsRead(
        mobile_number=user.mobile_number,
        email=user.email,
        telegram_linked=linked is not None,
        available=_available(uow),
        choices={group: stored.get(group) or list(DEFAULT_CHANNELS) for group in KindGroup},
    )


async def my_notification_channels(*, uow: UnitOfWork, actor: Actor) -> NotificationChannelsRead:
    """My mobile number and the channels I get each kind of message by."""
    _ensure_person(actor)
    async with uow:
        user = await get_or_404(uow, User, actor.user_id)
        return await _read(uow, user)


def _checked_choices(
    data: NotificationChannelsUpdate, available: list[Channel], mobile: str | None
) -> dict[KindGroup, list[Channel]]:
    choices: dict[KindGroup, list[Channel]] = {}
    for group in KindGroup:
        chosen = set(data.choices.get(group, ()))
        if not chosen:
            raise NoChannelChosen(field=f"channels_{group.value}")
        if chosen - set(available):
            raise ChannelNotAvailable(field=f"channels_{group.value}")
        if Channel.SMS in chosen and mobile is None:
            raise MobileNeededForSms(field="mobile_number")
        choices[group] = [channel for channel in CHANNEL_ORDER if channel in chosen]
    return choices


async def update_my_notification_channels(
    *, uow: UnitOfWork, actor: Actor, data: NotificationChannelsUpdate
) -> NotificationChannelsRead:
    """Set my mobile number and my channels for every kind of message, all or nothing.
    Audited, without the number."""
    _ensure_person(actor)
    mobile = normalise_uk_mobile(data.mobile_number)
    async with uow:
        user = await get_or_404(uow, User, actor.user_id)
        choices = _checked_choices(data, _available(uow), mobile)
        mobile_changed = mobile != user.mobile_number
        user.mobile_number = mobile
        await uow.session.execute(
            delete(NotificationPreference).where(NotificationPreference.user_id == user.id)
        )
        now = uow.clock.now()
        for group, channels in choices.items():
            if channels != list(DEFAULT_CHANNELS):
                uow.session.add(
                    NotificationPreference(
                        user_id=user.id,
                        kind_group=group,
                        channels=[channel.value for channel in channels],
                        updated_at=now,
                    )
                )
        await uow.flush()
        record_audit(
            uow,
            actor,
            "notification_channels.update",
            entity_type="user",
            entity_id=user.id,
            details={
                "choices": {group.value: [c.value for c in chs] for group, chs in choices.items()},
                "mobile_number_changed": mobile_changed,
                "has_mobile_number": mobile is not None,
            },
        )
        read = await _read(uow, user)
        await uow.commit()
        return read


async def reseal_mobile_numbers(*, uow: UnitOfWork) -> int:
    """Seal every stored mobile number under the first key in ``TOTP_ENCRYPTION_KEYS`` (after a
    key rotation), as ``auth.reseal_totp_secrets`` does for sign-in secrets; how many were
    sealed again. The numbers never leave this function."""
    async with uow:
        count = await reseal_users_column(uow, "mobile_number")
        await uow.commit()
        return count
