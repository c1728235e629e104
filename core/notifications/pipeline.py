"""One run of the dispatcher (``Dispatcher.run_forever`` or ``run_once``): the claimer, one send
loop for each of Telegram, GOV.UK Notify (email and text messages) and the in-app inbox, and
the recorder, with the queues between them.

Claimed messages wait here, most urgent first (by lane, then in claim order), in three queues
by where they will go, so the inbox, which has no rate limit, never waits behind Telegram's
pacing, and Telegram and Notify, each with limits of its own, never wait behind each other.
Every queue is served by the same loop (:meth:`Pipeline.send_loop`) with a different pacer.
A claim's results go to the recorder together once its last message is done; the recorder
writes whatever has come in, one transaction at a time, while sending goes on.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.enums import LANE_ORDER, Channel
from core.notifications.channels import OutboundMessage
from core.notifications.outbox_sql import DeliveryResult
from core.notifications.pacer import UNPACED, SendPacer

if TYPE_CHECKING:
    from core.notifications.dispatcher import Dispatcher

log = logging.getLogger(__name__)

# Inbox sends in flight: an inbox delivery is one short insert, so a few keep up with any
# backlog, and each holds a database connection while it writes.
_INBOX_IN_FLIGHT = 4


@dataclass(slots=True, eq=False)
class _Batch:
    """One claim's messages; its results go to the recorder together, when the last is in."""

    size: int
    results: list[DeliveryResult] = field(default_factory=list)


