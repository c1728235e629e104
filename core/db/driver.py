"""Statements sent to asyncpg directly, inside the unit of work's own transaction.

SQLAlchemy's execution around a statement (its compiled cache's key, the parameter and result
processing, the greenlet hop, the adapter's cursor) costs about 0.1 ms on this service's
machines: as much as the round trip itself. For the few statements on a path a person waits for
on their phone (the bot's Save), :class:`DriverStatement` compiles a Core statement once, and
runs it on the connection's asyncpg driver with the bind processors SQLAlchemy would apply
(its column types: UTC times, JSON, enums). The statement stays in the unit of work's
transaction, so it commits or rolls back with everything else.

PostgreSQL on asyncpg only; a caller keeps its SQLAlchemy path for any other database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.expression import Executable

from core.uow import UnitOfWork

_Processor = Callable[[Any], Any] | None


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # the statement's $1, $2 ... in turn
    processors: tuple[_Processor, ...]
    defaults: Mapping[str, Any]  # values the statement carries itself (literals)


class DriverStatement:
    """A Core statement compiled once for asyncpg; :meth:`fetch` runs it in ``uow``."""

    def __init__(self, statement: Executable) -> None:
        self._statement = statement
        self._compiled: _Compiled | None = None

    @property
    def statement(self) -> Executable:
        """The Core statement, for SQLAlchemy's own execution (``EXPLAIN`` in a test, say)."""
        return self._statement

    def _compile(self, dialect: Dialect) -> _Compiled:
        if dialect.name != "postgresql" or dialect.driver != "asyncpg":
            raise RuntimeError(f"DriverStatement runs on asyncpg only, not {dialect.name}")
        compiled: Any = self._statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        # SQLAlchemy's own execution reads the same mapping (engine/default.py).
        processors = compiled._bind_processors
        defaults = {
            name: bind.effective_value
            for name, bind in compiled.binds.items()
            if not bind.required and name in names
        }
        self._compiled = _Compiled(
            compiled.string, names, tuple(processors.get(name) for name in names), defaults
        )
        return self._compiled

    async def fetch(self, uow: UnitOfWork, params: Mapping[str, Any]) -> Sequence[Any]:
        """The statement's rows for ``params`` in ``uow``'s transaction (:meth:`fetch_on`)."""
        return await self.fetch_on(await uow.connection(), params)

    async def fetch_on(
        self, connection: AsyncConnection, params: Mapping[str, Any]
    ) -> Sequence[Any]:
        """The statement's rows for ``params``, on ``connection`` in its transaction; each row
        is read by column name (``row["name"]``) or by position, in the statement's order.

        A parameter the statement needs and neither ``params`` nor the statement has is a
        ``KeyError`` naming it, before anything is sent. A database error is raised as
        SQLAlchemy's (``IntegrityError``, ``OperationalError`` ...), its values hidden.
        """
        compiled = self._compiled or self._compile(connection.dialect)
        defaults = compiled.defaults
        args = []
        for name, process in zip(compiled.names, compiled.processors, strict=True):
            value = params[name] if name in params else defaults[name]
            args.append(value if process is None else process(value))
        raw: Any = await connection.get_raw_connection()
        driver = raw.driver_connection
        if not driver.is_in_transaction():
            # The engine's check at checkout begins the transaction (core/db/engine.py); where
            # it could not, SQLAlchemy's own execution begins it, as for any other statement.
            result = await connection.execute(self._statement, dict(params))
            return [_Row(row) for row in result]
        try:
            return await driver.fetch(compiled.sql, *args)  # type: ignore[no-any-return]
        except Exception as error:
            translated = await _translated(connection, raw, compiled.sql, error)
            if translated is error:
                raise
            raise translated from error


class _Row:
    """A SQLAlchemy row read as an asyncpg record is: by column name or by position."""

    __slots__ = ("_row",)

    def __init__(self, row: Any) -> None:
        self._row = row

    def __getitem__(self, key: Any) -> Any:
        return self._row._mapping[key] if isinstance(key, str) else self._row[key]

    def __iter__(self) -> Any:
        return iter(self._row)

    def __len__(self) -> int:
        return len(self._row)


async def _translated(connection: Any, raw: Any, sql: str, error: Exception) -> Exception:
    """``error`` as SQLAlchemy raises it; a lost connection is dropped from the pool."""
    dialect = connection.dialect
    try:
        raw._handle_exception(error)  # the adapter's translation (it always raises)
    except Exception as adapted:
        error = adapted
    if not isinstance(error, dialect.loaded_dbapi.Error):
        return error
    invalidated = dialect.is_disconnect(error, raw, None)
    if invalidated:
        await connection.invalidate(error)
    return DBAPIError.instance(
        sql, None, error, dialect.loaded_dbapi.Error, hide_parameters=True,
        connection_invalidated=invalidated, dialect=dialect,
    )  # fmt: skip
