"""What the device PIN services hand out: whether this device has a PIN, never the PIN."""

from __future__ import annotations

from datetime import datetime

from core.schemas.common import ReadModel


class DevicePinRead(ReadModel):
    """The actor's PIN on this device: when it was set and last resumed a session."""

    created_at: datetime
    last_used_at: datetime | None
