"""Unit of work: one session, one explicit commit, rollback by default.

A service opens it with ``async with uow:``, does its work, and calls ``await uow.commit()``.
Leaving the block without a commit (an error, an early return) rolls everything back, the
audit events included, so a failed write leaves no trace but the error.

Except one: a ``NotPermitted`` that leaves the block is put on record after the rollback, as an
``access.refused`` event in a transaction of its own (``core.services.refusals``). Every service
checks inside its unit of work, so every refusal, from any face, is recorded here once.
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Self
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.clock import DEFAULT_ZONE, Clock
from core.enums import Channel
from core.errors import DatabaseNotReady, NotPermitted, StaleVersion

log = logging.getLogger(__name__)


class UnitOfWork:
    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        clock: Clock,
        zone: ZoneInfo = DEFAULT_ZONE,
        notify_channels: frozenset[Channel] = frozenset(),
    ) -> None:
        self._session_factory = session_factory
        self.clock = clock
        self.zone = zone  # the service's zone (Settings.timezone): whose day "today" is
        # The GOV.UK Notify channels set up in this process (email, sms), for choosing channels
        # when a message is queued (core.notifications.choice).
        self.notify_channels = notify_channels
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside 'async with'")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("UnitOfWork is already open; nest services through one block")
        self._session = self._session_factory()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        assert session is not None
        try:
            await session.rollback()
        finally:
            await session.close()
        if isinstance(exc, NotPermitted):
            await self._record_refusal(exc)
        if isinstance(exc, StaleDataError):
            raise StaleVersion() from exc
        if isinstance(exc, OperationalError | ProgrammingError) and _is_missing_table(exc):
            raise DatabaseNotReady() from exc

    async def _record_refusal(self, error: NotPermitted) -> None:
        """Put ``error`` on record once, in a unit of work of its own (the refused one rolled
        back). A refusal with no actor (a sign-in that failed, say) is not a refused operation.
        Failing to record must not hide the refusal itself: it is logged and the error goes on."""
        if error.recorded or error.actor is None:
            return
        from core.services.refusals import record_refused  # the service imports this module

        error.recorded = True
        try:
            await record_refused(
                uow=UnitOfWork(self._session_factory, self.clock, self.zone), error=error
            )
        except Exception:
            log.exception("Could not record a refusal (%s)", error.details.get("action"))

    async def connection(self) -> AsyncConnection:
        """The session's connection, in its transaction, for Core statements on a hot path.

        A Core statement on the connection skips the ORM's execution machinery (about a third
        of a millisecond a statement); it still commits or rolls back with the unit of work.
        """
        return await self.session.connection()

    async def flush(self) -> None:
        try:
            await self.session.flush()
        except StaleDataError as exc:
            raise StaleVersion() from exc

    async def commit(self) -> None:
        try:
            await self.session.commit()
        except StaleDataError as exc:
            raise StaleVersion() from exc


def _is_missing_table(exc: Exception) -> bool:
    text = str(exc).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)
