"""Schedulers: derive the notifications the data calls for, and queue them in the outbox.

Each scheduler is one unit of work that reads the data as it stands and queues what is due (or
soon due, with ``not_before`` set to the moment it should go). Every message has a dedupe key
built from what it is about, so running a scheduler twice, or in two processes at once, queues
each message once. A cancelled message keeps its key: a scheduler never brings it back.

Messages about a case carry its ``case_id`` (and ``appointment_id``), so rescheduling or
cancelling an appointment, recording its outcome, or closing the case cancels them (see
``core.notifications.outbox.cancel_pending``). Params hold case references, times, place kinds,
ids and counts only: never a name, an address or a note.

Times are stored in UTC; "08:00" means 08:00 in the service's zone (``uow.zone``, from
``Settings.timezone``; in Europe/London that is 08:00 UTC in winter and 07:00 UTC in British
Summer Time), worked out with ``zoneinfo`` for each date (``core.clock``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, or_, select

from core.clock import local_date, local_day_bounds, local_moment
from core.enums import (
    AlertStatus,
    AppointmentStatus,
    AttendanceStatus,
    Lane,
    NotificationKind,
    PanelActionStatus,
    PanelMeetingStatus,
    Role,
    Stage,
)
from core.models import (
    Appointment,
    Case,
    DisruptionAlert,
    Membership,
    PanelAction,
    PanelAgendaItem,
    PanelAttendance,
    PanelMeeting,
    Site,
    User,
)
from core.notifications.choice import enqueue_by_choice
from core.uow import UnitOfWork

# Minutes before an appointment to remind its staff member, when they have not chosen.
DEFAULT_REMINDER_LEAD_MINUTES = (1440, 60)
DIGEST_LOCAL_TIME = time(8, 0)
# After 08:00 + this, today's digest is no longer worth sending: tomorrow's is queued instead.
DIGEST_STALE_AFTER = timedelta(hours=12)
MISSED_PROMPT_AFTER = timedelta(hours=1)
MISSED_PROMPT_GIVE_UP_AFTER = timedelta(days=7)
PANEL_FIRST_REMINDER_BEFORE = timedelta(hours=48)
ESCALATE_AFTER = timedelta(hours=4)

# Who is reminded of a panel meeting at its site: the standing panel roles, and (below) the case
# managers of the cases on its agenda. Anyone who has sent apologies is left out.
PANEL_REMINDER_ROLES = frozenset(
    {
        Role.PANEL_MEMBER,
        Role.PANEL_COORDINATOR,
        Role.POLICE_FELLOW,
        Role.IDVA,
        Role.SERVICE_MANAGER,
    }
)
DIGEST_ROLES = frozenset({Role.CASE_MANAGER, Role.SERVICE_MANAGER})


def message_key(kind: NotificationKind) -> str:
    """The translation key a face renders a message of this kind with."""
    return f"notification.{kind.value}"


def local_eight_oclock(day: date, zone: ZoneInfo) -> datetime:
    """08:00 in ``zone`` on ``day``, as a timezone-aware datetime (convert with ``astimezone``)."""
    return local_moment(day, DIGEST_LOCAL_TIME, zone)


def lead_minutes_for(user: User) -> list[int]:
    chosen = user.reminder_lead_minutes
    if chosen is None:
        return list(DEFAULT_REMINDER_LEAD_MINUTES)
    return sorted({int(minutes) for minutes in chosen if int(minutes) > 0}, reverse=True)


def _appointment_params(appointment: Appointment, reference: str) -> dict[str, object]:
    """What a message about an appointment may carry: reference, time and kind of place."""
    return {
        "reference": reference,
        "starts_at": appointment.starts_at.isoformat(),
        "place_kind": appointment.place_kind.value,
        "appointment_id": appointment.id,
    }


async def _active_users(uow: UnitOfWork, user_ids: Iterable[int]) -> dict[int, User]:
    ids = set(user_ids)
    if not ids:
        return {}
    rows = await uow.session.scalars(select(User).where(User.id.in_(ids), User.is_active))
    return {user.id: user for user in rows}


async def schedule_appointment_reminders(
    *, uow: UnitOfWork, horizon: timedelta = timedelta(days=2)
) -> int:
    """Queue a reminder per lead time for each scheduled appointment starting within the horizon.

    A lead time whose moment has already passed (an appointment booked at short notice) is
    skipped. Returns how many messages were queued by this run.
    """
    async with uow:
        now = uow.clock.now()
        rows = (
            await uow.session.execute(
                select(Appointment, Case.reference)
                .join(Case, Case.id == Appointment.case_id)
                .where(
                    Appointment.status == AppointmentStatus.SCHEDULED,
                    Appointment.starts_at > now,
                    Appointment.starts_at <= now + horizon,
                    Case.stage != Stage.CLOSED,
                )
                .order_by(Appointment.starts_at, Appointment.id)
            )
        ).all()
        staff = await _active_users(uow, (appointment.staff_id for appointment, _ in rows))
        queued = 0
        for appointment, reference in rows:
            user = staff.get(appointment.staff_id)
            if user is None:
                continue
            for lead in lead_minutes_for(user):
                due = appointment.starts_at - timedelta(minutes=lead)
                if due < now:
                    continue
                queued += await enqueue_by_choice(
                    uow,
                    recipient_user_id=user.id,
                    kind=NotificationKind.APPOINTMENT_REMINDER,
                    lane=Lane.HIGH,
                    message_key=message_key(NotificationKind.APPOINTMENT_REMINDER),
                    params=_appointment_params(appointment, reference) | {"lead_minutes": lead},
                    dedupe_key=f"reminder:appointment:{appointment.id}:{lead}",
                    not_before=due,
                    case_id=appointment.case_id,
                    appointment_id=appointment.id,
                )
        await uow.commit()
        return queued


def escalation_key_prefix(alert_id: int) -> str:
    """The start of every escalation's dedupe key for one alert (one per service manager)."""
    return f"escalation:alert:{alert_id}:"


