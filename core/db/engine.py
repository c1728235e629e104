"""Engine construction for the embedded default (SQLite) and the scale path (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

# A pooled connection older than this is replaced at checkout: a connection a network device
# dropped without a word (no close reaches the client) is not kept for ever.
POOL_RECYCLE_SECONDS = 1800


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers run beside one writer; busy_timeout makes a second writer wait, not fail.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _ping_beginning_the_work(
    dbapi_connection: Any, _record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """At checkout, ask the server whether the connection lives: one ``;`` through the DBAPI
    cursor. A connection the server dropped (a restart, a terminated backend) fails it, and
    ``DisconnectionError`` has the pool throw it away and take another (SQLAlchemy's documented
    pessimistic ping by a ``checkout`` event).

    The DBAPI begins a transaction before a connection's first statement, so the work goes on
    in the transaction this ``;`` began: the ping costs one round trip, where ``pool_pre_ping``
    on asyncpg costs three (``BEGIN``, ``;``, ``ROLLBACK``, and then the work's own ``BEGIN``).
    A connection given another isolation level, autocommit included, rolls it back first.
    """
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(";")
    except Exception as error:
        raise DisconnectionError("the pooled connection did not answer") from error
    finally:
        cursor.close()


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
    kwargs.update(pool_size=10, max_overflow=10, pool_recycle=POOL_RECYCLE_SECONDS)
    engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine.pool, "checkout", _ping_beginning_the_work)
    return engine


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
