"""``drive-assist run``: what ``make run`` starts, the single-machine default process.

It makes a usable database (migrate, seed the demo when it is empty, show who can sign in) and
then keeps running: it sends the notifications the data calls for, through the in-app inbox or
Telegram when a bot token is set, until Ctrl+C. With a bot token it also runs the bot itself
(long polling) in the same event loop, with the deletion of old bot messages.
``--setup-only`` stops after the database part.
"""

from __future__ import annotations

import asyncio

import typer

from cli.bot import serve_bot
from cli.common import _, console, run_with_container
from cli.demo import print_counts, print_sign_ins, seed_with_progress
from cli.worker import serve_outbox, stop_on_signals
from core.bootstrap import Container
from core.db.migrate import current_revision, upgrade
from core.demo import DEMO_PASSWORD, DemoSummary, database_is_empty, demo_accounts


async def _prepare(container: Container, seed: int) -> tuple[str | None, DemoSummary | None]:
    await upgrade(container.engine)
    summary = None
    if await database_is_empty(container):
        summary = await seed_with_progress(container, seed)
    return await current_revision(container.engine), summary


def _print_ready(revision: str | None, summary: DemoSummary | None) -> None:
    console.print(_("Database is at schema revision {revision}.", revision=revision))
    if summary is not None:
        print_counts(summary)
    else:
        console.print(_("The database already holds data; no demo data was added."))
    print_sign_ins(demo_accounts(), DEMO_PASSWORD)
    console.print(
        _("Try: drive-assist cases list --as {email} --open", email=demo_accounts()[0].email)
    )


async def _serve(container: Container, stop: asyncio.Event) -> None:
    """The outbox and schedulers, and the bot when a token is set, until ``stop``."""
    if not container.settings.telegram_bot_token:
        await serve_outbox(container, stop, schedulers=True)
        return

    async def bot_then_stop() -> None:
        try:
            await serve_bot(container, stop)
        finally:
            stop.set()  # a bot that cannot go on stops the whole process, cleanly

    console.print(_("The Telegram bot is answering messages (long polling)."))
    async with asyncio.TaskGroup() as group:
        group.create_task(serve_outbox(container, stop, schedulers=True))
        group.create_task(bot_then_stop())


def register(app: typer.Typer) -> None:
    @app.command("run", help=_("Migrate, seed the demo on first run, then send notifications."))
    def run_command(
        seed: int = typer.Option(42, "--seed", help=_("The same seed gives the same demo data.")),
        setup_only: bool = typer.Option(
            False, "--setup-only", help=_("Prepare the database, then stop.")
        ),
    ) -> None:
        async def work(container: Container) -> None:
            _print_ready(*await _prepare(container, seed))
            if setup_only:
                return
            stop = stop_on_signals()
            console.print(_("Drive Assist is running. Stop it with Ctrl+C."))
            await _serve(container, stop)
            console.print(_("Stopped after finishing the messages in flight."))

        run_with_container(work)
