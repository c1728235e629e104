"""Telegram's limits kept once for every process that sends with one bot token.

Telegram counts 30 messages a second and one a second to a chat per bot token, not per
process: two ``drive-assist worker`` processes each pacing itself alone sent 62 in one second.
:class:`RedisPacer` and :class:`PostgresPacer` keep the :class:`~core.notifications.pacer.Pacer`
rules in one place every process shares (a Redis server, or the PostgreSQL database), each call
one atomic step on that store's clock (Redis ``TIME``, PostgreSQL ``clock_timestamp()``), so
processes on several machines agree however their own clocks drift:

- **Overall**: a send slot is first *reserved*, evenly spaced (``window / limit`` apart) on a
  pointer every process moves, then *taken* once the store has checked that fewer than
  ``limit`` sends started in the last ``window`` (one second stretched by the margin) and noted
  this start. The reservation spreads sends out; the check is what makes the cap strict.
- **Per chat**: ``take_chat`` marks a chat busy (one send in flight at most, across processes);
  ``sent`` frees it one interval after the send came back; ``hold_chat`` keeps it quiet for
  Telegram's ``retry_after``. A busy mark left by a process that died expires after
  ``in_flight_seconds``.

**Critical alerts still go first.** Each dispatcher asks for a slot before it chooses the
message for it and then sends the most urgent one it holds, so the question is only whether a
process holding a critical alert gets a slot soon. Reservations are handed out first come,
first served on the shared pointer, and a dispatcher waits for one slot at a time; so with
``n`` processes asking, each gets at least one slot in every ``n`` or so, and its critical
alert waits about ``n / rate`` seconds (a fifth of a second for four workers and the bot),
however many normal messages the others hold. No process can take a run of slots from another.

If the store cannot be reached, no send goes unpaced: ``next_slot`` keeps trying (logged),
a chat is reported busy for a second, and a lost ``sent`` leaves the chat busy until its mark
expires.

:func:`telegram_pacer` chooses the limiter from the settings (``DISPATCH_LIMITER``).
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import CTE, ColumnElement, Float, Select, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import ReturningUpdate

from core.models import SendPacerChat, SendPacerStart, SendPacerState
from core.notifications.pacer import DEFAULT_MARGIN, UNPACED, Pacer, SendPacer
from core.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger(__name__)

# A busy mark outlives the longest send (PTB's timeouts are seconds) and then lapses, so a chat
# whose sending process died is free again within this long.
IN_FLIGHT_SECONDS = 60.0
# When the store cannot be reached: wait this long before asking again.
_STORE_RETRY_SECONDS = 1.0
# PostgreSQL: forget chats free for this long, every this many chat takes of a process.
_CHAT_ROWS_KEPT_SECONDS = 60.0
_CHAT_CLEANUP_EVERY = 2000


@dataclass(frozen=True)
class Limits:
    """``Pacer``'s arithmetic: ``limit`` starts in any ``window``, slots ``slot_interval`` apart,
    a chat free ``chat_interval`` after its send came back (both stretched by ``margin``)."""

    limit: int
    window: float
    slot_interval: float
    chat_interval: float

    @classmethod
    def of(cls, *, rate: float, per_chat_interval: float, margin: float = DEFAULT_MARGIN) -> Limits:
        if rate <= 0:
            raise ValueError("a pacer needs a positive rate; use UNPACED for none")
        limit = max(1, math.floor(rate))
        window = max(1.0, limit / rate) * (1.0 + margin)
        return cls(limit, window, window / limit, per_chat_interval * (1.0 + margin))


Step = tuple[float, float | None]


class _SlotTaker:
    """``next_slot`` on a store: reserve an evenly spaced slot, sleep until it, then take it
    once the window has room.

    Both steps answer ``(wait, ahead)``: ``wait`` is 0.0 when the slot is taken, or the seconds
    to sleep first (positive: reserved, not yet due; negative: the window is full); ``ahead``,
    when not None, is how far ahead a further slot is reserved for this process.

    With ``prefetch`` (a dispatcher's send loop, which asks for one slot at a time), taking a
    slot reserves this process's next one in the same round trip, so a reservation is never
    made late (a late one finds the slots before it gone) and each send costs one round trip.
    The bot's replies come one now and then, and a slot held for a reply that never comes is
    lost: they reserve as they go.
    """

    limits: Limits
    prefetch: bool
    _sleep: Callable[[float], Awaitable[Any]]
    _held_until: float | None = None  # time.monotonic() of the slot reserved ahead

    async def _reserve(self, count: int) -> Step:
        """Reserve ``count`` (1 or 2) consecutive slots; take the first if it is due."""
        raise NotImplementedError

    async def _take(self, reserve_next: bool) -> Step:
        """Take a slot reserved before (the window permitting), reserving the next if asked."""
        raise NotImplementedError

    async def next_slot(self) -> None:
        held, self._held_until = self._held_until, None
        reserve_next = held is not None
        if held is None:
            wait, ahead = await self._reliably(lambda: self._reserve(2 if self.prefetch else 1))
        else:
            if (delay := held - time.monotonic()) > 0:
                await self._sleep(delay)
            wait, ahead = await self._reliably(lambda: self._take(True))
        if ahead is not None:
            self._held_until = time.monotonic() + ahead
        while wait != 0.0:
            await self._sleep(abs(wait))
            wait, ahead = await self._reliably(lambda: self._take(reserve_next))
            if ahead is not None:
                self._held_until = time.monotonic() + ahead

    async def _reliably(self, step: Callable[[], Awaitable[Step]]) -> Step:
        while True:
            try:
                return await step()
            except Exception:  # the store went away: never send unpaced; try again
                log.exception("send limiter unreachable; asking again in a second")
                await self._sleep(_STORE_RETRY_SECONDS)


# --------------------------------------------------------------------------- Redis

# Times are whole microseconds on the server's clock. A wait is rounded up, so it is never 0.
_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: next slot, starts. ARGV: slot interval, window (us), limit, slots to reserve first
# (0, 1 or 2), reserve the next after taking (1/0). Returns {wait, ahead}: ahead -1 for none.
_SLOT_SCRIPT = (
    _NOW
    + """
local interval, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local function reserve(count)
  local slot = math.max(tonumber(redis.call('GET', KEYS[1]) or '0'), now)
  local after = slot + count * interval
  redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX',
             math.ceil((after - now) / 1000) + 60000)
  return slot - now
