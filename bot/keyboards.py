"""Inline buttons under outbox notifications, so a reminder can be answered where it arrives.

The dispatcher's Telegram channel asks for a keyboard for every message it sends; only messages
about one appointment get one. Callback data is opaque, ``appt:<action>:<appointment_id>``, and
``bot.handlers.appointments`` authorises the appointment again through core on every tap:

- an appointment reminder: Attended (``att``), Did not attend (``dna``), Reschedule (``move``);
- the missed-appointment prompt: It happened (``att``), Did not attend (``dna``), Book the next
  one (``next``).

Every other kind of notification gets no buttons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.enums import NotificationKind
from ui.i18n import N_, Translator

CALLBACK_PREFIX = "appt"
ATTENDED, DID_NOT_ATTEND, RESCHEDULE, BOOK_NEXT = "att", "dna", "move", "next"

_BUTTONS: dict[str, tuple[tuple[str, str], ...]] = {
    NotificationKind.APPOINTMENT_REMINDER.value: (
        (ATTENDED, N_("Attended")),
        (DID_NOT_ATTEND, N_("Did not attend")),
        (RESCHEDULE, N_("Reschedule")),
    ),
    NotificationKind.MISSED_APPOINTMENT.value: (
        (ATTENDED, N_("It happened")),
        (DID_NOT_ATTEND, N_("Did not attend")),
        (BOOK_NEXT, N_("Book the next one")),
    ),
}
# Keys in the outbox may be the bare kind or "notification.<kind>" (core.notifications.schedulers).
_KEY_PREFIX = "notification."


def appointment_callback(action: str, appointment_id: int) -> str:
    return f"{CALLBACK_PREFIX}:{action}:{appointment_id}"


def notification_keyboard(
    kind: str, params: Mapping[str, Any], translator: Translator
) -> InlineKeyboardMarkup | None:
    """The buttons under a notification of ``kind`` (a ``NotificationKind`` or message key)."""
    buttons = _BUTTONS.get(str(kind).removeprefix(_KEY_PREFIX))
    if buttons is None:
        return None
    try:
        appointment_id = int(params["appointment_id"])
    except (KeyError, TypeError, ValueError):
        return None
    row = [
        InlineKeyboardButton(
            translator.gettext(text), callback_data=appointment_callback(action, appointment_id)
        )
        for action, text in buttons
    ]
    # Two rows: the outcome buttons side by side, the booking one below (room for Welsh words).
    return InlineKeyboardMarkup([row[:2], row[2:]])


def needs_keyboard(kind: str) -> bool:
    """Whether ``notification_keyboard`` could give this kind any buttons (skips a translator)."""
    if isinstance(kind, NotificationKind):  # the dispatcher's case, once per message sent
        return kind in _BUTTONS  # a StrEnum member finds its value's key
    return str(kind).removeprefix(_KEY_PREFIX) in _BUTTONS
