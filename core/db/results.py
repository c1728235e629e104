"""How many rows a statement touched, typed.

``AsyncSession.execute`` is typed to return a ``Result``, but an UPDATE, DELETE or INSERT gives
a ``CursorResult`` (the one that counts rows); this checks that and returns its count.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import CursorResult, Result


def rowcount(result: Result[Any]) -> int:
    """The number of rows an UPDATE, DELETE or INSERT matched (0 when the driver reports none)."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"{type(result).__name__} counts no rows; give it a DML statement's result")
    return int(result.rowcount or 0)
