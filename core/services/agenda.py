"""A staff member's own agenda: today's appointments, the next few, and overdue panel actions.

"Today" is the day in the service's zone (``uow.zone``; ``core.clock.local_day_bounds``, which
the daily digest uses too). Overdue actions follow the digest's rule: open actions due before
the day that the person owns, that sit on their caseload, or (a service manager) that are at a
site they manage; only cases at the person's own sites, and never closed ones.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, select

from core.clock import local_day_bounds
from core.enums import AppointmentStatus, Role
from core.models import Appointment, Case, PanelAction
from core.notifications.schedulers import overdue_panel_action_conditions
from core.schemas.actor import Actor
from core.schemas.agenda import MyDayRead, OverdueActionRead
from core.schemas.appointments import AppointmentRead
from core.services.appointments import appointment_read
from core.uow import UnitOfWork

NEXT_APPOINTMENTS_LIMIT = 5


def _my_scheduled_appointments(actor: Actor) -> Select[Appointment, str]:
    return (
        select(Appointment, Case.reference)
        .join(Case, Case.id == Appointment.case_id)
        .where(
            Appointment.staff_id == actor.user_id,
            Appointment.status == AppointmentStatus.SCHEDULED,
            Case.site_id.in_(actor.site_ids),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )


async def my_day(*, uow: UnitOfWork, actor: Actor, day: date) -> MyDayRead:
    """The actor's scheduled appointments on ``day`` (in ``uow.zone``), each saying whether it is
    already awaiting an outcome, and their overdue panel actions."""
    start, end = local_day_bounds(day, uow.zone)
    managed = {m.site_id for m in actor.memberships if m.role == Role.SERVICE_MANAGER}
    async with uow:
        now = uow.clock.now()
        appointments = await uow.session.execute(
            _my_scheduled_appointments(actor).where(
                Appointment.starts_at >= start, Appointment.starts_at < end
            )
        )
        actions = await uow.session.execute(
            select(PanelAction, Case.reference)
            .join(Case, Case.id == PanelAction.case_id)
            .where(
                Case.site_id.in_(actor.site_ids),
                *overdue_panel_action_conditions(actor.user_id, managed, day),
            )
            .order_by(PanelAction.due_on, PanelAction.id)
        )
        return MyDayRead(
            day=day,
            appointments=tuple(
                appointment_read(a, reference, now=now) for a, reference in appointments
            ),
            overdue_actions=tuple(
                OverdueActionRead(
                    id=action.id,
                    case_id=action.case_id,
                    case_reference=reference,
                    owner_agency=action.owner_agency,
                    due_on=action.due_on,
                )
                for action, reference in actions
            ),
        )


async def my_next_appointments(
    *, uow: UnitOfWork, actor: Actor, limit: int = NEXT_APPOINTMENTS_LIMIT
) -> list[AppointmentRead]:
    """The actor's next ``limit`` scheduled appointments from now on."""
    async with uow:
        now = uow.clock.now()
        rows = await uow.session.execute(
            _my_scheduled_appointments(actor).where(Appointment.starts_at >= now).limit(limit)
        )
        return [appointment_read(appointment, reference) for appointment, reference in rows]
