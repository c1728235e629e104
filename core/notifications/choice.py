"""Which channels a notification goes by: the person's choice for its group, what can reach them.

Each person may choose, per group of notifications (``KindGroup``: reminders, digest, alerts,
panel), any of Telegram, email, text message and the in-app inbox
(``NotificationPreference``). With no choice stored, the default is today's behaviour:
Telegram, which goes to the inbox when they have no active link.

When a message is queued (:func:`enqueue_by_choice`), one outbox row is added per channel,
with the same dedupe key plus the channel (Telegram keeps the bare key), so each channel's
message is queued once however often a scheduler runs. A chosen channel that cannot reach the
person gives way to the inbox: email or text when Notify is not set up for it, a text message
when they have no mobile number. The inbox gets one copy however many choices fall back to it
(a Telegram row with no active link already goes there).

A critical alert (``Lane.CRITICAL``) to someone with no active Telegram link goes by text
message as well, when they have a mobile number and text messages are set up, or else by email
when email is: an alert must reach a person who is not in the app.

The inbox does not keep a copy of everything: it gets a message when the person chose it, or
when a chosen channel cannot reach them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select

from core.enums import KIND_GROUPS, Channel, KindGroup, Lane, NotificationKind
from core.models import NotificationPreference, TelegramLink, User
from core.notifications.outbox import enqueue
from core.uow import UnitOfWork

# Today's behaviour, for a group with no choice stored.
DEFAULT_CHANNELS: tuple[Channel, ...] = (Channel.TELEGRAM,)
# The order rows are queued in (and channels listed on the page).
CHANNEL_ORDER: tuple[Channel, ...] = (Channel.TELEGRAM, Channel.EMAIL, Channel.SMS, Channel.INBOX)


@dataclass(frozen=True, slots=True)
class Reach:
    """What can reach one person: an active Telegram link, a mobile number."""

    telegram: bool
    mobile: bool


def channels_to_send(
    chosen: Collection[Channel],
    *,
    reach: Reach,
    notify_ready: Collection[Channel],
    critical: bool,
) -> list[Channel]:
    """The outbox rows for one message to one person, in ``CHANNEL_ORDER`` (the rules above)."""
    wanted: set[Channel] = set()
    for channel in chosen or DEFAULT_CHANNELS:
        if channel is Channel.SMS and not (reach.mobile and Channel.SMS in notify_ready):
            channel = Channel.INBOX
        elif channel is Channel.EMAIL and Channel.EMAIL not in notify_ready:
            channel = Channel.INBOX
        wanted.add(channel)
    if critical and not reach.telegram and not wanted & {Channel.EMAIL, Channel.SMS}:
        if reach.mobile and Channel.SMS in notify_ready:
            wanted.add(Channel.SMS)
        elif Channel.EMAIL in notify_ready:
            wanted.add(Channel.EMAIL)
    if Channel.TELEGRAM in wanted and not reach.telegram:
        wanted.discard(Channel.INBOX)  # the Telegram row goes to the inbox: one copy there
    return [channel for channel in CHANNEL_ORDER if channel in wanted]


def dedupe_key_for(dedupe_key: str, channel: Channel) -> str:
    """Telegram's row keeps the bare key (as before channels were chosen); others add theirs."""
    return dedupe_key if channel is Channel.TELEGRAM else f"{dedupe_key}:{channel.value}"


def parse_channels(values: Iterable[object]) -> list[Channel]:
    """Stored channel values as channels, unknown ones left out."""
    known = {channel.value for channel in Channel}
    return [Channel(value) for value in values if isinstance(value, str) and value in known]


async def recipient_channels(
    uow: UnitOfWork, user_id: int, kind: NotificationKind, lane: Lane
) -> list[Channel]:
    """The channels a message of ``kind`` to ``user_id`` goes by, in one query."""
    group = KIND_GROUPS.get(kind)
    if group is None:
        return list(DEFAULT_CHANNELS)
    row = (
        await uow.session.execute(
            select(
                User.mobile_number.is_not(None),
                TelegramLink.id.is_not(None),
                NotificationPreference.channels,
            )
            .outerjoin(
                TelegramLink,
                and_(TelegramLink.user_id == User.id, TelegramLink.is_active.is_(True)),
            )
            .outerjoin(
                NotificationPreference,
                and_(
                    NotificationPreference.user_id == User.id,
                    NotificationPreference.kind_group == group,
                ),
            )
            .where(User.id == user_id)
            .limit(1)
        )
    ).first()
    if row is None:
        return list(DEFAULT_CHANNELS)
    has_mobile, has_telegram, stored = row
    return channels_to_send(
        parse_channels(stored or ()),
        reach=Reach(telegram=bool(has_telegram), mobile=bool(has_mobile)),
        notify_ready=uow.notify_channels,
        critical=lane is Lane.CRITICAL,
    )


async def enqueue_by_choice(
    uow: UnitOfWork,
    *,
    recipient_user_id: int,
    kind: NotificationKind,
    lane: Lane,
    message_key: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    not_before: datetime | None = None,
    case_id: int | None = None,
    appointment_id: int | None = None,
) -> int:
    """Queue one message on each channel the recipient's choice calls for (see the module);
    returns how many rows were added (a key already queued adds none)."""
    added = 0
    for channel in await recipient_channels(uow, recipient_user_id, kind, lane):
        added += await enqueue(
            uow,
            recipient_user_id=recipient_user_id,
            channel=channel,
            kind=kind,
            lane=lane,
            message_key=message_key,
            params=params,
            dedupe_key=dedupe_key_for(dedupe_key, channel),
            not_before=not_before,
            case_id=case_id,
            appointment_id=appointment_id,
        )
    return added


__all__ = [
    "CHANNEL_ORDER",
    "DEFAULT_CHANNELS",
    "KindGroup",
    "Reach",
    "channels_to_send",
    "dedupe_key_for",
    "enqueue_by_choice",
    "recipient_channels",
]
