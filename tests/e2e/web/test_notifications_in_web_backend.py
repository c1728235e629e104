"""The single-machine default: the web app's backend also sends the notifications."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from core.bootstrap import bootstrap
from core.enums import Channel, Lane, NotificationKind, OutboxState
from core.models import Case, InboxItem, OutboxMessage
from core.notifications.outbox import enqueue
from core.settings import Settings
from tests.e2e.web.conftest import RunningApp

DEDUPE_KEY = "test:web-backend:1"


async def _in_uow(database_url: str, work):  # type: ignore[no-untyped-def]
    container = bootstrap(Settings(database_url=database_url))
    try:
        async with container.uow() as uow:
            result = await work(uow)
            await uow.commit()
            return result
    finally:
        await container.dispose()


async def _queue_one_due_alert(uow) -> int:  # type: ignore[no-untyped-def]
    case = (await uow.session.scalars(select(Case).limit(1))).one()
    await enqueue(
        uow,
        recipient_user_id=case.case_manager_id,
        channel=Channel.TELEGRAM,
        kind=NotificationKind.DISRUPTION_ALERT,
        lane=Lane.CRITICAL,
        message_key="notification.disruption_alert",
        params={"reference": case.reference, "alert_id": 1},
        dedupe_key=DEDUPE_KEY,
        not_before=datetime.now(UTC) - timedelta(seconds=1),
        case_id=case.id,
    )
    return int(case.case_manager_id)


async def _delivery(uow, recipient: int):  # type: ignore[no-untyped-def]
    message = (
        await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.dedupe_key == DEDUPE_KEY)
        )
    ).one()
    inbox = await uow.session.scalar(
        select(func.count())
        .select_from(InboxItem)
        .where(InboxItem.outbox_message_id == message.id, InboxItem.user_id == recipient)
    )
    return message.state, inbox


async def test_the_web_backend_sends_a_due_notification_to_the_inbox(
    running_app: RunningApp,
) -> None:
    recipient = await _in_uow(running_app.database_url, _queue_one_due_alert)
    deadline = time.monotonic() + 60
    state = await _in_uow(running_app.database_url, lambda uow: _delivery(uow, recipient))
    while time.monotonic() < deadline and state != (OutboxState.SENT, 1):
        await asyncio.sleep(0.5)
        state = await _in_uow(running_app.database_url, lambda uow: _delivery(uow, recipient))
    assert state == (OutboxState.SENT, 1), running_app.output()[-3000:]
    assert "every message goes to the in-app inbox" in running_app.output()
