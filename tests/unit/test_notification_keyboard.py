"""The buttons under outbox notifications (``bot.keyboards.notification_keyboard``), and the
Telegram-only line that says what they do (``notification_hint``)."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup

from bot.keyboards import needs_keyboard, notification_hint, notification_keyboard
from core.enums import NotificationKind
from ui.i18n import Translator

PARAMS = {"reference": "HER-00042", "starts_at": "2026-03-03T14:00:00+00:00",
          "place_kind": "office", "appointment_id": 42, "alert_id": 7, "meeting_id": 9,
          "site_code": "HER", "site_name": "Testshire North"}  # fmt: skip
WITH_BUTTONS = {
    NotificationKind.APPOINTMENT_REMINDER,
    NotificationKind.MISSED_APPOINTMENT,
    NotificationKind.DISRUPTION_ALERT,
    NotificationKind.ESCALATION,
    NotificationKind.PANEL_BROADCAST,
}


def buttons(markup: InlineKeyboardMarkup | None) -> list[list[tuple[str, str | None]]]:
    """Rows of (text, callback data)."""
    assert markup is not None
    return [
        [
            (button.text, button.callback_data if isinstance(button.callback_data, str) else None)
            for button in row
        ]
        for row in markup.inline_keyboard
    ]


def test_a_reminder_before_the_appointment_offers_to_record_it_after_not_an_outcome() -> None:
    markup = notification_keyboard(NotificationKind.APPOINTMENT_REMINDER, PARAMS, Translator())
    assert buttons(markup) == [
        [("I'll record it after", "appt:later:42")],
        [("Reschedule", "appt:move:42")],
    ]


def test_the_missed_appointment_prompt_offers_the_outcomes_and_to_book_the_next_one() -> None:
    markup = notification_keyboard("notification.missed_appointment", PARAMS, Translator())
    assert buttons(markup) == [
        [("It happened", "appt:att:42"), ("Did not attend", "appt:dna:42")],
        [("Book the next one", "appt:next:42")],
    ]


def test_a_disruption_alert_and_its_escalation_offer_acknowledge_and_action_taken() -> None:
    for kind in (NotificationKind.DISRUPTION_ALERT, "notification.escalation"):
        markup = notification_keyboard(kind, PARAMS, Translator())
        assert buttons(markup) == [
            [("Acknowledge", "alert:ack:7"), ("Action taken", "alert:act:7")]
        ]


def test_a_panel_broadcast_offers_attending_and_apologies_in_welsh_too() -> None:
    markup = notification_keyboard(NotificationKind.PANEL_BROADCAST, PARAMS, Translator())
    assert buttons(markup) == [
        [("Attending", "panel:rsvp:9:attending"), ("Apologies", "panel:rsvp:9:apologies")]
    ]
    welsh = notification_keyboard(NotificationKind.PANEL_BROADCAST, PARAMS, Translator("cy"))
    assert [text for row in buttons(welsh) for text, _data in row] == ["Yn dod", "Ymddiheuriadau"]


def test_other_notifications_and_a_message_without_the_id_its_buttons_need_get_none() -> None:
    for kind in set(NotificationKind) - WITH_BUTTONS:
        assert not needs_keyboard(kind)
        assert notification_keyboard(kind, PARAMS, Translator()) is None
        assert notification_hint(kind, PARAMS, Translator()) is None
    for kind, needed in (
        (NotificationKind.APPOINTMENT_REMINDER, "appointment_id"),
        (NotificationKind.DISRUPTION_ALERT, "alert_id"),
        (NotificationKind.PANEL_BROADCAST, "meeting_id"),
    ):
        assert needs_keyboard(kind)
        params = {key: value for key, value in PARAMS.items() if key != needed}
        assert notification_keyboard(kind, params, Translator()) is None
        assert notification_keyboard(kind, params | {needed: "x"}, Translator()) is None
        assert notification_hint(kind, params, Translator()) is None  # no buttons to explain


def test_the_buttons_carry_only_an_id_and_stay_within_telegrams_limit() -> None:
    big = 10**17
    params = PARAMS | {"appointment_id": big, "alert_id": big, "meeting_id": big}
    for kind in WITH_BUTTONS:
        for row in buttons(notification_keyboard(kind, params, Translator())):
            for _text, data in row:
                assert data is not None and len(data.encode()) <= 64
                assert "HER" not in data and "Testshire" not in data


def test_alerts_and_broadcasts_say_what_their_buttons_do_in_the_readers_language() -> None:
    alert = "Tap a button below, or send /alerts to see every open alert."
    assert notification_hint(NotificationKind.DISRUPTION_ALERT, PARAMS, Translator()) == alert
    assert notification_hint("notification.escalation", PARAMS, Translator()) == alert
    assert notification_hint(NotificationKind.PANEL_BROADCAST, PARAMS, Translator()) == (
        "Will you be there?"
    )
    welsh = notification_hint(NotificationKind.DISRUPTION_ALERT, PARAMS, Translator("cy"))
    assert welsh is not None and "/alerts" in welsh and welsh != alert
