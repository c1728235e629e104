"""The running app's database, from a browser test: arranging through core, and judging what
the page saved from the rows themselves (as core's read model of each row)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select

from core.bootstrap import bootstrap
from core.models import Appointment, Case, Contact
from core.schemas.appointments import AppointmentRead
from core.schemas.contacts import ContactRead
from core.services.appointments import appointment_read
from core.services.contacts import contact_read
from core.settings import Settings
from tests.e2e.web.conftest import RunningApp


async def with_core(database_url: str, work: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``work(container)`` against the running app's database."""
    container = bootstrap(Settings(database_url=database_url))
    try:
        return await work(container)
    finally:
        await container.dispose()


async def appointments_on_case(app: RunningApp, case_id: int) -> list[AppointmentRead]:
    """Every appointment stored on the case, soonest first."""

    async def work(container: Any) -> list[AppointmentRead]:
        async with container.uow() as uow:
            rows = await uow.session.execute(
                select(Appointment, Case.reference)
                .join(Case, Case.id == Appointment.case_id)
                .where(Appointment.case_id == case_id)
                .order_by(Appointment.starts_at, Appointment.id)
            )
            return [appointment_read(row, reference) for row, reference in rows]

    return await with_core(app.database_url, work)


async def contacts_on_case(app: RunningApp, case_id: int) -> list[ContactRead]:
    """Every contact stored on the case, newest first."""

    async def work(container: Any) -> list[ContactRead]:
        async with container.uow() as uow:
            rows = await uow.session.scalars(
                select(Contact)
                .where(Contact.case_id == case_id)
                .order_by(Contact.occurred_at.desc(), Contact.id.desc())
            )
            return [contact_read(row) for row in rows]

    return await with_core(app.database_url, work)