end
local count, ahead = tonumber(ARGV[4]), -1
if count > 0 then
  local first = reserve(count)
  if count == 2 then ahead = math.floor(first + interval) end
  if first > 0 then return {math.ceil(first), ahead} end
end
if redis.call('LLEN', KEYS[2]) >= limit then
  local oldest = tonumber(redis.call('LINDEX', KEYS[2], 0))
  if oldest + window > now then return {-math.ceil(oldest + window - now), ahead} end
end
redis.call('RPUSH', KEYS[2], string.format('%.0f', now))
redis.call('LTRIM', KEYS[2], -limit, -1)
redis.call('PEXPIRE', KEYS[2], math.ceil(window / 1000) + 60000)
if ARGV[5] == '1' then ahead = math.floor(reserve(1)) end
return {0, ahead}
"""
)

# KEYS: chat. ARGV: chat interval (us), in-flight lifetime (ms). 0: taken; else us to wait.
_TAKE_CHAT_SCRIPT = (
    _NOW
    + """
local value = redis.call('GET', KEYS[1])
if value == 'busy' then return tonumber(ARGV[1]) end
if value and tonumber(value) > now then return math.ceil(tonumber(value) - now) end
redis.call('SET', KEYS[1], 'busy', 'PX', ARGV[2])
return 0
"""
)

# KEYS: chat. ARGV: seconds from now (us), 1 to overwrite (sent) or 0 to extend (hold).
_FREE_CHAT_SCRIPT = (
    _NOW
    + """
local free = now + tonumber(ARGV[1])
if ARGV[2] == '0' then
  local value = redis.call('GET', KEYS[1])
  if value == 'busy' then return 0 end
  if value then free = math.max(free, tonumber(value)) end
