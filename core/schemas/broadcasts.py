"""Panel reads and writes for the bot: upcoming meetings with my RSVP, and panel broadcasts."""

from __future__ import annotations

from typing import Any

from core.enums import AttendanceStatus
from core.schemas.common import ReadModel
from core.schemas.panels import PanelMeetingRead


class PanelInvitationRead(ReadModel):
    """An upcoming panel meeting at one of my sites, and what I have answered (if anything)."""

    meeting: PanelMeetingRead
    my_rsvp: AttendanceStatus | None


class BroadcastPreview(ReadModel):
    """What a broadcast would send, to how many people, before anything is queued.

    ``message_key`` and ``params`` are exactly what each recipient's outbox row will hold, so a
    face renders the preview with the same renderer as the channel. ``broadcast_key`` names this
    one broadcast: sending twice with the same key queues each message once.
    """

    meeting: PanelMeetingRead
    recipients: int
    message_key: str
    params: dict[str, Any]
    broadcast_key: str


class BroadcastRead(ReadModel):
    meeting_id: int
    recipients: int
    queued: int
