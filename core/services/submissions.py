"""Saves made with a device's own key are done once (issue 21, part 1).

A form on the web carries a key (a UUID) made by the device when the form was first shown. A
save held on the phone without signal is sent again when the signal returns, perhaps more than
once (a retry after a lost answer, a reload, a second tap); the first save with a key records
``(person, key) -> id of what it wrote`` in the same transaction as the write, and every later
save with that key writes nothing and returns what the first one wrote.

Two saves with the same key at the same moment: the table's primary key lets one commit; the
other's insert fails (``KeyTaken``), its transaction rolls back, and the service answers with
what the first wrote. The same on SQLite and PostgreSQL.

A key is remembered for ``KEY_MEMORY`` (a week): a phone sends what it holds within a day or
drops it (``assets/held.js``), so an older key never comes back. Each keyed save forgets the
person's keys older than that, in its own transaction, so the table stays the size of a week's
keyed saves with no job to run.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar
from uuid import UUID

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from core.models import ClientSubmission
from core.schemas.actor import Actor
from core.uow import UnitOfWork

Result = TypeVar("Result")

KEY_MEMORY = timedelta(days=7)


class KeyTaken(Exception):
    """Another save with the same key committed first (not a ``DomainError``: the service
    catches it and answers with that save's result)."""


async def _first_result(uow: UnitOfWork, actor: Actor, client_key: UUID) -> int | None:
    """The id the person's earlier save with ``client_key`` wrote, or None."""
    return (
        await uow.session.execute(
            select(ClientSubmission.result_id).where(
                ClientSubmission.user_id == actor.user_id,
                ClientSubmission.client_key == str(client_key),
            )
        )
    ).scalar_one_or_none()


async def _record(
    uow: UnitOfWork, actor: Actor, client_key: UUID, *, kind: str, result_id: int
) -> None:
    """Claim ``client_key`` for the write just made (``result_id``); ``KeyTaken`` when a save
    with the same key committed first (the caller's unit of work then rolls back)."""
    connection = await uow.connection()
    try:
        await connection.execute(
            insert(ClientSubmission.__table__).values(
                user_id=actor.user_id,
                client_key=str(client_key),
                kind=kind,
                result_id=result_id,
                created_at=uow.clock.now(),
            )
        )
    except IntegrityError as error:
        raise KeyTaken() from error
    await connection.execute(
        delete(ClientSubmission.__table__).where(
            ClientSubmission.user_id == actor.user_id,
            ClientSubmission.created_at < uow.clock.now() - KEY_MEMORY,
        )
    )


async def once(
    uow: UnitOfWork,
    actor: Actor,
    client_key: UUID | None,
    *,
    kind: str,
    write: Callable[[], Awaitable[Result]],
    result_id: Callable[[Result], int],
    earlier: Callable[[int], Awaitable[Result]],
) -> Result:
    """A save's unit of work, done once per ``client_key``: ``write`` (inside the unit of work,
    which this commits) the first time; ``earlier(id)``, what the first save wrote, every
    later time, writing nothing. Without a key, ``write`` and commit."""
    try:
        async with uow:
            if client_key is not None:
                first = await _first_result(uow, actor, client_key)
                if first is not None:
                    return await earlier(first)
            result = await write()
            if client_key is not None:
                await _record(uow, actor, client_key, kind=kind, result_id=result_id(result))
            await uow.commit()
            return result
    except KeyTaken:  # the same save, sent twice at once: the other one committed first
        assert client_key is not None  # only a save with a key can find its key taken
        async with uow:
            first = await _first_result(uow, actor, client_key)
            assert first is not None  # its key was taken by a committed save
            return await earlier(first)
