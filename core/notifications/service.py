"""The outbox at work inside a process: the schedulers' loop beside the dispatcher's.

Both run modes use this: the single-machine default process (``drive-assist run``) and any
number of ``drive-assist worker`` processes against PostgreSQL. Every process may run the
schedulers: each message has a dedupe key, so two processes deriving the same reminder queue it
once (see ``core.notifications.schedulers``). A process started with ``schedulers=False`` only
sends.

A failing round (the database restarting, say) is logged and tried again at the next interval;
it never stops the process. Setting ``stop`` ends both loops; the dispatcher finishes the sends
in flight first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from core.notifications.dispatcher import Dispatcher
from core.notifications.schedulers import run_all_schedulers
from core.uow import UnitOfWork

log = logging.getLogger(__name__)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    """Sleep for ``seconds`` or until ``stop`` is set, whichever comes first."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def run_schedulers_forever(
    *,
    uow_factory: Callable[[], UnitOfWork],
    stop: asyncio.Event,
    interval_seconds: float,
    on_round: Callable[[dict[str, int]], None] | None = None,
) -> int:
    """Run every scheduler now and then each ``interval_seconds`` until ``stop``; rounds run."""
    rounds = 0
    while not stop.is_set():
        try:
            counts = await run_all_schedulers(uow_factory=uow_factory)
        except Exception:  # the next round tries again; a scheduler bug must not stop sending
            log.exception("scheduler round failed")
        else:
            rounds += 1
            if on_round is not None:
                on_round(counts)
        await _wait(stop, interval_seconds)
    return rounds


async def run_every(
    job: Callable[[], Awaitable[object]], *, stop: asyncio.Event, interval_seconds: float, name: str
) -> None:
    """Run ``job`` now and then each ``interval_seconds`` until ``stop``; a failure is logged and
    the next round tries again (the audit chain's checkpoints, say)."""
    while not stop.is_set():
        try:
            await job()
        except Exception:
            log.exception("%s failed", name)
        await _wait(stop, interval_seconds)


async def run_outbox(
    *,
    dispatcher: Dispatcher,
    uow_factory: Callable[[], UnitOfWork],
    stop: asyncio.Event,
    schedulers: bool = True,
    scheduler_interval_seconds: float = 60.0,
    on_batch: Callable[[int], None] | None = None,
    on_round: Callable[[dict[str, int]], None] | None = None,
    checkpoint: Callable[[], Awaitable[object]] | None = None,
    checkpoint_interval_seconds: float = 3600.0,
) -> None:
    """Dispatch (and, unless told not to, schedule) until ``stop`` is set; with ``checkpoint``,
    also write the audit chain's checkpoint every ``checkpoint_interval_seconds``."""
    loops: list[Awaitable[object]] = [dispatcher.run_forever(stop, on_batch=on_batch)]
    if checkpoint is not None:
        loops.append(
            run_every(
                checkpoint,
                stop=stop,
                interval_seconds=checkpoint_interval_seconds,
                name="audit checkpoint",
            )
        )
    if schedulers:
        loops.append(
            run_schedulers_forever(
                uow_factory=uow_factory,
                stop=stop,
                interval_seconds=scheduler_interval_seconds,
                on_round=on_round,
            )
        )
    await asyncio.gather(*loops)