def digest_day(now: datetime, zone: ZoneInfo) -> date:
    """The local date whose digest is due next: today's until 20:00 in ``zone``, then
    tomorrow's."""
    today = local_date(now, zone)
    if now - local_eight_oclock(today, zone) > DIGEST_STALE_AFTER:
        return today + timedelta(days=1)
    return today


def overdue_panel_action_conditions(
    user_id: int, managed_site_ids: set[int], day: date
) -> list[ColumnElement[bool]]:
    """Open panel actions due before ``day`` that the user owns, are on their caseload, or (for
    a service manager) are at a site they manage, as SQL conditions (join ``Case``). The digest
    counts them; ``core.services.agenda`` lists them."""
    mine = [PanelAction.owner_user_id == user_id, Case.case_manager_id == user_id]
    if managed_site_ids:
        mine.append(Case.site_id.in_(managed_site_ids))
    return [
        PanelAction.status == PanelActionStatus.OPEN,
        PanelAction.due_on < day,
        Case.stage != Stage.CLOSED,
        or_(*mine),
    ]


async def _overdue_panel_actions(
    uow: UnitOfWork, user_id: int, managed_site_ids: set[int], day: date
) -> int:
    count = await uow.session.scalar(
        select(func.count(PanelAction.id))
        .join(Case, Case.id == PanelAction.case_id)
        .where(*overdue_panel_action_conditions(user_id, managed_site_ids, day))
    )
    return int(count or 0)


async def schedule_daily_digests(*, uow: UnitOfWork) -> int:
    """Queue one digest per case manager and service manager for the next 08:00 local time.

    The counts are those at queueing time: today's scheduled appointments with the person, and
    the overdue panel actions they own or hold through their caseload (a service manager: all
    at the sites they manage).
    """
    async with uow:
        now = uow.clock.now()
        day = digest_day(now, uow.zone)
        send_at = local_eight_oclock(day, uow.zone)
        day_start, day_end = local_day_bounds(day, uow.zone)
        memberships = (
            await uow.session.execute(
                select(Membership.user_id, Membership.site_id, Membership.role)
                .join(User, User.id == Membership.user_id)
                .where(Membership.role.in_(DIGEST_ROLES), User.is_active)
                .order_by(Membership.user_id)
            )
        ).all()
        managed: dict[int, set[int]] = {}
        for user_id, site_id, role in memberships:
            sites = managed.setdefault(user_id, set())
            if role == Role.SERVICE_MANAGER:
                sites.add(site_id)
        queued = 0
        for user_id, managed_site_ids in managed.items():
            appointments = await uow.session.scalar(
                select(func.count(Appointment.id)).where(
                    Appointment.staff_id == user_id,
                    Appointment.status == AppointmentStatus.SCHEDULED,
                    Appointment.starts_at >= day_start,
                    Appointment.starts_at < day_end,
                )
            )
            overdue = await _overdue_panel_actions(uow, user_id, managed_site_ids, day)
            queued += await enqueue_by_choice(
                uow,
                recipient_user_id=user_id,
                kind=NotificationKind.DAILY_DIGEST,
                lane=Lane.NORMAL,
                message_key=message_key(NotificationKind.DAILY_DIGEST),
                params={
                    "date": day.isoformat(),
                    "appointments_today": int(appointments or 0),
                    "overdue_panel_actions": overdue,
                },
                dedupe_key=f"digest:{user_id}:{day.isoformat()}",
                not_before=send_at,
            )
        await uow.commit()
        return queued