end
redis.call('SET', KEYS[1], string.format('%.0f', free), 'PX', math.ceil((free - now) / 1000) + 1)
return 0
"""
)

_MICRO = 1_000_000


class RedisPacer(_SlotTaker):
    """:class:`SendPacer` in Redis: each call one Lua script (atomic on the server); keys under
    ``key`` (the starts and the next slot share one hash tag, for Redis Cluster), each with an
    expiry, so an idle limiter leaves nothing behind."""

    def __init__(
        self,
        client: Redis,
        *,
        key: str,
        limits: Limits,
        in_flight_seconds: float = IN_FLIGHT_SECONDS,
        prefetch: bool = False,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.prefetch = prefetch
        self.client = client
        self.limits = limits
        self._sleep = sleep
        self._slot_keys = [f"{{{key}}}:next-slot", f"{{{key}}}:starts"]
        self._chat_key = f"{key}:chat:"
        self._in_flight_ms = str(math.ceil(in_flight_seconds * 1000))
        self._slot = client.register_script(_SLOT_SCRIPT)
        self._take_chat = client.register_script(_TAKE_CHAT_SCRIPT)
        self._free_chat = client.register_script(_FREE_CHAT_SCRIPT)

    @classmethod
    def from_url(cls, url: str, *, key: str, limits: Limits, prefetch: bool = False) -> RedisPacer:
        from redis.asyncio import Redis

        return cls(Redis.from_url(url), key=key, limits=limits, prefetch=prefetch)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def _slot_step(self, count: int, reserve_next: bool) -> Step:
        limits = self.limits
        args = [
            round(limits.slot_interval * _MICRO),
            round(limits.window * _MICRO),
            limits.limit,
            count,
            1 if reserve_next else 0,
        ]
        wait, ahead = await self._slot(keys=self._slot_keys, args=args)
        return int(wait) / _MICRO, (None if int(ahead) < 0 else int(ahead) / _MICRO)

    async def _reserve(self, count: int) -> Step:
        return await self._slot_step(count, False)

    async def _take(self, reserve_next: bool) -> Step:
        return await self._slot_step(0, reserve_next)

    async def take_chat(self, chat_id: int) -> float:
        try:
            wait = await self._take_chat(
                keys=[f"{self._chat_key}{chat_id}"],
                args=[round(self.limits.chat_interval * _MICRO), self._in_flight_ms],
            )
        except Exception:
            log.exception("send limiter unreachable; the chat counts as busy")
            return _STORE_RETRY_SECONDS
        return int(wait) / _MICRO

    async def sent(self, chat_id: int) -> None:
        await self._free(chat_id, self.limits.chat_interval, overwrite=True)

    async def hold_chat(self, chat_id: int, seconds: float) -> None:
        await self._free(chat_id, seconds, overwrite=False)

    async def _free(self, chat_id: int, seconds: float, *, overwrite: bool) -> None:
        try:
            await self._free_chat(
                keys=[f"{self._chat_key}{chat_id}"],
                args=[round(seconds * _MICRO), 1 if overwrite else 0],
            )
        except Exception:  # the busy mark lapses by itself
            log.exception("send limiter unreachable; the chat stays busy until its mark lapses")


# --------------------------------------------------------------------------- PostgreSQL

_state = SendPacerState.__table__
_starts = SendPacerStart.__table__
_chats = SendPacerChat.__table__


def _db_now() -> Any:
    """The database's clock now (not the transaction's start): seconds since the epoch."""
    return func.extract("epoch", func.clock_timestamp()).cast(Float)


class PostgresPacer(_SlotTaker):
    """:class:`SendPacer` in PostgreSQL: each call one short transaction on its own small
    engine (tables ``send_pacers``, ``send_pacer_starts``, ``send_pacer_chats``).

    A start takes the oldest of the ``limit`` rows of ``send_pacer_starts`` that no one else
    holds (``FOR UPDATE SKIP LOCKED``) and overwrites it with now, only when it is a window old:
    two processes starting at once take two different rows, each old enough, so the rows always
    hold the last ``limit`` starts and no window ever holds more."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        key: str,
        limits: Limits,
        in_flight_seconds: float = IN_FLIGHT_SECONDS,
        prefetch: bool = False,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.prefetch = prefetch
        self.engine = engine
        # Each call is one statement (two when it must say how long to wait): no transaction
        # round trips around it.
        self._autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.key = key
        self.limits = limits
        self._in_flight = in_flight_seconds
        self._sleep = sleep
        self._ready = False
        self._takes = 0
        self._reserve_statements = {n: self._make_reserve_statement(n) for n in (1, 2)}
        self._take_statements = {flag: self._make_take_statement(flag) for flag in (False, True)}

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        key: str,
        limits: Limits,
        in_flight_seconds: float = IN_FLIGHT_SECONDS,
        prefetch: bool = False,
    ) -> PostgresPacer:
        # Its own small pool, so a send never waits for a connection the claims hold; no ping
        # at checkout (a call that fails on a dropped connection is asked again, or the chat
        # waits), since every round trip here delays a send.
        # Its commits need not wait for the disk: after a crash the last few starts are
        # forgotten, which the margin and the next window absorb.
        engine = create_async_engine(
            url,
            pool_size=4,
            max_overflow=28,
            pool_recycle=1800,
            hide_parameters=True,
            connect_args={"server_settings": {"synchronous_commit": "off"}},
        )
        return cls(
            engine,
            key=key,
            limits=limits,
            in_flight_seconds=in_flight_seconds,
            prefetch=prefetch,
        )

    async def aclose(self) -> None:
        await self.engine.dispose()

    async def _prepare(self, connection: AsyncConnection) -> None:
        """The limiter's rows, once per process: its slot pointer and ``limit`` starts."""
        key, limit = self.key, self.limits.limit
        await connection.execute(
            pg_insert(_state).values(limiter=key, next_slot_at=0.0).on_conflict_do_nothing()
        )
        await connection.execute(
            pg_insert(_starts)
            .values([{"limiter": key, "position": n, "started_at": 0.0} for n in range(limit)])
            .on_conflict_do_nothing()
        )
        await connection.execute(
            delete(_starts).where(_starts.c.limiter == key, _starts.c.position >= limit)
        )
        self._ready = True

    async def _reserve(self, count: int) -> Step:
        """One statement: reserve ``count`` slots and, when the first is due already (the
        usual case for a process that asks late), take it in the same round trip."""
        if not self._ready:
            async with self.engine.begin() as connection:
                await self._prepare(connection)
        async with self._autocommit.connect() as connection:
            row = (await connection.execute(self._reserve_statements[count])).one()
            first, taken = float(row[0]), bool(row[1])
            ahead = first + self.limits.slot_interval if count == 2 else None
            if taken:
                return 0.0, ahead
            if first > 0:
                return first, ahead
            return await self._window_wait(connection), ahead

    async def _take(self, reserve_next: bool) -> Step:
        """One statement: take a start (the window permitting) and, if asked, reserve this
        process's next slot; otherwise how long until the window has room."""
        async with self._autocommit.connect() as connection:
            row = (await connection.execute(self._take_statements[reserve_next])).one()
            if row[0]:
                return 0.0, (None if row[1] is None else float(row[1]))
            return await self._window_wait(connection), None

    async def _window_wait(self, connection: AsyncConnection) -> float:
        """How long until the window has room, as ``_take`` says it: negative, at least an
        eighth of a slot, at most one (a row taken meanwhile may free an older one)."""
        wait = await connection.scalar(
            select(func.min(_starts.c.started_at) + self.limits.window - _db_now()).where(
                _starts.c.limiter == self.key
            )
        )
        interval = self.limits.slot_interval
        return -min(max(float(wait or 0.0), interval / 8), interval)

    def _take_statement(self, *when: ColumnElement[bool]) -> ReturningUpdate[Any]:
        """The oldest start no one else holds (``SKIP LOCKED``: two processes take two rows),
        overwritten with now if it is a window old (and ``when`` holds)."""
        others = _starts.alias("others")
        oldest = (
            select(others.c.position)
            .where(others.c.limiter == self.key)
            .order_by(others.c.started_at)
            .limit(1)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        return (
            update(_starts)
            .where(
                _starts.c.limiter == self.key,
                _starts.c.position == oldest,
                _starts.c.started_at + self.limits.window <= _db_now(),
                *when,
            )
            .values(started_at=_db_now())
            .returning(_starts.c.position)
        )

    def _reserve_next(self, count: int, *when: ColumnElement[bool]) -> CTE:
        """Move the shared pointer on ``count`` slots; its ``ahead``: the first one's seconds
        from now."""
        interval = self.limits.slot_interval
        return (
            update(_state)
            .where(_state.c.limiter == self.key, *when)
            .values(next_slot_at=func.greatest(_state.c.next_slot_at, _db_now()) + count * interval)
            .returning((_state.c.next_slot_at - count * interval - _db_now()).label("ahead"))
            .cte(f"reserved_{count}")
        )

    def _make_reserve_statement(self, count: int) -> Select[Any, Any]:
        reserved = self._reserve_next(count)
        ahead = select(reserved.c.ahead).scalar_subquery()
        taken = self._take_statement(ahead <= 0).cte("taken")
        return select(ahead, select(taken.c.position).exists())

    def _make_take_statement(self, reserve_next: bool) -> Select[Any, Any]:
        taken = self._take_statement().cte("taken")
        was_taken = select(taken.c.position).exists()
        if not reserve_next:
            return select(was_taken, literal(None))
        reserved = self._reserve_next(1, was_taken)
        return select(was_taken, select(reserved.c.ahead).scalar_subquery())

    async def take_chat(self, chat_id: int) -> float:
        try:
            return await self._take_chat(chat_id)
        except Exception:
            log.exception("send limiter unreachable; the chat counts as busy")
            return _STORE_RETRY_SECONDS

    async def _take_chat(self, chat_id: int) -> float:
        now = _db_now()
        busy = now + self._in_flight
        values = pg_insert(_chats).values(
            limiter=self.key, chat_id=chat_id, free_at=0.0, busy_until=busy
        )
        statement = values.on_conflict_do_update(
            index_elements=[_chats.c.limiter, _chats.c.chat_id],
            set_={"busy_until": busy},
            where=(_chats.c.busy_until <= now) & (_chats.c.free_at <= now),
        ).returning(literal(1))
        async with self._autocommit.connect() as connection:
            taken = (await connection.execute(statement)).first() is not None
            if taken:
                self._takes += 1
                if self._takes % _CHAT_CLEANUP_EVERY == 0:
                    await connection.execute(
                        delete(_chats).where(
                            _chats.c.limiter == self.key,
                            _chats.c.busy_until < now,
                            _chats.c.free_at < now - _CHAT_ROWS_KEPT_SECONDS,
                        )
                    )
                return 0.0
            row = (
                await connection.execute(
                    select(_chats.c.busy_until > now, _chats.c.free_at - now).where(
                        _chats.c.limiter == self.key, _chats.c.chat_id == chat_id
                    )
                )
            ).first()
        if row is None or row[0]:  # in flight: free one interval after it comes back
            return self.limits.chat_interval
        return max(float(row[1]), 0.001)  # freed this instant: nothing was taken, ask again

    async def sent(self, chat_id: int) -> None:
        statement = (
            update(_chats)
            .where(_chats.c.limiter == self.key, _chats.c.chat_id == chat_id)
            .values(free_at=_db_now() + self.limits.chat_interval, busy_until=0.0)
        )
        await self._quietly(statement)

    async def hold_chat(self, chat_id: int, seconds: float) -> None:
        until = _db_now() + seconds
        statement = (
            pg_insert(_chats)
            .values(limiter=self.key, chat_id=chat_id, free_at=until, busy_until=0.0)
            .on_conflict_do_update(
                index_elements=[_chats.c.limiter, _chats.c.chat_id],
                set_={"free_at": func.greatest(_chats.c.free_at, until)},
            )
        )
        await self._quietly(statement)

    async def _quietly(self, statement: Any) -> None:
        try:
            async with self._autocommit.connect() as connection:
                await connection.execute(statement)
        except Exception:  # the busy mark lapses by itself
            log.exception("send limiter unreachable; the chat stays busy until its mark lapses")


# --------------------------------------------------------------------------- choosing


def limiter_kind(settings: Settings) -> str:
    """``redis``, ``postgres`` or ``local`` for these settings (``DISPATCH_LIMITER``)."""
    kind = settings.dispatch_limiter
    if kind == "redis" and not settings.redis_url:
        raise ValueError("DISPATCH_LIMITER=redis needs REDIS_URL")
    if kind == "postgres" and settings.is_sqlite:
        raise ValueError("DISPATCH_LIMITER=postgres needs a PostgreSQL DATABASE_URL")
    if kind != "auto":
        return kind
    if settings.redis_url:
        return "redis"
    return "local" if settings.is_sqlite else "postgres"


def telegram_pacer(settings: Settings, *, prefetch: bool = True) -> SendPacer:
    """The pacer for a dispatcher's Telegram sends in this process: shared (Redis or
    PostgreSQL), reserving its next slot as it takes one (``prefetch``), or this process's own
    (:class:`Pacer`), or none when pacing is off. A shared one has ``aclose``."""
    if not settings.dispatch_pacing or settings.dispatch_global_rate <= 0:
        return UNPACED
    rate, per_chat = settings.dispatch_global_rate, settings.dispatch_per_chat_interval
    margin = settings.dispatch_pacing_margin
    kind = limiter_kind(settings)
    if kind == "local":
        return Pacer(rate=rate, per_chat_interval=per_chat, margin=margin)
    limits = Limits.of(rate=rate, per_chat_interval=per_chat, margin=margin)
    key = settings.dispatch_limiter_key
    if kind == "redis":
        assert settings.redis_url is not None
        return RedisPacer.from_url(settings.redis_url, key=key, limits=limits, prefetch=prefetch)
    url = settings.normalised_database_url()
    return PostgresPacer.from_url(url, key=key, limits=limits, prefetch=prefetch)


def shared_telegram_pacer(settings: Settings) -> RedisPacer | PostgresPacer | None:
    """The shared pacer for the bot's replies (reserving as they go), or None when this
    process paces alone (or not at all)."""
    pacer = telegram_pacer(settings, prefetch=False)
    return pacer if isinstance(pacer, RedisPacer | PostgresPacer) else None
