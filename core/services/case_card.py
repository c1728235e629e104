"""The case card: what the bot's ``/case REF`` shows, found by reference (``case.view``).

One read, built only from codes, dates and counts: the reference, stage, latest risk level,
next appointment (time and kind of place) and the open panel actions (due date and owning
agency, never their text), plus whether the reader may log a contact or book on the case.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.enums import AppointmentStatus, PanelActionStatus, Stage
from core.errors import NotFound
from core.models import Appointment, Case, PanelAction, RiskAssessment
from core.policy import Action, is_allowed, sites_where
from core.schemas.actor import Actor
from core.schemas.case_card import CardAction, CardAppointment, CaseCard
from core.schemas.case_choice import CaseChoice
from core.schemas.common import has_nul
from core.services.access import ensure_open, load_case
from core.uow import UnitOfWork


async def case_card(*, uow: UnitOfWork, actor: Actor, reference: str) -> CaseCard:
    """The card of the case with this reference (any letter case) at a site where the actor
    may see cases; ``NotFound`` otherwise (a case elsewhere is not told apart from none)."""
    wanted = reference.strip().upper()
    if not wanted or has_nul(wanted):
        raise NotFound(entity="case")
    async with uow:
        case = await uow.session.scalar(
            select(Case).where(
                func.upper(Case.reference) == wanted,
                Case.site_id.in_(sites_where(actor, Action.CASE_VIEW)),
            )
        )
        if case is None or not is_allowed(actor, Action.CASE_VIEW, site_id=case.site_id):
            raise NotFound(entity="case")
        now = uow.clock.now()
        risk = await uow.session.scalar(
            select(RiskAssessment.level)
            .where(RiskAssessment.case_id == case.id)
            .order_by(RiskAssessment.assessed_at.desc(), RiskAssessment.id.desc())
            .limit(1)
        )
        appointment = await uow.session.scalar(
            select(Appointment)
            .where(
                Appointment.case_id == case.id,
                Appointment.status == AppointmentStatus.SCHEDULED,
                Appointment.starts_at > now,
            )
            .order_by(Appointment.starts_at, Appointment.id)
            .limit(1)
        )
        actions = await uow.session.scalars(
            select(PanelAction)
            .where(PanelAction.case_id == case.id, PanelAction.status == PanelActionStatus.OPEN)
            .order_by(PanelAction.due_on, PanelAction.id)
        )
        today = now.date()
        is_open = case.stage is not Stage.CLOSED
        return CaseCard(
            case_id=case.id,
            reference=case.reference,
            stage=case.stage,
            risk_level=risk,
            next_appointment=CardAppointment(
                appointment_id=appointment.id,
                starts_at=appointment.starts_at,
                place_kind=appointment.place_kind,
            )
            if appointment is not None
            else None,
            open_actions=tuple(
                CardAction(
                    action_id=action.id,
                    due_on=action.due_on,
                    owner_agency=action.owner_agency,
                    overdue=action.due_on < today,
                )
                for action in actions
            ),
            may_log_contact=is_open
            and case.case_manager_id == actor.user_id
            and is_allowed(
                actor,
                Action.CONTACT_LOG,
                site_id=case.site_id,
                case_manager_id=case.case_manager_id,
            ),
            may_book=is_open
            and is_allowed(
                actor,
                Action.APPOINTMENT_MANAGE,
                site_id=case.site_id,
                case_manager_id=case.case_manager_id,
            ),
        )


async def case_to_book(*, uow: UnitOfWork, actor: Actor, case_id: int) -> CaseChoice:
    """The case, if it is open and the actor may book appointments on it (the bot's Book
    button under a case card): ``NotPermitted``, ``NotFound`` or ``CaseClosed`` otherwise."""
    async with uow:
        case = await load_case(uow, actor, case_id, Action.APPOINTMENT_MANAGE)
        ensure_open(case)
        return CaseChoice(case_id=case.id, reference=case.reference)
