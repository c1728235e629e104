"""Inline buttons under outbox notifications, so a message can be answered where it arrives.

The dispatcher's Telegram channel asks for a keyboard for every message it sends. Callback data
is opaque and carries one id; the handler that takes it authorises that id again through core
on every tap:

- an appointment reminder (sent before the start): I'll record it after (``appt:later:<id>``,
  which asks core for an outcome prompt at the appointment's end time) and Reschedule
  (``appt:move:<id>``); no outcome buttons, since an outcome can only be recorded once the
  appointment has started (``bot.handlers.appointments``);
- the missed-appointment prompt (and that end-time prompt): It happened (``appt:att:<id>``),
  Did not attend (``appt:dna:<id>``), Book the next one (``appt:next:<id>``);
- a disruption alert, and its escalation to a service manager: Acknowledge
  (``alert:ack:<id>``) and Action taken (``alert:act:<id>``), as under ``/alerts``
  (``bot.handlers.alerts``);
- a panel broadcast: Attending / Apologies (``panel:rsvp:<meeting id>:attending|apologies``),
  as under ``/panel`` (``bot.handlers.panel``).

Every other kind of notification gets no buttons, and so does a message whose params lack the
id its buttons need.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from core.enums import NotificationKind
from ui.i18n import N_, Translator

CALLBACK_PREFIX = "appt"
ATTENDED, DID_NOT_ATTEND, RESCHEDULE, BOOK_NEXT = "att", "dna", "move", "next"
RECORD_LATER = "later"

# kind -> (the param holding the id, rows of (text, callback data with {id}))
_Rows = tuple[tuple[tuple[str, str], ...], ...]
_BUTTONS: dict[str, tuple[str, _Rows]] = {
    NotificationKind.APPOINTMENT_REMINDER.value: (
        "appointment_id",
        (
            ((N_("I'll record it after"), f"appt:{RECORD_LATER}:{{id}}"),),
            ((N_("Reschedule"), f"appt:{RESCHEDULE}:{{id}}"),),
        ),
    ),
    NotificationKind.MISSED_APPOINTMENT.value: (
        "appointment_id",
        (
            (
                (N_("It happened"), f"appt:{ATTENDED}:{{id}}"),
                (N_("Did not attend"), f"appt:{DID_NOT_ATTEND}:{{id}}"),
            ),
            ((N_("Book the next one"), f"appt:{BOOK_NEXT}:{{id}}"),),
        ),
    ),
    NotificationKind.DISRUPTION_ALERT.value: (
        "alert_id",
        (((N_("Acknowledge"), "alert:ack:{id}"), (N_("Action taken"), "alert:act:{id}")),),
    ),
    NotificationKind.PANEL_BROADCAST.value: (
        "meeting_id",
        (
            (
                (N_("Attending"), "panel:rsvp:{id}:attending"),
                (N_("Apologies"), "panel:rsvp:{id}:apologies"),
            ),
        ),
    ),
}
_BUTTONS[NotificationKind.ESCALATION.value] = _BUTTONS[NotificationKind.DISRUPTION_ALERT.value]
# A line added under the text in Telegram only (the inbox and other channels have no buttons).
_ALERT_HINT = N_("Tap a button below, or send /alerts to see every open alert.")
_HINTS: dict[str, str] = {
    NotificationKind.DISRUPTION_ALERT.value: _ALERT_HINT,
    NotificationKind.ESCALATION.value: _ALERT_HINT,
    NotificationKind.PANEL_BROADCAST.value: N_("Will you be there?"),
}
# Keys in the outbox may be the bare kind or "notification.<kind>" (core.notifications.schedulers).
_KEY_PREFIX = "notification."


def notification_keyboard(
    kind: str, params: Mapping[str, Any], translator: Translator
) -> InlineKeyboardMarkup | None:
    """The buttons under a notification of ``kind`` (a ``NotificationKind`` or message key)."""
    spec = _BUTTONS.get(str(kind).removeprefix(_KEY_PREFIX))
    record_id = _record_id(kind, params)
    if spec is None or record_id is None:
        return None
    _id_param, rows = spec
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    translator.gettext(text), callback_data=data.format(id=record_id)
                )
                for text, data in row
            ]
            for row in rows
        ]
    )


def _record_id(kind: str, params: Mapping[str, Any]) -> int | None:
    """The id the buttons of ``kind`` carry, from the message's params; None if it has none."""
    spec = _BUTTONS.get(str(kind).removeprefix(_KEY_PREFIX))
    if spec is None:
        return None
    try:
        return int(params[spec[0]])
    except (KeyError, TypeError, ValueError):
        return None


def notification_hint(kind: str, params: Mapping[str, Any], translator: Translator) -> str | None:
    """The Telegram-only line under a notification of ``kind`` that says what its buttons do
    (None when it has no buttons)."""
    hint = _HINTS.get(str(kind).removeprefix(_KEY_PREFIX))
    if hint is None or _record_id(kind, params) is None:
        return None
    return translator.gettext(hint)


def needs_keyboard(kind: str) -> bool:
    """Whether ``notification_keyboard`` could give this kind any buttons (skips a translator)."""
    if isinstance(kind, NotificationKind):  # the dispatcher's case, once per message sent
        return kind in _BUTTONS  # a StrEnum member finds its value's key
    return str(kind).removeprefix(_KEY_PREFIX) in _BUTTONS
