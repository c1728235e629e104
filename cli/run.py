"""``drive-assist run``: what ``make run`` starts, the single-machine default process.

It makes a usable database (migrate, seed the demo when it is empty, show who can sign in) and
then serves the web app (Reflex, production build, front and back end on one port). The web
backend also sends the notifications the data calls for, through the in-app inbox or Telegram
when a bot token is set, and with a token runs the bot itself (long polling): see
``webapp.backend.notifications_lifespan``, which calls ``processes.serve.serve_notifications``.

``--setup-only`` stops after the database part; ``--no-web`` runs the notifications (and bot)
in this process instead of the web app, until Ctrl+C.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer

from cli.common import _, console, run_with_container
from cli.demo import print_counts, print_sign_ins, seed_with_progress
from cli.startup_checks import refuse_unsafe_secrets
from core.bootstrap import Container
from core.db.migrate import current_revision, upgrade
from core.services.auth import reseal_totp_secrets
from core.services.notification_channels import reseal_mobile_numbers
from core.settings import PROJECT_ROOT
from processes.serve import log_progress_to_stdout, serve_notifications, stop_on_signals
from seeding.demo import DEMO_PASSWORD, DemoSummary, database_is_empty, demo_accounts

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 3000
LOCAL_BUN = PROJECT_ROOT / ".tools" / "bun" / "node_modules" / "bun" / "bin" / "bun.exe"


async def _prepare(container: Container, seed: int) -> tuple[str | None, DemoSummary | None]:
    """Migrate; in demo mode, seed the demo into an empty database. Outside demo mode nothing
    is seeded: the demo's accounts share a published password."""
    await upgrade(container.engine)
    summary = None
    if container.settings.demo_mode and await database_is_empty(container):
        summary = await seed_with_progress(container, seed)
    # Sign-in secrets stored before sealing, or under a key since rotated, are sealed anew.
    await reseal_totp_secrets(uow=container.uow())
    await reseal_mobile_numbers(uow=container.uow())  # sealed with the same keys
    return await current_revision(container.engine), summary


def _print_ready(revision: str | None, summary: DemoSummary | None, demo_mode: bool) -> None:
    console.print(_("Database is at schema revision {revision}.", revision=revision))
    if not demo_mode:
        console.print(
            _(
                "Demo mode is off: no demo data or demo sign-ins. Add sites and staff with"
                " drive-assist sites and drive-assist users."
            )
        )
        return
    if summary is not None:
        print_counts(summary)
    else:
        console.print(_("The database already holds data; no demo data was added."))
    print_sign_ins(demo_accounts(), DEMO_PASSWORD)
    console.print(
        _("Try: drive-assist cases list --as {email} --open", email=demo_accounts()[0].email)
    )


def reflex_command(host: str, port: int) -> list[str]:
    """``reflex run`` in production mode: builds the frontend when it changed, then serves
    front and back end on ``port`` (Reflex 0.10 always uses one port in production)."""
    return [
        sys.executable, "-m", "reflex", "run", "--env", "prod", "--single-port",
        "--frontend-port", str(port), "--backend-host", host, "--loglevel", "info",
    ]  # fmt: skip


def reflex_environment(base: dict[str, str]) -> dict[str, str]:
    """``base`` plus what Reflex needs here: the project's own bun, no telemetry, no version
    check (rxconfig.py sets these too; the variables also cover Reflex's own subprocesses)."""
    env = dict(base)
    if LOCAL_BUN.exists():
        env.setdefault("REFLEX_BUN_PATH", str(LOCAL_BUN))
    env.setdefault("REFLEX_TELEMETRY_ENABLED", "false")
    env.setdefault("REFLEX_CHECK_LATEST_VERSION", "false")
    return env


def serve_web(host: str, port: int) -> None:
    """Replace this process with Reflex serving the web app; it stops on Ctrl+C or SIGTERM."""
    if not LOCAL_BUN.exists():
        console.print(_("bun is not installed yet: run make setup first."))
        raise typer.Exit(code=1)
    console.print(
        _(
            "Building the web app (the first build takes a few minutes), then serving it at {url}",
            url=f"http://{host}:{port}",
        )
    )
    sys.stdout.flush()
    # os.environ is handed on whole: Reflex and its workers read their own settings from it.
    os.chdir(Path(PROJECT_ROOT))
    os.execve(sys.executable, reflex_command(host, port), reflex_environment(dict(os.environ)))


def register(app: typer.Typer) -> None:
    @app.command("run", help=_("Migrate, seed the demo on first run, then serve the web app."))
    def run_command(
        seed: int = typer.Option(42, "--seed", help=_("The same seed gives the same demo data.")),
        setup_only: bool = typer.Option(
            False, "--setup-only", help=_("Prepare the database, then stop.")
        ),
        web: bool = typer.Option(
            True,
            "--web/--no-web",
            help=_("Serve the web app; --no-web only sends notifications (and runs the bot)."),
        ),
        host: str = typer.Option(DEFAULT_HOST, "--host", help=_("Address the web app listens on.")),
        port: int = typer.Option(DEFAULT_PORT, "--port", help=_("Port the web app listens on.")),
    ) -> None:
        refuse_unsafe_secrets(needs_totp_keys=True, needs_checkpoint_key=True, needs_public_url=web)

        async def work(container: Container) -> None:
            _print_ready(*await _prepare(container, seed), container.settings.demo_mode)
            if setup_only or web:
                return
            stop = stop_on_signals()
            log_progress_to_stdout()
            console.print(_("Drive Assist is running. Stop it with Ctrl+C."))
            await serve_notifications(container, stop)
            console.print(_("Stopped after finishing the messages in flight."))

        run_with_container(work)
        if web and not setup_only:
            serve_web(host, port)
