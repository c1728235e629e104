"""Unit of work: one session, one explicit commit, rollback by default.

A service opens it with ``async with uow:``, does its work, and calls ``await uow.commit()``.
Leaving the block without a commit (an error, an early return) rolls everything back, the
audit events included, so a failed write leaves no trace but the error.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.clock import Clock
from core.errors import DatabaseNotReady, StaleVersion


class UnitOfWork:
    def __init__(self, session_factory: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self._session_factory = session_factory
        self.clock = clock
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
        if isinstance(exc, StaleDataError):
            raise StaleVersion() from exc
        if isinstance(exc, OperationalError | ProgrammingError) and _is_missing_table(exc):
            raise DatabaseNotReady() from exc

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
