"""Panel broadcasts: a coordinator tells a site's panel about a meeting, through the outbox.

A broadcast is previewed first (the message and the number of recipients), then sent. The
preview hands out a ``broadcast_key``; every message of that broadcast carries it in its dedupe
key, so a second tap of Send on the same preview queues nothing more, while a new preview (a
deliberate second broadcast) gets a key of its own. Recipients follow the panel reminders' rule
(``core.notifications.schedulers.panel_recipients``): the standing panel roles at the site and
the case managers of the cases on the agenda, less anyone who has sent apologies.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from sqlalchemy import select

from core.enums import Lane, NotificationKind, PanelMeetingStatus
from core.errors import NotPermitted, ValidationFailed
from core.models import PanelMeeting, Site
from core.notifications.choice import enqueue_by_choice
from core.notifications.schedulers import message_key, panel_recipients
from core.policy import Action, authorize, authorize_somewhere, sites_where
from core.schemas.actor import Actor
from core.schemas.broadcasts import BroadcastPreview, BroadcastRead
from core.schemas.panels import PanelMeetingRead
from core.services.access import get_or_404
from core.services.audit import record_audit
from core.uow import UnitOfWork

BROADCAST_KEY = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
KIND = NotificationKind.PANEL_BROADCAST


def _meeting_read(meeting: PanelMeeting, site_code: str) -> PanelMeetingRead:
    return PanelMeetingRead(
        id=meeting.id,
        site_id=meeting.site_id,
        site_code=site_code,
        starts_at=meeting.starts_at,
        place=meeting.place,
        link=meeting.link,
        status=meeting.status,
    )


def _params(meeting: PanelMeeting, site: Site) -> dict[str, Any]:
    """Meeting id, site code and name (an office's, never a person's) and time only: the
    place may be free text, so it stays out."""
    return {
        "meeting_id": meeting.id,
        "site_code": site.code,
        "site_name": site.name,
        "starts_at": meeting.starts_at.isoformat(),
    }


async def _upcoming_meeting(
    uow: UnitOfWork, actor: Actor, meeting_id: int
) -> tuple[PanelMeeting, Site]:
    meeting = await get_or_404(uow, PanelMeeting, meeting_id)
    try:
        authorize(actor, Action.PANEL_MANAGE, site_id=meeting.site_id)
    except NotPermitted as error:
        raise error.about("panel_meeting", meeting.id) from None
    if meeting.status is not PanelMeetingStatus.SCHEDULED or meeting.starts_at <= uow.clock.now():
        raise ValidationFailed(field="meeting_id", rule="not_upcoming")
    site = await get_or_404(uow, Site, meeting.site_id)
    return meeting, site


async def broadcastable_meetings(
    *, uow: UnitOfWork, actor: Actor, limit: int = 8
) -> list[PanelMeetingRead]:
    """Upcoming scheduled meetings at the sites where the actor manages the panel."""
    async with uow:
        authorize_somewhere(actor, Action.PANEL_MANAGE)
        return await meetings_to_broadcast(uow, sites_where(actor, Action.PANEL_MANAGE), limit)


async def meetings_to_broadcast(
    uow: UnitOfWork, site_ids: set[int], limit: int = 8
) -> list[PanelMeetingRead]:
    """The upcoming scheduled meetings at ``site_ids``, in a unit of work already open (the
    Panel page's read, ``panels.panel_page``, asks this with the rest of the page)."""
    rows = await uow.session.execute(
        select(PanelMeeting, Site.code)
        .join(Site, Site.id == PanelMeeting.site_id)
        .where(
            PanelMeeting.site_id.in_(site_ids),
            PanelMeeting.status == PanelMeetingStatus.SCHEDULED,
            PanelMeeting.starts_at > uow.clock.now(),
        )
        .order_by(PanelMeeting.starts_at, PanelMeeting.id)
        .limit(max(1, min(limit, 50)))
    )
    return [_meeting_read(meeting, code) for meeting, code in rows]


async def preview_panel_broadcast(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int
) -> BroadcastPreview:
    """The message a broadcast would send and how many would get it; queues nothing."""
    async with uow:
        meeting, site = await _upcoming_meeting(uow, actor, meeting_id)
        recipients = await panel_recipients(uow, meeting)
        return BroadcastPreview(
            meeting=_meeting_read(meeting, site.code),
            recipients=len(recipients),
            message_key=message_key(KIND),
            params=_params(meeting, site),
            broadcast_key=secrets.token_urlsafe(9),
        )


async def broadcast_panel_meeting(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int, broadcast_key: str
) -> BroadcastRead:
    """Queue one message per recipient; a key already used queues nothing more."""
    if not BROADCAST_KEY.match(broadcast_key):
        raise ValidationFailed(field="broadcast_key", rule="invalid")
    async with uow:
        meeting, site = await _upcoming_meeting(uow, actor, meeting_id)
        recipients = await panel_recipients(uow, meeting)
        queued = 0
        for user_id in recipients:
            # Counted per person, however many channels they chose.
            queued += bool(
                await enqueue_by_choice(
                    uow,
                    recipient_user_id=user_id,
                    kind=KIND,
                    lane=Lane.NORMAL,
                    message_key=message_key(KIND),
                    params=_params(meeting, site),
                    dedupe_key=f"panel_broadcast:{meeting.id}:{broadcast_key}:{user_id}",
                )
            )
        record_audit(
            uow,
            actor,
            "panel.broadcast",
            entity_type="panel_meeting",
            entity_id=meeting.id,
            site_id=meeting.site_id,
            details={"recipients": len(recipients), "queued": queued},
        )
        await uow.commit()
        return BroadcastRead(meeting_id=meeting.id, recipients=len(recipients), queued=queued)
