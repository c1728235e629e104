"""Failed notifications, for a site's admin: list them, and send one again.

An admin sees the failed messages to staff who hold any role at a site where they are admin,
with the recipient, the kind, the attempts and the last error: never the message's params,
which carry case references and times the admin has no need of.

Retrying puts the message back in the queue as if new (``queued``, no attempts, due now); the
dispatcher then sends it by Telegram, or to the inbox if the recipient's link is gone. A message
to an account since switched off, or about a case since closed, is not sent again.
"""

from __future__ import annotations

from sqlalchemy import Exists, exists, select, update

from core.db.results import rowcount
from core.enums import OutboxState, Stage
from core.errors import CaseClosed, NotPermitted, ValidationFailed
from core.models import Case, Membership, OutboxMessage, User
from core.policy import Action, authorize, is_allowed, sites_where
from core.schemas.actor import Actor
from core.schemas.notifications_admin import FailedNotificationRead
from core.services.access import get_or_404
from core.services.audit import record_audit
from core.uow import UnitOfWork

MAX_LIMIT = 500


def _recipient_at(site_ids: set[int]) -> Exists:
    return exists().where(
        Membership.user_id == OutboxMessage.recipient_user_id, Membership.site_id.in_(site_ids)
    )


def _read(message: OutboxMessage, display_name: str, is_active: bool) -> FailedNotificationRead:
    return FailedNotificationRead(
        id=message.id,
        kind=message.kind,
        channel=message.channel,
        lane=message.lane,
        state=message.state,
        recipient_user_id=message.recipient_user_id,
        recipient_display_name=display_name,
        recipient_is_active=is_active,
        attempts=message.attempts,
        last_error=message.last_error,
        created_at=message.created_at,
        not_before=message.not_before,
    )


async def list_failed_notifications(
    *, uow: UnitOfWork, actor: Actor, site_id: int | None = None, limit: int = 100
) -> list[FailedNotificationRead]:
    """Failed messages to staff at the actor's admin sites (or at ``site_id``), newest first."""
    async with uow:
        if site_id is None:
            visible = sites_where(actor, Action.NOTIFICATION_ADMIN)
            if not visible:
                raise NotPermitted(action=str(Action.NOTIFICATION_ADMIN), actor=actor)
        else:
            authorize(actor, Action.NOTIFICATION_ADMIN, site_id=site_id)
            visible = {site_id}
        rows = await uow.session.execute(
            select(OutboxMessage, User.display_name, User.is_active)
            .join(User, User.id == OutboxMessage.recipient_user_id)
            .where(OutboxMessage.state == OutboxState.FAILED, _recipient_at(visible))
            .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
            .limit(max(1, min(limit, MAX_LIMIT)))
        )
        return [_read(message, name, active) for message, name, active in rows]


async def retry_failed_notification(
    *, uow: UnitOfWork, actor: Actor, message_id: int
) -> FailedNotificationRead:
    """Queue a failed message again, due now, with its attempts reset. Audited."""
    async with uow:
        message = await get_or_404(uow, OutboxMessage, message_id)
        recipient = await get_or_404(uow, User, message.recipient_user_id)
        recipient_sites = sorted(
            await uow.session.scalars(
                select(Membership.site_id).where(Membership.user_id == recipient.id).distinct()
            )
        )
        site_id = next(
            (s for s in recipient_sites if is_allowed(actor, Action.NOTIFICATION_ADMIN, site_id=s)),
            None,
        )
        if site_id is None:
            raise NotPermitted(action=str(Action.NOTIFICATION_ADMIN), actor=actor)
        if message.state is not OutboxState.FAILED:
            raise ValidationFailed(field="state", rule="not_failed")
        if not recipient.is_active:
            raise ValidationFailed(field="recipient_user_id", rule="inactive")
        if message.case_id is not None:
            case = await get_or_404(uow, Case, message.case_id)
            if case.stage is Stage.CLOSED:
                raise CaseClosed(reference=case.reference)
        attempts_before = message.attempts
        now = uow.clock.now()
        # Guarded by the state, so two admins retrying at once queue it once.
        result = await uow.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message.id, OutboxMessage.state == OutboxState.FAILED)
            .values(
                state=OutboxState.QUEUED,
                attempts=0,
                not_before=now,
                last_error=None,
                lease_until=None,
                claimed_by=None,
            )
            .execution_options(synchronize_session=False)
        )
        if not rowcount(result):
            raise ValidationFailed(field="state", rule="not_failed")
        record_audit(
            uow,
            actor,
            "notification.retry",
            entity_type="outbox_message",
            entity_id=message.id,
            site_id=site_id,
            case_id=message.case_id,
            details={"kind": message.kind.value, "attempts_before": attempts_before},
        )
        await uow.commit()
        await uow.session.refresh(message)
        return _read(message, recipient.display_name, recipient.is_active)
