"""Composition root: settings, engine, clock and units of work, built once per entry point."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.clock import Clock, SystemClock
from core.db.engine import make_engine, make_session_factory
from core.settings import Settings
from core.uow import UnitOfWork


@dataclass
class Container:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    clock: Clock = field(default_factory=SystemClock)

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.session_factory, self.clock)

    async def dispose(self) -> None:
        await self.engine.dispose()


def bootstrap(settings: Settings | None = None, *, clock: Clock | None = None) -> Container:
    settings = settings or Settings()
    engine = make_engine(settings.normalised_database_url(), echo=settings.sql_echo)
    return Container(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
    )
