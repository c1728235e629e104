"""The outbox dispatcher: claims due messages in lane order, sends them, records what happened.

It runs inside the default single-machine process or as any number of ``drive-assist worker``
processes against PostgreSQL. Three steps, pipelined by ``run_forever`` (``run_once`` does one
batch start to finish):

1. **Claim** a batch of due rows, lane first (``outbox_sql.claim_due``): they become
   ``sending`` with a lease and this worker's name, committed before anything is sent. While a
   batch sends, ``run_forever`` also claims from the critical lane alone every
   ``critical_poll_seconds``, and a critical message goes before the normal ones already
   claimed, so one queued behind thousands of normal ones waits about one poll.

2. **Send.** Claimed messages wait in this process, most urgent first, in three queues:
   Telegram's, GOV.UK Notify's (email and text messages) and the in-app inbox's (a Telegram
   message whose recipient has no active link, and every message when no bot is configured,
   goes to the inbox; so does an email or text message when Notify is not set up). One loop
   serves each queue (``pipeline.Pipeline.send_loop``): it waits for the pacer's next slot,
   then takes the most urgent message waiting and sends it in a task of its own, up to
   ``concurrency`` at once. Telegram's pacer keeps Telegram's limits
   (``core.notifications.pacer``), Notify's keeps Notify's (3,000 a minute per API key), and
   the inbox's never waits, so no queue is held up by another's pacing. A Telegram message
   whose chat may not receive yet goes back to the outbox until it may, without counting an
   attempt, and its slot goes to the next.

3. **Record**: ``sent`` (with ``sent_at`` and Telegram's message id); back to ``queued`` with
   exponential backoff and jitter (or the provider's ``retry_after``) for a passing failure;
   ``failed`` with ``last_error`` for a permanent one or after ``max_attempts``; and when the
   recipient blocked the bot, their Telegram link switched off, so what follows goes to their
   inbox, and the message ``failed``, or, for a critical one, back to ``queued`` on the inbox
   channel, so an alert is never lost with the link. Results are written whole batches at a
   time while later batches send (``outbox_sql.record_results``), and only while this worker
   still holds the claim.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import Clock
from core.enums import LANE_ORDER, NOTIFY_CHANNELS, Channel, Lane
from core.notifications.channels import (
    ChannelAdapter,
    OutboundMessage,
    PermanentFailure,
    RecipientBlocked,
    RetryLater,
)
from core.notifications.outbox_sql import DeliveryResult, Outcome, claim_due, record_results
from core.notifications.pacer import UNPACED, Pacer, SendPacer, Unpaced
from core.notifications.pipeline import Pipeline
from core.settings import Settings

log = logging.getLogger(__name__)

NO_CHANNEL_ERROR = "no channel configured for {channel}"
_ERROR_LIMIT = 2000  # last_error is for admins; a provider's essay is cut short


@dataclass(frozen=True)
class DispatchSettings:
    global_rate: float = 30.0  # messages a second, overall
    per_chat_interval: float = 1.0  # seconds between two messages to one chat
    pacing: bool = True
    max_attempts: int = 5
    lease_seconds: float = 60.0
    concurrency: int = 32  # Telegram sends in flight; the inbox has a few of its own
    batch_size: int = 500  # unpaced; paced, a batch holds max_batch_seconds of sends
    backoff_base_seconds: float = 5.0  # first retry after 2.5-5 s, then doubling
    backoff_max_seconds: float = 3600.0
    idle_poll_seconds: float = 1.0  # run_forever's wait when nothing is due
    critical_poll_seconds: float = 0.2  # busy, run_forever checks the critical lane this often
    max_batch_seconds: float = 0.35  # paced, a batch holds about this many seconds of sends
    notify_rate_per_minute: float = 3000.0  # email and text messages, through GOV.UK Notify
    notify_concurrency: int = 8  # Notify sends in flight (each in a worker thread)

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
            notify_rate_per_minute=float(settings.notify_rate_per_minute),
        )


def backoff_seconds(
    attempts: int, settings: DispatchSettings, rng: random.Random | None = None
) -> float:
    """Exponential backoff with "equal jitter": between half and all of base * 2^(attempts-1)."""
    ceiling = min(
        settings.backoff_max_seconds, settings.backoff_base_seconds * 2.0 ** max(attempts - 1, 0)
    )
    uniform = rng.uniform if rng is not None else random.uniform
    return ceiling / 2 + uniform(0, ceiling / 2)


class HasSessionFactory(Protocol):
    """Where the dispatcher opens its sessions: the bootstrap ``Container``, or a test's."""

    @property
    def session_factory(self) -> async_sessionmaker[AsyncSession]: ...