async def schedule_missed_appointment_prompts(*, uow: UnitOfWork) -> int:
    """Ask the staff member 'did it happen?' an hour after an appointment with no outcome.

    Appointments older than a week are left alone: by then the prompt is noise.
    """
    async with uow:
        now = uow.clock.now()
        rows = (
            await uow.session.execute(
                select(Appointment, Case.reference)
                .join(Case, Case.id == Appointment.case_id)
                .where(
                    Appointment.status == AppointmentStatus.SCHEDULED,
                    Appointment.starts_at <= now - MISSED_PROMPT_AFTER,
                    Appointment.starts_at > now - MISSED_PROMPT_GIVE_UP_AFTER,
                    Case.stage != Stage.CLOSED,
                )
                .order_by(Appointment.starts_at, Appointment.id)
            )
        ).all()
        staff = await _active_users(uow, (appointment.staff_id for appointment, _ in rows))
        queued = 0
        for appointment, reference in rows:
            if appointment.staff_id not in staff:
                continue
            queued += await queue_missed_prompt(
                uow, appointment, reference, appointment.starts_at + MISSED_PROMPT_AFTER
            )
        await uow.commit()
        return queued


async def queue_missed_prompt(
    uow: UnitOfWork, appointment: Appointment, reference: str, not_before: datetime
) -> int:
    """Queue the one "did it happen?" prompt of an appointment, to its staff member.

    Its dedupe key is the appointment's, so the prompt goes once: at the time of whichever
    asked first, this scheduler (an hour after the start) or the staff member's "I'll record
    it after" under a reminder (the end time, ``core.services.appointments``). Recording the
    outcome, moving or cancelling the appointment cancels it while it waits.
    """
    return await enqueue_by_choice(
        uow,
        recipient_user_id=appointment.staff_id,
        kind=NotificationKind.MISSED_APPOINTMENT,
        lane=Lane.HIGH,
        message_key=message_key(NotificationKind.MISSED_APPOINTMENT),
        params=_appointment_params(appointment, reference),
        dedupe_key=f"missed:appointment:{appointment.id}",
        not_before=not_before,
        case_id=appointment.case_id,
        appointment_id=appointment.id,
    )


async def panel_recipients(uow: UnitOfWork, meeting: PanelMeeting) -> list[int]:
    """The active people a message about this panel meeting goes to (see PANEL_REMINDER_ROLES)."""
    standing = await uow.session.scalars(
        select(Membership.user_id).where(
            Membership.site_id == meeting.site_id, Membership.role.in_(PANEL_REMINDER_ROLES)
        )
    )
    agenda_case_managers = await uow.session.scalars(
        select(Case.case_manager_id)
        .join(PanelAgendaItem, PanelAgendaItem.case_id == Case.id)
        .join(Membership, Membership.user_id == Case.case_manager_id)
        .where(
            PanelAgendaItem.meeting_id == meeting.id,
            Membership.site_id == meeting.site_id,
            Membership.role == Role.CASE_MANAGER,
        )
    )
    apologies = set(
        await uow.session.scalars(
            select(PanelAttendance.user_id).where(
                PanelAttendance.meeting_id == meeting.id,
                PanelAttendance.status == AttendanceStatus.APOLOGIES,
            )
        )
    )
    candidates = {*standing, *(user_id for user_id in agenda_case_managers if user_id)}
    active = await _active_users(uow, candidates - apologies)
    return sorted(active)


