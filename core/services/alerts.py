"""Disruption alerts: raising one, and the police fellow's acknowledgement and action.

Raising an alert queues a CRITICAL message to every police fellow of the case's site, inside the
same transaction; an alert still open four hours later is escalated to the site's service
managers by ``core.notifications.schedulers.escalate_unacknowledged_alerts``.
"""

from __future__ import annotations

from sqlalchemy import select

from core.areas import Offer, offers
from core.enums import AlertStatus, Lane, NotificationKind, Role
from core.errors import NotPermitted, ValidationFailed
from core.models import Case, DisruptionAlert, Membership, User
from core.notifications.choice import enqueue_by_choice
from core.notifications.outbox import cancel_pending_with_key_prefix
from core.notifications.schedulers import escalation_key_prefix, message_key
from core.policy import Action, authorize, authorize_somewhere, is_allowed, sites_where
from core.schemas.actor import Actor
from core.schemas.alerts import AlertRead, AlertsPageRead
from core.services.access import ensure_open, get_or_404, load_case
from core.services.audit import record_audit
from core.services.caseload_lookup import my_open_case_choices_in
from core.uow import UnitOfWork

# Not yet actioned: still waiting on someone.
UNRESOLVED = (AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED)


def _read(alert: DisruptionAlert, case: Case) -> AlertRead:
    return AlertRead(
        id=alert.id,
        case_id=case.id,
        case_reference=case.reference,
        site_id=case.site_id,
        status=alert.status,
        raised_by_id=alert.raised_by_id,
        raised_at=alert.raised_at,
        acknowledged_by_id=alert.acknowledged_by_id,
        acknowledged_at=alert.acknowledged_at,
        action_taken=alert.action_taken,
        actioned_at=alert.actioned_at,
    )


def _audit(uow: UnitOfWork, actor: Actor, action: str, alert: DisruptionAlert, case: Case) -> None:
    record_audit(
        uow,
        actor,
        action,
        entity_type="disruption_alert",
        entity_id=alert.id,
        site_id=case.site_id,
        case_id=case.id,
        details={"status": alert.status.value},
    )


async def _load_for_response(
    uow: UnitOfWork, actor: Actor, alert_id: int
) -> tuple[DisruptionAlert, Case]:
    alert = await get_or_404(uow, DisruptionAlert, alert_id)
    try:
        case = await load_case(uow, actor, alert.case_id, Action.ALERT_RESPOND)
    except NotPermitted as error:
        raise error.about("alert", alert.id) from None
    return alert, case


async def raise_disruption_alert(*, uow: UnitOfWork, actor: Actor, case_id: int) -> AlertRead:
    """Ask the site's police fellows for disruption on a case.

    One unresolved alert per case: raising again while one is open or acknowledged returns that
    alert and tells nobody twice (a double tap, or two colleagues at once, is one call for help).
    """
    async with uow:
        case = await load_case(uow, actor, case_id, Action.ALERT_RAISE)
        ensure_open(case)
        existing = await uow.session.scalar(
            select(DisruptionAlert)
            .where(DisruptionAlert.case_id == case.id, DisruptionAlert.status.in_(UNRESOLVED))
            .order_by(DisruptionAlert.raised_at)
            .limit(1)
        )
        if existing is not None:
            return _read(existing, case)
        alert = DisruptionAlert(
            case_id=case.id,
            raised_by_id=actor.user_id,
            raised_at=uow.clock.now(),
            status=AlertStatus.OPEN,
        )
        uow.session.add(alert)
        await uow.flush()
        _audit(uow, actor, "alert.raise", alert, case)
        fellows = await uow.session.scalars(
            select(Membership.user_id)
            .join(User, User.id == Membership.user_id)
            .where(
                Membership.site_id == case.site_id,
                Membership.role == Role.POLICE_FELLOW,
                User.is_active,
            )
            .order_by(Membership.user_id)
        )
        for user_id in fellows:
            await enqueue_by_choice(
                uow,
                recipient_user_id=user_id,
                kind=NotificationKind.DISRUPTION_ALERT,
                lane=Lane.CRITICAL,
                message_key=message_key(NotificationKind.DISRUPTION_ALERT),
                params={"reference": case.reference, "alert_id": alert.id},
                dedupe_key=f"alert:{alert.id}:{user_id}",
                case_id=case.id,
            )
        await uow.commit()
        return _read(alert, case)