class Dispatcher:
    def __init__(
        self,
        database: HasSessionFactory,
        clock: Clock,
        channels: Mapping[Channel, ChannelAdapter],
        settings: DispatchSettings = DispatchSettings(),  # noqa: B008 (frozen: one is enough)
        worker_id: str = "dispatcher",
        *,
        pacer: SendPacer | None = None,
        notify_pacer: SendPacer | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """``pacer`` paces Telegram's sends; by default a :class:`Pacer` from ``settings``, or
        none when ``settings.pacing`` is off. ``notify_pacer`` paces email and text messages
        together (one Notify API key, one limit), apart from Telegram, so a backlog on one
        never slows the other."""
        self._session_factory = database.session_factory
        self.clock = clock
        self.channels = dict(channels)
        self.settings = settings
        self.worker_id = worker_id
        self._rng = rng or random.Random()
        self.pacer: SendPacer = pacer or (
            Pacer(rate=settings.global_rate, per_chat_interval=settings.per_chat_interval)
            if settings.pacing and settings.global_rate > 0
            else UNPACED
        )
        notify_rate = settings.notify_rate_per_minute / 60.0
        self.notify_pacer: SendPacer = notify_pacer or (
            Pacer(rate=notify_rate, per_chat_interval=0.0)
            if settings.pacing and notify_rate > 0
            else UNPACED
        )

    async def claim_batch(
        self, limit: int | None = None, *, critical_only: bool = False
    ) -> list[OutboundMessage]:
        """Claim up to ``limit`` due messages for this worker, committed before returning;
        ``critical_only`` claims from the critical lane alone (a cheap index range scan)."""
        now = self.clock.now()
        async with self._session_factory() as session:
            return await claim_due(
                session,
                now=now,
                lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                worker_id=self.worker_id,
                limit=limit or self.settings.batch_size,
                max_rank=LANE_ORDER[Lane.CRITICAL] if critical_only else max(LANE_ORDER.values()),
            )

    def claim_limit(self) -> int:
        """Paced, a batch holds about ``max_batch_seconds`` of sends, so a critical message
        queued behind a long broadcast waits about that long, not ``batch_size / rate``."""
        limit = max(1, self.settings.batch_size)
        if not isinstance(self.pacer, Unpaced):
            paced = math.ceil(self.settings.global_rate * self.settings.max_batch_seconds)
            limit = min(limit, max(1, paced))
        return limit

    async def run_once(self) -> int:
        """Claim one batch, send it, record every result. Returns how many were claimed."""
        messages = await self.claim_batch(self.claim_limit())
        if messages:
            pipeline = Pipeline(self)
            pipeline.put(messages)
            await pipeline.run(until_stopped=None)
        return len(messages)

    async def run_forever(
        self, stop_event: asyncio.Event, on_batch: Callable[[int], None] | None = None
    ) -> None:
        """Dispatch until ``stop_event`` is set; messages claimed by then are sent and recorded.

        ``on_batch`` is told how many messages each non-empty claim held (the worker prints it).
        The next batch is claimed when the local queues are down to half a batch (never fewer
        than ``concurrency`` messages), so no send waits on a claim's round trip; while they
        are longer, the critical lane alone is checked every ``critical_poll_seconds``. A
        critical message queued behind any number of normal ones therefore waits at most one
        poll, one claim and the next slot.
        """
        await Pipeline(self, on_batch).run(until_stopped=stop_event)

    def route(self, message: OutboundMessage) -> Channel:
        """Telegram when the recipient has an active link and a bot is configured; email or
        text message when Notify is set up for it; else the inbox."""
        channel = message.channel
        if channel is Channel.TELEGRAM:
            if message.chat_id is not None and Channel.TELEGRAM in self.channels:
                return Channel.TELEGRAM
        elif channel in NOTIFY_CHANNELS and channel in self.channels:
            return channel
        return Channel.INBOX

    async def wait_for_chat(
        self, message: OutboundMessage, pacer: SendPacer
    ) -> DeliveryResult | None:
        """None when the message's chat may receive now (and it is now taken for this send);
        otherwise the message goes back to the outbox until it may, its attempt not counted
        (waiting here would hold a send in flight and, at worst, the lease)."""
        if message.chat_id is None or message.channel is not Channel.TELEGRAM:
            return None  # only Telegram limits a chat
        delay = await pacer.take_chat(message.chat_id)
        if delay <= 0:
            return None
        return DeliveryResult(Outcome.DEFERRED, message, at=self._after(delay))

    async def deliver(self, message: OutboundMessage, pacer: SendPacer) -> DeliveryResult:
        """Send one message through its channel (its chat already taken) and say what happened;
        never raises: one bad row must not stop the others."""
        channel = self.route(message)
        adapter = self.channels.get(channel)
        if adapter is None:
            return self._failed(message, NO_CHANNEL_ERROR.format(channel=channel.value))
        chat_id = message.chat_id if message.channel is Channel.TELEGRAM else None
        try:
            try:
                result = await adapter.send(message)
            finally:
                if chat_id is not None:
                    await pacer.sent(chat_id)
        except RetryLater as error:
            if error.retry_after is not None and chat_id is not None:
                await pacer.hold_chat(chat_id, error.retry_after)
            return self.retry(message, error.error, error.retry_after)
        except RecipientBlocked as error:
            if message.lane is Lane.CRITICAL:
                # An alert must not be lost with the link: queue it again for the inbox.
                return DeliveryResult(
                    Outcome.REROUTED, message, self.clock.now(), error.error[:_ERROR_LIMIT]
                )
            return DeliveryResult(Outcome.BLOCKED, message, error=error.error[:_ERROR_LIMIT])
        except PermanentFailure as error:
            return self._failed(message, error.error)
        except Exception as error:  # an adapter bug or an unforeseen error: retry, keep it
            log.exception("outbox message %s: unexpected error from %s", message.id, channel)
            return self.retry(message, f"{type(error).__name__}: {error}", None)
        provider_id = result.provider_message_id if channel is Channel.TELEGRAM else None
        return DeliveryResult(Outcome.SENT, message, self.clock.now(), None, provider_id)

    def _after(self, seconds: float) -> datetime:
        return self.clock.now() + timedelta(seconds=seconds)

    def _failed(self, message: OutboundMessage, error: str) -> DeliveryResult:
        return DeliveryResult(Outcome.FAILED, message, error=error[:_ERROR_LIMIT])

    def retry(
        self, message: OutboundMessage, error: str, retry_after: float | None
    ) -> DeliveryResult:
        if message.attempts >= self.settings.max_attempts:
            return self._failed(message, error)
        delay = backoff_seconds(message.attempts, self.settings, self._rng)
        if retry_after is not None:
            # Flood control: never earlier than Telegram asked, plus a little jitter.
            delay = retry_after + self._rng.uniform(0, min(1.0, retry_after / 10 + 0.1))
        return DeliveryResult(
            Outcome.RETRY, message, at=self._after(delay), error=error[:_ERROR_LIMIT]
        )

    async def record(self, results: list[DeliveryResult]) -> None:
        """Write results in one transaction (``outbox_sql.record_results``)."""
        if not results:
            return
        async with self._session_factory() as session:
            connection = await session.connection()
            recorded = await record_results(
                connection, results, worker_id=self.worker_id, now=self.clock.now()
            )
            await session.commit()
        if recorded < len(results):
            log.warning(
                "dispatcher %s: %d outbox results not recorded: the claims were taken over",
                self.worker_id,
                len(results) - recorded,
            )
