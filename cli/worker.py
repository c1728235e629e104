"""``drive-assist worker``: a process that drains the outbox and runs the schedulers.

Run one beside the default process, or any number of them against PostgreSQL: they claim with
``SKIP LOCKED`` and never send a message twice, and the schedulers' dedupe keys let every
worker run them. Stops on SIGTERM or SIGINT after finishing the sends in flight.

``drive-assist run`` uses :func:`serve_outbox` too, so the single-machine default process sends
its own notifications.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack

import typer

from cli.common import _, console, run_with_container, translator
from cli.startup_checks import refuse_unsafe_secrets
from core.bootstrap import Container
from core.enums import Channel
from core.notifications.channels import ChannelAdapter, InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.schedulers import run_all_schedulers
from core.notifications.service import run_outbox
from core.schemas.actor import Actor
from core.services.audit_checkpoints import CheckpointStore, write_audit_checkpoint


def _print_handled(count: int) -> None:
    console.print(translator.ngettext("Handled {n} message.", "Handled {n} messages.", count))


def _print_queued(counts: dict[str, int]) -> None:
    queued = sum(counts.values())
    if queued:
        console.print(
            translator.ngettext("Queued {n} notification.", "Queued {n} notifications.", queued)
        )


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def outbox_dispatcher(container: Container, stack: AsyncExitStack) -> Dispatcher:
    """A dispatcher with the in-app inbox and, when a bot token is set, Telegram."""
    settings = container.settings
    channels: dict[Channel, ChannelAdapter] = {
        Channel.INBOX: InboxChannel(container.session_factory, container.clock)
    }
    if settings.telegram_bot_token:
        # Imported here so a process with no token needs no Telegram set-up at all.
        from bot.channel import TelegramChannel
        from bot.request import build_bot
        from ui.notifications import render

        bot = build_bot(
            settings.telegram_bot_token,
            settings.telegram_api_base_url,
            pool_size=max(settings.dispatch_concurrency, 1),
        )
        await stack.enter_async_context(bot)
        channels[Channel.TELEGRAM] = TelegramChannel(bot, render)
    else:
        console.print(_("No Telegram bot token is set: every message goes to the in-app inbox."))
    return Dispatcher(
        container,
        container.clock,
        channels,
        DispatchSettings.from_settings(settings),
        worker_id(),
    )


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (Ctrl+C), for a clean stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    return stop


async def serve_outbox(
    container: Container, stop: asyncio.Event, *, schedulers: bool, verbose: bool = True
) -> None:
    """Send (and schedule) notifications until ``stop`` is set."""
    async with AsyncExitStack() as stack:
        dispatcher = await outbox_dispatcher(container, stack)
        await run_outbox(
            dispatcher=dispatcher,
            uow_factory=container.uow,
            stop=stop,
            schedulers=schedulers,
            scheduler_interval_seconds=container.settings.scheduler_interval_seconds,
            on_batch=_print_handled if verbose else None,
            on_round=_print_queued if verbose else None,
            checkpoint=_checkpoint_writer(container) if schedulers else None,
            checkpoint_interval_seconds=container.settings.audit_checkpoint_interval_seconds,
        )


def _checkpoint_writer(container: Container) -> Callable[[], Awaitable[object]] | None:
    """The audit chain's checkpoint, written on a schedule beside the schedulers; None when no
    checkpoint key is set (demo mode: the secrets check requires one otherwise)."""
    store = CheckpointStore.from_settings(container.settings)
    if store.key is None:
        return None
    return lambda: write_audit_checkpoint(uow=container.uow(), actor=Actor.system(), store=store)


def freeze_start_up_objects() -> None:
    """Leave what starting made (modules, mappers, catalogs: most of the heap, alive as long
    as the process) out of the garbage collector's scans. A full collection then walks only
    what the work has made since; without this each one walked everything, and the claims,
    which make many objects at once, paid for it (a fifth of a claim's time)."""
    gc.collect()
    gc.freeze()


async def _work(container: Container, once: bool, schedulers: bool) -> int:
    freeze_start_up_objects()
    if once:
        if schedulers:
            _print_queued(await run_all_schedulers(uow_factory=container.uow))
        async with AsyncExitStack() as stack:
            dispatcher = await outbox_dispatcher(container, stack)
            total = 0
            while claimed := await dispatcher.run_once():
                total += claimed
            return total

    stop = stop_on_signals()
    console.print(_("Worker {worker} is sending. Stop it with Ctrl+C.", worker=worker_id()))
    await serve_outbox(container, stop, schedulers=schedulers)
    console.print(_("Worker stopped after finishing the messages in flight."))
    return 0


def register(app: typer.Typer) -> None:
    @app.command("worker", help=_("Send queued notifications until stopped."))
    def worker_command(
        once: bool = typer.Option(
            False, "--once", help=_("Queue and send what is due now, then stop.")
        ),
        schedulers: bool = typer.Option(
            True,
            "--schedulers/--no-schedulers",
            help=_("Also queue the reminders, digests and escalations the data calls for."),
        ),
    ) -> None:
        refuse_unsafe_secrets(needs_checkpoint_key=schedulers)  # it writes the checkpoints
        handled = run_with_container(lambda container: _work(container, once, schedulers))
        if once:
            _print_handled(handled)
