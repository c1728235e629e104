"""Names folded for matching: the duplicate check at referral compares these, never raw names.

``fold_name`` drops case, accents, punctuation and extra spacing ("  Siân  O'Brien-Jones "
becomes "sian o brien jones"); ``surname_key`` is its last word, the indexed half of the
match. Migration 0009 holds a frozen copy of both, so change them only with a new migration
that refolds the stored keys.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_A_LETTER_OR_DIGIT = re.compile(r"[^0-9a-z]+")


def fold_name(name: str | None) -> str | None:
    """The name in lower-case ASCII words separated by single spaces; None when nothing is left."""
    if not name:
        return None
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    folded = _NOT_A_LETTER_OR_DIGIT.sub(" ", plain).strip()
    return folded[:200] or None


def surname_key(folded: str | None) -> str | None:
    if not folded:
        return None
    return folded.rsplit(" ", 1)[-1][:120]


def names_may_match(a: str, b: str) -> bool:
    """Two folded names that may be one person: the same words, or the same surname with the
    given names agreeing as far as an initial goes ("j smith" and "john smith")."""
    if a == b:
        return True
    first_a, last_a = a.split(" "), b.split(" ")
    if first_a[-1] != last_a[-1]:
        return False
    given_a, given_b = first_a[:-1], last_a[:-1]
    if not given_a or not given_b:
        return True  # only a surname on one side: shown, for a person to judge
    x, y = given_a[0], given_b[0]
    if len(x) == 1 or len(y) == 1:
        return x[0] == y[0]
    return x == y
