"""Which channels a message goes by (core.notifications.choice), and what counts as a UK
mobile number (core.services.notification_channels): rules with no database."""

from __future__ import annotations

import pytest

from core.enums import Channel
from core.errors import NotAUkMobile
from core.notifications.choice import Reach, channels_to_send, dedupe_key_for
from core.services.notification_channels import normalise_uk_mobile

EMAIL, SMS, TELEGRAM, INBOX = Channel.EMAIL, Channel.SMS, Channel.TELEGRAM, Channel.INBOX
BOTH = frozenset({EMAIL, SMS})
LINKED = Reach(telegram=True, mobile=True)
UNLINKED = Reach(telegram=False, mobile=True)
NOTHING = Reach(telegram=False, mobile=False)


@pytest.mark.parametrize(
    ("chosen", "reach", "ready", "critical", "expected"),
    [
        # No choice: Telegram (the dispatcher sends it to the inbox when there is no link).
        ((), LINKED, BOTH, False, [TELEGRAM]),
        ((), NOTHING, BOTH, False, [TELEGRAM]),
        # Chosen channels, in one order.
        ((SMS, EMAIL, TELEGRAM), LINKED, BOTH, False, [TELEGRAM, EMAIL, SMS]),
        # A text message with no number, or with Notify not set up: the inbox instead, once.
        ((SMS,), NOTHING, BOTH, False, [INBOX]),
        ((SMS, EMAIL), LINKED, frozenset(), False, [INBOX]),
        # Telegram with no link already goes to the inbox: no second copy there.
        ((TELEGRAM, INBOX), UNLINKED, BOTH, False, [TELEGRAM]),
        ((TELEGRAM, INBOX), LINKED, BOTH, False, [TELEGRAM, INBOX]),
        # A critical alert to someone not on Telegram: by text, else by email, else as chosen.
        ((), UNLINKED, BOTH, True, [TELEGRAM, SMS]),
        ((), NOTHING, BOTH, True, [TELEGRAM, EMAIL]),
        ((), UNLINKED, frozenset({EMAIL}), True, [TELEGRAM, EMAIL]),
        ((), UNLINKED, frozenset(), True, [TELEGRAM]),
        ((INBOX,), UNLINKED, BOTH, True, [SMS, INBOX]),
        ((), LINKED, BOTH, True, [TELEGRAM]),
        ((EMAIL,), UNLINKED, BOTH, True, [EMAIL]),  # email chosen already reaches them
    ],
)
def test_channels_follow_the_choice_what_can_reach_the_person_and_the_alert_rule(
    chosen: tuple[Channel, ...],
    reach: Reach,
    ready: frozenset[Channel],
    critical: bool,
    expected: list[Channel],
) -> None:
    assert channels_to_send(chosen, reach=reach, notify_ready=ready, critical=critical) == (
        expected
    )


def test_telegram_keeps_the_bare_dedupe_key_and_other_channels_add_theirs() -> None:
    assert dedupe_key_for("alert:4:7", TELEGRAM) == "alert:4:7"
    assert dedupe_key_for("alert:4:7", SMS) == "alert:4:7:sms"


@pytest.mark.parametrize(
    "typed",
    ["07700 900123", "07700900123", "+44 7700 900123", "+447700900123", "0044 7700 900 123",
     "(07700) 900-123", " 07700.900.123 "],
)  # fmt: skip
def test_a_uk_mobile_number_is_stored_in_one_form(typed: str) -> None:
    assert normalise_uk_mobile(typed) == "+447700900123"


@pytest.mark.parametrize(
    "typed", ["01632 960123", "0770090012", "077009001234", "+33 6 12 34 56 78", "07700 9001a3"]
)
def test_anything_but_a_uk_mobile_number_is_refused(typed: str) -> None:
    with pytest.raises(NotAUkMobile):
        normalise_uk_mobile(typed)


def test_a_blank_mobile_number_is_none() -> None:
    assert normalise_uk_mobile("  ") is None
    assert normalise_uk_mobile(None) is None
