"""Appointments: booking, rescheduling, cancelling and recording what happened."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select

from core.enums import AppointmentStatus, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import Appointment, Case, Membership
from core.notifications.outbox import cancel_pending
from core.notifications.schedulers import queue_missed_prompt
from core.policy import Action
from core.rules import check_appointment_times, is_awaiting_outcome
from core.schemas.actor import Actor
from core.schemas.appointments import (
    AppointmentCreate,
    AppointmentOutcome,
    AppointmentRead,
    AppointmentReschedule,
    MyAppointmentsRead,
)
from core.services import submissions
from core.services.access import ensure_open, get_or_404, load_case
from core.services.audit import record_audit
from core.services.clashes import find_appointment_clashes, refuse_unless_saving_anyway
from core.uow import UnitOfWork

OUTCOME_STATUSES = frozenset({AppointmentStatus.ATTENDED, AppointmentStatus.DID_NOT_ATTEND})
# What a client key's save wrote (core.services.submissions): an appointment's id either way.
BOOKING_KIND = "booking"
OUTCOME_KIND = "outcome"


def appointment_read(
    appointment: Appointment, reference: str, *, now: datetime | None = None
) -> AppointmentRead:
    """The read model; with ``now``, whether it is awaiting an outcome at that moment."""
    return AppointmentRead(
        id=appointment.id,
        case_id=appointment.case_id,
        case_reference=reference,
        staff_id=appointment.staff_id,
        starts_at=appointment.starts_at,
        ends_at=appointment.ends_at,
        place_kind=appointment.place_kind,
        status=appointment.status,
        outcome=appointment.outcome,
        rescheduled_to_id=appointment.rescheduled_to_id,
        awaiting_outcome=now is not None
        and is_awaiting_outcome(appointment.status, appointment.starts_at, now),
    )


async def _check_staff(uow: UnitOfWork, staff_id: int, site_id: int) -> None:
    works_here = await uow.session.scalar(
        select(Membership.id).where(
            Membership.user_id == staff_id,
            Membership.site_id == site_id,
            Membership.role.in_([Role.CASE_MANAGER, Role.SERVICE_MANAGER]),
        )
    )
    if works_here is None:
        raise ValidationFailed(field="staff_id", rule="not_staff_at_site")


async def _appointment_case(uow: UnitOfWork, actor: Actor, appointment: Appointment) -> Case:
    """The appointment's case, if the actor may manage it; a refusal names the appointment."""
    try:
        return await load_case(uow, actor, appointment.case_id, Action.APPOINTMENT_MANAGE)
    except NotPermitted as error:
        raise error.about("appointment", appointment.id) from None


async def _load_for_change(
    uow: UnitOfWork, actor: Actor, appointment_id: int
) -> tuple[Appointment, Case]:
    appointment = await get_or_404(uow, Appointment, appointment_id)
    case = await _appointment_case(uow, actor, appointment)
    if appointment.status is not AppointmentStatus.SCHEDULED:
        raise ValidationFailed(field="status", rule="not_scheduled")
    return appointment, case


def _audit(
    uow: UnitOfWork,
    actor: Actor,
    action: str,
    appointment: Appointment,
    case: Case,
    extra: dict[str, list[int]] | None = None,
) -> None:
    record_audit(
        uow,
        actor,
        action,
        entity_type="appointment",
        entity_id=appointment.id,
        site_id=case.site_id,
        case_id=case.id,
        details={"status": appointment.status.value} | (extra or {}),
    )