async def schedule_panel_reminders(
    *, uow: UnitOfWork, horizon: timedelta = timedelta(days=3)
) -> int:
    """Remind the panel of a meeting two days before, and at 08:00 local time on the day.

    The two-day reminder is skipped if the meeting was booked later than that; the morning one
    goes as long as the meeting has not started (at its start time if it starts before 08:00).
    """
    async with uow:
        now = uow.clock.now()
        meetings = (
            await uow.session.execute(
                select(PanelMeeting, Site.code)
                .join(Site, Site.id == PanelMeeting.site_id)
                .where(
                    PanelMeeting.status == PanelMeetingStatus.SCHEDULED,
                    PanelMeeting.starts_at > now,
                    PanelMeeting.starts_at <= now + horizon,
                )
                .order_by(PanelMeeting.starts_at, PanelMeeting.id)
            )
        ).all()
        queued = 0
        for meeting, site_code in meetings:
            local_day = local_date(meeting.starts_at, uow.zone)
            moments = {
                "2d": meeting.starts_at - PANEL_FIRST_REMINDER_BEFORE,
                "morning": min(local_eight_oclock(local_day, uow.zone), meeting.starts_at),
            }
            if moments["2d"] < now:
                del moments["2d"]
            for user_id in await panel_recipients(uow, meeting):
                for when, due in moments.items():
                    queued += await enqueue_by_choice(
                        uow,
                        recipient_user_id=user_id,
                        kind=NotificationKind.PANEL_REMINDER,
                        lane=Lane.NORMAL,
                        message_key=message_key(NotificationKind.PANEL_REMINDER),
                        params={
                            "meeting_id": meeting.id,
                            "site_code": site_code,
                            "starts_at": meeting.starts_at.isoformat(),
                            "when": when,
                        },
                        dedupe_key=f"panel:{meeting.id}:{user_id}:{when}",
                        not_before=max(due, now) if when == "morning" else due,
                    )
        await uow.commit()
        return queued


async def escalate_unacknowledged_alerts(*, uow: UnitOfWork) -> int:
    """Tell every service manager of the site about a disruption alert still open after 4 h."""
    async with uow:
        now = uow.clock.now()
        alerts = (
            await uow.session.execute(
                select(DisruptionAlert, Case.reference, Case.site_id)
                .join(Case, Case.id == DisruptionAlert.case_id)
                .where(
                    DisruptionAlert.status == AlertStatus.OPEN,
                    DisruptionAlert.raised_at <= now - ESCALATE_AFTER,
                    Case.stage != Stage.CLOSED,
                )
                .order_by(DisruptionAlert.raised_at, DisruptionAlert.id)
            )
        ).all()
        queued = 0
        for alert, reference, site_id in alerts:
            managers = await uow.session.scalars(
                select(Membership.user_id)
                .join(User, User.id == Membership.user_id)
                .where(
                    Membership.site_id == site_id,
                    Membership.role == Role.SERVICE_MANAGER,
                    User.is_active,
                )
                .order_by(Membership.user_id)
            )
            for user_id in managers:
                queued += await enqueue_by_choice(
                    uow,
                    recipient_user_id=user_id,
                    kind=NotificationKind.ESCALATION,
                    lane=Lane.CRITICAL,
                    message_key=message_key(NotificationKind.ESCALATION),
                    params={
                        "reference": reference,
                        "alert_id": alert.id,
                        "raised_at": alert.raised_at.isoformat(),
                    },
                    dedupe_key=escalation_key_prefix(alert.id) + str(user_id),
                    case_id=alert.case_id,
                )
        await uow.commit()
        return queued


SCHEDULERS: tuple[Callable[..., Any], ...] = (
    escalate_unacknowledged_alerts,
    schedule_appointment_reminders,
    schedule_missed_appointment_prompts,
    schedule_panel_reminders,
    schedule_daily_digests,
)


async def run_all_schedulers(*, uow_factory: Callable[[], UnitOfWork]) -> dict[str, int]:
    """Run every scheduler once, each in a unit of work of its own; how many each queued.

    Escalations go first: if one scheduler fails, the most urgent work has already been done.
    """
    counts: dict[str, int] = {}
    for scheduler in SCHEDULERS:
        counts[scheduler.__name__] = await scheduler(uow=uow_factory())
    return counts
