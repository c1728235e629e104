"""Sealing at rest (core.sealing): a sealed value opens with any listed key, an old unsealed
value still reads, a key that is not listed cannot open it, and a rotation is noticed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core import sealing

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(autouse=True)
def _restore_keys() -> Iterator[None]:
    before = sealing.configured_keys()
    yield
    sealing.configure(before)


def test_a_sealed_value_holds_no_plain_text_and_opens_again() -> None:
    sealing.configure([sealing.new_key()])
    stored = sealing.seal(SECRET)
    assert stored.startswith(sealing.PREFIX)
    assert SECRET not in stored
    assert sealing.unseal(stored) == SECRET
    assert sealing.seal(SECRET) != stored  # a fresh nonce each time


def test_a_value_stored_before_sealing_reads_as_it_is() -> None:
    sealing.configure([sealing.new_key()])
    assert sealing.unseal(SECRET) == SECRET
    assert not sealing.is_sealed_with_current_key(SECRET)


def test_a_key_that_is_not_listed_cannot_open_a_value() -> None:
    sealing.configure([sealing.new_key()])
    stored = sealing.seal(SECRET)
    sealing.configure([sealing.new_key()])
    with pytest.raises(sealing.SealedValueUnreadable):
        sealing.unseal(stored)


def test_after_a_rotation_old_values_open_and_are_known_to_need_sealing_again() -> None:
    old, new = sealing.new_key(), sealing.new_key()
    sealing.configure([old])
    stored = sealing.seal(SECRET)
    assert sealing.is_sealed_with_current_key(stored)
    sealing.configure([new, old])
    assert sealing.unseal(stored) == SECRET
    assert not sealing.is_sealed_with_current_key(stored)
    assert sealing.is_sealed_with_current_key(sealing.seal(SECRET))


def test_without_a_key_nothing_is_sealed_or_opened() -> None:
    sealing.configure([])
    with pytest.raises(sealing.SealingKeyMissing):
        sealing.seal(SECRET)
    with pytest.raises(sealing.SealingKeyMissing):
        sealing.unseal(sealing.PREFIX + "anything")


def test_a_key_that_is_not_a_fernet_key_is_refused() -> None:
    with pytest.raises(ValueError):
        sealing.configure(["not-a-key"])
