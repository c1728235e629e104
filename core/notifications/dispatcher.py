"""The outbox dispatcher: claims due messages in lane order, sends them, records what happened.

One loop, run inside the default single-machine process or as any number of
``drive-assist worker`` processes against PostgreSQL:

1. **Claim** a small batch of due rows (``queued`` with ``not_before <= now``, or ``sending``
   whose lease ran out because a dispatcher died mid-send), ordered by lane, then
   ``not_before``, then id. Claiming marks them ``sending`` with ``lease_until``,
   ``claimed_by`` and one more attempt, and commits before anything is sent. Batches are small
   so a critical message queued behind thousands of normal ones waits one batch at most.

   - *PostgreSQL*: ``SELECT ... FOR UPDATE SKIP LOCKED`` then ``UPDATE`` in one transaction:
     concurrent workers each lock different rows and never wait on each other.
   - *SQLite*: the claim is a single ``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING``
     statement, the first of its transaction. SQLite takes its one database-wide write lock
     before that statement reads, so the claim is atomic across processes: a second dispatcher
     waits on ``busy_timeout`` and then finds the rows already ``sending``. Inside one process an
     ``asyncio.Lock`` per database lets dispatchers queue for the claim instead of contending
     on the file lock. In short: one dispatcher holds the write lock while it claims.

2. **Send** each claimed message through its channel, up to ``concurrency`` at once, paced by a
   global rate (a token bucket, Telegram's 30 messages a second) and a minimum interval per
   chat (1 s). A Telegram message whose recipient has no active link goes to the in-app inbox
   instead, as does every message when no Telegram channel is configured.

3. **Record**: ``sent`` (with ``sent_at`` and Telegram's message id); back to ``queued`` with
   exponential backoff and jitter (or the provider's ``retry_after``) for a passing failure;
   ``failed`` with ``last_error`` for a permanent one or after ``max_attempts``; and when the
   recipient blocked the bot, ``failed`` plus their Telegram link switched off, so what follows
   goes to their inbox. A result is recorded only while this worker still holds the claim:
   each write is guarded by ``state = sending``, ``claimed_by`` and ``attempts`` as claimed.
   Results are written a batch at a time, one transaction per batch and one statement per
   kind of outcome (PostgreSQL: one ``UPDATE ... FROM unnest(...)`` over arrays; SQLite: an
   ``executemany``), while later batches send (``run_forever`` pipelines claim, send and
   record; ``run_once`` does one batch start to finish).

**Crash safety.** A dispatcher killed mid-batch leaves its claimed rows in ``sending``: some
were sent, some not, none recorded. After their lease they are claimed again and sent, so
nothing is lost, and each can arrive at most one extra time: a dispatcher killed mid-batch can
cause at most one duplicate per row that was in ``sending`` (claimed and not yet recorded) at
the moment of the kill. Nothing else can be sent twice, since a row leaves ``sending`` only by
a recorded result.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, BigInteger, and_, any_, bindparam, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.enums import Channel, Locale, OutboxState
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


def _among(column: Any, ids: list[int], dialect: str) -> Any:
    """``column IN ids``; on PostgreSQL ``= ANY(array)``, one parameter however many ids (an
    expanded ``IN`` is rendered anew for every batch)."""
    if dialect == "postgresql":
        return column == any_(bindparam("ids", ids, type_=ARRAY(BigInteger)))
    return column.in_(ids)


# One claim at a time per SQLite database inside this process (see the module docstring).
_sqlite_claim_locks: dict[str, asyncio.Lock] = {}


@dataclass(frozen=True)
class DispatchSettings:
    global_rate: float = 30.0  # messages a second, overall
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    pacing: bool = True
    max_attempts: int = 5
    lease_seconds: float = 60.0
    concurrency: int = 16
    batch_size: int = 200
    backoff_base_seconds: float = 5.0  # first retry after 2.5-5 s, then doubling
    backoff_max_seconds: float = 3600.0
    idle_poll_seconds: float = 1.0  # run_forever's wait when nothing is due
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
    """A global rate plus a minimum interval per chat, as reservations on a monotonic clock.

    The global limit is a token bucket one token deep: sends are spaced ``1/rate`` apart, so no
    one-second window ever holds more than ``rate`` of them (Telegram counts per second, and a
    deeper bucket would let a burst after a quiet spell break that). Each call reserves its slot
    before sleeping, so concurrent tasks in one event loop never take the same slot.

    A chat has one send in flight at most, and its next send starts no sooner than one interval
    after the previous one *came back* (``sent``), so two arrivals at Telegram are at least an
    interval apart however late the first left. Both spacings are stretched by ``margin``
    (2 %): sends leave on their slots but arrive a few milliseconds early or late, and without
    it two arrivals one interval apart can fall inside one of Telegram's one-second windows.
    """

    def __init__(
        self,
        *,
        rate: float,
        per_chat_interval: float,
        enabled: bool = True,
        margin: float = 0.02,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.enabled = enabled and rate > 0
        self._interval = (1.0 + margin) / rate if rate > 0 else 0.0
        self._per_chat_interval = per_chat_interval * (1.0 + margin)
        self._monotonic = monotonic
        self._sleep = sleep
        self._global_next = 0.0  # theoretical arrival time of the next global token
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

    async def wait(self, chat_id: int | None) -> None:
        """Wait for this chat's turn, then for a global token (taken only once the chat is free,
        so a busy chat does not hold up everyone else's tokens)."""
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
        now = self._monotonic()
        send_at = max(self._global_next, now)
        self._global_next = send_at + self._interval
        if send_at > now:
            await self._sleep(send_at - now)


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

    async def claim_batch(self, limit: int | None = None) -> list[OutboundMessage]:
        """Claim up to ``limit`` due messages for this worker, committed before returning."""
        limit = limit or self.settings.batch_size
        async with self._session_factory() as session:
            dialect = session.get_bind().dialect.name
            if dialect == "sqlite":
                url = str(session.get_bind().url)
                lock = _sqlite_claim_locks.setdefault(url, asyncio.Lock())
                async with lock:
                    return await self._claim(session, limit, skip_locked=False)
            return await self._claim(session, limit, skip_locked=True)

    async def _claim(
        self, session: AsyncSession, limit: int, *, skip_locked: bool
    ) -> list[OutboundMessage]:
        now = self.clock.now()
        order = (OutboxMessage.lane_rank, OutboxMessage.not_before, OutboxMessage.id)
        queued = (OutboxMessage.state == OutboxState.QUEUED, OutboxMessage.not_before <= now)
        expired = (OutboxMessage.state == OutboxState.SENDING, OutboxMessage.lease_until < now)
        claim = update(OutboxMessage).values(
            state=OutboxState.SENDING,
            lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            claimed_by=self.worker_id,
            attempts=OutboxMessage.attempts + 1,
        )
        if skip_locked:
            # Two index range scans (ix_outbox_messages_due), not one scan-and-sort of every
            # due row that an OR of the two states would cost; merged here in lane order. Rows
            # locked and not taken are released at the commit below.
            candidates: list[Any] = []
            for where in (expired, queued):
                candidates += (
                    await session.execute(
                        select(*order)
                        .where(*where)
                        .order_by(*order[:2])  # the index's order; ties in index order
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
            ids = [row.id for row in sorted(candidates)[:limit]]
            if not ids:
                await session.rollback()
                return []
            await session.execute(
                claim.where(_among(OutboxMessage.id, ids, "postgresql")).execution_options(
                    synchronize_session=False
                )
            )
        else:
            due = (
                select(OutboxMessage.id)
                .where(or_(and_(*queued), and_(*expired)))
                .order_by(*order)
                .limit(limit)
            )
            result = await session.execute(
                claim.where(OutboxMessage.id.in_(due.scalar_subquery()))
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(result.scalars().all())
            if not ids:
                await session.commit()
                return []
        table = OutboxMessage.__table__
        rows = (
            await session.execute(
                select(
                    table.c.id,
                    table.c.recipient_user_id,
                    table.c.channel,
                    table.c.kind,
                    table.c.message_key,
                    table.c.params,
                    table.c.lane,
                    table.c.attempts,
                    User.locale,
                    TelegramLink.chat_id,
                )
                .join(User, User.id == table.c.recipient_user_id)
                .outerjoin(
                    TelegramLink,
                    and_(
                        TelegramLink.user_id == table.c.recipient_user_id,
                        TelegramLink.is_active.is_(True),
                    ),
                )
                .where(_among(table.c.id, ids, session.get_bind().dialect.name))
                .order_by(table.c.lane_rank, table.c.not_before, table.c.id)
            )
        ).all()
        await session.commit()
        return [
            OutboundMessage(
                id=row.id,
                recipient_user_id=row.recipient_user_id,
                channel=row.channel,
                chat_id=row.chat_id,
                locale=row.locale or Locale.EN_GB,
                kind=row.kind,
                message_key=row.message_key,
                params=dict(row.params or {}),
                lane=row.lane,
                attempts=row.attempts,
            )
            for row in rows
        ]

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
        self,
        messages: list[OutboundMessage],
        gate: asyncio.Semaphore,
        on_tail: Callable[[], None] | None = None,
    ) -> list[_Result]:
        """Send a batch through ``gate``'s slots; ``on_tail`` is called once the last message
        holds a slot (the batch's tail: from then on slots fall free)."""
        results: list[_Result] = []
        last = messages[-1].id

        async def deliver(message: OutboundMessage) -> None:
            async with gate:
                if on_tail is not None and message.id == last:
                    on_tail()
                try:
                    results.append(await self._deliver(message))
                except Exception as error:  # one bad row must not stop the batch
                    log.exception("outbox message %s: delivery failed", message.id)
                    results.append(self._retry(message, f"{type(error).__name__}: {error}", None))

        # Lane order holds within a batch (and from one batch to the next): tasks take the
        # semaphore's slots in the order they asked for them.
        await asyncio.gather(*(deliver(message) for message in messages))
        return results

    async def _record_safely(self, results: list[_Result]) -> None:
        try:
            await self.record(results)
        except Exception:  # the rows stay ``sending`` and are claimed again after their lease
            log.exception(
                "dispatcher %s: recording %d results failed", self.worker_id, len(results)
            )

    async def _send_then_record(
        self,
        messages: list[OutboundMessage],
        gate: asyncio.Semaphore,
        on_tail: Callable[[], None],
        previous: asyncio.Future[None] | None,
    ) -> None:
        results = await self._send_batch(messages, gate, on_tail)
        if previous is not None:
            await previous  # one write at a time, in batch order
        await self._record_safely(results)

    async def run_forever(
        self, stop_event: asyncio.Event, on_batch: Callable[[int], None] | None = None
    ) -> None:
        """Dispatch until ``stop_event`` is set; batches in flight are finished and recorded.

        ``on_batch`` is told how many messages each non-empty batch held (the worker prints it).

        Pipelined: the next batch is claimed as soon as the current one is down to its tail,
        its messages queue for the same ``concurrency`` slots behind the current one's, and
        each batch's results are written while later ones send. The database round trips
        overlap the sending and no slot idles between batches. A critical message queued
        meanwhile waits for at most the current batch and the one claimed at its tail, which
        is why batches are small (and, paced, about ``max_batch_seconds`` long).
        """
        gate = asyncio.Semaphore(max(1, self.settings.concurrency))
        chain: asyncio.Future[None] | None = None  # the latest batch's send-then-record
        try:
            while not stop_event.is_set():
                try:
                    messages = await self.claim_batch(self.claim_limit())
                except Exception:  # the database went away; keep the worker alive, try again
                    log.exception("dispatcher %s: claiming failed", self.worker_id)
                    messages = []
                if not messages:
                    try:
                        await asyncio.wait_for(stop_event.wait(), self.settings.idle_poll_seconds)
                    except TimeoutError:
                        pass
                    continue
                tail = asyncio.Event()
                chain = asyncio.ensure_future(
                    self._send_then_record(messages, gate, tail.set, chain)
                )
                if on_batch is not None:
                    on_batch(len(messages))
                tail_reached = asyncio.ensure_future(tail.wait())
                await asyncio.wait([chain, tail_reached], return_when=asyncio.FIRST_COMPLETED)
                tail_reached.cancel()
        finally:
            if chain is not None:
                await chain

    def _route(self, message: OutboundMessage) -> tuple[Channel, ChannelAdapter | None]:
        """Telegram when the recipient has an active link and a bot is configured; else inbox."""
        if message.channel is Channel.TELEGRAM and message.chat_id is not None:
            telegram = self.channels.get(Channel.TELEGRAM)
            if telegram is not None:
                return Channel.TELEGRAM, telegram
        return Channel.INBOX, self.channels.get(Channel.INBOX)

    async def _deliver(self, message: OutboundMessage) -> _Result:
        channel, adapter = self._route(message)
        if adapter is None:
            return self._failed(message, NO_CHANNEL_ERROR.format(channel=channel.value))
        if channel is Channel.TELEGRAM:
            assert message.chat_id is not None
            # A chat with a queue of its own would hold a send slot (and, at worst, the lease)
            # while it waits; give the message back, not counting an attempt, to be claimed
            # when the chat is free.
            delay = self.pacer.chat_delay(message.chat_id)
            if delay > min(self.settings.max_chat_wait_seconds, self.settings.lease_seconds / 2):
                return _Result(_DEFERRED, message, at=self._after(delay))
            await self.pacer.wait(message.chat_id)
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
            return _Result(_BLOCKED, message, error=error.error[:_ERROR_LIMIT])
        except PermanentFailure as error:
            return self._failed(message, error.error)
        except Exception as error:  # an adapter bug or an unforeseen error: retry, keep it
            log.exception("outbox message %s: unexpected error from %s", message.id, channel)
            return self._retry(message, f"{type(error).__name__}: {error}", None)
        provider_id = result.provider_message_id if channel is Channel.TELEGRAM else None
        return _Result(_SENT, message, at=self.clock.now(), provider_message_id=provider_id)

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
        """Write a batch's results in one transaction, one executemany per kind of outcome.

        Each UPDATE is guarded (``state = sending``, ``claimed_by`` this worker, ``attempts``
        as claimed), so a result whose claim another worker took over after the lease ran out
        changes nothing; a blocked recipient's link is switched off only with a result that
        was still ours.
        """
        if not results:
            return
        table = OutboxMessage.__table__
        by_id = {result.message.id: result for result in results}
        async with self._session_factory() as session:
            connection = await session.connection()
            dialect = connection.dialect.name
            held = await connection.execute(
                select(table.c.id, table.c.attempts).where(
                    _among(table.c.id, list(by_id), dialect),
                    table.c.state == OutboxState.SENDING,
                    table.c.claimed_by == self.worker_id,
                )
            )
            ours = {row.id for row in held if row.attempts == by_id[row.id].message.attempts}
            if len(ours) < len(by_id):
                log.warning(
                    "dispatcher %s: %d outbox results not recorded: the claims were taken over",
                    self.worker_id,
                    len(by_id) - len(ours),
                )
            grouped: dict[str, list[dict[str, Any]]] = {}
            for result in results:
                if result.message.id in ours:
                    grouped.setdefault(result.outcome, []).append(result.parameters())
            for outcome, parameters in grouped.items():
                statement = _RECORD_STATEMENTS[outcome].where(table.c.claimed_by == self.worker_id)
                await connection.execute(statement, parameters)
            blocked = [r for r in results if r.outcome == _BLOCKED and r.message.id in ours]
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


_SENT, _RETRY, _DEFERRED, _FAILED, _BLOCKED = "sent", "retry", "deferred", "failed", "blocked"


@dataclass(frozen=True)
class _Result:
    """What happened to one claimed message, waiting to be written with the rest of its batch."""

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
    }


_RECORD_STATEMENTS = _record_statements()


def _postgresql_record(assignments: str) -> Any:
    return text(
        f"""UPDATE outbox_messages AS o SET {assignments}
        FROM unnest(CAST(:ids AS BIGINT[]), CAST(:attempts AS INTEGER[]),
                    CAST(:ats AS TIMESTAMPTZ[]), CAST(:errors AS TEXT[]),
                    CAST(:provider_ids AS BIGINT[])) AS r(id, attempts, at, error, provider_id)
        WHERE o.id = r.id AND o.state = '{OutboxState.SENDING.value}'
          AND o.claimed_by = :worker AND o.attempts = r.attempts"""
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
    _FAILED: _postgresql_record(
        f"state = '{OutboxState.FAILED.value}', lease_until = NULL, last_error = r.error"
    ),
}
_POSTGRESQL_RECORD[_BLOCKED] = _POSTGRESQL_RECORD[_FAILED]
