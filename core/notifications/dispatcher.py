"""The outbox dispatcher: claims due messages in lane order, sends them, records what happened.

One loop, run inside the default single-machine process or as any number of
``drive-assist worker`` processes against PostgreSQL:

1. **Claim** a small batch of due rows (``queued`` with ``not_before <= now``, or ``sending``
   whose lease ran out because a dispatcher died mid-send), ordered by lane, then
   ``not_before``, then id. Claiming marks them ``sending`` with ``lease_until``,
   ``claimed_by`` and one more attempt, and commits before anything is sent. While a batch
   sends, ``run_forever`` also claims from the critical lane alone every
   ``critical_poll_seconds``, and a critical message jumps the normal ones already claimed, so
   one queued behind thousands of normal ones waits about one poll, not for the backlog.

   - *PostgreSQL*: one statement: ``SELECT ... FOR UPDATE SKIP LOCKED`` in a CTE, then
     ``UPDATE ... RETURNING`` with the recipient's locale and active chat: concurrent workers
     each lock different rows and never wait on each other. The transaction first turns off
     bitmap and sequential scans for itself, so the due rows are read in index order and the
     scan stops at the batch size however many are due (``_POSTGRESQL_CLAIM_PLAN``).
   - *SQLite*: the claim is a single ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``
     statement, the first of its transaction. SQLite takes its one database-wide write lock
     before that statement reads, so the claim is atomic across processes: a second dispatcher
     waits on ``busy_timeout`` and then finds the rows already ``sending``. Inside one process an
     ``asyncio.Lock`` per database lets dispatchers queue for the claim instead of contending
     on the file lock. In short: one dispatcher holds the write lock while it claims.

2. **Send** each claimed message through its channel, up to ``concurrency`` at once, paced by a
   global rate (a strict sliding window: at most 30 sends start in any second, Telegram's
   limit) and a minimum interval per chat (1 s); see :class:`Pacer`. Paced, a slot is taken
   before the message that goes in it is chosen, so it always carries the most urgent one
   waiting. A Telegram message whose recipient has no active link goes to the in-app inbox
   instead, as does every message when no Telegram channel is configured; the inbox is not
   paced and has senders of its own.

3. **Record**: ``sent`` (with ``sent_at`` and Telegram's message id); back to ``queued`` with
   exponential backoff and jitter (or the provider's ``retry_after``) for a passing failure;
   ``failed`` with ``last_error`` for a permanent one or after ``max_attempts``; and when the
   recipient blocked the bot, their Telegram link switched off, so what follows goes to their
   inbox, and the message ``failed``, or, for a critical one, back to ``queued`` on the inbox
   channel, so an alert is never lost with the link. A result is recorded only while this
   worker still holds the claim: each write is guarded by ``state = sending``, ``claimed_by``
   and ``attempts`` as claimed.
   Results are written together, one transaction for whatever batches have finished and one
   statement per kind of outcome (PostgreSQL: one ``UPDATE ... FROM unnest(...)`` over arrays;
   SQLite: an ``executemany``), while later batches send (``run_forever``
   pipelines claim, send and record; ``run_once`` does one batch start to finish).

**Crash safety.** A dispatcher killed mid-batch leaves its claimed rows in ``sending``: some
were sent, some not, none recorded. After their lease they are claimed again and sent, so
nothing is lost, and each can arrive at most one extra time: a dispatcher killed mid-batch can
cause at most one duplicate per row that was in ``sending`` (claimed and not yet recorded) at
the moment of the kill. Nothing else can be sent twice, since a row leaves ``sending`` only by
a recorded result.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import operator
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Float, String, Text, and_, bindparam, column, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.db.driver import DriverStatement
from core.enums import LANE_ORDER, Channel, Lane, Locale, OutboxState
from core.models import OutboxMessage, TelegramLink, User
from core.notifications.channels import (
    ChannelAdapter,
    OutboundMessage,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
)
from core.settings import Settings

log = logging.getLogger(__name__)

BLOCKED_REASON = "blocked"
NO_CHANNEL_ERROR = "no channel configured for {channel}"
_ERROR_LIMIT = 2000  # last_error is for admins; a provider's essay is cut short


# One claim at a time per SQLite database inside this process (see the module docstring).
_sqlite_claim_locks: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True)
class DispatchSettings:
    global_rate: float = 30.0  # messages a second, overall
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    pacing: bool = True
    max_attempts: int = 5
    lease_seconds: float = 60.0
    concurrency: int = 32  # Telegram sends in flight; the inbox has _INBOX_SENDERS of its own
    batch_size: int = 500  # unpaced; paced, a batch holds max_batch_seconds of sends
    backoff_base_seconds: float = 5.0  # first retry after 2.5-5 s, then doubling
    backoff_max_seconds: float = 3600.0
    idle_poll_seconds: float = 1.0  # run_forever's wait when nothing is due
    critical_poll_seconds: float = 0.2  # busy, run_forever checks the critical lane this often
    max_batch_seconds: float = 0.35  # paced, a batch holds about this many seconds of sends
    max_chat_wait_seconds: float = 1.0  # longer than this for a busy chat: give the message back

    @classmethod
    def from_settings(cls, settings: Settings) -> DispatchSettings:
        return cls(
            global_rate=settings.dispatch_global_rate,
            per_chat_interval=settings.dispatch_per_chat_interval,
            pacing=settings.dispatch_pacing,
            max_attempts=settings.dispatch_max_attempts,
            lease_seconds=settings.dispatch_lease_seconds,
            concurrency=settings.dispatch_concurrency,
            batch_size=settings.dispatch_batch_size,
        )


def backoff_seconds(
    attempts: int, settings: DispatchSettings, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": between half and all of base * 2^(attempts-1)."""
    ceiling = min(
        settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(attempts - 1, 0)
    )
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


