"""The PostgreSQL engine's pool: a pooled connection whose server process died meanwhile is
replaced before any work starts (pre-ping on checkout), so a database restart costs no failed
request."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text

from core.db.engine import make_engine
from tests.conftest import POSTGRES_ADMIN_DSN, require_postgres


async def _kill_backend(pid: int) -> None:
    admin = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await admin.execute("SELECT pg_terminate_backend($1)", pid)
    finally:
        await admin.close()


async def test_a_pooled_connection_whose_server_process_died_is_replaced_before_it_is_used() -> (
    None
):
    await require_postgres()
    engine = make_engine(POSTGRES_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://"))
    try:
        async with engine.connect() as connection:
            first = int(await connection.scalar(text("SELECT pg_backend_pid()")))
        await _kill_backend(first)
        async with engine.connect() as connection:
            second = int(await connection.scalar(text("SELECT pg_backend_pid()")))
        assert second != first
    finally:
        await engine.dispose()


async def test_the_check_on_checkout_begins_the_works_own_transaction() -> None:
    # pool_pre_ping on asyncpg is BEGIN, ";" and ROLLBACK, and then the work sends its own
    # BEGIN: four round trips before the first statement. The check on checkout sends ";"
    # through the DBAPI cursor, which begins the transaction the work then goes on in.
    await require_postgres()
    engine = make_engine(POSTGRES_ADMIN_DSN.replace("postgresql://", "postgresql+asyncpg://"))
    sent: list[str] = []
    try:
        async with engine.connect() as connection:
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            raw.add_query_logger(lambda record: sent.append(record.query))
        await asyncio.sleep(0.05)  # asyncpg hands log records over on the event loop
        sent.clear()
        async with engine.connect() as connection:
            pid = await connection.scalar(text("SELECT pg_backend_pid()"))
            await connection.commit()
            # A second transaction on the same checkout begins as usual.
            assert await connection.scalar(text("SELECT pg_backend_pid()")) == pid
        await asyncio.sleep(0.05)
        # The statements themselves (";" included) go prepared and are not in this log.
        assert sent == ["BEGIN;", "COMMIT;", "BEGIN;", "ROLLBACK;"]
        # Work that then asks for autocommit (VACUUM, say) has the check's transaction rolled
        # back first, and runs outside any.
        sent.clear()
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("SELECT 1"))
        await asyncio.sleep(0.05)
        assert sent == ["BEGIN;", "ROLLBACK;"]
    finally:
        await engine.dispose()
