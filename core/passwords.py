"""Passwords: hashing with argon2id, and what a new password must be.

Hashing uses argon2-cffi's defaults (RFC 9106's recommendation). A new password follows the
NCSC's guidance (and NIST SP 800-63B): long enough (``MIN_PASSWORD_LENGTH`` characters), no
composition rules (no "one capital, one digit"), any characters a person can type, up to
``MAX_PASSWORD_LENGTH``; and refused when it is a common or breached password (the list in
``core/data/common_passwords.txt``, ignoring case, also with digits or symbols added before or
after), or the person's own email address or name.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common_passwords.txt"

_hasher = PasswordHasher()
# Digits, symbols and spaces people add around a common word ("Password123!", "!!iloveyou").
_PADDING = re.compile(r"^[\W\d_]*(.*?)[\W\d_]*$", re.DOTALL)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, folded to lower case (comment lines start with ``#``)."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why ``password`` may not be used, as a rule code, or None when it is fine.

    ``too_short``, ``too_long``, ``common`` (on the list, or a listed password with only digits
    and symbols around it), ``like_account`` (the email address, its part before the @, or the
    person's name, with or without spaces).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "too_short"
    if len(password) > MAX_PASSWORD_LENGTH:
        return "too_long"
    folded = _fold(password)
    if not folded:  # nothing but spaces
        return "common"
    listed = common_passwords()
    core_part = _PADDING.match(folded)
    if folded in listed or (core_part is not None and core_part.group(1) in listed):
        return "common"
    squeezed = re.sub(r"\s+", "", folded)
    address = _fold(email)
    own = {address, address.split("@")[0], _fold(name), re.sub(r"\s+", "", _fold(name))}
    own.discard("")
    if folded in own or squeezed in own or (core_part is not None and core_part.group(1) in own):
        return "like_account"
    return None
