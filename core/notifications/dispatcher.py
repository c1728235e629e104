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
   goes to their inbox. A result is recorded only while this worker still holds the claim.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
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
    SendResult,
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
    concurrency: int = 16
    batch_size: int = 50
    backoff_base_seconds: float = 5.0  # first retry after 2.5-5 s, then doubling
    backoff_max_seconds: float = 3600.0
    idle_poll_seconds: float = 1.0  # run_forever's wait when nothing is due

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
    """

    def __init__(
        self,
        *,
        rate: float,
        per_chat_interval: float,
        enabled: bool = True,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.enabled = enabled and rate > 0
        self._interval = 1.0 / rate if rate > 0 else 0.0
        self._per_chat_interval = per_chat_interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._global_next = 0.0  # theoretical arrival time of the next global token
        self._chat_next: dict[int, float] = {}

    def chat_delay(self, chat_id: int) -> float:
        """Seconds until this chat may receive again, without reserving anything."""
        if not self.enabled:
            return 0.0
        return max(0.0, self._chat_next.get(chat_id, 0.0) - self._monotonic())

    def hold_chat(self, chat_id: int, seconds: float) -> None:
        """Keep a chat quiet for a while (Telegram said retry_after)."""
        until = self._monotonic() + seconds
        self._chat_next[chat_id] = max(self._chat_next.get(chat_id, 0.0), until)

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
        due = (
            select(OutboxMessage.id)
            .where(
                or_(
                    and_(
                        OutboxMessage.state == OutboxState.QUEUED,
                        OutboxMessage.not_before <= now,
                    ),
                    and_(
                        OutboxMessage.state == OutboxState.SENDING,
                        OutboxMessage.lease_until < now,
                    ),
                )
            )
            .order_by(OutboxMessage.lane_rank, OutboxMessage.not_before, OutboxMessage.id)
            .limit(limit)
        )
        claim = update(OutboxMessage).values(
            state=OutboxState.SENDING,
            lease_until=now + timedelta(seconds=self.settings.lease_seconds),
            claimed_by=self.worker_id,
            attempts=OutboxMessage.attempts + 1,
        )
        if skip_locked:
            ids = list((await session.scalars(due.with_for_update(skip_locked=True))).all())
            if not ids:
                await session.rollback()
                return []
            await session.execute(
                claim.where(OutboxMessage.id.in_(ids)).execution_options(synchronize_session=False)
            )
        else:
            result = await session.execute(
                claim.where(OutboxMessage.id.in_(due.scalar_subquery()))
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
            ids = list(result.scalars().all())
            if not ids:
                await session.commit()
                return []
        rows = (
            await session.execute(
                select(OutboxMessage, User.locale, TelegramLink.chat_id)
                .join(User, User.id == OutboxMessage.recipient_user_id)
                .outerjoin(
                    TelegramLink,
                    and_(
                        TelegramLink.user_id == OutboxMessage.recipient_user_id,
                        TelegramLink.is_active.is_(True),
                    ),
                )
                .where(OutboxMessage.id.in_(ids))
                .order_by(OutboxMessage.lane_rank, OutboxMessage.not_before, OutboxMessage.id)
                .execution_options(populate_existing=True)
            )
        ).all()
        await session.commit()
        return [
            OutboundMessage(
                id=row.id,
                recipient_user_id=row.recipient_user_id,
                channel=row.channel,
                chat_id=chat_id,
                locale=locale or Locale.EN_GB,
                kind=row.kind,
                message_key=row.message_key,
                params=dict(row.params or {}),
                lane=row.lane,
                attempts=row.attempts,
            )
            for row, locale, chat_id in rows
        ]

    # -- sending --------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim one batch, send it, record every result. Returns how many were claimed."""
        messages = await self.claim_batch(self.settings.batch_size)
        if not messages:
            return 0
        gate = asyncio.Semaphore(max(1, self.settings.concurrency))

        async def deliver(message: OutboundMessage) -> None:
            async with gate:
                try:
                    await self._deliver(message)
                except Exception:  # one bad row must not stop the batch
                    log.exception("outbox message %s: recording the result failed", message.id)

        # Lane order holds within a batch too: tasks take the semaphore in creation order.
        await asyncio.gather(*(deliver(message) for message in messages))
        return len(messages)

    async def run_forever(
        self, stop_event: asyncio.Event, on_batch: Callable[[int], None] | None = None
    ) -> None:
        """Dispatch until ``stop_event`` is set; the batch in flight is finished first.

        ``on_batch`` is told how many messages each non-empty batch held (the worker prints it).
        """
        while not stop_event.is_set():
            try:
                claimed = await self.run_once()
            except Exception:  # the database went away; keep the worker alive and try again
                log.exception("dispatcher %s: claiming failed", self.worker_id)
                claimed = 0
            if claimed:
                if on_batch is not None:
                    on_batch(claimed)
                continue
            try:
                await asyncio.wait_for(stop_event.wait(), self.settings.idle_poll_seconds)
            except TimeoutError:
                pass

    def _route(self, message: OutboundMessage) -> tuple[Channel, ChannelAdapter | None]:
        """Telegram when the recipient has an active link and a bot is configured; else inbox."""
        if message.channel is Channel.TELEGRAM and message.chat_id is not None:
            telegram = self.channels.get(Channel.TELEGRAM)
            if telegram is not None:
                return Channel.TELEGRAM, telegram
        return Channel.INBOX, self.channels.get(Channel.INBOX)

    async def _deliver(self, message: OutboundMessage) -> None:
        channel, adapter = self._route(message)
        if adapter is None:
            await self._record_failed(message, NO_CHANNEL_ERROR.format(channel=channel.value))
            return
        if channel is Channel.TELEGRAM:
            assert message.chat_id is not None
            # A chat with a long queue of its own would hold the lease past its end; give the
            # message back, not counting an attempt, to be claimed when the chat is free.
            delay = self.pacer.chat_delay(message.chat_id)
            if delay > self.settings.lease_seconds / 2:
                await self._record_deferred(message, delay)
                return
            await self.pacer.wait(message.chat_id)
        try:
            result = await adapter.send(message)
        except RetryLater as error:
            if error.retry_after is not None and message.chat_id is not None:
                self.pacer.hold_chat(message.chat_id, error.retry_after)
            await self._record_retry(message, error.error, error.retry_after)
        except RecipientBlocked as error:
            await self._record_blocked(message, error.error)
        except PermanentFailure as error:
            await self._record_failed(message, error.error)
        except Exception as error:  # an adapter bug or an unforeseen error: retry, keep it
            log.exception("outbox message %s: unexpected error from %s", message.id, channel)
            await self._record_retry(message, f"{type(error).__name__}: {error}", None)
        else:
            await self._record_sent(message, channel, result)

    # -- recording ------------------------------------------------------------------------

    def _ours(self, message: OutboundMessage) -> Any:
        """Still this worker's claim: not reclaimed by another after our lease ran out."""
        return update(OutboxMessage).where(
            OutboxMessage.id == message.id,
            OutboxMessage.state == OutboxState.SENDING,
            OutboxMessage.claimed_by == self.worker_id,
            OutboxMessage.attempts == message.attempts,
        )

    async def _write(self, statement: Any, *extra: Any) -> None:
        async with self._session_factory() as session:
            result = await session.execute(statement.execution_options(synchronize_session=False))
            if not result.rowcount:
                log.warning("outbox result not recorded: the claim was taken over")
            for other in extra:
                await session.execute(other.execution_options(synchronize_session=False))
            await session.commit()

    async def _record_sent(
        self, message: OutboundMessage, channel: Channel, result: SendResult
    ) -> None:
        await self._write(
            self._ours(message).values(
                state=OutboxState.SENT,
                sent_at=self.clock.now(),
                lease_until=None,
                telegram_message_id=(
                    result.provider_message_id if channel is Channel.TELEGRAM else None
                ),
            )
        )

    async def _record_retry(
        self, message: OutboundMessage, error: str, retry_after: float | None
    ) -> None:
        if message.attempts >= self.settings.max_attempts:
            await self._record_failed(message, error)
            return
        delay = backoff_seconds(message.attempts, self.settings, self._rng)
        if retry_after is not None:
            # Flood control: never earlier than Telegram asked, plus a little jitter.
            delay = retry_after + self._rng.uniform(0, min(1.0, retry_after / 10 + 0.1))
        await self._write(
            self._ours(message).values(
                state=OutboxState.QUEUED,
                not_before=self.clock.now() + timedelta(seconds=delay),
                lease_until=None,
                last_error=error[:_ERROR_LIMIT],
            )
        )

    async def _record_deferred(self, message: OutboundMessage, delay: float) -> None:
        await self._write(
            self._ours(message).values(
                state=OutboxState.QUEUED,
                not_before=self.clock.now() + timedelta(seconds=delay),
                lease_until=None,
                attempts=OutboxMessage.attempts - 1,
            )
        )

    async def _record_failed(self, message: OutboundMessage, error: str) -> None:
        await self._write(
            self._ours(message).values(
                state=OutboxState.FAILED, lease_until=None, last_error=error[:_ERROR_LIMIT]
            )
        )

    async def _record_blocked(self, message: OutboundMessage, error: str) -> None:
        now: datetime = self.clock.now()
        deactivate = (
            update(TelegramLink)
            .where(
                TelegramLink.user_id == message.recipient_user_id,
                TelegramLink.chat_id == message.chat_id,
                TelegramLink.is_active.is_(True),
            )
            .values(is_active=False, deactivated_at=now, deactivation_reason=BLOCKED_REASON)
        )
        await self._write(
            self._ours(message).values(
                state=OutboxState.FAILED, lease_until=None, last_error=error[:_ERROR_LIMIT]
            ),
            deactivate,
        )