async def book_appointment(
    *,
    uow: UnitOfWork,
    actor: Actor,
    data: AppointmentCreate,
    save_anyway: bool = False,
    client_key: UUID | None = None,
) -> AppointmentRead:
    """Book it; ``Clash`` if another scheduled appointment on the case overlaps, unless
    ``save_anyway`` (then the audit event names what it overlaps).

    ``client_key``: the device's key for this save (``core.services.submissions``): a second
    call with it by the same person books nothing and returns the first booking.
    """
    check_appointment_times(data.starts_at, data.ends_at)

    async def book() -> AppointmentRead:
        case = await load_case(uow, actor, data.case_id, Action.APPOINTMENT_MANAGE)
        ensure_open(case)
        staff_id = data.staff_id or actor.user_id
        await _check_staff(uow, staff_id, case.site_id)
        overridden = refuse_unless_saving_anyway(
            await find_appointment_clashes(uow, case, data.starts_at, data.ends_at),
            kind="appointment",
            save_anyway=save_anyway,
        )
        appointment = Appointment(
            case_id=case.id,
            staff_id=staff_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place_kind=data.place_kind,
            status=AppointmentStatus.SCHEDULED,
            created_at=uow.clock.now(),
        )
        uow.session.add(appointment)
        await uow.flush()
        _audit(uow, actor, "appointment.book", appointment, case, overridden)
        return appointment_read(appointment, case.reference)

    return await submissions.once(
        uow,
        actor,
        client_key,
        kind=BOOKING_KIND,
        write=book,
        result_id=lambda booked: booked.id,
        earlier=lambda saved_id: _saved_before(uow, actor, saved_id),
    )


async def _saved_before(uow: UnitOfWork, actor: Actor, appointment_id: int) -> AppointmentRead:
    """The appointment the person's earlier save with the same key booked or answered, if
    they may still manage its case's appointments."""
    appointment = await uow.session.get_one(Appointment, appointment_id)
    case = await _appointment_case(uow, actor, appointment)
    return appointment_read(appointment, case.reference)


async def reschedule_appointment(
    *,
    uow: UnitOfWork,
    actor: Actor,
    appointment_id: int,
    data: AppointmentReschedule,
    save_anyway: bool = False,
) -> AppointmentRead:
    """Book the new time and mark the old appointment *rescheduled*, pointing at the new one.

    ``Clash`` if another scheduled appointment on the case (not this one) overlaps the new
    time, unless ``save_anyway``.

    The old time's pending reminders are cancelled here; the reminder scheduler queues the new
    time's on its next run (one place decides who is reminded when).
    """
    check_appointment_times(data.starts_at, data.ends_at)
    async with uow:
        old, case = await _load_for_change(uow, actor, appointment_id)
        ensure_open(case)
        overridden = refuse_unless_saving_anyway(
            await find_appointment_clashes(
                uow, case, data.starts_at, data.ends_at, exclude_appointment_id=old.id
            ),
            kind="appointment",
            save_anyway=save_anyway,
        )
        new = Appointment(
            case_id=case.id,
            staff_id=old.staff_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            place_kind=data.place_kind or old.place_kind,
            status=AppointmentStatus.SCHEDULED,
            created_at=uow.clock.now(),
        )
        uow.session.add(new)
        await uow.flush()
        old.status = AppointmentStatus.RESCHEDULED
        old.rescheduled_to_id = new.id
        await cancel_pending(uow, appointment_id=old.id)
        _audit(uow, actor, "appointment.reschedule", old, case)
        _audit(uow, actor, "appointment.book", new, case, overridden)
        await uow.commit()
        return appointment_read(new, case.reference)


async def cancel_appointment(
    *, uow: UnitOfWork, actor: Actor, appointment_id: int
) -> AppointmentRead:
    async with uow:
        appointment, case = await _load_for_change(uow, actor, appointment_id)
        appointment.status = AppointmentStatus.CANCELLED
        await cancel_pending(uow, appointment_id=appointment.id)
        _audit(uow, actor, "appointment.cancel", appointment, case)
        await uow.commit()
        return appointment_read(appointment, case.reference)


