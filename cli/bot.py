"""``drive-assist bot``: run the Telegram bot (polling or webhook), or talk to its handlers in a
terminal.

The bot's main loop is ``processes.serve.serve_bot``, shared with ``drive-assist run`` and the web
backend, which run it beside the outbox in one process: it answers updates, and deletes old bot
messages for sites that ask.
"""

from __future__ import annotations

import logging
import re

import typer

from cli.common import _, console, err_console, run_with_container
from cli.startup_checks import refuse_unsafe_secrets
from core.bootstrap import Container
from core.enums import Face
from core.services import users
from core.settings import Settings
from processes.serve import serve_bot, serve_bot_console, stop_on_signals

_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{32,256}")


async def _console(container: Container, email: str) -> None:
    # A wrong address fails here, with the translated message, before the first prompt.
    await users.actor_for_email(uow=container.uow(), email=email, face=Face.BOT)
    console.print(
        _("Talking to the bot as {email}. Type a command such as /today; /quit ends.", email=email)
    )
    await serve_bot_console(container, email, write=console.print)


def settings_problem(settings: Settings, *, webhook: bool) -> str | None:
    """What keeps the bot from starting with these settings, in words; None when nothing."""
    if not settings.telegram_bot_token:
        return _(
            "TELEGRAM_BOT_TOKEN is not set. Put the bot's token from BotFather in that"
            " environment variable and try again."
        )
    if webhook and not settings.telegram_webhook_url:
        return _(
            "TELEGRAM_WEBHOOK_URL is not set. Put the public HTTPS address Telegram should send"
            " updates to in that environment variable and try again."
        )
    if webhook and not _SECRET_RE.fullmatch(settings.telegram_webhook_secret or ""):
        return _(
            "TELEGRAM_WEBHOOK_SECRET must be 32 to 256 characters of letters, digits, _ and -."
            " Make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
        )
    return None


def _log_to_console() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def register(app: typer.Typer) -> None:
    bot = typer.Typer(no_args_is_help=True, help=_("The Telegram bot."))
    app.add_typer(bot, name="bot")

    @bot.command("run", help=_("Run the Telegram bot (long polling) until stopped."))
    def run_command(
        webhook: bool = typer.Option(
            False,
            "--webhook",
            help=_("Receive updates on a webhook (TELEGRAM_WEBHOOK_URL) instead of polling."),
        ),
    ) -> None:
        problem = settings_problem(Settings(), webhook=webhook)
        if problem is not None:
            err_console.print(f"[red]{problem}[/red]")
            raise typer.Exit(code=1)
        refuse_unsafe_secrets(needs_bot_token=True, needs_webhook_secret=webhook)

        async def work(container: Container) -> None:
            _log_to_console()
            stop = stop_on_signals()
            await serve_bot(container, stop, webhook=webhook)

        run_with_container(work)

    @bot.command("console", help=_("Talk to the bot's handlers in this terminal, as one account."))
    def console_command(
        as_email: str = typer.Option(
            ..., "--as", help=_("Email address of the account to act as.")
        ),
    ) -> None:
        run_with_container(lambda container: _console(container, as_email))
