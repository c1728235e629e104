"""Engine construction for the embedded default (SQLite) and the scale path (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.util.concurrency import await_


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside one writer; busy_timeout makes a second writer wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ping_by_beginning(dbapi_connection: Any) -> bool:
    """``pool_pre_ping``'s check on asyncpg: the work's own ``BEGIN``, sent at checkout.

    SQLAlchemy's asyncpg adapter pings with ``BEGIN``, ``;`` and ``ROLLBACK`` (the transaction
    is for PgBouncer's transaction pooling, which this service does not use), and then sends
    another ``BEGIN`` before the first statement: four round trips before any work. Beginning
    the transaction the work would begin anyway is as good a check (a connection the server
    dropped fails it, the adapter's error handling reports a disconnect, and the pool opens a
    new connection), and the first statement then goes straight out: one round trip. A
    connection set to autocommit gets a plain ``;``; one given another isolation level after
    checkout rolls this transaction back first, as the adapter always does."""
    try:
        if dbapi_connection.autocommit or dbapi_connection._transaction is not None:
            await_(dbapi_connection._connection.fetchrow(";"))
        else:
            await_(dbapi_connection._start_transaction())
    except Exception as error:
        dbapi_connection._handle_exception(error)
    return True


def _adapter_has_what_the_ping_uses() -> bool:
    """The ping reaches into SQLAlchemy's asyncpg adapter; on a release that has reshaped it,
    keep SQLAlchemy's own ping (three round trips more, nothing broken).
    ``tests/integration/test_engine.py`` shows which one is in use."""
    from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection as adapter

    methods = ("_start_transaction", "_handle_exception")
    return all(callable(getattr(adapter, name, None)) for name in methods) and isinstance(
        getattr(adapter, "autocommit", None), property
    )


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    parsed = make_url(url)
    # hide_parameters: SQL errors and echo logs show the statement, never the values bound to
    # it (names, addresses and notes would otherwise reach the logs in an error message).
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    engine = create_async_engine(url, **kwargs)
    if parsed.get_driver_name() == "asyncpg" and _adapter_has_what_the_ping_uses():
        engine.sync_engine.dialect.do_ping = _ping_by_beginning  # type: ignore[method-assign]
    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
