"""Queueing and cancelling outbox messages, inside the caller's unit of work.

A message is identified by its ``dedupe_key`` (e.g. ``reminder:appointment:123:1440``): queueing
the same key twice, from two scheduler runs or two processes, leaves one row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.db.results import rowcount
from core.enums import LANE_ORDER, Channel, Lane, NotificationKind, OutboxState
from core.models import OutboxMessage
from core.uow import UnitOfWork

# Pending: not yet handed to a channel, so it can still be moved or cancelled.
PENDING_STATES = (OutboxState.QUEUED,)


async def enqueue(
    uow: UnitOfWork,
    *,
    recipient_user_id: int,
    channel: Channel,
    kind: NotificationKind,
    lane: Lane,
    message_key: str,
    params: Mapping[str, Any],
    dedupe_key: str,
    not_before: datetime | None = None,
    case_id: int | None = None,
    appointment_id: int | None = None,
) -> bool:
    """Queue one message unless its dedupe key is taken. True when a row was added.

    ``params`` must hold only what may leave the system: case references, times, place kinds,
    counts. Never a name, an address, a victim or a note.
    """
    now = uow.clock.now()
    values = {
        "recipient_user_id": recipient_user_id,
        "channel": channel,
        "kind": kind,
        "lane": lane,
        "lane_rank": LANE_ORDER[lane],
        "message_key": message_key,
        "params": dict(params),
        "dedupe_key": dedupe_key,
        "not_before": not_before or now,
        "state": OutboxState.QUEUED,
        "attempts": 0,
        "case_id": case_id,
        "appointment_id": appointment_id,
        "created_at": now,
    }
    dialect = uow.session.get_bind().dialect.name
    statement: Any
    if dialect == "postgresql":
        statement = (
            pg_insert(OutboxMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    elif dialect == "sqlite":
        statement = (
            sqlite_insert(OutboxMessage)
            .values(values)
            .on_conflict_do_nothing(index_elements=["dedupe_key"])
        )
    else:  # pragma: no cover - only the two supported databases
        statement = insert(OutboxMessage).values(values)
    result = await uow.session.execute(statement)
    return bool(rowcount(result))


async def cancel_pending(
    uow: UnitOfWork, *, case_id: int | None = None, appointment_id: int | None = None
) -> int:
    """Cancel the queued messages about a case or an appointment. Returns how many."""
    if case_id is None and appointment_id is None:
        raise ValueError("say which case or appointment")
    statement = update(OutboxMessage).where(OutboxMessage.state.in_(PENDING_STATES))
    if case_id is not None:
        statement = statement.where(OutboxMessage.case_id == case_id)
    if appointment_id is not None:
        statement = statement.where(OutboxMessage.appointment_id == appointment_id)
    result = await uow.session.execute(
        statement.values(state=OutboxState.CANCELLED).execution_options(synchronize_session=False)
    )
    return rowcount(result)


async def cancel_pending_with_key_prefix(uow: UnitOfWork, prefix: str) -> int:
    """Cancel queued messages whose dedupe key starts with ``prefix`` (e.g. one alert's
    escalations, ``escalation:alert:42:``). Returns how many."""
    if not prefix.endswith(":"):
        raise ValueError("a prefix ends with ':' so alert 4 does not match alert 42")
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    result = await uow.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.state.in_(PENDING_STATES),
            OutboxMessage.dedupe_key.like(escaped + "%", escape="\\"),
        )
        .values(state=OutboxState.CANCELLED)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)