async def record_appointment_outcome(
    *,
    uow: UnitOfWork,
    actor: Actor,
    appointment_id: int,
    data: AppointmentOutcome,
    client_key: UUID | None = None,
) -> AppointmentRead:
    """Attended or did not attend. Only for an appointment that has started.

    ``client_key``: as ``book_appointment``'s: the same answer sent again records nothing.
    """
    if data.status not in OUTCOME_STATUSES:
        raise ValidationFailed(field="status", rule="not_an_outcome")

    async def answer() -> AppointmentRead:
        appointment, case = await _load_for_change(uow, actor, appointment_id)
        if appointment.starts_at > uow.clock.now():
            raise ValidationFailed(field="status", rule="not_started_yet")
        appointment.status = data.status
        appointment.outcome = data.outcome or None
        # No more "did it happen?" prompt (nor any reminder) once the answer is in.
        await cancel_pending(uow, appointment_id=appointment.id)
        _audit(uow, actor, "appointment.outcome", appointment, case)
        return appointment_read(appointment, case.reference)

    return await submissions.once(
        uow,
        actor,
        client_key,
        kind=OUTCOME_KIND,
        write=answer,
        result_id=lambda answered: answered.id,
        earlier=lambda saved_id: _saved_before(uow, actor, saved_id),
    )


async def ask_for_outcome_after(
    *, uow: UnitOfWork, actor: Actor, appointment_id: int
) -> AppointmentRead:
    """ "I'll record it after", from a reminder sent before the appointment: ask its staff
    member what happened at the end time (at once if it has ended). The ask is the
    missed-appointment prompt, queued once whoever asks (``schedulers.queue_missed_prompt``),
    and cancelled with the others if the outcome is recorded, or the appointment moved or
    cancelled, before it goes."""
    async with uow:
        appointment, case = await _load_for_change(uow, actor, appointment_id)
        ensure_open(case)
        now = uow.clock.now()
        await queue_missed_prompt(uow, appointment, case.reference, max(appointment.ends_at, now))
        _audit(uow, actor, "appointment.outcome_prompt", appointment, case)
        await uow.commit()
        return appointment_read(appointment, case.reference, now=now)


async def _my_scheduled(
    uow: UnitOfWork, actor: Actor, starts_from: datetime, starts_before: datetime
) -> list[AppointmentRead]:
    rows = await uow.session.execute(
        select(Appointment, Case.reference)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.staff_id == actor.user_id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.starts_at >= starts_from,
            Appointment.starts_at < starts_before,
            Case.site_id.in_(actor.site_ids),
        )
        .order_by(Appointment.starts_at)
    )
    return [appointment_read(appointment, reference) for appointment, reference in rows]


async def my_appointment(*, uow: UnitOfWork, actor: Actor, appointment_id: int) -> AppointmentRead:
    """One appointment, whatever its status, if the actor may manage it (``NotPermitted`` if not).

    For faces that hold an appointment id from elsewhere (the bot's reminder buttons): the id is
    authorised again on every use, like any other.
    """
    async with uow:
        appointment = await get_or_404(uow, Appointment, appointment_id)
        case = await _appointment_case(uow, actor, appointment)
        return appointment_read(appointment, case.reference)


async def _my_awaiting(
    uow: UnitOfWork, actor: Actor, now: datetime, limit: int
) -> list[AppointmentRead]:
    rows = await uow.session.execute(
        select(Appointment, Case.reference)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.staff_id == actor.user_id,
            # core.rules.is_awaiting_outcome, as a query
            Appointment.status == AppointmentStatus.SCHEDULED,
            Appointment.starts_at <= now,
            Case.site_id.in_(actor.site_ids),
        )
        .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        .limit(limit)
    )
    return [appointment_read(appointment, reference, now=now) for appointment, reference in rows]


async def my_appointment_lists(
    *, uow: UnitOfWork, actor: Actor, upcoming_days: int = 90, limit: int = 50
) -> MyAppointmentsRead:
    """The web page's two lists, read at one moment in one unit of work: the actor's own
    appointments awaiting an outcome (newest first), and those that have not started yet,
    in the next ``upcoming_days`` days (soonest first). One started a moment ago is in the
    first list only, never in both."""
    async with uow:
        now = uow.clock.now()
        awaiting = await _my_awaiting(uow, actor, now, limit)
        ahead = await _my_scheduled(uow, actor, now, now + timedelta(days=upcoming_days))
    upcoming = [item for item in ahead if item.starts_at > now]
    return MyAppointmentsRead(awaiting=tuple(awaiting), upcoming=tuple(upcoming))