async def acknowledge_alert(*, uow: UnitOfWork, actor: Actor, alert_id: int) -> AlertRead:
    """The police fellow (or service manager) has seen it: no escalation from now on."""
    async with uow:
        alert, case = await _load_for_response(uow, actor, alert_id)
        if alert.status is not AlertStatus.OPEN:
            raise ValidationFailed(field="status", rule="not_open")
        alert.status = AlertStatus.ACKNOWLEDGED
        alert.acknowledged_by_id = actor.user_id
        alert.acknowledged_at = uow.clock.now()
        await cancel_pending_with_key_prefix(uow, escalation_key_prefix(alert.id))
        _audit(uow, actor, "alert.acknowledge", alert, case)
        await uow.commit()
        return _read(alert, case)


async def record_alert_action(
    *, uow: UnitOfWork, actor: Actor, alert_id: int, action_taken: str
) -> AlertRead:
    """Record what was done. Acting on an alert not yet acknowledged acknowledges it too."""
    text = action_taken.strip()
    if not text:
        raise ValidationFailed(field="action_taken", rule="required")
    async with uow:
        alert, case = await _load_for_response(uow, actor, alert_id)
        if alert.status not in UNRESOLVED:
            raise ValidationFailed(field="status", rule="already_actioned")
        now = uow.clock.now()
        if alert.status is AlertStatus.OPEN:
            alert.acknowledged_by_id = actor.user_id
            alert.acknowledged_at = now
        alert.status = AlertStatus.ACTIONED
        alert.action_taken = text
        alert.actioned_at = now
        await cancel_pending_with_key_prefix(uow, escalation_key_prefix(alert.id))
        _audit(uow, actor, "alert.action", alert, case)
        await uow.commit()
        return _read(alert, case)


async def list_open_alerts(*, uow: UnitOfWork, actor: Actor) -> list[AlertRead]:
    """Alerts not yet actioned that the actor may respond to, or raised on their caseload."""
    async with uow:
        return await _open_alerts(uow, actor)


async def _open_alerts(uow: UnitOfWork, actor: Actor) -> list[AlertRead]:
    """``list_open_alerts``'s read, in the caller's unit of work."""
    site_ids = sites_where(actor, Action.ALERT_RESPOND) | sites_where(actor, Action.ALERT_RAISE)
    rows = await uow.session.execute(
        select(DisruptionAlert, Case)
        .join(Case, Case.id == DisruptionAlert.case_id)
        .where(DisruptionAlert.status.in_(UNRESOLVED), Case.site_id.in_(site_ids))
        .order_by(DisruptionAlert.raised_at, DisruptionAlert.id)
    )
    return [
        _read(alert, case)
        for alert, case in rows
        if is_allowed(actor, Action.ALERT_RESPOND, site_id=case.site_id)
        or is_allowed(
            actor,
            Action.ALERT_RAISE,
            site_id=case.site_id,
            case_manager_id=case.case_manager_id,
        )
    ]


async def alerts_page(*, uow: UnitOfWork, actor: Actor) -> AlertsPageRead:
    """The Alerts page in one read: the unresolved alerts the actor may see (to answer, or on
    their caseload), whether they may answer or raise one, and the cases they may raise one
    for. Refuses no one: what the actor may not do is simply not offered."""
    can_answer = offers(actor, Offer.ANSWER_ALERTS)
    can_raise = offers(actor, Offer.RAISE_ALERT)
    async with uow:
        shown = await _open_alerts(uow, actor)
        choices = await my_open_case_choices_in(uow, actor) if can_raise else []
    return AlertsPageRead(
        alerts=tuple(shown),
        can_answer=can_answer,
        can_raise=can_raise,
        case_choices=tuple(choices),
    )


async def list_alerts_to_answer(*, uow: UnitOfWork, actor: Actor) -> list[AlertRead]:
    """The unresolved alerts for someone who answers them (a police fellow or service manager);
    anyone else is refused, though they may see the list through ``list_open_alerts``."""
    async with uow:  # a refusal leaving a unit of work is put on record (core.uow)
        authorize_somewhere(actor, Action.ALERT_RESPOND)
    return await list_open_alerts(uow=uow, actor=actor)


async def open_alert_to_answer(*, uow: UnitOfWork, actor: Actor, alert_id: int) -> AlertRead | None:
    """The alert a face is about to ask "what was done?" about: None when it is no longer
    unresolved (or not at the actor's sites); refused when the actor may see but not answer it."""
    for alert in await list_open_alerts(uow=uow, actor=actor):
        if alert.id == alert_id:
            async with uow:  # a refusal leaving a unit of work is put on record (core.uow)
                try:
                    authorize(actor, Action.ALERT_RESPOND, site_id=alert.site_id)
                except NotPermitted as error:
                    raise error.about("alert", alert.id) from None
            return alert
    return None