class _Waiting:
    """Claimed messages waiting in this process, most urgent first: by lane, then claim order.
    One reader (a send loop); ``close`` lets it finish what is left and stop."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, OutboundMessage, _Batch]] = []
        self._claim_order = itertools.count()
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return len(self._heap)

    def put(self, message: OutboundMessage, batch: _Batch) -> None:
        rank = LANE_ORDER[message.lane]
        heapq.heappush(self._heap, (rank, next(self._claim_order), message, batch))
        self._changed.set()

    def close(self) -> None:
        self._closed = True
        self._changed.set()

    async def ready(self) -> bool:
        """Wait until a message is waiting (True), or the queue is closed and empty (False)."""
        while not self._heap:
            if self._closed:
                return False
            self._changed.clear()
            await self._changed.wait()
        return True

    def pop(self) -> tuple[OutboundMessage, _Batch] | None:
        if not self._heap:
            return None
        _rank, _order, message, batch = heapq.heappop(self._heap)
        return message, batch


class Pipeline:
    """One ``run_forever`` (or ``run_once``): the claimer, a send loop for each of Telegram,
    Notify and the inbox, and the recorder, with the queues between them."""

    def __init__(
        self, dispatcher: Dispatcher, on_batch: Callable[[int], None] | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self.settings = dispatcher.settings
        self.on_batch = on_batch
        self.telegram = _Waiting()
        self.notify = _Waiting()
        self.inbox = _Waiting()
        self.finished_batches: asyncio.Queue[list[DeliveryResult] | None] = asyncio.Queue()
        concurrency = max(1, self.settings.concurrency)
        # Claim the next batch when this few are left waiting: half a batch, and never fewer
        # than the sends in flight, so there is work for the claim's round trip.
        self.refill_at = max(concurrency, dispatcher.claim_limit() // 2)
        self.running_low = asyncio.Event()

    def waiting(self) -> int:
        return len(self.telegram) + len(self.notify) + len(self.inbox)

    def put(self, messages: list[OutboundMessage]) -> None:
        batch = _Batch(len(messages))
        route = self.dispatcher.route
        for message in messages:
            channel = route(message)
            if channel is Channel.TELEGRAM:
                self.telegram.put(message, batch)
            elif channel is Channel.INBOX:
                self.inbox.put(message, batch)
            else:
                self.notify.put(message, batch)
        if self.on_batch is not None:
            self.on_batch(len(messages))

    async def run(self, *, until_stopped: asyncio.Event | None) -> None:
        """Send and record what is waiting; with ``until_stopped``, claim more until it is set.
        Everything claimed is sent and recorded before this returns."""
        concurrency = max(1, self.settings.concurrency)
        senders = [
            asyncio.ensure_future(
                self.send_loop(self.telegram, self.dispatcher.pacer, concurrency)
            ),
            asyncio.ensure_future(
                self.send_loop(
                    self.notify,
                    self.dispatcher.notify_pacer,
                    max(1, self.settings.notify_concurrency),
                )
            ),
            asyncio.ensure_future(self.send_loop(self.inbox, UNPACED, _INBOX_IN_FLIGHT)),
        ]
        recorder = asyncio.ensure_future(self.record_loop())
        try:
            if until_stopped is not None:
                await self.claim_loop(until_stopped)
        finally:
            self.telegram.close()
            self.notify.close()
            self.inbox.close()
            await asyncio.gather(*senders)
            self.finished_batches.put_nowait(None)
            await recorder

    async def claim_loop(self, stop_event: asyncio.Event) -> None:
        while not stop_event.is_set():
            if self.waiting() > self.refill_at:
                # Busy: wait to run low, looking at the critical lane meanwhile.
                self.running_low.clear()
                try:
                    await asyncio.wait_for(
                        self.running_low.wait(), self.settings.critical_poll_seconds
                    )
                except TimeoutError:
                    if not stop_event.is_set():
                        await self._claim(critical_only=True)
                continue
            if not await self._claim(critical_only=False):
                try:
                    await asyncio.wait_for(stop_event.wait(), self.settings.idle_poll_seconds)
                except TimeoutError:
                    pass

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
            self.put(messages)
        return len(messages)

    async def send_loop(self, waiting: _Waiting, pacer: SendPacer, in_flight: int) -> None:
        """Send what is waiting, ``in_flight`` at once, until the queue is closed and empty.

        Each send takes the pacer's next slot (at once when unpaced) before its message is
        chosen, so the slot carries the most urgent message waiting when it comes: a critical
        message claimed while the loop waited goes next. Choosing first and then waiting for a
        slot would put it behind every message already chosen, about ``in_flight / rate``
        seconds. A message whose chat is busy goes back to the outbox and the slot goes to the
        next message; a slot with no message that can use it is left unused."""
        free = asyncio.Semaphore(in_flight)
        sending: set[asyncio.Future[None]] = set()

        def finished(task: asyncio.Future[None]) -> None:
            sending.discard(task)
            free.release()

        while await waiting.ready():
            await free.acquire()
            await pacer.next_slot()
            while (item := waiting.pop()) is not None:
                message, batch = item
                if self.waiting() <= self.refill_at:
                    self.running_low.set()
                given_back = await self.dispatcher.wait_for_chat(message, pacer)
                if given_back is None:
                    task = asyncio.ensure_future(self._send(message, batch, pacer))
                    sending.add(task)
                    task.add_done_callback(finished)
                    break
                self._done(batch, given_back)
            else:
                free.release()  # only messages for busy chats were waiting
        if sending:
            await asyncio.gather(*sending)

    async def _send(self, message: OutboundMessage, batch: _Batch, pacer: SendPacer) -> None:
        try:
            result = await self.dispatcher.deliver(message, pacer)
        except Exception as error:  # a bug must not stop the others or hold up the batch
            log.exception("outbox message %s: delivery failed", message.id)
            result = self.dispatcher.retry(message, f"{type(error).__name__}: {error}", None)
        self._done(batch, result)

    def _done(self, batch: _Batch, result: DeliveryResult) -> None:
        batch.results.append(result)
        if len(batch.results) == batch.size:
            self.finished_batches.put_nowait(batch.results)

    async def record_loop(self) -> None:
        """Write finished batches, whatever has come in at once, until told to stop (None)."""
        while True:
            results = await self.finished_batches.get()
            last = results is None
            batch = list(results or [])
            while not self.finished_batches.empty():
                more = self.finished_batches.get_nowait()
                last = last or more is None
                batch.extend(more or [])
            if batch:
                try:
                    await self.dispatcher.record(batch)
                except Exception:  # the rows stay ``sending`` and are claimed again later
                    log.exception(
                        "dispatcher %s: recording %d results failed",
                        self.dispatcher.worker_id,
                        len(batch),
                    )
            if last:
                return