class Pacer:
    """A global rate plus a minimum interval per chat, on a monotonic clock.

    Globally, a strict sliding window: no more than ``limit`` sends (``rate`` a second, rounded
    down) *start* in any window of ``window`` seconds (one second, stretched by ``margin``), so
    Telegram's "30 a second" holds however late the event loop wakes a send. The window is kept
    on the moments sends actually start (the last ``limit`` of them), not on a plan: a plan of
    evenly spaced slots lets sends that woke late bunch up with the ones on time after them.
    Sends are also spread over evenly spaced slots (``window / limit`` apart, reserved before
    sleeping, so concurrent tasks never take the same one), so they leave evenly rather than
    in bursts of ``limit``; the window is what makes the cap strict.

    A chat has one send in flight at most, and its next send starts no sooner than one interval
    after the previous one *came back* (``sent``), so two arrivals at Telegram are at least an
    interval apart however late the first left. Both limits are stretched by ``margin`` (3 %):
    a send arrives a few milliseconds after it starts, and without it two arrivals one window
    apart can fall inside one of Telegram's one-second windows.
    """

    def __init__(
        self,
        *,
        rate: float,
        per_chat_interval: float,
        enabled: bool = True,
        margin: float = 0.03,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.enabled = enabled and rate > 0
        self.limit = max(1, math.floor(rate)) if rate > 0 else 1
        self.window = max(1.0, self.limit / rate if rate > 0 else 1.0) * (1.0 + margin)
        self._interval = self.window / self.limit
        self._per_chat_interval = per_chat_interval * (1.0 + margin)
        self._monotonic = monotonic
        self._sleep = sleep
        self._global_next = 0.0  # the next evenly spaced slot
        self._starts: deque[float] = deque(maxlen=self.limit)  # the last ``limit`` starts
        self._chat_next: dict[int, float] = {}
        self._chat_free: dict[int, float] = {}  # interval after the last answer; inf in flight

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until this chat may receive again, without reserving anything."""
        if not self.enabled:
            return 0.0
        now = self._monotonic()
        free = self._chat_free.get(chat_id, 0.0)
        if free == math.inf:
            free = now + self._per_chat_interval
        return max(0.0, self._chat_next.get(chat_id, 0.0) - now, free - now)

    def hold_chat(self, chat_id: int, seconds: float) -> None:
        """Keep a chat quiet for a while (Telegram said retry_after)."""
        until = self._monotonic() + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

    def sent(self, chat_id: int) -> None:
        """The send to this chat that ``wait`` let go has come back (or failed)."""
        if self.enabled:
            self._chat_free[chat_id] = self._monotonic() + self._per_chat_interval

    async def next_slot(self) -> None:
        """Wait for the next evenly spaced start slot, reserved before sleeping so concurrent
        tasks never take the same one. ``wait`` takes one itself unless told it has one."""
        if not self.enabled:
            return
        now = self._monotonic()
        slot = max(self._global_next, now)
        self._global_next = slot + self._interval
        if slot > now:
            await self._sleep(slot - now)

    async def wait(self, chat_id: int | None, *, slotted: bool = False) -> None:
        """Wait for this chat's turn, then for a slot (unless ``slotted``: the caller took one
        with ``next_slot`` before choosing what to send) and the global window. The slot comes
        after the chat is free, so a busy chat does not hold up everyone else's sends. On
        return the send has started, as far as the window is concerned: call the channel at
        once."""
        if not self.enabled:
            return
        if chat_id is not None:
            now = self._monotonic()
            chat_slot = max(now, self._chat_next.get(chat_id, 0.0))
            self._chat_next[chat_id] = chat_slot + self._per_chat_interval
            if len(self._chat_next) > 10_000:
                self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if chat_slot > now:
                await self._sleep(chat_slot - now)
            while (free := self._chat_free.get(chat_id, 0.0)) > (now := self._monotonic()):
                await self._sleep(min(free - now, 0.05))
            self._chat_free[chat_id] = math.inf
            if len(self._chat_free) > 10_000:
                self._chat_free = {c: t for c, t in self._chat_free.items() if t > now}
        if not slotted:
            await self.next_slot()
        # The strict part: no await between the last check and taking the start.
        starts = self._starts
        while True:
            now = self._monotonic()
            if len(starts) < self.limit or starts[0] + self.window <= now:
                break
            await self._sleep(starts[0] + self.window - now)
        starts.append(now)


class Dispatcher:
    def __init__(
        self,
        source: Any,
        clock: Clock,
        channels: Mapping[Channel, ChannelAdapter],
        settings: DispatchSettings | None = None,
        worker_id: str = "dispatcher",
        *,
        rng: random.Random | None = None,
    ) -> None:
        """``source`` is a session factory or anything holding one (the bootstrap container)."""
        self._session_factory: async_sessionmaker[AsyncSession] = getattr(
            source, "session_factory", source
        )
        self.clock = clock
        self.channels = dict(channels)
        self.settings = settings or DispatchSettings()
        self.worker_id = worker_id
        self._rng = rng or random.Random()
        self.pacer = Pacer(
            rate=self.settings.global_rate,
            per_chat_interval=self.settings.per_chat_interval,
            enabled=self.settings.pacing,
        )

    # -- claiming -------------------------------------------------------------------------

    async def claim_batch(
        self, limit: int | None = None, *, critical_only: bool = False
    ) -> list[OutboundMessage]:
        """Claim up to ``limit`` due messages for this worker, committed before returning;
        ``critical_only`` claims from the critical lane alone (a cheap index range scan)."""
        limit = limit or self.settings.batch_size
        max_rank = LANE_ORDER[Lane.CRITICAL] if critical_only else max(LANE_ORDER.values())
        async with self._session_factory() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "postgresql":
                return await self._claim_postgresql(session, limit, max_rank)
            url = str(session.get_bind().url)
            lock = _sqlite_claim_locks.setdefault(url, asyncio.Lock())
            async with lock:
                return await self._claim_sqlite(session, limit, max_rank)

    async def _claim_postgresql(
        self, session: AsyncSession, limit: int, max_rank: int
    ) -> list[OutboundMessage]:
        """Lock, mark and read the batch in one statement (``_POSTGRESQL_CLAIM``), after
        steering the planner to the ordered index scan (``_POSTGRESQL_CLAIM_PLAN``)."""
        now = self.clock.now()
        connection = await session.connection()
        await _POSTGRESQL_CLAIM_PLAN.fetch_on(connection, {})
        rows = await _POSTGRESQL_CLAIM.fetch_on(
            connection,
            {
                "now": now,
                "lease_until": now + timedelta(seconds=self.settings.lease_seconds),
                "worker": self.worker_id,
                "limit": limit,
                "max_rank": max_rank,
            },
        )
        await session.commit()
        return _outbound(rows)

    async def _claim_sqlite(
        self, session: AsyncSession, limit: int, max_rank: int
    ) -> list[OutboundMessage]:
        now = self.clock.now()
        table = OutboxMessage.__table__
        due = (
            select(table.c.id)
            .where(
                or_(
                    and_(table.c.state == OutboxState.QUEUED, table.c.not_before <= now),
                    and_(table.c.state == OutboxState.SENDING, table.c.lease_until < now),
                ),
                table.c.lane_rank <= max_rank,
            )
            .order_by(table.c.lane_rank, table.c.not_before, table.c.id)
            .limit(limit)
        )
        connection = await session.connection()
        ids = list(
            (
                await connection.execute(
                    update(table)
                    .where(table.c.id.in_(due.scalar_subquery()))
                    .values(
                        state=OutboxState.SENDING,
                        lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                        claimed_by=self.worker_id,
                        attempts=table.c.attempts + 1,
                    )
                    .returning(table.c.id)
                )
            ).scalars()
        )
        if not ids:
            await session.commit()
            return []
        rows = (
            await connection.execute(
                select(
                    *(table.c[name] for name in _CLAIMED_COLUMNS),
                    User.__table__.c.locale,
                    TelegramLink.__table__.c.chat_id,
                )
                .join(User, User.id == table.c.recipient_user_id)
                .outerjoin(
                    TelegramLink,
                    and_(
                        TelegramLink.user_id == table.c.recipient_user_id,
                        TelegramLink.is_active.is_(True),
                    ),
                )
                .where(table.c.id.in_(ids))
                .order_by(table.c.lane_rank, table.c.not_before, table.c.id)
            )
        ).all()
        await session.commit()
        return _outbound(rows)

    # -- sending --------------------------------------------------------------------------

    def claim_limit(self) -> int:
        """Paced, a batch holds about ``max_batch_seconds`` of sends, so a critical message
        queued behind a long broadcast waits about that long, not ``batch_size / rate``."""
        limit = max(1, self.settings.batch_size)
        if self.pacer.enabled:
            limit = min(
                limit,
                max(1, math.ceil(self.settings.global_rate * self.settings.max_batch_seconds)),
            )
        return limit

    async def run_once(self) -> int:
        """Claim one batch, send it, record every result. Returns how many were claimed."""
        messages = await self.claim_batch(self.claim_limit())
        if not messages:
            return 0
        gate = asyncio.Semaphore(max(1, self.settings.concurrency))
        await self._record_safely(await self._send_batch(messages, gate))
        return len(messages)

    async def _send_batch(
        self, messages: list[OutboundMessage], gate: asyncio.Semaphore
    ) -> list[_Result]:
        """Send a batch, ``gate`` many at once, in lane order (tasks take the semaphore's slots
        in the order they asked for them)."""

        async def deliver(message: OutboundMessage) -> _Result:
            async with gate:
                return await self._deliver_safely(message)

        return list(await asyncio.gather(*(deliver(message) for message in messages)))

    async def _deliver_safely(self, message: OutboundMessage, *, slotted: bool = False) -> _Result:
        try:
            return await self._deliver(message, slotted=slotted)
        except Exception as error:  # one bad row must not stop the batch
            return self._delivery_failed(message, error)

    def _delivery_failed(self, message: OutboundMessage, error: Exception) -> _Result:
        log.exception("outbox message %s: delivery failed", message.id, exc_info=error)
        return self._retry(message, f"{type(error).__name__}: {error}", None)

    async def _record_safely(self, results: list[_Result]) -> None:
        try:
            await self.record(results)
        except Exception:  # the rows stay ``sending`` and are claimed again after their lease
            log.exception(
                "dispatcher %s: recording %d results failed", self.worker_id, len(results)
            )

    async def run_forever(
        self, stop_event: asyncio.Event, on_batch: Callable[[int], None] | None = None
    ) -> None:
        """Dispatch until ``stop_event`` is set; messages claimed by then are sent and recorded.

        ``on_batch`` is told how many messages each non-empty claim held (the worker prints it).

        Pipelined, with three kinds of task: this one claims, senders send (``_Run.start``), one
        recorder writes results. Claimed messages wait in local queues (Telegram's and the
        inbox's) ordered by lane, then claim order, so a critical message claimed later still
        goes before every normal one claimed earlier. The next batch is claimed as soon as the
        local queues are down to half a batch (never fewer than ``concurrency`` messages), so
        no sender idles on a claim's round trip, which at a few thousand messages a second
        outlasts a handful of sends; while they are longer, the critical lane alone is checked
        every ``critical_poll_seconds``. A critical message queued behind any number of normal
        ones therefore waits at most one poll, one claim and the sends already in flight
        (paced: the next slot, as a slot is filled only when it comes; ``_Run.paced_loop``).
        A batch's results go to the recorder when its last message is done; the recorder writes
        whatever has come in, one transaction at a time, while sending goes on.
        """
        run = _Run(self, on_batch)
        senders = run.start()
        recorder = asyncio.ensure_future(run.record_loop())
        try:
            await run.claim_loop(stop_event)
        finally:
            run.close()
            await asyncio.gather(*senders)
            run.recorded.put_nowait(None)
            await recorder

    def _route(self, message: OutboundMessage) -> tuple[Channel, ChannelAdapter | None]:
        """Telegram when the recipient has an active link and a bot is configured; else inbox."""
        if message.channel is Channel.TELEGRAM and message.chat_id is not None:
            telegram = self.channels.get(Channel.TELEGRAM)
            if telegram is not None:
                return Channel.TELEGRAM, telegram
        return Channel.INBOX, self.channels.get(Channel.INBOX)

    async def _deliver(self, message: OutboundMessage, *, slotted: bool = False) -> _Result:
        """``slotted``: the caller already took the pacer's next slot (``_Run.paced_loop``)."""
        channel, adapter = self._route(message)
        if adapter is None:
            return self._failed(message, NO_CHANNEL_ERROR.format(channel=channel.value))
        if channel is Channel.TELEGRAM and self.pacer.enabled:
            assert message.chat_id is not None
            # A chat with a queue of its own would hold a send slot (and, at worst, the lease)
            # while it waits; give the message back, not counting an attempt, to be claimed
            # when the chat is free.
            delay = self.pacer.chat_delay(message.chat_id)
            if delay > min(self.settings.max_chat_wait_seconds, self.settings.lease_seconds / 2):
                return _Result(_DEFERRED, message, at=self._after(delay))
            await self.pacer.wait(message.chat_id, slotted=slotted)
        try:
            try:
                result = await adapter.send(message)
            finally:
                if channel is Channel.TELEGRAM and message.chat_id is not None:
                    self.pacer.sent(message.chat_id)
        except RetryLater as error:
            if error.retry_after is not None and message.chat_id is not None:
                self.pacer.hold_chat(message.chat_id, error.retry_after)
            return self._retry(message, error.error, error.retry_after)
        except RecipientBlocked as error:
            if message.lane is Lane.CRITICAL:
                # An alert must not be lost with the link: queue it again for the inbox.
                return _Result(_REROUTED, message, self.clock.now(), error.error[:_ERROR_LIMIT])
            return _Result(_BLOCKED, message, error=error.error[:_ERROR_LIMIT])
        except PermanentFailure as error:
            return self._failed(message, error.error)
        except Exception as error:  # an adapter bug or an unforeseen error: retry, keep it
            log.exception("outbox message %s: unexpected error from %s", message.id, channel)
            return self._retry(message, f"{type(error).__name__}: {error}", None)
        provider_id = result.provider_message_id if channel is Channel.TELEGRAM else None
        return _Result(_SENT, message, self.clock.now(), None, provider_id)

    def _after(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    def _failed(self, message: OutboundMessage, error: str) -> _Result:
        return _Result(_FAILED, message, error=error[:_ERROR_LIMIT])

    def _retry(self, message: OutboundMessage, error: str, retry_after: float | None) -> _Result:
        if message.attempts >= self.settings.max_attempts:
            return self._failed(message, error)
        delay = backoff_seconds(message.attempts, self.settings, self._rng)
        if retry_after is not None:
            # Flood control: never earlier than Telegram asked, plus a little jitter.
            delay = retry_after + self._rng.uniform(0, min(1.0, retry_after / 10 + 0.1))
        return _Result(_RETRY, message, at=self._after(delay), error=error[:_ERROR_LIMIT])

    # -- recording ------------------------------------------------------------------------

    async def record(self, results: list[_Result]) -> None:
        """Write results in one transaction, one statement per kind of outcome.

        Each UPDATE is guarded (``state = sending``, ``claimed_by`` this worker, ``attempts``
        as claimed), so a result whose claim another worker took over after the lease ran out
        changes nothing; a blocked recipient's link is switched off only with a result that
        was still ours. PostgreSQL: one ``UPDATE ... FROM unnest(arrays)`` per outcome, its
        row count saying how many were ours (``RETURNING id`` where a link is switched off);
        SQLite: a ``SELECT`` of the rows still held, then an ``executemany``.
        """
        if not results:
            return
        async with self._session_factory() as session:
            connection = await session.connection()
            if connection.dialect.name == "postgresql":
                await connection.execute(_POSTGRESQL_RECORD_PLAN)
                recorded, ours = await self._record_postgresql(connection, results)
            else:
                ours = await self._record_sqlite(connection, results)
                recorded = len(ours)
            if recorded < len(results):
                log.warning(
                    "dispatcher %s: %d outbox results not recorded: the claims were taken over",
                    self.worker_id,
                    len(results) - recorded,
                )
            blocked = [r for r in results if r.outcome in _LINK_LOST and r.message.id in ours]
            if blocked:
                now: datetime = self.clock.now()
                for result in blocked:
                    await connection.execute(
                        update(TelegramLink)
                        .where(
                            TelegramLink.user_id == result.message.recipient_user_id,
                            TelegramLink.chat_id == result.message.chat_id,
                            TelegramLink.is_active.is_(True),
                        )
                        .values(
                            is_active=False, deactivated_at=now, deactivation_reason=BLOCKED_REASON
                        )
                    )
            await session.commit()

    async def _record_postgresql(
        self, connection: Any, results: list[_Result]
    ) -> tuple[int, set[int]]:
        """How many results were still ours, and which of those lost the recipient's link
        (their ids come back; for the rest, nearly all, the row count is enough)."""
        grouped: dict[str, list[_Result]] = {}
        for result in results:
            grouped.setdefault(result.outcome, []).append(result)
        recorded, ours = 0, set[int]()
        for outcome, group in grouped.items():
            reads = _POSTGRESQL_RECORD_READS[outcome]
            written = await connection.execute(
                _POSTGRESQL_RECORD[outcome],
                {
                    "ids": [r.message.id for r in group],
                    "attempts": [r.message.attempts for r in group],
                    # The arrays this outcome's statement does not read go empty: unnest pads
                    # them with NULLs.
                    "ats": [r.at for r in group] if "at" in reads else [],
                    "errors": [r.error for r in group] if "error" in reads else [],
                    "provider_ids": [r.provider_message_id for r in group]
                    if "provider_id" in reads
                    else [],
                    "worker": self.worker_id,
                },
            )
            if outcome in _LINK_LOST:
                held = set(written.scalars())
                ours |= held
                recorded += len(held)
            else:
                recorded += written.rowcount
        return recorded, ours

    async def _record_sqlite(self, connection: Any, results: list[_Result]) -> set[int]:
        table = OutboxMessage.__table__
        by_id = {result.message.id: result for result in results}
        held = await connection.execute(
            select(table.c.id, table.c.attempts).where(
                table.c.id.in_(list(by_id)),
                table.c.state == OutboxState.SENDING,
                table.c.claimed_by == self.worker_id,
            )
        )
        ours = {row.id for row in held if row.attempts == by_id[row.id].message.attempts}
        grouped: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            if result.message.id in ours:
                grouped.setdefault(result.outcome, []).append(result.parameters())
        for outcome, parameters in grouped.items():
            statement = _RECORD_STATEMENTS[outcome].where(table.c.claimed_by == self.worker_id)
            await connection.execute(statement, parameters)
        return ours


_SENT, _RETRY, _DEFERRED, _FAILED = "sent", "retry", "deferred", "failed"
_BLOCKED = "blocked"  # failed, and the recipient's Telegram link switched off
_REROUTED = "rerouted"  # a critical message to a blocked recipient: link off, queued for the inbox
_LINK_LOST = (_BLOCKED, _REROUTED)


@dataclass(slots=True)
class _Result:
    """What happened to one claimed message, waiting to be written with others."""

    outcome: str
    message: OutboundMessage
    at: datetime | None = None  # sent_at, or the new not_before
    error: str | None = None
    provider_message_id: int | None = None

    def parameters(self) -> dict[str, Any]:
        return {
            "b_id": self.message.id,
            "b_attempts": self.message.attempts,
            "b_at": self.at,
            "b_error": self.error,
            "b_provider_id": self.provider_message_id,
        }


# The in-app inbox's senders in ``run_forever``: an inbox delivery is one short insert, so a
# few keep up with any backlog, and each holds a database connection while it writes.
_INBOX_SENDERS = 4


class _Run:
    """One ``run_forever``: the local queues between the claimer, the senders and the recorder.

    Claimed messages wait in two queues, by where they will go: Telegram's, paced, and the
    inbox's, which has no rate limit and so never waits behind Telegram's pacing."""

    def __init__(self, dispatcher: Dispatcher, on_batch: Callable[[int], None] | None) -> None:
        self.dispatcher = dispatcher
        self.settings = dispatcher.settings
        self.on_batch = on_batch
        self.concurrency = max(1, self.settings.concurrency)
        self.paced = dispatcher.pacer.enabled
        self.telegram: _Waiting = asyncio.PriorityQueue()
        self.inbox: _Waiting = asyncio.PriorityQueue()
        # Readers of each queue, each stopped by a marker of its own (``close``).
        self.senders = {
            self.telegram: 1 if self.paced else self.concurrency,
            self.inbox: _INBOX_SENDERS,
        }
        self.recorded: asyncio.Queue[list[_Result] | None] = asyncio.Queue()
        # Claim the next batch when the local queues are down to this many: half a batch, and
        # never fewer than the senders, so the senders have work for the claim's round trip.
        self.low_water = max(self.concurrency, dispatcher.claim_limit() // 2)
        self.hungry = asyncio.Event()  # the local queues are down to ``low_water`` messages
        self._order = 0

    def waiting(self) -> int:
        return self.telegram.qsize() + self.inbox.qsize()

    def _put(self, messages: list[OutboundMessage]) -> None:
        batch = _Batch(len(messages))
        route = self.dispatcher._route
        for message in messages:
            self._order += 1
            waiting = self.telegram if route(message)[0] is Channel.TELEGRAM else self.inbox
            waiting.put_nowait((LANE_ORDER[message.lane], self._order, message, batch))
        if self.on_batch is not None:
            self.on_batch(len(messages))

    async def _claim(self, *, critical_only: bool) -> int:
        dispatcher = self.dispatcher
        try:
            messages = await dispatcher.claim_batch(
                dispatcher.claim_limit(), critical_only=critical_only
            )
        except Exception:  # the database went away; keep the worker alive, try again
            log.exception("dispatcher %s: claiming failed", dispatcher.worker_id)
            return 0
        if messages:
            self._put(messages)
        return len(messages)

    async def claim_loop(self, stop_event: asyncio.Event) -> None:
        settings = self.settings
        while not stop_event.is_set():
            if self.waiting() > self.low_water:
                # Busy: wait to get hungry, looking at the critical lane meanwhile.
                self.hungry.clear()
                try:
                    await asyncio.wait_for(self.hungry.wait(), settings.critical_poll_seconds)
                except TimeoutError:
                    if not stop_event.is_set():
                        await self._claim(critical_only=True)
                continue
            if not await self._claim(critical_only=False):
                try:
                    await asyncio.wait_for(stop_event.wait(), settings.idle_poll_seconds)
                except TimeoutError:
                    pass

    def start(self) -> list[asyncio.Future[None]]:
        """The senders: paced, one task feeds Telegram's slots (``paced_loop``); unpaced,
        ``concurrency`` of them take from Telegram's queue. The inbox has its own."""
        return [
            asyncio.ensure_future(
                self.paced_loop(waiting)
                if self.paced and waiting is self.telegram
                else self.send_loop(waiting)
            )
            for waiting, readers in self.senders.items()
            for _ in range(readers)
        ]

    def close(self) -> None:
        """Let the senders finish what is queued, then stop (stop markers sort last)."""
        for waiting, senders in self.senders.items():
            for _ in range(senders):
                self._order += 1
                waiting.put_nowait((math.inf, self._order, None, None))

    async def send_loop(self, waiting: _Waiting) -> None:
        """Take the next message, send it, note the result; until told to stop."""
        # ``Dispatcher._deliver_safely`` written out: this loop runs once for every message.
        dispatcher = self.dispatcher
        while True:
            _rank, _order, message, batch = await waiting.get()
            if message is None or batch is None:
                return
            if self.waiting() <= self.low_water:
                self.hungry.set()
            try:
                result = await dispatcher._deliver(message)
            except Exception as error:  # one bad row must not stop the batch
                result = dispatcher._delivery_failed(message, error)
            self._done(batch, result)

    async def paced_loop(self, waiting: _Waiting) -> None:
        """Paced Telegram: take the pacer's next slot, then the message at the head of the
        queue, and send it in a task of its own, up to ``concurrency`` at once.

        What goes in a slot is the most urgent message at that moment. Senders that each took a
        message and then slept for a slot would hold those messages, and a critical message
        claimed meanwhile would wait for a sender: about ``concurrency / rate`` seconds (a
        second at the defaults). This loop is the queue's only reader, so the head it waits
        for is still there after the slot; with nothing queued it waits for work by taking
        what comes and putting it back (its key is its place, so the order is kept)."""
        pacer = self.dispatcher.pacer
        free = asyncio.Semaphore(self.concurrency)
        sending: set[asyncio.Future[None]] = set()

        def finished(task: asyncio.Future[None]) -> None:
            sending.discard(task)
            free.release()

        while True:
            await free.acquire()
            head = await waiting.get()
            _rank, _order, first, _batch = head
            if first is None:  # stop: the markers sort after every message
                break
            waiting.put_nowait(head)
            await pacer.next_slot()
            while True:  # until a message that can go now has used the slot
                item = waiting.get_nowait()  # the head, or something more urgent
                _rank, _order, message, batch = item
                if message is None or batch is None:  # only stop markers are left
                    waiting.put_nowait(item)
                    free.release()
                    break
                if self.waiting() <= self.low_water:
                    self.hungry.set()
                # A message to a chat that is not free yet waits for it (or is given back) in
                # its own task and takes a slot after; this one goes to the next message.
                ready = message.chat_id is not None and pacer.chat_delay(message.chat_id) == 0
                task = asyncio.ensure_future(self._send(message, batch, slotted=ready))
                sending.add(task)
                task.add_done_callback(finished)
                if ready or waiting.empty() or free.locked():
                    break
                await free.acquire()
        if sending:
            await asyncio.gather(*sending)

    async def _send(self, message: OutboundMessage, batch: _Batch, *, slotted: bool) -> None:
        self._done(batch, await self.dispatcher._deliver_safely(message, slotted=slotted))

    def _done(self, batch: _Batch, result: _Result) -> None:
        """Note a result; a batch whose last message is done goes to the recorder."""
        batch.results.append(result)
        if len(batch.results) == batch.size:
            self.recorded.put_nowait(batch.results)

    async def record_loop(self) -> None:
        while True:
            results = await self.recorded.get()
            last = results is None
            batch = list(results or [])
            while not self.recorded.empty():  # whatever else came in meanwhile, in one go
                more = self.recorded.get_nowait()
                last = last or more is None
                batch.extend(more or [])
            if batch:
                await self.dispatcher._record_safely(batch)
            if last:
                return


@dataclass(slots=True)
class _Batch:
    size: int
    results: list[_Result] = field(default_factory=list)


# A local queue: (lane rank, claim order, message, its batch); a None message means stop.
_Waiting = asyncio.PriorityQueue[tuple[float, int, OutboundMessage | None, _Batch | None]]


def _record_statements() -> dict[str, Any]:
    table = OutboxMessage.__table__
    guarded = update(table).where(
        table.c.id == bindparam("b_id"),
        table.c.state == OutboxState.SENDING,
        table.c.attempts == bindparam("b_attempts"),
    )
    failed = guarded.values(
        state=OutboxState.FAILED, lease_until=None, last_error=bindparam("b_error")
    )
    return {
        _SENT: guarded.values(
            state=OutboxState.SENT,
            sent_at=bindparam("b_at"),
            lease_until=None,
            telegram_message_id=bindparam("b_provider_id"),
        ),
        _RETRY: guarded.values(
            state=OutboxState.QUEUED,
            not_before=bindparam("b_at"),
            lease_until=None,
            last_error=bindparam("b_error"),
        ),
        _DEFERRED: guarded.values(
            state=OutboxState.QUEUED,
            not_before=bindparam("b_at"),
            lease_until=None,
            attempts=table.c.attempts - 1,
        ),
        _FAILED: failed,
        _BLOCKED: failed,
        _REROUTED: guarded.values(
            state=OutboxState.QUEUED,
            channel=Channel.INBOX,
            not_before=bindparam("b_at"),
            lease_until=None,
            last_error=bindparam("b_error"),
        ),
    }


_RECORD_STATEMENTS = _record_statements()


def _postgresql_record(assignments: str, *, returning: bool = False) -> Any:
    """One outcome for a whole batch: ``UPDATE ... FROM unnest(arrays)``, the rows found by
    primary key (``id = ANY``) and joined to their results by hash or merge, never by a nested
    loop (``_POSTGRESQL_RECORD_PLAN``). The guard on the state is written ``(...) IS TRUE`` so
    it cannot steer the scan to ``ix_outbox_messages_due``. Left to itself, with statistics
    saying hardly any rows are ``sending``, the planner joined every row in flight against
    every result, unnesting the arrays again for each: 20 ms to record 200 rows, not 2."""
    return text(
        f"""UPDATE outbox_messages AS o SET {assignments}
        FROM unnest(CAST(:ids AS BIGINT[]), CAST(:attempts AS INTEGER[]),
                    CAST(:ats AS TIMESTAMPTZ[]), CAST(:errors AS TEXT[]),
                    CAST(:provider_ids AS BIGINT[])) AS r(id, attempts, at, error, provider_id)
        WHERE o.id = ANY(CAST(:ids AS BIGINT[])) AND o.id = r.id
          AND (o.state = '{OutboxState.SENDING.value}') IS TRUE
          AND o.claimed_by = :worker AND o.attempts = r.attempts"""
        + ("\n        RETURNING o.id" if returning else "")
    )


_FAILED_ASSIGNMENTS = (
    f"state = '{OutboxState.FAILED.value}', lease_until = NULL, last_error = r.error"
)
_POSTGRESQL_RECORD = {
    _SENT: _postgresql_record(
        f"state = '{OutboxState.SENT.value}', sent_at = r.at, lease_until = NULL, "
        "telegram_message_id = r.provider_id"
    ),
    _RETRY: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', not_before = r.at, lease_until = NULL, "
        "last_error = r.error"
    ),
    _DEFERRED: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', not_before = r.at, lease_until = NULL, "
        "attempts = o.attempts - 1"
    ),
    _FAILED: _postgresql_record(_FAILED_ASSIGNMENTS),
    _BLOCKED: _postgresql_record(_FAILED_ASSIGNMENTS, returning=True),
    _REROUTED: _postgresql_record(
        f"state = '{OutboxState.QUEUED.value}', channel = '{Channel.INBOX.value}', "
        "not_before = r.at, lease_until = NULL, last_error = r.error",
        returning=True,
    ),
}

# Which of the result arrays (``r.at``, ``r.error``, ``r.provider_id``) each statement reads.
_POSTGRESQL_RECORD_READS = {
    outcome: frozenset(
        name for name in ("at", "error", "provider_id") if re.search(rf"\br\.{name}\b", sql.text)
    )
    for outcome, sql in _POSTGRESQL_RECORD.items()
}

# What a claim reads of each row (the recipient's locale and active chat come with it).
_CLAIMED_COLUMNS = (
    "id", "recipient_user_id", "channel", "kind", "message_key", "params", "lane", "lane_rank",
    "not_before", "attempts",
)  # fmt: skip


def _postgresql_claim() -> Any:
    """Lock, mark and read a batch in one statement. Two index range scans on
    ``ix_outbox_messages_due`` (expired leases, then due queued rows), each ``FOR UPDATE SKIP
    LOCKED`` so concurrent workers take different rows and never wait; not an ``OR`` of the two,
    which makes PostgreSQL scan and sort every due row. Rows locked and not picked are
    released at the commit."""
    table = OutboxMessage.__table__
    sending, queued = OutboxState.SENDING.value, OutboxState.QUEUED.value
    due = """SELECT id, lane_rank, not_before FROM outbox_messages
        WHERE state = '{state}' AND {when} AND lane_rank <= :max_rank
        ORDER BY lane_rank, not_before LIMIT :limit FOR UPDATE SKIP LOCKED"""
    # Some columns come back cheaper to read than as themselves: the params as their JSON text,
    # parsed once per distinct text by ``_outbound`` (a broadcast's thousand rows carry the same
    # few parameters); ``not_before``, which only orders the batch, as epoch seconds (a float
    # holds today's microseconds exactly, so the order is the same); the enums as their stored
    # values, which the one validation of the batch in ``_outbound`` turns into members.
    cheaper = {
        "params": ("o.params::text", column("params", Text)),
        "not_before": (
            "EXTRACT(EPOCH FROM o.not_before)::float8",
            column("not_before", Float),
        ),
        **{name: (f"o.{name}", column(name, String)) for name in ("channel", "kind", "lane")},
    }
    returned = ", ".join(
        cheaper[name][0] if name in cheaper else f"o.{name}" for name in _CLAIMED_COLUMNS
    )
    return text(
        f"""WITH expired AS ({due.format(state=sending, when="lease_until < :now")}),
        queued AS ({due.format(state=queued, when="not_before <= :now")}),
        picked AS (
            SELECT id FROM (SELECT * FROM expired UNION ALL SELECT * FROM queued) AS c
            ORDER BY lane_rank, not_before, id LIMIT :limit)
        UPDATE outbox_messages AS o
        SET state = '{sending}', lease_until = :lease_until, claimed_by = :worker,
            attempts = o.attempts + 1
        FROM picked, users AS u
            LEFT JOIN telegram_links AS l ON l.user_id = u.id AND l.is_active
        WHERE o.id = picked.id AND u.id = o.recipient_user_id
        RETURNING {returned}, u.locale, l.chat_id"""
    ).columns(
        *(cheaper[name][1] if name in cheaper else table.c[name] for name in _CLAIMED_COLUMNS),
        column("locale", String),
        TelegramLink.__table__.c.chat_id,
    )


# Sent to asyncpg directly (``core.db.driver``): SQLAlchemy's result rows for a batch of 500
# cost more than reading the driver's records by position.
_POSTGRESQL_CLAIM = DriverStatement(_postgresql_claim())


def _planner_off(*settings: str) -> Any:
    return text("SELECT " + ", ".join(f"set_config('{name}', 'off', true)" for name in settings))


# Planner settings for the claim's and the record's transactions only (``is_local``). The
# planner's idea of how many rows are due or in flight comes from statistics taken when the
# queue was nearly empty (as it is most of the time), so after a broadcast of thousands it still
# expects a handful. Left to itself it read every due row with a bitmap scan and sorted them to
# claim the first 200 (22 ms a claim at 30,000 due rows, growing with the backlog), and it
# recorded results by walking rows in flight, or the whole table, once per result. With these,
# a claim reads ``ix_outbox_messages_due`` in order, stops at the batch size and looks each
# claimed row, its recipient and their link up by key; a record looks its rows up by primary key
# and joins them to the results in one pass: both cost the same at any backlog. Nothing else
# runs in those transactions but single-row writes by key.


_POSTGRESQL_CLAIM_PLAN = DriverStatement(
    _planner_off("enable_bitmapscan", "enable_seqscan", "enable_hashjoin", "enable_mergejoin")
)
_POSTGRESQL_RECORD_PLAN = _planner_off("enable_nestloop", "enable_seqscan")


# A claimed row's fields by position: what the claim reads, then the locale and the chat.
_CLAIMED_FIELDS = (*_CLAIMED_COLUMNS, "locale", "chat_id")
_CLAIM_ORDER = operator.itemgetter(
    *(_CLAIMED_FIELDS.index(f) for f in ("lane_rank", "not_before", "id"))
)
_OUTBOUND_LIST = TypeAdapter(list[OutboundMessage])


def _outbound(rows: Sequence[Any]) -> list[OutboundMessage]:
    """Claimed rows as the channels see them, in claim order (lane, then due time, then id).

    Read by position and validated as one list: a result row's attribute access and one
    pydantic call per message cost about 20 microseconds a message, four times this."""
    fields = []
    parsed: dict[str, Any] = {}  # PostgreSQL's params as JSON text -> the value, this claim
    for row in sorted(rows, key=_CLAIM_ORDER):
        values = dict(zip(_CLAIMED_FIELDS, row, strict=True))
        values["locale"] = values["locale"] or Locale.EN_GB
        params = values["params"]
        if isinstance(params, str):
            if params not in parsed:
                parsed[params] = json.loads(params)
            params = parsed[params]
        values["params"] = params or {}
        fields.append(values)
    # Validated one list at a time, so each message has params of its own (never shared).
    return _OUTBOUND_LIST.validate_python(fields)
