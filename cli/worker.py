"""``drive-assist worker``: a dispatcher process that drains the outbox.

Run one beside the default process, or any number of them against PostgreSQL (they claim with
``SKIP LOCKED`` and never send a message twice). Stops on SIGTERM or SIGINT after finishing the
sends in flight.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
from contextlib import AsyncExitStack

import typer

from cli.common import _, console, run_with_container, translator
from core.bootstrap import Container
from core.enums import Channel
from core.notifications.channels import ChannelAdapter, InboxChannel
from core.notifications.dispatcher import Dispatcher, DispatchSettings


def _print_handled(count: int) -> None:
    console.print(translator.ngettext("Handled {n} message.", "Handled {n} messages.", count))


def _worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


async def _work(container: Container, once: bool) -> int:
    settings = container.settings
    channels: dict[Channel, ChannelAdapter] = {
        Channel.INBOX: InboxChannel(container.session_factory, container.clock)
    }
    async with AsyncExitStack() as stack:
        if settings.telegram_bot_token:
            # Imported here so a worker with no token needs no Telegram set-up at all.
            from telegram import Bot

            from bot.channel import TelegramChannel
            from ui.notifications import render

            bot = Bot(token=settings.telegram_bot_token, base_url=settings.telegram_api_base_url)
            await stack.enter_async_context(bot)
            channels[Channel.TELEGRAM] = TelegramChannel(bot, render)
        else:
            console.print(
                _("No Telegram bot token is set: every message goes to the in-app inbox.")
            )
        dispatcher = Dispatcher(
            container,
            container.clock,
            channels,
            DispatchSettings.from_settings(settings),
            _worker_id(),
        )
        if once:
            total = 0
            while claimed := await dispatcher.run_once():
                total += claimed
            return total

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, stop.set)
        console.print(_("Worker {worker} is sending. Stop it with Ctrl+C.", worker=_worker_id()))

        await dispatcher.run_forever(stop, on_batch=_print_handled)
        console.print(_("Worker stopped after finishing the messages in flight."))
        return 0


def register(app: typer.Typer) -> None:
    @app.command("worker", help=_("Send queued notifications until stopped."))
    def worker_command(
        once: bool = typer.Option(False, "--once", help=_("Send what is due now, then stop.")),
    ) -> None:
        handled = run_with_container(lambda container: _work(container, once))
        if once:
            _print_handled(handled)
