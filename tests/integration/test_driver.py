"""Statements sent to asyncpg directly (``core.db.driver``) behave as SQLAlchemy's own: the same
values bound (UTC times, JSON, literals), the same rows back, the unit of work's transaction,
SQLAlchemy's errors.

PostgreSQL on asyncpg only: this module's ``database_url`` is a PostgreSQL database of its own
(the shared fixture's SQLite half has nothing to run here), and one test shows that SQLite is
refused.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import bindparam, func, insert, literal, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from core.bootstrap import Container
from core.clock import FixedClock
from core.db.driver import DriverStatement
from core.db.engine import make_engine, make_session_factory
from core.db.migrate import upgrade
from core.models import BotConversation
from core.uow import UnitOfWork
from tests.conftest import (
    POSTGRES_ADMIN_DSN,
    START,
    create_postgres_database,
    drop_postgres_database,
    require_postgres,
)

_conversations = BotConversation.__table__
# A conversation row in, its columns and a literal back: a JSON parameter, a UTC-time one
# given in another zone, and a value the statement carries itself.
_INSERT = (
    insert(_conversations)
    .values(
        telegram_user_id=bindparam("user"),
        flow=literal("log"),
        step=bindparam("step"),
        data=bindparam("data", type_=_conversations.c.data.type),
        updated_at=bindparam("at", type_=_conversations.c.updated_at.type),
    )
    .returning(
        _conversations.c.telegram_user_id,
        _conversations.c.flow,
        _conversations.c.data,
        _conversations.c.updated_at,
        literal(7).label("seven"),
    )
)
_COUNT = select(func.count()).select_from(_conversations)
MOMENT = datetime(2026, 3, 2, 10, 30, tzinfo=timezone(timedelta(hours=1)))


@pytest.fixture(scope="module")
async def database_url() -> AsyncIterator[str]:
    """A migrated PostgreSQL database for this module (it overrides the shared fixture, whose
    SQLite half would have nothing to run)."""
    await require_postgres()
    url = await create_postgres_database("da_driver")
    engine = make_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    yield url
    await drop_postgres_database(url)


def _params(user: int) -> dict[str, object]:
    return {"user": user, "step": "type", "data": {"case_id": 12, "note": "ffïon"}, "at": MOMENT}


async def _count(container: Container) -> int:
    async with container.engine.connect() as connection:
        return int(await connection.scalar(_COUNT) or 0)


async def test_on_sqlite_a_driver_statement_is_refused_before_anything_is_sent(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.sqlite3'}")
    try:
        async with UnitOfWork(make_session_factory(engine), FixedClock(START)) as uow:
            with pytest.raises(RuntimeError, match="asyncpg only"):
                await DriverStatement(_INSERT).fetch(uow, _params(1))
    finally:
        await engine.dispose()


async def test_a_driver_statement_gives_the_rows_sqlalchemys_execution_gives(
    container: Container,
) -> None:
    async with container.uow() as uow:
        (driven,) = await DriverStatement(_INSERT).fetch(uow, _params(1))
        connection = await uow.connection()
        (executed,) = (await connection.execute(_INSERT, _params(2))).mappings().all()
        await uow.commit()
    for row, user in ((driven, 1), (executed, 2)):
        assert row["telegram_user_id"] == user
        assert row["flow"] == "log"
        assert row["data"] == {"case_id": 12, "note": "ffïon"}
        assert row["seven"] == 7
        assert row["updated_at"] == MOMENT
    assert (len(driven), driven[0], driven[4]) == (5, 1, 7)  # a record reads by position too
    # Stored in UTC by the column type's own processing, on both paths.
    async with container.engine.connect() as connection:
        stored = (await connection.execute(select(_conversations.c.updated_at))).scalars().all()
    assert stored == [MOMENT.astimezone(UTC)] * 2
    assert all(moment.tzinfo == UTC for moment in stored)


async def test_a_driver_statement_is_undone_with_its_unit_of_work(container: Container) -> None:
    async with container.uow() as uow:
        await DriverStatement(_INSERT).fetch(uow, _params(1))
        # No commit: leaving the block rolls back.
    assert await _count(container) == 0


async def test_a_missing_parameter_is_named_and_nothing_is_sent(container: Container) -> None:
    params = _params(1)
    del params["step"]
    async with container.uow() as uow:
        with pytest.raises(KeyError, match="step"):
            await DriverStatement(_INSERT).fetch(uow, params)
        # The transaction is intact: the same unit of work goes on and commits.
        await DriverStatement(_INSERT).fetch(uow, _params(3))
        await uow.commit()
    assert await _count(container) == 1


async def test_a_database_error_is_sqlalchemys_own_and_the_unit_of_work_rolls_back(
    container: Container,
) -> None:
    with pytest.raises(IntegrityError) as raised:
        async with container.uow() as uow:
            await DriverStatement(_INSERT).fetch(uow, _params(1))
            await DriverStatement(_INSERT).fetch(uow, _params(1))  # the same primary key
    assert "bot_conversations" in str(raised.value)
    assert await _count(container) == 0
    # The pooled connection is fine afterwards.
    async with container.uow() as uow:
        await DriverStatement(_INSERT).fetch(uow, _params(1))
        await uow.commit()
    assert await _count(container) == 1


async def test_without_the_engines_begin_at_checkout_it_runs_through_sqlalchemy_in_the_transaction(
    container: Container, clock: FixedClock
) -> None:
    # SQLAlchemy's own engine begins the transaction only before its first statement; the
    # driver's connection is then outside one, and the statement goes through SQLAlchemy.
    engine = create_async_engine(container.settings.database_url)
    try:
        uow = UnitOfWork(make_session_factory(engine), clock)
        async with uow:
            (row,) = await DriverStatement(_INSERT).fetch(uow, _params(1))
            assert row["data"] == {"case_id": 12, "note": "ffïon"}
            assert row["seven"] == 7
            assert (len(row), row[0], list(row)[-1]) == (5, 1, 7)  # by position, as a record
            # No commit: undone, so it ran inside the unit of work's transaction.
        async with uow:
            await DriverStatement(_INSERT).fetch(uow, _params(2))
            await uow.commit()
    finally:
        await engine.dispose()
    async with container.engine.connect() as connection:
        users = (await connection.execute(select(_conversations.c.telegram_user_id))).scalars()
        assert list(users) == [2]


async def test_a_connection_lost_mid_statement_is_dropped_from_the_pool(
    container: Container,
) -> None:
    with pytest.raises(DBAPIError) as raised:
        async with container.uow() as uow:
            connection = await uow.connection()
            pid = await connection.scalar(select(func.pg_backend_pid()))
            admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
            try:
                await admin.execute("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            await DriverStatement(_INSERT).fetch(uow, _params(1))
    assert raised.value.connection_invalidated
    # The next unit of work gets a working connection.
    async with container.uow() as uow:
        await DriverStatement(_INSERT).fetch(uow, _params(1))
        await uow.commit()
    assert await _count(container) == 1
