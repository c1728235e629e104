"""The notification service and the bot's main loop, shared by every process that runs them.

``serve_notifications`` is what ``drive-assist run`` and the web backend run: the outbox and
the schedulers (and the audit checkpoints beside them), plus the bot when a token is set.
``drive-assist worker`` runs ``serve_outbox`` alone, ``drive-assist bot run`` ``serve_bot``, and
``drive-assist bot console`` ``serve_bot_console``.

Progress goes to the ``processes`` logger (English, for operators, like every log line);
:func:`log_progress_to_stdout` shows it, for the CLI's terminal and the web server's log.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from urllib.parse import urlparse

from core.bootstrap import Container
from core.enums import Channel
from core.notifications.channels import ChannelAdapter, InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings
from core.notifications.notify_channels import NotifyChannel
from core.notifications.service import run_outbox
from core.notifications.shared_pacer import (
    PostgresPacer,
    RedisPacer,
    shared_telegram_pacer,
    telegram_pacer,
)
from core.schemas.actor import Actor
from core.services.audit_checkpoints import CheckpointStore, write_audit_checkpoint

log = logging.getLogger("processes")


def log_progress_to_stdout() -> None:
    """Show this package's INFO lines on standard output (once, however often it is called).

    The lines stop here rather than also reaching the root logger, so a process that configures
    the root logger as well does not print them twice.
    """
    if log.handlers:
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False


def log_handled(count: int) -> None:
    log.info("Handled %d message%s", count, "" if count == 1 else "s")


def log_queued(counts: dict[str, int]) -> None:
    if queued := sum(counts.values()):
        log.info("Queued %d notification%s", queued, "" if queued == 1 else "s")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (Ctrl+C), for a clean stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signal_number, stop.set)
    return stop


def freeze_start_up_objects() -> None:
    """Leave what starting made (modules, mappers, catalogs: most of the heap, alive as long
    as the process) out of the garbage collector's scans. A full collection then walks only
    what the work has made since; without this each one walked everything, and the claims,
    which make many objects at once, paid for it (a fifth of a claim's time)."""
    gc.collect()
    gc.freeze()


async def outbox_dispatcher(container: Container, stack: AsyncExitStack) -> Dispatcher:
    """A dispatcher with the in-app inbox and, when a bot token is set, Telegram."""
    settings = container.settings
    inbox = InboxChannel(container.session_factory, container.clock)
    channels: dict[Channel, ChannelAdapter] = {Channel.INBOX: inbox}
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
        zone = settings.timezone
        channels[Channel.TELEGRAM] = TelegramChannel(
            bot, lambda key, params, locale: render(key, params, locale, zone)
        )
        # Telegram's limits, shared with every other process sending with this token.
        pacer = telegram_pacer(settings)
        if isinstance(pacer, RedisPacer | PostgresPacer):
            stack.push_async_callback(pacer.aclose)
    else:
        log.info("No Telegram bot token is set: every message goes to the in-app inbox.")
        pacer = None
    channels.update(notify_channels(container, inbox))
    return Dispatcher(
        container,
        container.clock,
        channels,
        DispatchSettings.from_settings(settings),
        worker_id(),
        pacer=pacer,
    )


def notify_channels(container: Container, inbox: InboxChannel) -> dict[Channel, ChannelAdapter]:
    """Email and text messages through GOV.UK Notify, for whichever of them is set up."""
    from ui.notifications import render_subject, render_without_buttons

    zone = container.settings.timezone
    notify = container.notify
    return {
        channel: NotifyChannel(
            channel,
            notify,
            render=lambda key, params, locale: render_without_buttons(key, params, locale, zone),
            render_subject=lambda key, params, locale: render_subject(key, params, locale, zone),
            session_factory=container.session_factory,
            inbox=inbox,
        )
        for channel in sorted(notify.ready_channels)
    }


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
            on_batch=log_handled if verbose else None,
            on_round=log_queued if verbose else None,
            checkpoint=checkpoint_writer(container) if schedulers else None,
            checkpoint_interval_seconds=container.settings.audit_checkpoint_interval_seconds,
        )


def checkpoint_writer(container: Container) -> Callable[[], Awaitable[object]] | None:
    """The audit chain's checkpoint, written on a schedule beside the schedulers; None when no
    checkpoint key is set (demo mode: the secrets check requires one otherwise)."""
    store = CheckpointStore.from_settings(container.settings)
    if store.key is None:
        return None
    return lambda: write_audit_checkpoint(uow=container.uow(), actor=Actor.system(), store=store)


async def serve_bot(container: Container, stop: asyncio.Event, *, webhook: bool = False) -> None:
    """Answer updates until ``stop`` is set, and delete old bot messages meanwhile.

    Polling asks Telegram for updates (PTB calls deleteWebhook first, so a webhook left from
    before does not block it). Webhook mode listens on ``TELEGRAM_WEBHOOK_LISTEN`` and
    ``TELEGRAM_WEBHOOK_PORT`` and registers ``TELEGRAM_WEBHOOK_URL`` with setWebhook and the
    secret token; PTB answers 403 to any request without that token in
    ``X-Telegram-Bot-Api-Secret-Token``. The CLI checks the settings first
    (``cli.bot.settings_problem``).
    """
    from telegram import Update

    from bot.app import build_application
    from bot.jobs import run_deletion_job

    settings = container.settings
    assert settings.telegram_bot_token is not None
    application = build_application(
        container,
        token=settings.telegram_bot_token,
        base_url=settings.telegram_api_base_url,
        reply_pacer=shared_telegram_pacer(settings),  # closed by the application's shutdown
    )
    updater = application.updater
    assert updater is not None
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)  # publishes the command menu
        if webhook:
            url = settings.telegram_webhook_url or ""
            await updater.start_webhook(
                listen=settings.telegram_webhook_listen,
                port=settings.telegram_webhook_port,
                url_path=urlparse(url).path.lstrip("/"),
                webhook_url=url,
                secret_token=settings.telegram_webhook_secret,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            await updater.start_polling(allowed_updates=Update.ALL_TYPES)
        await application.start()
        await run_deletion_job(
            application.bot,
            container.uow,
            stop,
            interval=settings.bot_message_deletion_interval_seconds,
        )
    finally:
        if updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


async def serve_bot_console(
    container: Container, email: str, *, write: Callable[[str], None]
) -> None:
    """The bot's handlers in a terminal, as the account ``email``, until /quit."""
    from bot.console import run_console

    await run_console(container, email, write=write)


async def serve_notifications(container: Container, stop: asyncio.Event) -> None:
    """The outbox and schedulers, and the bot when a token is set, until ``stop``."""
    if not container.settings.telegram_bot_token:
        await serve_outbox(container, stop, schedulers=True)
        return

    async def bot_then_stop() -> None:
        try:
            await serve_bot(container, stop)
        finally:
            stop.set()  # a bot that cannot go on stops the whole process, cleanly

    log.info("The Telegram bot is answering messages (long polling).")
    async with asyncio.TaskGroup() as group:
        group.create_task(serve_outbox(container, stop, schedulers=True))
        group.create_task(bot_then_stop())
