"""The PostgreSQL engine's pool: a pooled connection whose server process died meanwhile is
replaced before any work starts (pre-ping on checkout), so a database restart costs no failed
request."""

from __future__ import annotations

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
