"""Secrets kept in the database sealed with a key that is not: the web sign-in's TOTP secrets.

A stolen database backup then holds no usable second factor. Values are sealed with Fernet
(AES-128-CBC and HMAC-SHA256, from ``cryptography``) under the first of the keys in
``TOTP_ENCRYPTION_KEYS`` and opened with any of them, so a key can be rotated: put the new key
first, keep the old one after it until every value has been sealed again (each enrolment
seals afresh, and `drive-assist users reseal`, which `drive-assist run` also does on start,
seals every stored value again under the first key).

A stored value is ``fernet:`` and the token. A value without the prefix is an unsealed one from
before sealing existed: it is read as it is and sealed when next written.

``bootstrap()`` sets the keys from ``Settings.totp_keys()``; in demo mode, with none set, a
published demo key is used (and refused outside demo mode, like every other published secret).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from core.settings import DEMO_SEALING_KEY

PREFIX = "fernet:"
# Published in this file, so fit for demo data only (core.settings refuses it outside demo mode).
DEMO_KEY = DEMO_SEALING_KEY

_keys: MultiFernet | None = None
_first: Fernet | None = None
_key_texts: list[str] = []


class SealingKeyMissing(RuntimeError):
    """A sealed value was read or written before any key was set (see ``configure``)."""


class SealedValueUnreadable(RuntimeError):
    """A sealed value none of the keys opens (a lost or mistyped key)."""


def configure(keys: list[str]) -> None:
    """Set the keys for this process (``bootstrap()`` calls this). Raises ValueError on a key
    that is not a Fernet key (32 url-safe base64 bytes)."""
    global _keys, _first, _key_texts
    fernets = [Fernet(key.encode("ascii")) for key in keys]
    _keys = MultiFernet(fernets) if fernets else None
    _first = fernets[0] if fernets else None
    _key_texts = list(keys)


def configured_keys() -> list[str]:
    """The keys this process holds, the sealing one first (to restore after a change)."""
    return list(_key_texts)


def new_key() -> str:
    """A fresh key to put in ``TOTP_ENCRYPTION_KEYS``."""
    return Fernet.generate_key().decode("ascii")


def _current() -> MultiFernet:
    if _keys is None:
        raise SealingKeyMissing()
    return _keys


def seal(value: str) -> str:
    return PREFIX + _current().encrypt(value.encode("utf-8")).decode("ascii")


def unseal(stored: str) -> str:
    if not stored.startswith(PREFIX):
        return stored  # from before sealing: read as it is, sealed on the next write
    try:
        return _current().decrypt(stored[len(PREFIX) :].encode("ascii")).decode("utf-8")
    except InvalidToken as error:
        raise SealedValueUnreadable() from error


def is_sealed_with_current_key(stored: str) -> bool:
    """True when ``stored`` is sealed and the first key opens it (nothing to re-seal)."""
    if not stored.startswith(PREFIX):
        return False
    if _first is None:
        raise SealingKeyMissing()
    try:
        _first.decrypt(stored[len(PREFIX) :].encode("ascii"))
    except InvalidToken:
        return False
    return True


class SealedString(TypeDecorator[str]):
    """A text column whose values are sealed in the database and plain in Python."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else seal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else unseal(str(value))


@dataclass(frozen=True)
class DeviceKey:
    """What a signed-in browser encrypts its held saves and drafts with (``assets/held.js``):
    ``key``, 32 bytes for AES-GCM, and ``owner``, a tag that names the person's entries on the
    device without naming the person. Both derived, never stored: the same for the person in
    every session while the sealing key stays; another person's key opens none of them."""

    key: bytes
    owner: str


def device_key(user_id: int) -> DeviceKey:
    """The person's device key, an HMAC-SHA256 of their id under the first sealing key."""
    if not _key_texts:
        raise SealingKeyMissing()
    secret = _key_texts[0].encode("ascii")

    def derive(purpose: str) -> bytes:
        return hmac.new(secret, f"{purpose}:{user_id}".encode("ascii"), hashlib.sha256).digest()

    return DeviceKey(key=derive("held-entries-key"), owner=derive("held-entries-owner")[:12].hex())
