"""The buttons under outbox notifications (``bot.keyboards.notification_keyboard``)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.keyboards import notification_keyboard
from core.enums import NotificationKind
from ui.i18n import Translator

PARAMS = {"reference": "HER-00042", "starts_at": "2026-03-03T14:00:00+00:00",
          "place_kind": "office", "appointment_id": 42}  # fmt: skip


def buttons(markup: InlineKeyboardMarkup | None) -> list[tuple[str, str | None]]:
    assert markup is not None
    return [
        (button.text, button.callback_data if isinstance(button.callback_data, str) else None)
        for row in markup.inline_keyboard
        for button in row
    ]


def test_an_appointment_reminder_offers_attended_did_not_attend_and_reschedule() -> None:
    markup = notification_keyboard(NotificationKind.APPOINTMENT_REMINDER, PARAMS, Translator())
    assert buttons(markup) == [
        ("Attended", "appt:att:42"),
        ("Did not attend", "appt:dna:42"),
        ("Reschedule", "appt:move:42"),
    ]


def test_the_missed_appointment_prompt_offers_to_book_the_next_one() -> None:
    markup = notification_keyboard("notification.missed_appointment", PARAMS, Translator())
    assert buttons(markup) == [
        ("It happened", "appt:att:42"),
        ("Did not attend", "appt:dna:42"),
        ("Book the next one", "appt:next:42"),
    ]


def test_other_notifications_and_a_reminder_without_an_appointment_id_get_no_buttons() -> None:
    for kind in set(NotificationKind) - {
        NotificationKind.APPOINTMENT_REMINDER,
        NotificationKind.MISSED_APPOINTMENT,
    }:
        assert notification_keyboard(kind, PARAMS, Translator()) is None
    params = {key: value for key, value in PARAMS.items() if key != "appointment_id"}
    assert (
        notification_keyboard(NotificationKind.APPOINTMENT_REMINDER, params, Translator()) is None
    )


def test_the_buttons_carry_only_the_appointment_id_and_stay_within_telegrams_limit() -> None:
    params = PARAMS | {"appointment_id": 10**17}
    markup = notification_keyboard(NotificationKind.MISSED_APPOINTMENT, params, Translator())
    for _text, data in buttons(markup):
        assert data is not None and len(data.encode()) <= 64
        assert "HER-00042" not in data
