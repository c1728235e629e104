"""After a panel meeting: mark it held with who attended, or cancel it (panel coordinators and
service managers, ``panel.manage``). The attendance feeds the report's attendance figure.

The register is everyone active at the meeting's site, with their RSVP until the meeting is
marked; marking it held records each of them *attended* or *absent* (an RSVP row is kept and
overwritten, so apologies sent become *absent*). Marking again corrects the register.
"""

from __future__ import annotations

from sqlalchemy import select

from core.enums import AttendanceStatus, PanelMeetingStatus
from core.errors import ValidationFailed
from core.models import Membership, PanelAttendance, PanelMeeting, Site, User
from core.notifications.outbox import cancel_pending_with_key_prefix
from core.policy import Action, authorize
from core.schemas.actor import Actor
from core.schemas.panel_outcomes import MeetingHeld, PanelRegisterRead, RegisterRow
from core.schemas.panels import PanelMeetingRead
from core.services.access import get_or_404
from core.services.audit import record_audit
from core.uow import UnitOfWork


async def _managed_meeting(uow: UnitOfWork, actor: Actor, meeting_id: int) -> PanelMeeting:
    meeting = await get_or_404(uow, PanelMeeting, meeting_id)
    authorize(actor, Action.PANEL_MANAGE, site_id=meeting.site_id)
    return meeting


async def _register(uow: UnitOfWork, meeting: PanelMeeting) -> PanelRegisterRead:
    site = await get_or_404(uow, Site, meeting.site_id)
    staff = {
        user_id: (name, agency)
        for user_id, name, agency in await uow.session.execute(
            select(User.id, User.display_name, Membership.agency)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.site_id == meeting.site_id, User.is_active.is_(True))
            .order_by(User.display_name, User.id)
        )
    }
    marked = {
        row.user_id: row
        for row in await uow.session.scalars(
            select(PanelAttendance).where(PanelAttendance.meeting_id == meeting.id)
        )
    }
    rows = [
        RegisterRow(
            user_id=user_id,
            display_name=name,
            agency=marked[user_id].agency if user_id in marked else agency,
            status=marked[user_id].status if user_id in marked else None,
        )
        for user_id, (name, agency) in staff.items()
    ]
    statuses = [row.status for row in rows]
    return PanelRegisterRead(
        meeting=PanelMeetingRead(
            id=meeting.id,
            site_id=meeting.site_id,
            site_code=site.code,
            starts_at=meeting.starts_at,
            place=meeting.place,
            link=meeting.link,
            status=meeting.status,
        ),
        rows=tuple(rows),
        attended=statuses.count(AttendanceStatus.ATTENDED),
        absent=statuses.count(AttendanceStatus.ABSENT),
    )


async def panel_register(*, uow: UnitOfWork, actor: Actor, meeting_id: int) -> PanelRegisterRead:
    """The meeting and its register: who may be marked, with their RSVP or attendance."""
    async with uow:
        meeting = await _managed_meeting(uow, actor, meeting_id)
        return await _register(uow, meeting)


async def mark_panel_meeting_held(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int, data: MeetingHeld
) -> PanelRegisterRead:
    """Mark a meeting that has started *held*, each person on the register attended or absent.

    ``ValidationFailed``: ``not_started_yet`` before its start, ``cancelled`` for a cancelled
    meeting, ``not_at_site`` for an attendee who is not active staff at the site.
    """
    async with uow:
        meeting = await _managed_meeting(uow, actor, meeting_id)
        if meeting.status is PanelMeetingStatus.CANCELLED:
            raise ValidationFailed(field="status", rule="cancelled")
        now = uow.clock.now()
        if meeting.starts_at > now:
            raise ValidationFailed(field="status", rule="not_started_yet")
        register = await _register(uow, meeting)
        on_register = {row.user_id: row for row in register.rows}
        if not data.attended_user_ids <= on_register.keys():
            raise ValidationFailed(field="attended_user_ids", rule="not_at_site")
        existing = {
            row.user_id: row
            for row in await uow.session.scalars(
                select(PanelAttendance).where(PanelAttendance.meeting_id == meeting.id)
            )
        }
        for user_id, person in on_register.items():
            row = existing.get(user_id)
            if row is None:
                row = PanelAttendance(meeting_id=meeting.id, user_id=user_id, agency=person.agency)
                uow.session.add(row)
            row.status = (
                AttendanceStatus.ATTENDED
                if user_id in data.attended_user_ids
                else AttendanceStatus.ABSENT
            )
            row.updated_at = now
        meeting.status = PanelMeetingStatus.HELD
        await uow.flush()
        record_audit(
            uow,
            actor,
            "panel.held",
            entity_type="panel_meeting",
            entity_id=meeting.id,
            site_id=meeting.site_id,
            details={"attended_user_ids": sorted(data.attended_user_ids)},
        )
        await uow.commit()
        return await _register(uow, meeting)


async def cancel_panel_meeting(
    *, uow: UnitOfWork, actor: Actor, meeting_id: int
) -> PanelMeetingRead:
    """Cancel a scheduled meeting; its reminders not yet sent are not sent.
    ``ValidationFailed(rule="not_scheduled")`` for one already held or cancelled."""
    async with uow:
        meeting = await _managed_meeting(uow, actor, meeting_id)
        if meeting.status is not PanelMeetingStatus.SCHEDULED:
            raise ValidationFailed(field="status", rule="not_scheduled")
        meeting.status = PanelMeetingStatus.CANCELLED
        await cancel_pending_with_key_prefix(uow, f"panel:{meeting.id}:")
        record_audit(
            uow,
            actor,
            "panel.cancel",
            entity_type="panel_meeting",
            entity_id=meeting.id,
            site_id=meeting.site_id,
        )
        await uow.commit()
        return (await _register(uow, meeting)).meeting
