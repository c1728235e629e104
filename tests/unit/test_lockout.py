"""The sign-in throttle's pure parts: what counts as one client, how the delay grows, and the
refusals' words (the time to try again, in the reader's language and zone)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.errors import AccountLocked, SignInClientThrottled, SignInThrottled
from core.services.lockout import client_key, delay_after
from ui.errors import error_message
from ui.i18n import Translator


def test_one_ipv6_slash_64_is_one_client_and_a_mapped_ipv4_address_is_the_ipv4_one() -> None:
    assert client_key("2001:db8:1:2::1") == client_key("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")
    assert client_key("::ffff:192.0.2.7") == client_key("192.0.2.7") == client_key(" 192.0.2.7")
    assert client_key("192.0.2.7") != client_key("192.0.2.8")


def test_a_client_that_is_not_an_address_is_hashed_as_given_never_kept_in_plain() -> None:
    key = client_key("not an address\x00")
    assert len(key) == 64 and set(key) <= set("0123456789abcdef")
    assert client_key("") == client_key("  ")  # every unknown client is one


def test_five_failures_are_free_then_the_wait_doubles_from_a_minute_up_to_fifteen() -> None:
    waits = [delay_after(n) for n in range(12)]
    minutes = [int(wait / timedelta(minutes=1)) for wait in waits]
    assert minutes == [0, 0, 0, 0, 0, 1, 2, 4, 8, 15, 15, 15]
    assert delay_after(10_000) == timedelta(minutes=15)


RETRY_AT = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # 14:05 in London (summer time)


def test_a_throttled_sign_in_says_when_to_try_again_in_the_readers_zone_in_english() -> None:
    words = Translator("en_GB")
    assert error_message(SignInThrottled(retry_at=RETRY_AT), words) == (
        "There have been too many failed sign-ins with this email address from this device."
        " Try again at 14:05."
    )
    assert error_message(SignInClientThrottled(retry_at=RETRY_AT), words) == (
        "There have been too many failed sign-ins from this device or network. Try again at 14:05."
    )
    assert "Wait a few minutes" in error_message(SignInThrottled(), words)
    assert "locked" in error_message(AccountLocked(), words)


def test_a_throttled_sign_in_says_when_to_try_again_in_welsh() -> None:
    words = Translator("cy")
    throttled = error_message(SignInThrottled(retry_at=RETRY_AT), words)
    client = error_message(SignInClientThrottled(retry_at=RETRY_AT), words)
    locked = error_message(AccountLocked(), words)
    assert "14:05" in throttled and "14:05" in client
    for message in (throttled, client, locked):
        assert "sign-in" not in message and "{" not in message
