"""Refusals on record, for the few the bot meets outside core.

Core turns a forged or stale button (an id outside the user's caseload or sites) into
``NotPermitted``, rolls its unit of work back and puts the attempt on record itself (who, which
action, which record; never what was typed: ``core.uow``). What is left here is the rest:

- a handler that knows the record calls :func:`refusal_on_record` around the core call;
- anything else that ends in ``NotPermitted`` is recorded by the error handler through
  :func:`record_unrecorded_refusal`, naming the button that was pressed (its prefix and the
  first number in its data).

Both do nothing for a refusal core has recorded already (``NotPermitted.recorded``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

from telegram import Update

from core.bootstrap import Container
from core.errors import NotPermitted
from core.policy import Action
from core.schemas.actor import Actor
from core.services import refusals

T = TypeVar("T")
_NUMBER = re.compile(r"^\d+$")


async def refusal_on_record(
    container: Container,
    actor: Actor,
    *,
    action: Action,
    entity_type: str,
    entity_id: int | None,
    call: Callable[[], Awaitable[T]],
) -> T:
    """Run a core call; if core refuses it, record the refusal, then let the error propagate."""
    try:
        return await call()
    except NotPermitted as error:
        await put_refusal_on_record(
            container, actor, error, action=action, entity_type=entity_type, entity_id=entity_id
        )
        raise


async def put_refusal_on_record(
    container: Container,
    actor: Actor,
    error: NotPermitted,
    *,
    action: Action,
    entity_type: str,
    entity_id: int | None,
) -> None:
    """Record the refusal ``error`` (once: the error handler will not record it again)."""
    if error.recorded:
        return
    await refusals.record_refusal(
        uow=container.uow(),
        actor=actor,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
    )
    error.recorded = True


def _button(update: Update) -> tuple[str, int | None]:
    """``("alert:ack", 12)`` for the data ``alert:ack:12``; ``("command", None)`` otherwise."""
    query = update.callback_query
    if query is None or not query.data:
        return "command", None
    parts = query.data.split(":")
    number = next((int(part) for part in parts if _NUMBER.match(part)), None)
    prefix = ":".join(part for part in parts[:2] if not _NUMBER.match(part))
    return f"button:{prefix}"[:40], number


async def record_unrecorded_refusal(
    container: Container, actor: Actor | None, update: Update, error: NotPermitted
) -> None:
    if actor is None or error.recorded:
        return
    entity_type, entity_id = _button(update)
    await refusals.record_refusal(
        uow=container.uow(),
        actor=actor,
        action=str(error.details.get("action", "unknown")),
        entity_type=entity_type,
        entity_id=entity_id,
    )
    error.recorded = True
