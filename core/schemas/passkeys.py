"""What the passkey services hand out: a person's own passkeys, never their keys."""

from __future__ import annotations

from datetime import datetime

from core.schemas.common import ReadModel


class PasskeyRead(ReadModel):
    """One of the actor's own passkeys, as their passkeys page lists it."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
